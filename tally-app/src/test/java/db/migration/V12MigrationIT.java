package db.migration;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.app.Databases;
import dev.tally.app.aggregate.PageViewAggregator;
import dev.tally.app.aggregate.Store;
import dev.tally.app.event.PageView;
import dev.tally.app.event.PageViewDecoder;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Migration 12 over a store at version 11 whose visitor A saw page /a, stored as before (a
 * {@code page_visitors} row and a site row without a page), in two live generations and a
 * dropped one: both live generations' site rows get the two columns, empty; {@code visitors_daily}
 * still shows A once; and the aggregator, after it, counts A's second view of /a as no new visitor,
 * A's first of /b and B's first of /a as one each.
 */
class V12MigrationIT {

    private static final String A = "01010101010101010101010101010101";
    private static final String B = "02020202020202020202020202020202";
    private static final long TS = 1_700_000_000_000L;
    private static final long DAY = TS / 86_400_000L;

    @RegisterExtension
    final Databases stores = new Databases();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void earlierVisitorsAreCountedOnceAfterIt(String database) throws Exception {
        DataSource ds = stores.dataSource(database);
        String url = stores.jdbcUrl(database);
        Store store = Store.of(url);
        // MySQL and MariaDB have no migration 11.
        OldGenerations.migrate(ds, url, store == Store.MYSQL ? "10" : "11");
        String a = (database.equals("postgresql") ? "'\\x" : "X'") + A + "'";
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO pages (id, site, path) VALUES (1, 'default', '/a')");
            for (String g : new String[] {"", "_g2"}) {
                s.execute("INSERT INTO page_visitors" + g + " (page, day, visitor, segment) VALUES (1, " + DAY + ", " + a + ", 0)");
                s.execute("INSERT INTO site_visitors" + g + " (site, day, visitor) VALUES ('default', " + DAY + ", " + a + ")");
                s.execute("INSERT INTO page_days" + g + " (page, day, views, visitors) VALUES (1, " + DAY + ", 1, 1)");
                s.execute("INSERT INTO site_days" + g + " (site, day, partition_id, views, visitors) VALUES ('default', " + DAY + ", 0, 1, 1)");
            }
        }

        Flyway.configure().dataSource(Store.url(url), null, null).locations(store.migrations()).load().migrate();

        assertThat(StoreContents.query(ds, "SELECT 'first pages', COUNT(*) FROM site_visitors WHERE page IS NULL AND segment IS NULL"))
                .isEqualTo(Map.of("first pages", 1L));
        assertThat(StoreContents.query(ds, "SELECT 'first pages', COUNT(*) FROM site_visitors_g2 WHERE page IS NULL AND segment IS NULL"))
                .isEqualTo(Map.of("first pages", 1L));
        assertThat(StoreContents.tables(ds)).doesNotContain("site_visitors_g3");
        if (store != Store.MYSQL) {
            // On MySQL and MariaDB the aggregator points the views at its start (DDL commits by itself there).
            assertThat(StoreContents.query(ds, "SELECT path, COUNT(*) FROM visitors_daily GROUP BY path")).isEqualTo(Map.of("/a", 1L));
        }

        try (Connection c = DriverManager.getConnection(Store.url(url))) {
            c.setAutoCommit(false);
            new PageViewAggregator().write(List.of(view("/a", A), view("/b", A), view("/a", B)), c);
            c.commit();
        }
        assertThat(StoreContents.query(ds, "SELECT p.path, d.visitors FROM page_days d JOIN pages p ON p.id = d.page"))
                .isEqualTo(Map.of("/a", 2L, "/b", 1L));
        assertThat(StoreContents.query(ds, "SELECT site, SUM(visitors) FROM site_days GROUP BY site")).isEqualTo(Map.of("default", 2L));
        if (store != Store.MYSQL) {
            assertThat(StoreContents.query(ds, "SELECT path, COUNT(*) FROM visitors_daily GROUP BY path")).isEqualTo(Map.of("/a", 2L, "/b", 1L));
        }
    }

    private static PageView view(String path, String visitor) throws Exception {
        String json = "{\"v\":2,\"path\":\"" + path + "\",\"ts\":" + TS + ",\"visitor\":\"" + visitor + "\"}";
        return new PageViewDecoder().decode(json.getBytes(UTF_8), TS);
    }
}
