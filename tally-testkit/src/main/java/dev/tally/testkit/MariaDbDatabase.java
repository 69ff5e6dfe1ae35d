package dev.tally.testkit;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A fresh MariaDB (or MySQL) database of its own for each test (or test class), so that runs and
 * tests never see each other's rows.
 *
 * <pre>{@code
 * @RegisterExtension
 * final MariaDbDatabase db = new MariaDbDatabase();     // one database per test
 *
 * @RegisterExtension
 * static final MariaDbDatabase DB = new MariaDbDatabase(); // one database per test class
 * }</pre>
 *
 * <p>The server is the one at {@code 127.0.0.1:3306}, user {@code root} without a password (the
 * environment variables {@code MYSQL_HOST}, {@code MYSQL_TCP_PORT} and {@code MYSQL_USER} change
 * them). A database {@code tally_it_<random>} is created when a test of the scope first asks for
 * its name, URL or pool (a test that never does costs none); after the scope the pool is closed, the sessions still using the database (a test's or a child process's) are
 * killed, and the database is dropped. The connections use MariaDB Connector/J.
 *
 * <p>When the server is unreachable: if the environment variable {@code CI} is {@code true} the
 * tests fail, saying so; otherwise they are skipped (a JUnit assumption), with a loud message on
 * standard error, so that a laptop without MariaDB can still run the rest.
 */
public final class MariaDbDatabase extends ScopedExtension {

    private static final AtomicBoolean WARNED = new AtomicBoolean();

    static {
        DatabaseLogLevels.quiet();
    }

    private final String host;
    private final String port;
    private final String user;
    private String name;
    private HikariDataSource dataSource;

    /** A database per test on an instance field, per class on a static field. */
    public MariaDbDatabase() {
        this.host = env("MYSQL_HOST", "127.0.0.1");
        this.port = env("MYSQL_TCP_PORT", "3306");
        this.user = env("MYSQL_USER", "root");
    }

    /** The database's name, {@code tally_it_<random>}. */
    public String name() {
        requireOpen();
        return name;
    }

    /** The server's host and port, {@code 127.0.0.1:3306}, as it appears in the URL. */
    public String hostAndPort() {
        return host + ":" + port;
    }

    /**
     * The JDBC URL of the database, with the user in it, for code that opens its own connections
     * or passes it to a child process: {@code jdbc:mariadb://127.0.0.1:3306/tally_it_…?user=root}.
     */
    public String jdbcUrl() {
        requireOpen();
        return url(name);
    }

    /**
     * A small HikariCP pool on the database (at most 8 connections, 10 s to get one), created on
     * first use and closed before the database is dropped. Its transactions run at the server's
     * default isolation (InnoDB's {@code REPEATABLE READ}), as a pool the user brings would.
     */
    public synchronized DataSource dataSource() {
        requireOpen();
        if (dataSource == null) {
            HikariConfig config = new HikariConfig();
            config.setJdbcUrl(jdbcUrl());
            config.setMaximumPoolSize(8);
            config.setMinimumIdle(1);
            config.setConnectionTimeout(10_000);
            config.setPoolName(name);
            dataSource = new HikariDataSource(config);
        }
        return dataSource;
    }

    /** Kills every session using the database: what a server restart or a failover does to a client. */
    public void killConnections() throws SQLException {
        requireOpen();
        try (Connection server = server()) {
            killSessions(server, name);
        }
    }

    @Override
    void open(ExtensionContext context) throws SQLException {
        String database = "tally_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16).toLowerCase(Locale.ROOT);
        Connection server;
        try {
            server = server();
        } catch (SQLException e) {
            unreachable(context, e);
            return;
        }
        try (server; Statement s = server.createStatement()) {
            s.execute("CREATE DATABASE " + database + " CHARACTER SET utf8mb4");
        }
        name = database;
    }

    @Override
    synchronized void close() throws SQLException {
        if (dataSource != null) {
            dataSource.close();
            dataSource = null;
        }
        String database = name;
        name = null;
        try (Connection server = server(); Statement s = server.createStatement()) {
            // A session left inside a transaction holds a metadata lock that DROP DATABASE would wait on.
            killSessions(server, database);
            s.execute("DROP DATABASE IF EXISTS " + database);
        }
    }

    private static void killSessions(Connection server, String database) throws SQLException {
        List<Long> ids = new ArrayList<>();
        try (PreparedStatement ps = server.prepareStatement(
                "SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()")) {
            ps.setString(1, database);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
            }
        }
        try (Statement s = server.createStatement()) {
            for (long id : ids) {
                try {
                    s.execute("KILL " + id);
                } catch (SQLException gone) {
                    // ended on its own meanwhile
                }
            }
        }
    }

    private void unreachable(ExtensionContext context, SQLException e) {
        String reason = "MariaDB at " + host + ":" + port + " (user " + user + ") is unreachable: " + e.getMessage();
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new IllegalStateException(reason + ". CI=true, so tests that need it fail instead of being skipped;"
                    + " start MariaDB (see .ci/run)", e);
        }
        if (WARNED.compareAndSet(false, true)) {
            System.err.println();
            System.err.println("*************************************************************************");
            System.err.println("* SKIPPING MariaDB tests: " + reason);
            System.err.println("* Start MariaDB on " + host + ":" + port + " (root, no password) to run them;");
            System.err.println("* under CI=true they fail instead.");
            System.err.println("*************************************************************************");
            System.err.println();
        } else {
            System.err.println("*** SKIPPING " + context.getDisplayName() + ": MariaDB is unreachable ***");
        }
        Assumptions.abort(reason);
    }

    private Connection server() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("connectTimeout", "5000");
        p.setProperty("socketTimeout", "60000");
        return DriverManager.getConnection("jdbc:mariadb://" + host + ":" + port + "/", p);
    }

    private String url(String database) {
        return "jdbc:mariadb://" + host + ":" + port + "/" + database + "?user=" + user;
    }

    private void requireOpen() {
        use("the database exists only while tests run: register the extension with @RegisterExtension");
    }

    @Override
    boolean onFirstUse() {
        return true;
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }
}
