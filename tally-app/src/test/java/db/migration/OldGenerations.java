package db.migration;

import dev.tally.app.aggregate.Store;
import java.sql.Connection;
import java.sql.Statement;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * A store as a range replay leaves it, for the migrations after 5 to upgrade: generation 2 live
 * beside generation 1 (its tables of version 5 made by hand, as the replay made them; later
 * migrations add the rest) and generation 3 dropped, whose tables no migration may create.
 */
final class OldGenerations {

    private OldGenerations() {}

    /** Migrates the empty store at {@code url} to version 5, adds generations 2 and 3, then migrates it to {@code target}. */
    static void migrate(DataSource ds, String url, String target) throws Exception {
        Store store = Store.of(url);
        Flyway.configure().dataSource(Store.url(url), null, null).locations(store.migrations()).target("5").load().migrate();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO tally_generations (generation, state, created_at) VALUES (2, 'old', 0), (3, 'dropped', 0)");
            if (store == Store.MYSQL) {
                s.execute("CREATE TABLE page_hours_g2 LIKE page_hours");
                s.execute("CREATE TABLE page_visitors_g2 LIKE page_visitors");
            } else {
                s.execute("CREATE TABLE page_hours_g2 (page INTEGER NOT NULL, hour INTEGER NOT NULL, views BIGINT NOT NULL, PRIMARY KEY (page, hour))");
                s.execute("CREATE TABLE page_visitors_g2 (page INTEGER NOT NULL, day INTEGER NOT NULL, visitor "
                        + (store == Store.SQLITE ? "BLOB" : "BYTEA") + " NOT NULL, PRIMARY KEY (page, day, visitor))");
            }
        }
        Flyway.configure().dataSource(Store.url(url), null, null).locations(store.migrations()).target(target).load().migrate();
    }
}
