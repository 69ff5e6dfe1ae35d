package dev.tally.app.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.app.event.PageView;
import dev.tally.testkit.PostgresDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A batch on PostgreSQL reads the visitor tables it checks against only by key, one staged row
 * at a time, never by a scan of the table, whatever the planner's statistics say. A store of 200 000 site visitors gets a batch of returning visitors on new
 * pages from new referrers (page rows, segment rows, visitors of several segments) and new
 * visitors; the transaction's own table statistics ({@code pg_stat_xact_user_tables}) must show
 * no sequential scan of {@code site_visitors}, {@code page_visitors} or
 * {@code segment_visitors}. (The row stores write one parameterised row per statement, found by
 * its key.)
 */
class VisitorLookupsIT {

    private static final long TS = 1_700_000_000_000L;
    private static final int STORED = 200_000;

    @RegisterExtension
    final PostgresDatabase postgres = new PostgresDatabase();

    @Test
    void aBatchReadsTheVisitorTablesByKeyOnly() throws Exception {
        String url = Store.url(postgres.jdbcUrl());
        Aggregator.migrate(url);
        try (Connection c = DriverManager.getConnection(url)) {
            c.setAutoCommit(false);
            List<PageView> views = new ArrayList<>();
            for (int i = 0; i < STORED; i++) {
                views.add(new PageView("/p" + i % 50, TS, "blog", "https://r" + i % 10 + ".example/", "x" + i, null));
            }
            new PageViewAggregator().write(views, 0, c);
            c.commit();

            views.clear();
            for (int i = 0; i < 10_000; i++) {
                // A stored visitor back on another page from another referrer, twice each.
                views.add(new PageView("/q" + i % 50, TS + 1, "blog", "https://n" + i % 10 + ".example/", "x" + i * 7, null));
                views.add(new PageView("/r" + i % 50, TS + 2, "blog", "https://m" + i % 10 + ".example/", "x" + i * 7, null));
                views.add(new PageView("/p" + i % 50, TS + 3, "blog", null, "new" + i, null));
            }
            new PageViewAggregator().write(views, 1, c);
            Map<String, Long> scans = new TreeMap<>();
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT relname, seq_scan FROM pg_stat_xact_user_tables"
                            + " WHERE relname IN ('site_visitors', 'page_visitors', 'segment_visitors')")) {
                while (rs.next()) {
                    scans.put(rs.getString(1), rs.getLong(2));
                }
            }
            c.commit();
            assertThat(scans).as("sequential scans in the batch's transaction")
                    .isEqualTo(Map.of("site_visitors", 0L, "page_visitors", 0L, "segment_visitors", 0L));
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT (SELECT COUNT(*) FROM page_visitors), (SELECT COUNT(*) FROM segment_visitors),"
                            + " (SELECT COUNT(DISTINCT visitor) FROM multi_segment_visitors), (SELECT SUM(visitors) FROM site_days)")) {
                rs.next();
                assertThat(rs.getLong(1)).as("page rows: the two new pages of each returning visitor").isEqualTo(20_000);
                assertThat(rs.getLong(2)).as("segment rows: the two new segments of each").isEqualTo(20_000);
                assertThat(rs.getLong(3)).as("visitors of several segments").isEqualTo(10_000);
                assertThat(rs.getLong(4)).as("site visitors").isEqualTo(STORED + 10_000);
            }
        }
    }
}
