package dev.tally.testkit;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.sql.DataSource;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A fresh SQLite database file for each test, deleted afterwards: {@code @RegisterExtension final
 * SqliteDatabase db = new SqliteDatabase();}. The pool uses WAL and a busy timeout, so that the
 * test can read while other connections or processes write.
 */
public final class SqliteDatabase implements BeforeEachCallback, AfterEachCallback {

    private Path dir;
    private HikariDataSource dataSource;

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        dir = Files.createTempDirectory("tally-it-sqlite-");
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        if (dataSource != null) {
            dataSource.close();
            dataSource = null;
        }
        if (dir != null) {
            try (var paths = Files.walk(dir)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
            dir = null;
        }
    }

    /** The database file. */
    public Path file() {
        return dir.resolve("test.db");
    }

    public String jdbcUrl() {
        return "jdbc:sqlite:" + file();
    }

    /** A small HikariCP pool on the file, closed after the test. */
    public synchronized DataSource dataSource() {
        if (dataSource == null) {
            HikariConfig config = new HikariConfig();
            config.setJdbcUrl(jdbcUrl());
            config.setMaximumPoolSize(3);
            config.addDataSourceProperty("journal_mode", "WAL");
            config.addDataSourceProperty("busy_timeout", "10000");
            config.addDataSourceProperty("transaction_mode", "IMMEDIATE");
            dataSource = new HikariDataSource(config);
        }
        return dataSource;
    }
}
