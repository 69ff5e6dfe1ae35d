package dev.tally.testkit;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A fresh PostgreSQL database of its own for each test (or test class), so that runs and tests
 * never see each other's rows.
 *
 * <pre>{@code
 * @RegisterExtension
 * final PostgresDatabase db = new PostgresDatabase();     // one database per test
 *
 * @RegisterExtension
 * static final PostgresDatabase DB = new PostgresDatabase(); // one database per test class
 * }</pre>
 *
 * <p>The server is the one at {@code 127.0.0.1:5432}, user {@code postgres} with trust
 * authentication (the environment variables {@code PGHOST}, {@code PGPORT} and {@code PGUSER}
 * change them). A database {@code tally_it_<random>} is created through the {@code postgres}
 * database when a test of the scope first asks for its name, URL or pool (a test that never does
 * costs none: half a second each on this server); after the scope, the pool is closed and the
 * database is dropped {@code WITH (FORCE)}, which also ends connections a test or a child process
 * left open. PostgreSQL 13 or later.
 *
 * <p>When the server is unreachable: if the environment variable {@code CI} is {@code true} the
 * tests fail, saying so; otherwise they are skipped (a JUnit assumption), with a loud message on
 * standard error, so that a laptop without PostgreSQL can still run the rest.
 */
public final class PostgresDatabase extends ScopedExtension {

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
    public PostgresDatabase() {
        this(env("PGHOST", "127.0.0.1"), env("PGPORT", "5432"), env("PGUSER", "postgres"));
    }

    PostgresDatabase(String host, String port, String user) {
        this.host = host;
        this.port = port;
        this.user = user;
    }

    /** The database's name, {@code tally_it_<random>}. */
    public String name() {
        requireOpen();
        return name;
    }

    /**
     * The JDBC URL of the database, with the user in it, for code that opens its own connections
     * or passes it to a child process: {@code jdbc:postgresql://127.0.0.1:5432/tally_it_…?user=postgres}.
     */
    public String jdbcUrl() {
        requireOpen();
        return url(name);
    }

    /** The user the URL and the pool connect as. */
    public String user() {
        return user;
    }

    /**
     * A small HikariCP pool on the database (at most 8 connections, 10 s to get one), created on
     * first use and closed before the database is dropped.
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
            s.execute("CREATE DATABASE " + database);
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
            try {
                s.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
            } catch (SQLException e) {
                // Before PostgreSQL 13: end the sessions, then drop.
                try (PreparedStatement end = server.prepareStatement(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ?")) {
                    end.setString(1, database);
                    end.execute();
                }
                s.execute("DROP DATABASE IF EXISTS " + database);
            }
        }
    }

    private void unreachable(ExtensionContext context, SQLException e) {
        String reason = "PostgreSQL at " + host + ":" + port + " (user " + user + ") is unreachable: " + e.getMessage();
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new IllegalStateException(reason + ". CI=true, so tests that need it fail instead of being skipped;"
                    + " start PostgreSQL (see .ci/run)", e);
        }
        if (WARNED.compareAndSet(false, true)) {
            System.err.println();
            System.err.println("*************************************************************************");
            System.err.println("* SKIPPING PostgreSQL tests: " + reason);
            System.err.println("* Start PostgreSQL on " + host + ":" + port + " (trust auth) to run them;");
            System.err.println("* under CI=true they fail instead.");
            System.err.println("*************************************************************************");
            System.err.println();
        } else {
            System.err.println("*** SKIPPING " + context.getDisplayName() + ": PostgreSQL is unreachable ***");
        }
        Assumptions.abort(reason);
    }

    private Connection server() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("connectTimeout", "5");
        p.setProperty("socketTimeout", "60");
        return DriverManager.getConnection(url("postgres"), p);
    }

    private String url(String database) {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database + "?user=" + user;
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
