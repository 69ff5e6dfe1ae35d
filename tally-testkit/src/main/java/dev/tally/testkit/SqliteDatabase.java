package dev.tally.testkit;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A fresh SQLite database file for each test (or test class), in a temporary directory deleted
 * afterwards.
 *
 * <pre>{@code
 * @RegisterExtension
 * final SqliteDatabase db = new SqliteDatabase();     // one file per test
 *
 * @RegisterExtension
 * static final SqliteDatabase DB = new SqliteDatabase(); // one file per test class
 * }</pre>
 *
 * <p>{@link #jdbcUrl()} is the plain {@code jdbc:sqlite:<file>}. The {@link #dataSource() pool}
 * opens connections in WAL mode with a 10 s busy timeout and {@code BEGIN IMMEDIATE}
 * transactions, so that a test can read while other connections or processes write, and
 * writers queue instead of failing on a lock upgrade.
 */
public final class SqliteDatabase extends ScopedExtension {

    static {
        DatabaseLogLevels.quiet();
    }

    private Path dir;
    private HikariDataSource dataSource;

    /** A file per test on an instance field, per class on a static field. */
    public SqliteDatabase() {
    }

    /** The database file ({@code test.db} in a temporary directory); created by the first connection. */
    public Path file() {
        requireOpen();
        return dir.resolve("test.db");
    }

    /** The database file's name without directory, for messages. */
    public String name() {
        return file().getFileName().toString();
    }

    /** {@code jdbc:sqlite:<file>}. */
    public String jdbcUrl() {
        return "jdbc:sqlite:" + file();
    }

    /** A small HikariCP pool (at most 4 connections) on the file, created on first use and closed after the scope. */
    public synchronized DataSource dataSource() {
        requireOpen();
        if (dataSource == null) {
            HikariConfig config = new HikariConfig();
            config.setJdbcUrl(jdbcUrl());
            config.setMaximumPoolSize(4);
            config.setMinimumIdle(1);
            config.setConnectionTimeout(10_000);
            config.setPoolName("sqlite-" + dir.getFileName());
            config.addDataSourceProperty("journal_mode", "WAL");
            config.addDataSourceProperty("busy_timeout", "10000");
            config.addDataSourceProperty("transaction_mode", "IMMEDIATE");
            dataSource = new HikariDataSource(config);
        }
        return dataSource;
    }

    @Override
    void open(ExtensionContext context) throws IOException {
        dir = Files.createTempDirectory("tally-it-sqlite-");
    }

    @Override
    synchronized void close() throws IOException {
        if (dataSource != null) {
            dataSource.close();
            dataSource = null;
        }
        Path d = dir;
        dir = null;
        try (Stream<Path> paths = Files.walk(d)) {
            for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    private void requireOpen() {
        use("the database exists only while tests run: register the extension with @RegisterExtension");
    }

    @Override
    boolean onFirstUse() {
        return true;
    }
}
