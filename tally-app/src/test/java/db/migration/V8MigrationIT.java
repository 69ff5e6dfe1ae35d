package db.migration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.app.Databases;
import dev.tally.app.aggregate.Aggregator;
import dev.tally.app.aggregate.Store;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Migration 8 over a store at version 7 with segment rows in two live generations and a dropped
 * one: each live generation gets {@code site_segment_days} and {@code multi_segment_visitors}
 * filled from its {@code segment_days} and {@code segment_visitors}, a segment in each
 * {@code page_visitors} row and {@code segment_days.visitors} counted from them, and its index by
 * segment instead of by day; the dropped one gets nothing.
 */
class V8MigrationIT {

    private static final String A = "01010101010101010101010101010101";
    private static final String B = "02020202020202020202020202020202";
    private static final String C = "03030303030303030303030303030303";
    private static final String D = "04040404040404040404040404040404";

    @RegisterExtension
    final Databases stores = new Databases();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void fillsTheSegmentVisitorTablesOfEveryLiveGenerationFromItsRows(String database) throws Exception {
        DataSource ds = stores.dataSource(database);
        String url = stores.jdbcUrl(database);
        Store store = Store.of(url);
        OldGenerations.migrate(ds, url, "7");
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO pages (id, site, path) VALUES (1, 'default', '/a'), (2, 'default', '/b')");
        }
        String x = database.equals("postgresql") ? "'\\x" : "X'";
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            for (String g : new String[] {"", "_g2"}) {
                // A came with segments 5 and 7 on day 100, D with 9 only, which page 1 has no row of.
                s.execute("INSERT INTO segment_visitors" + g + " (day, visitor, segment) VALUES"
                        + " (100, " + x + A + "', 5), (100, " + x + A + "', 7), (100, " + x + B + "', 7), (100, " + x + C + "', 5),"
                        + " (100, " + x + D + "', 9), (101, " + x + A + "', 7)"
                        // Generation 2 differs: B came with segment 5 too.
                        + (g.isEmpty() ? "" : ", (100, " + x + B + "', 5)"));
                s.execute("INSERT INTO segment_days" + g + " (page, day, segment, views) VALUES"
                        + " (1, 100, 5, 10), (1, 100, 7, 10), (2, 100, 7, 3), (1, 101, 7, 1), (2, 101, 7, 4)");
                s.execute("INSERT INTO page_visitors" + g + " (page, day, visitor) VALUES"
                        + " (1, 100, " + x + A + "'), (2, 100, " + x + A + "'), (1, 100, " + x + B + "'), (1, 100, " + x + C + "'),"
                        + " (1, 100, " + x + D + "'), (1, 101, " + x + A + "'),"
                        // B has no segment of day 101: counted nowhere.
                        + " (2, 101, " + x + B + "')");
            }
        }

        Aggregator.migrate(url);

        String hex = database.equals("postgresql") ? "encode(visitor, 'hex')" : "HEX(visitor)";
        // Page 1, day 100: A to 5 (the smaller of its two), B to 7, C to 5, D nowhere; page 2: A to 7, the one it has.
        assertThat(StoreContents.query(ds, "SELECT page || ':' || day || ':' || segment, views * 1000 + visitors FROM segment_days"))
                .isEqualTo(Map.of("1:100:5", 10_002L, "1:100:7", 10_001L, "2:100:7", 3_001L, "1:101:7", 1_001L, "2:101:7", 4_000L));
        assertThat(StoreContents.query(ds, "SELECT page || ':' || day || ':' || " + hex + ", segment FROM page_visitors"))
                .isEqualTo(Map.of("1:100:" + A, 5L, "2:100:" + A, 7L, "1:100:" + B, 7L, "1:100:" + C, 5L, "1:100:" + D, 0L,
                        "1:101:" + A, 7L, "2:101:" + B, 0L));
        // First visitors: A, C to 5 (A's smaller), B to 7, D to 9; A on day 101 to 7.
        assertThat(StoreContents.query(ds, "SELECT day || ':' || segment || ':' || partition_id, views * 1000000 + visitors * 1000 + first_visitors"
                + " FROM site_segment_days"))
                .isEqualTo(Map.of("100:5:0", 10_002_002L, "100:7:0", 13_002_001L, "100:9:0", 1_001L, "101:7:0", 5_001_001L));
        assertThat(StoreContents.query(ds, "SELECT day || ':' || " + hex + " || ':' || segment, 1 FROM multi_segment_visitors"))
                .isEqualTo(Map.of("100:" + A + ":5", 1L, "100:" + A + ":7", 1L));
        // Generation 2: B to 5 as well.
        assertThat(StoreContents.query(ds, "SELECT page || ':' || day || ':' || segment, views * 1000 + visitors FROM segment_days_g2"))
                .isEqualTo(Map.of("1:100:5", 10_003L, "1:100:7", 10_000L, "2:100:7", 3_001L, "1:101:7", 1_001L, "2:101:7", 4_000L));
        assertThat(StoreContents.query(ds, "SELECT page || ':' || day || ':' || " + hex + ", segment FROM page_visitors_g2 WHERE page = 1 AND day = 100"))
                .isEqualTo(Map.of("1:100:" + A, 5L, "1:100:" + B, 5L, "1:100:" + C, 5L, "1:100:" + D, 0L));
        assertThat(StoreContents.query(ds, "SELECT day || ':' || segment || ':' || partition_id, views * 1000000 + visitors * 1000 + first_visitors"
                + " FROM site_segment_days_g2"))
                .isEqualTo(Map.of("100:5:0", 10_003_003L, "100:7:0", 13_002_000L, "100:9:0", 1_001L, "101:7:0", 5_001_001L));
        assertThat(StoreContents.query(ds, "SELECT day || ':' || " + hex + " || ':' || segment, 1 FROM multi_segment_visitors_g2"))
                .isEqualTo(Map.of("100:" + A + ":5", 1L, "100:" + A + ":7", 1L, "100:" + B + ":5", 1L, "100:" + B + ":7", 1L));

        // The aggregator's rows of views alone still go in: visitors start at 0.
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO segment_days (page, day, segment, views) VALUES (1, 102, 5, 1)");
        }
        assertThat(StoreContents.query(ds, "SELECT 'visitors', visitors FROM segment_days WHERE day = 102")).isEqualTo(Map.of("visitors", 0L));

        Set<String> tables = StoreContents.tables(ds);
        assertThat(tables).contains("site_segment_days", "multi_segment_visitors", "site_segment_days_g2", "multi_segment_visitors_g2");
        assertThat(tables).doesNotContain("site_segment_days_g3", "multi_segment_visitors_g3", "segment_days_g3", "v8_segment_day_visitors",
                "v8_first_segments");
        // segment_days is read by segment now, never by day alone.
        String indexes = switch (database) {
            case "sqlite" -> "SELECT tbl_name || ':' || substr(sql, instr(sql, '(')), 1 FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                    + " AND tbl_name IN ('segment_days', 'segment_days_g2')";
            case "mariadb" -> "SELECT table_name || ':(' || GROUP_CONCAT(column_name ORDER BY seq_in_index SEPARATOR ', ') || ')', 1"
                    + " FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name IN ('segment_days', 'segment_days_g2')"
                    + " AND index_name <> 'PRIMARY' GROUP BY table_name, index_name";
            default -> "SELECT tablename || ':' || substr(indexdef, strpos(indexdef, '(')), 1 FROM pg_indexes"
                    + " WHERE tablename IN ('segment_days', 'segment_days_g2') AND indexdef NOT LIKE '%UNIQUE%'";
        };
        assertThat(StoreContents.query(ds, indexes).keySet()).containsExactlyInAnyOrder("segment_days:(segment, day)", "segment_days_g2:(segment, day)");
        if (database.equals("postgresql")) {
            assertThat(StoreContents.query(ds, "SELECT relname || ':' || COALESCE(array_to_string(reloptions, ','), ''), 1 FROM pg_class"
                    + " WHERE relname IN ('site_segment_days', 'site_segment_days_g2', 'multi_segment_visitors')").keySet())
                    .containsExactlyInAnyOrder("site_segment_days:fillfactor=70", "site_segment_days_g2:fillfactor=70",
                            "multi_segment_visitors:");
        }
    }
}
