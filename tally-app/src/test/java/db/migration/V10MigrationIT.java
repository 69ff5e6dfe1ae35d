package db.migration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.app.Databases;
import dev.tally.app.aggregate.Store;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Migration 10 over a store at version 9 with visitors of several segments in two live
 * generations and a dropped one: each live generation's {@code site_segment_days} gets the
 * repeats of each referrer and campaign column from its {@code multi_segment_visitors}, in
 * partition 0's row (added to a row there is, made where there is none); the dropped one nothing.
 */
class V10MigrationIT {

    private static final String A = "01010101010101010101010101010101";
    private static final String B = "02020202020202020202020202020202";

    @RegisterExtension
    final Databases stores = new Databases();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void countsTheRepeatsOfEveryLiveGenerationFromItsMultiSegmentVisitors(String database) throws Exception {
        DataSource ds = stores.dataSource(database);
        String url = stores.jdbcUrl(database);
        Store store = Store.of(url);
        OldGenerations.migrate(ds, url, "9");
        String x = database.equals("postgresql") ? "'\\x" : "X'";
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            // Segments 1 and 2 share a referrer, 1 and 3 a source; all three a medium and a campaign (none).
            String[][] segments = {{"1", "a.example", "news"}, {"2", "a.example", "ads"}, {"3", "b.example", "news"}};
            for (String[] seg : segments) {
                s.execute("INSERT INTO segments (id, hash, site, referrer, source, medium, campaign, browser, browser_version, os, os_version,"
                        + " device, country) VALUES (" + seg[0] + ", " + x + "0" + seg[0] + "', 'default', '" + seg[1] + "', '" + seg[2] + "',"
                        + " '', '', '', '', '', '', '', '')");
            }
            for (String g : new String[] {"", "_g2"}) {
                // A came with 1, 2 and 3 on day 100; B with 2 and 3 (with 1 too in generation 2).
                s.execute("INSERT INTO multi_segment_visitors" + g + " (day, visitor, segment) VALUES"
                        + " (100, " + x + A + "', 1), (100, " + x + A + "', 2), (100, " + x + A + "', 3),"
                        + " (100, " + x + B + "', 2), (100, " + x + B + "', 3)" + (g.isEmpty() ? "" : ", (100, " + x + B + "', 1)"));
                s.execute("INSERT INTO site_segment_days" + g + " (day, segment, partition_id, views, visitors, first_visitors)"
                        + " VALUES (100, 2, 0, 9, 2, 1), (100, 2, 1, 4, 1, 0)");
            }
        }

        Flyway.configure().dataSource(Store.url(url), null, null).locations(store.migrations()).target("10").load().migrate();

        String columns = "views * 10000 + repeat_referrer * 1000 + repeat_source * 100 + repeat_medium * 10 + repeat_campaign";
        // A: 2 repeats 1's referrer, 3 its source, 2 and 3 its medium and campaign; B: 3 repeats 2's
        // medium and campaign. Segment 1 repeats nothing (its row is made all the same).
        assertThat(StoreContents.query(ds, "SELECT day || ':' || segment || ':' || partition_id, " + columns + " FROM site_segment_days"))
                .isEqualTo(Map.of("100:1:0", 0L, "100:2:0", 91_011L, "100:2:1", 40_000L, "100:3:0", 122L));
        // Generation 2: B came with 1 as well, so repeats as A does.
        assertThat(StoreContents.query(ds, "SELECT day || ':' || segment || ':' || partition_id, " + columns + " FROM site_segment_days_g2"))
                .isEqualTo(Map.of("100:1:0", 0L, "100:2:0", 92_022L, "100:2:1", 40_000L, "100:3:0", 222L));
        assertThat(StoreContents.tables(ds)).doesNotContain("site_segment_days_g3");
    }
}
