package db.migration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.app.Databases;
import dev.tally.app.aggregate.Aggregator;
import dev.tally.app.aggregate.Store;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Migration 6 over a store at version 5 with counts in two live generations: the day tables of
 * each are filled from its hours and visitors, a dropped generation gets none, the segment tables
 * start empty.
 */
class V6MigrationIT {

    @RegisterExtension
    final Databases stores = new Databases();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void fillsTheDayTablesOfEveryLiveGenerationFromItsRows(String database) throws Exception {
        DataSource ds = stores.dataSource(database);
        String url = stores.jdbcUrl(database);
        Store store = Store.of(url);
        Flyway.configure().dataSource(Store.url(url), null, null).locations(store.migrations()).target("5").load().migrate();
        String blob = database.equals("sqlite") ? "BLOB" : "BYTEA";
        String x = database.equals("postgresql") ? "'\\x" : "X'";
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO pages (id, site, path) VALUES (1, 'default', '/a'), (2, 'default', '/b'), (3, 'other', '/a')");
            s.execute("INSERT INTO tally_generations (generation, state, created_at) VALUES (2, 'old', 0), (3, 'dropped', 0)");
            for (String g : new String[] {"", "_g2"}) {
                if (!g.isEmpty() && store == Store.MYSQL) {
                    s.execute("CREATE TABLE page_hours_g2 LIKE page_hours");
                    s.execute("CREATE TABLE page_visitors_g2 LIKE page_visitors");
                } else if (!g.isEmpty()) {
                    s.execute("CREATE TABLE page_hours_g2 (page INTEGER NOT NULL, hour INTEGER NOT NULL, views BIGINT NOT NULL, PRIMARY KEY (page, hour))");
                    s.execute("CREATE TABLE page_visitors_g2 (page INTEGER NOT NULL, day INTEGER NOT NULL, visitor " + blob
                            + " NOT NULL, PRIMARY KEY (page, day, visitor))");
                }
                // Day 100 = hours 2400 to 2423.
                s.execute("INSERT INTO page_hours" + g + " (page, hour, views) VALUES (1, 2400, 3), (1, 2423, 4), (1, 2424, 5),"
                        + " (2, 2401, 7), (3, 2402, 11)");
                s.execute("INSERT INTO page_visitors" + g + " (page, day, visitor) VALUES"
                        + " (1, 100, " + x + "01010101010101010101010101010101'), (1, 100, " + x + "02020202020202020202020202020202'),"
                        + " (1, 101, " + x + "01010101010101010101010101010101'),"
                        + " (2, 100, " + x + "01010101010101010101010101010101'), (2, 100, " + x + "03030303030303030303030303030303'),"
                        + " (3, 100, " + x + "01010101010101010101010101010101'),"
                        // Visitors of a day without hours (the hours of a view late in a range replay): counted too.
                        + " (2, 102, " + x + "04040404040404040404040404040404')");
            }
        }

        Aggregator.migrate(url);

        for (String g : new String[] {"", "_g2"}) {
            assertThat(StoreContents.query(ds, "SELECT page || ':' || day, views * 1000 + visitors FROM page_days" + g))
                    .isEqualTo(Map.of("1:100", 7_002L, "1:101", 5_001L, "2:100", 7_002L, "2:102", 1L, "3:100", 11_001L));
            assertThat(StoreContents.query(ds, "SELECT site || ':' || day || ':' || partition_id, views * 1000 + visitors FROM site_days" + g))
                    .isEqualTo(Map.of("default:100:0", 14_003L, "default:101:0", 5_001L, "default:102:0", 1L, "other:100:0", 11_001L));
            assertThat(StoreContents.query(ds, "SELECT site || ':' || day, COUNT(*) FROM site_visitors" + g + " GROUP BY site, day"))
                    .isEqualTo(Map.of("default:100", 3L, "default:101", 1L, "default:102", 1L, "other:100", 1L));
            assertThat(StoreContents.query(ds, "SELECT 'rows', COUNT(*) FROM segment_days" + g)).isEqualTo(Map.of("rows", 0L));
            assertThat(StoreContents.query(ds, "SELECT 'rows', COUNT(*) FROM segment_visitors" + g)).isEqualTo(Map.of("rows", 0L));
        }
        assertThat(StoreContents.query(ds, "SELECT 'rows', COUNT(*) FROM segments")).isEqualTo(Map.of("rows", 0L));
        assertThat(StoreContents.query(ds, "SELECT 'done', done_before_day FROM tally_retention")).isEqualTo(Map.of("done", 0L));
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.executeQuery("SELECT * FROM page_days_g3");
            throw new AssertionError("a dropped generation got tables");
        } catch (SQLException expected) {
            // no such table
        }
        if (database.equals("postgresql")) {
            assertThat(StoreContents.query(ds, "SELECT relname || ':' || array_to_string(reloptions, ','), 1 FROM pg_class"
                    + " WHERE relname IN ('page_days', 'segment_days', 'site_days', 'page_days_g2')").keySet())
                    .containsExactlyInAnyOrder("page_days:fillfactor=70", "segment_days:fillfactor=70", "site_days:fillfactor=70",
                            "page_days_g2:fillfactor=70");
        }
    }
}
