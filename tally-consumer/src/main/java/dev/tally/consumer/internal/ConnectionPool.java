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

    private ConnectionPool() {}

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
