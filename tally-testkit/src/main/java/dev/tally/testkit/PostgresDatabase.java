package dev.tally.testkit;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A fresh PostgreSQL database for each test, on the server at {@code 127.0.0.1:5432} (user
 * {@code postgres}, trust auth), dropped afterwards: {@code @RegisterExtension final
 * PostgresDatabase db = new PostgresDatabase();}. Runs never see each other's rows.
 *
 * <p>When the server is unreachable the test fails if the environment variable {@code CI} is
 * {@code true}, and is skipped with a loud message otherwise.
 */
public final class PostgresDatabase implements BeforeEachCallback, AfterEachCallback {

    private static final String SERVER = "jdbc:postgresql://127.0.0.1:5432/";
    private static final String USER = "postgres";

    private String name;
    private HikariDataSource dataSource;

    @Override
    public void beforeEach(ExtensionContext context) throws SQLException {
        name = "tally_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16).toLowerCase(Locale.ROOT);
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            String message = "PostgreSQL on 127.0.0.1:5432 is unreachable (" + e.getMessage() + ")";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new IllegalStateException(message + ": PostgreSQL tests must not be skipped under CI", e);
            }
            System.err.println("\n*** SKIPPING " + context.getDisplayName() + ": " + message + " ***\n");
            Assumptions.abort(message);
        }
    }

    @Override
    public void afterEach(ExtensionContext context) throws SQLException {
        if (dataSource != null) {
            dataSource.close();
            dataSource = null;
        }
        if (name != null) {
            try (Connection c = admin(); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            }
            name = null;
        }
    }

    private static Connection admin() throws SQLException {
        return DriverManager.getConnection(SERVER + "postgres", USER, "");
    }

    /** The database's name. */
    public String name() {
        return name;
    }

    /** A JDBC URL with the credentials in it, for code that opens its own pool or a child process. */
    public String jdbcUrl() {
        return SERVER + name + "?user=" + USER;
    }

    /** A small HikariCP pool on the database, closed after the test. */
    public synchronized DataSource dataSource() {
        if (dataSource == null) {
            HikariConfig config = new HikariConfig();
            config.setJdbcUrl(jdbcUrl());
            config.setMaximumPoolSize(4);
            config.setConnectionTimeout(5_000);
            config.setPoolName("test-" + name);
            dataSource = new HikariDataSource(config);
        }
        return dataSource;
    }
}
