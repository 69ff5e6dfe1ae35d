package dev.tally.consumer.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executor;
import javax.sql.DataSource;

/** Opens the HikariCP pool behind a JDBC URL, with the settings each supported database needs. */
public final class ConnectionPool {

    // PostgreSQL applies a network timeout to its socket and runs nothing on the executor.
    private static final Executor DIRECT = Runnable::run;

    private static final String MARIADB_DRIVER = "org.mariadb.jdbc.Driver";

    private ConnectionPool() {}

    /** Fails clearly when a MySQL or MariaDB URL has no driver to go to. */
    public static void requireDriver(String jdbcUrl) {
        if (!isMysqlUrl(jdbcUrl)) {
            return;
        }
        try {
            Class.forName(MARIADB_DRIVER, false, ConnectionPool.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("jdbc:mariadb: and jdbc:mysql: URLs need MariaDB Connector/J"
                    + " (org.mariadb.jdbc:mariadb-java-client) on the class path; it serves MySQL too."
                    + " To use MySQL Connector/J instead, pass its DataSource with dataSource(...)", e);
        }
    }

    /**
     * A connection from {@code ds} whose every call fails, rather than waits, once the database
     * has been silent for {@code timeout}: a lost connection then, retried like any other.
     */
    public static Connection borrow(DataSource ds, Duration timeout) throws SQLException {
        Connection c = ds.getConnection();
        try {
            c.setNetworkTimeout(DIRECT, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        } catch (SQLException | UnsupportedOperationException notSupported) {
            // SQLite has no network to wait on.
        } catch (RuntimeException | Error e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** Whether a JDBC URL names MySQL or MariaDB: both go through MariaDB Connector/J. */
    public static boolean isMysqlUrl(String jdbcUrl) {
        String url = jdbcUrl.toLowerCase(Locale.ROOT);
        return url.startsWith("jdbc:mariadb:") || url.startsWith("jdbc:mysql:");
    }

    public static HikariDataSource open(String jdbcUrl, String name) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(jdbcUrl);
        config.setPoolName(name);
        // The committer holds one connection, the poller briefly another when partitions move.
        config.setMaximumPoolSize(3);
        config.setMinimumIdle(1);
        // Connection attempts happen on the polling thread too: fail fast and retry with backoff
        // rather than block past the group's timeouts.
        config.setConnectionTimeout(5_000);
        config.setInitializationFailTimeout(-1);
        if (jdbcUrl.toLowerCase(Locale.ROOT).startsWith("jdbc:sqlite:")) {
            // WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN so two
            // writers queue on busy_timeout instead of failing on a lock upgrade. synchronous=NORMAL
            // may lose the last transactions on power loss, but data and offsets go back together,
            // so the result is re-reading, never double counting.
            config.addDataSourceProperty("journal_mode", "WAL");
            config.addDataSourceProperty("synchronous", "NORMAL");
            config.addDataSourceProperty("busy_timeout", "10000");
            config.addDataSourceProperty("transaction_mode", "IMMEDIATE");
            config.addDataSourceProperty("foreign_keys", "true");
        } else if (isMysqlUrl(jdbcUrl)) {
            config.setMaximumPoolSize(4);
            config.setDriverClassName(MARIADB_DRIVER);
            if (jdbcUrl.toLowerCase(Locale.ROOT).startsWith("jdbc:mysql:")) {
                // MariaDB Connector/J takes jdbc:mysql: only when told to, so that it never
                // competes with MySQL Connector/J on a class path that has both.
                config.setJdbcUrl(jdbcUrl + (jdbcUrl.contains("?") ? "&" : "?") + "permitMysqlScheme");
            }
            // In milliseconds here, unlike PostgreSQL's seconds.
            config.addDataSourceProperty("connectTimeout", "10000");
            config.addDataSourceProperty("tcpKeepAlive", "true");
            // PostgreSQL's default rather than InnoDB's REPEATABLE READ: a handler sees the same on
            // either, and the compare-and-set needs no snapshot (an UPDATE reads the newest row
            // version and waits for its lock under both). It also spares the gap locks that make
            // REPEATABLE READ upserts deadlock.
            config.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        } else {
            config.setMaximumPoolSize(4);
            // Bound the connection handshake too: a server that accepts TCP and then says nothing
            // must not hold a pool thread forever.
            config.addDataSourceProperty("connectTimeout", "10");
            config.addDataSourceProperty("loginTimeout", "10");
            config.addDataSourceProperty("tcpKeepAlive", "true");
        }
        return new HikariDataSource(config);
    }
}
