package dev.tally.app;

import dev.tally.testkit.MariaDbDatabase;
import dev.tally.testkit.PostgresDatabase;
import dev.tally.testkit.SqliteDatabase;
import javax.sql.DataSource;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The three stores the application runs on, for a test run once per store by name
 * ({@code sqlite}, {@code postgresql}, {@code mariadb}): a fresh database of each for each test,
 * as tally-testkit's extensions make them, and the named one's URL and pool.
 */
public final class Databases implements BeforeEachCallback, AfterEachCallback {

    private final SqliteDatabase sqlite = new SqliteDatabase();
    private final PostgresDatabase postgres = new PostgresDatabase();
    private final MariaDbDatabase mariadb = new MariaDbDatabase();

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        sqlite.beforeEach(context);
        postgres.beforeEach(context);
        mariadb.beforeEach(context);
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        try {
            mariadb.afterEach(context);
        } finally {
            try {
                postgres.afterEach(context);
            } finally {
                sqlite.afterEach(context);
            }
        }
    }

    /** The named store's pool. */
    public DataSource dataSource(String name) {
        return switch (name) {
            case "sqlite" -> sqlite.dataSource();
            case "postgresql" -> postgres.dataSource();
            case "mariadb" -> mariadb.dataSource();
            default -> throw new IllegalArgumentException("no store " + name);
        };
    }

    /** PostgreSQL's extension itself, for what a test does to that server alone (drop its database under a reader). */
    public PostgresDatabase postgres() {
        return postgres;
    }

    /** The named store's JDBC URL. */
    public String jdbcUrl(String name) {
        return switch (name) {
            case "sqlite" -> sqlite.jdbcUrl();
            case "postgresql" -> postgres.jdbcUrl();
            case "mariadb" -> mariadb.jdbcUrl();
            default -> throw new IllegalArgumentException("no store " + name);
        };
    }
}
