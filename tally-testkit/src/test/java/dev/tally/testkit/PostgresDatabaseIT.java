package dev.tally.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.opentest4j.TestAbortedException;

@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PostgresDatabaseIT {

    @RegisterExtension
    final PostgresDatabase db = new PostgresDatabase();

    private static String previous;

    @Test
    @Order(1)
    void eachTestHasADatabaseOfItsOwn() throws Exception {
        assertThat(db.name()).matches("tally_it_[0-9a-f]{16}");
        assertThat(db.jdbcUrl()).isEqualTo("jdbc:postgresql://127.0.0.1:5432/" + db.name() + "?user=postgres");
        assertThat(db.user()).isEqualTo("postgres");
        execute(db.dataSource(), "CREATE TABLE counts (word TEXT PRIMARY KEY, n INT)");
        execute(db.dataSource(), "INSERT INTO counts VALUES ('a', 1)");
        try (Connection c = DriverManager.getConnection(db.jdbcUrl())) {
            assertThat(c.getCatalog()).isEqualTo(db.name());
        }
        previous = db.name();
    }

    @Test
    @Order(2)
    void andTheDatabaseOfAnEarlierTestIsGone() throws Exception {
        assertThat(db.name()).isNotEqualTo(previous);
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
                ResultSet tables = s.executeQuery("SELECT count(*) FROM pg_tables WHERE tablename = 'counts'")) {
            tables.next();
            assertThat(tables.getInt(1)).isZero();
        }
        assertThat(exists(previous)).isFalse();
        assertThat(exists(db.name())).isTrue();
    }

    @Test
    @Order(3)
    void anUnreachableServerSkipsTheTestOrFailsItUnderCi() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        PostgresDatabase nowhere = new PostgresDatabase("127.0.0.1", Integer.toString(closed), "postgres");
        nowhere.beforeEach(context()); // a test that does not ask for the database reaches no server
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            assertThatThrownBy(nowhere::name).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("unreachable").hasMessageContaining("CI=true");
        } else {
            assertThatThrownBy(nowhere::name).isInstanceOf(TestAbortedException.class)
                    .hasMessageContaining("unreachable");
        }
        nowhere.afterEach(context());
    }

    @Test
    @Order(4)
    void aDatabaseIsMadeOnlyForATestThatAsksForIt() throws Exception {
        long before = databases();
        PostgresDatabase unused = new PostgresDatabase();
        unused.beforeEach(context());
        assertThat(databases()).isEqualTo(before);
        unused.afterEach(context());

        PostgresDatabase used = new PostgresDatabase();
        used.beforeEach(context());
        String name = used.name();
        assertThat(exists(name)).isTrue();
        assertThat(databases()).isEqualTo(before + 1);
        used.afterEach(context());
        assertThat(exists(name)).isFalse();
    }

    private static long databases() throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres");
                Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT count(*) FROM pg_database WHERE datname LIKE 'tally\\_it\\_%'")) {
            r.next();
            return r.getLong(1);
        }
    }

    private static boolean exists(String database) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres");
                PreparedStatement s = c.prepareStatement("SELECT count(*) FROM pg_database WHERE datname = ?")) {
            s.setString(1, database);
            try (ResultSet r = s.executeQuery()) {
                r.next();
                return r.getInt(1) > 0;
            }
        }
    }

    static void execute(DataSource ds, String sql) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    static ExtensionContext context() {
        return (ExtensionContext) Proxy.newProxyInstance(ExtensionContext.class.getClassLoader(), new Class<?>[] {ExtensionContext.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "getUniqueId" -> "[test:nowhere]";
                    case "getDisplayName" -> "nowhere";
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }
}
