package dev.tally.app;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tally.app.aggregate.Store;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** The store option of {@code aggregate}, {@code serve} and {@code run}. */
public final class StoreOptions {

    @Option(names = "--db", paramLabel = "JDBC_URL",
            description = "the store (default jdbc:sqlite:tally-data/tally.db); jdbc:postgresql://host/db?user=…"
                    + " or jdbc:mysql:|jdbc:mariadb://host/db?user=… beyond one machine")
    public String db = "jdbc:sqlite:tally-data/tally.db";

    /**
     * Refuses anything but an SQLite, PostgreSQL, MySQL or MariaDB URL, puts it in the form every
     * connection uses ({@link Store#url}), creates an SQLite file's directory, and opens one
     * connection to prove the store is reachable.
     *
     * @throws ParameterException for a URL of another kind (bad usage, exit 2)
     * @throws StartupException when the store cannot be opened (exit 1)
     */
    public void validate(CommandSpec spec) {
        if (Store.of(db) == null) {
            throw new ParameterException(spec.commandLine(),
                    "--db must be a jdbc:sqlite:, jdbc:postgresql:, jdbc:mysql: or jdbc:mariadb: URL, not " + redacted());
        }
        db = Store.url(db);
        if (db.startsWith("jdbc:sqlite:")) {
            String file = db.substring("jdbc:sqlite:".length()).replaceFirst("\\?.*$", "");
            if (!file.isEmpty() && !file.startsWith(":") && !file.startsWith("file:")) {
                Path parent = Path.of(file).toAbsolutePath().getParent();
                try {
                    Files.createDirectories(parent);
                } catch (IOException e) {
                    throw new StartupException("cannot create the directory of " + file + ": " + e.getMessage(), e);
                }
            }
        }
        try (Connection c = DriverManager.getConnection(db)) {
            c.isValid(5);
        } catch (SQLException e) {
            throw new StartupException("cannot open the database " + redacted() + ": " + e.getMessage(), e);
        }
    }

    /**
     * A small connection pool for reading the store (the API). SQLite readers wait for a busy
     * writer rather than fail; in WAL mode that wait is rare and short.
     */
    public HikariDataSource openPool(String name, int size) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(name);
        config.setJdbcUrl(Store.url(db));
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(1);
        config.setConnectionTimeout(5_000);
        config.setInitializationFailTimeout(-1);
        if (db.startsWith("jdbc:sqlite:")) {
            config.setConnectionInitSql("PRAGMA busy_timeout=5000");
        }
        return new HikariDataSource(config);
    }

    /** The URL with any password masked: it may be printed. */
    public String redacted() {
        return redact(db);
    }

    /** JDBC URLs may carry a password; never print it. */
    public static String redact(String url) {
        return url.replaceAll("(?i)(password=)[^&;]*", "$1***");
    }
}
