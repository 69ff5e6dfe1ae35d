package db.migration;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.app.Databases;
import dev.tally.app.aggregate.PageViewAggregator;
import dev.tally.app.aggregate.Store;
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
 * Migration 13 over a store at version 12 whose two live generations hold 20 days of
 * {@code page_days} for two pages, and a dropped one: each live generation's {@code page_weeks}
 * holds its own days' sums per seven days, the dropped one gets none, and the aggregator, after
 * it, adds a view to its week's row.
 */
class V13MigrationIT {

    private static final long FIRST_DAY = 19_670; // a multiple of 7: weeks from 19 670, 19 677, 19 684

    @RegisterExtension
    final Databases stores = new Databases();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void everyLiveGenerationGetsItsDaysSummedBySevenDays(String database) throws Exception {
        DataSource ds = stores.dataSource(database);
        String url = stores.jdbcUrl(database);
        Store store = Store.of(url);
        OldGenerations.migrate(ds, url, "12");
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO pages (id, site, path) VALUES (1, 'default', '/a'), (2, 'default', '/b')");
            for (int generation = 1; generation <= 2; generation++) {
                for (long day = FIRST_DAY; day < FIRST_DAY + 20; day++) {
                    for (int page = 1; page <= 2; page++) {
                        // Generation 2 holds twice generation 1's counts.
                        s.execute("INSERT INTO page_days" + (generation == 1 ? "" : "_g2") + " (page, day, views, visitors) VALUES (" + page
                                + ", " + day + ", " + generation * (10 * page + day - FIRST_DAY) + ", " + generation * page + ")");
                    }
                }
            }
        }

        Flyway.configure().dataSource(Store.url(url), null, null).locations(store.migrations()).load().migrate();

        // Views of page p on day i (from 0) in generation 1: 10 p + i; the third week has six days.
        Map<String, Long> views = Map.of("/a@" + FIRST_DAY, 70L + 21, "/a@" + (FIRST_DAY + 7), 70L + 70, "/a@" + (FIRST_DAY + 14), 60L + 99,
                "/b@" + FIRST_DAY, 140L + 21, "/b@" + (FIRST_DAY + 7), 140L + 70, "/b@" + (FIRST_DAY + 14), 120L + 99);
        assertThat(StoreContents.query(ds, "SELECT CONCAT(p.path, '@', w.week), w.views FROM page_weeks w JOIN pages p ON p.id = w.page"))
                .isEqualTo(views);
        Map<String, Long> twice = new java.util.HashMap<>();
        views.forEach((k, v) -> twice.put(k, 2 * v));
        assertThat(StoreContents.query(ds, "SELECT CONCAT(p.path, '@', w.week), w.views FROM page_weeks_g2 w JOIN pages p ON p.id = w.page"))
                .isEqualTo(twice);
        assertThat(StoreContents.query(ds, "SELECT CONCAT(p.path, '@', w.week), w.visitors FROM page_weeks w JOIN pages p ON p.id = w.page"))
                .isEqualTo(Map.of("/a@" + FIRST_DAY, 7L, "/a@" + (FIRST_DAY + 7), 7L, "/a@" + (FIRST_DAY + 14), 6L,
                        "/b@" + FIRST_DAY, 14L, "/b@" + (FIRST_DAY + 7), 14L, "/b@" + (FIRST_DAY + 14), 12L));
        assertThat(StoreContents.tables(ds)).contains("page_weeks", "page_weeks_g2").doesNotContain("page_weeks_g3");

        // A view on the week's last day, by a new visitor.
        long ts = (FIRST_DAY + 13) * 86_400_000L + 3_600_000L;
        String json = "{\"v\":2,\"path\":\"/a\",\"ts\":" + ts + ",\"visitor\":\"01010101010101010101010101010101\"}";
        try (Connection c = DriverManager.getConnection(Store.url(url))) {
            c.setAutoCommit(false);
            new PageViewAggregator().write(List.of(new PageViewDecoder().decode(json.getBytes(UTF_8), ts)), c);
            c.commit();
        }
        assertThat(StoreContents.query(ds, "SELECT CONCAT(p.path, '@', w.week), w.views FROM page_weeks w JOIN pages p ON p.id = w.page"
                + " WHERE w.week = " + (FIRST_DAY + 7))).isEqualTo(Map.of("/a@" + (FIRST_DAY + 7), 141L, "/b@" + (FIRST_DAY + 7), 210L));
        assertThat(StoreContents.query(ds, "SELECT CONCAT(p.path, '@', w.week), w.visitors FROM page_weeks w JOIN pages p ON p.id = w.page"
                + " WHERE w.week = " + (FIRST_DAY + 7))).isEqualTo(Map.of("/a@" + (FIRST_DAY + 7), 8L, "/b@" + (FIRST_DAY + 7), 14L));
    }
}
