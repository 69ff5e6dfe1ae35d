package db.migration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.app.aggregate.Store;
import dev.tally.testkit.PostgresDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Migration 11 over a PostgreSQL store at version 10 with two live generations and a dropped
 * one, each live {@code page_days} holding 400 days of 200 pages: afterwards a month's sum by
 * page reads that month through the new index in both, instead of scanning every day stored.
 */
class V11MigrationIT {

    @RegisterExtension
    final PostgresDatabase postgres = new PostgresDatabase();

    @Test
    void aMonthOfPageDaysIsReadByDayInEveryLiveGeneration() throws Exception {
        String url = postgres.jdbcUrl();
        Store store = Store.of(url);
        // Generation 2's older tables by hand at version 5, as a replay would have made them; later migrations add the rest.
        Flyway.configure().dataSource(Store.url(url), null, null).locations(store.migrations()).target("5").load().migrate();
        try (Connection c = postgres.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO tally_generations (generation, state, created_at) VALUES (2, 'old', 0), (3, 'dropped', 0)");
            s.execute("CREATE TABLE page_hours_g2 (page INTEGER NOT NULL, hour INTEGER NOT NULL, views BIGINT NOT NULL, PRIMARY KEY (page, hour))");
            s.execute("CREATE TABLE page_visitors_g2 (page INTEGER NOT NULL, day INTEGER NOT NULL, visitor BYTEA NOT NULL, PRIMARY KEY (page, day, visitor))");
        }
        Flyway.configure().dataSource(Store.url(url), null, null).locations(store.migrations()).target("10").load().migrate();
        try (Connection c = postgres.dataSource().getConnection(); Statement s = c.createStatement()) {
            for (String g : new String[] {"", "_g2"}) {
                // Written day after day, as the aggregator writes them.
                s.execute("INSERT INTO page_days" + g + " (page, day, views, visitors)"
                        + " SELECT p, d, 1000 / p + 1, 900 / p + 1 FROM generate_series(20000, 20399) d, generate_series(1, 200) p ORDER BY d, p");
                s.execute("ANALYZE page_days" + g);
            }
            assertThat(plan(s, "page_days")).contains("Seq Scan on page_days");
        }

        Flyway.configure().dataSource(Store.url(url), null, null).locations(store.migrations()).target("11").load().migrate();

        try (Connection c = postgres.dataSource().getConnection(); Statement s = c.createStatement()) {
            for (String g : new String[] {"", "_g2"}) {
                s.execute("ANALYZE page_days" + g);
                assertThat(plan(s, "page_days" + g)).as(g).contains("page_days_day" + g).doesNotContain("Seq Scan");
            }
        }
        assertThat(StoreContents.tables(postgres.dataSource())).doesNotContain("page_days_g3");
    }

    /** How PostgreSQL reads the top pages of the last 30 of the 400 days (as the page breakdown sums them). */
    private static String plan(Statement s, String table) throws Exception {
        StringBuilder plan = new StringBuilder();
        try (ResultSet rs = s.executeQuery("EXPLAIN SELECT page, SUM(views), SUM(visitors) FROM " + table
                + " WHERE day >= 20370 AND day < 20400 GROUP BY page ORDER BY 2 DESC LIMIT 10")) {
            while (rs.next()) {
                plan.append(rs.getString(1)).append('\n');
            }
        }
        return plan.toString();
    }
}
