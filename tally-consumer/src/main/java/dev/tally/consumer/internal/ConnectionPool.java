package dev.tally.consumer.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.util.Locale;

/** Opens the HikariCP pool behind a JDBC URL, with the settings each supported database needs. */
public final class ConnectionPool {

    private ConnectionPool() {}

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
        }
        return new HikariDataSource(config);
    }
}
