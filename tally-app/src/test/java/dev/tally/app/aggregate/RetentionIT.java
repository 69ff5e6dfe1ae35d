package dev.tally.app.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.app.Databases;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.sql.DataSource;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code --retain}: the per-visitor rows of days before the cut-off are deleted in every visitor
 * table there is ({@code event_visitors}, {@code multi_segment_visitors} and {@code goal_visitors}
 * included when they exist), the counters stay, and a second
 * run, or a run of another process at the same time, deletes nothing more.
 */
class RetentionIT {

    private static final long DAY = 86_400_000L;

    @RegisterExtension
    final Databases stores = new Databases();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void deletesTheOldVisitorRowsOnceAndKeepsTheCounters(String database) throws Exception {
        boolean pg = database.equals("postgresql");
        boolean sqliteStore = database.equals("sqlite");
        DataSource ds = stores.dataSource(database);
        Aggregator.migrate(stores.jdbcUrl(database));
        long now = 20_500L * DAY + 3_600_000L;
        int today = 20_500;
        String x = pg ? "'\\x" : "X'";
        String v1 = x + "01010101010101010101010101010101'";
        String v2 = x + "02020202020202020202020202020202'";
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO pages (id, site, path) VALUES (1, 'default', '/a')");
            for (int day : new int[] {today - 40, today - 31, today - 30, today}) {
                s.execute("INSERT INTO page_visitors (page, day, visitor) VALUES (1, " + day + ", " + v1 + "), (1, " + day + ", " + v2 + ")");
                s.execute("INSERT INTO segment_visitors (day, visitor, segment) VALUES (" + day + ", " + v1 + ", 1)");
                s.execute("INSERT INTO site_visitors (site, day, visitor) VALUES ('default', " + day + ", " + v1 + ")");
                s.execute("INSERT INTO event_visitors (site, day, name, visitor) VALUES ('default', " + day + ", 'signup', " + v2 + ")");
                s.execute("INSERT INTO multi_segment_visitors (day, visitor, segment) VALUES (" + day + ", " + v1 + ", 1)");
                s.execute("INSERT INTO goal_visitors (goal, site, day, visitor) VALUES (1, 'default', " + day + ", " + v1 + ")");
                s.execute("INSERT INTO goal_days (goal, site, day, partition_id, visitors) VALUES (1, 'default', " + day + ", 0, 1)");
                s.execute("INSERT INTO page_days (page, day, views, visitors) VALUES (1, " + day + ", 5, 2)");
                s.execute("INSERT INTO site_days (site, day, partition_id, views, visitors) VALUES ('default', " + day + ", 0, 5, 1)");
            }
        }

        List<Long> results = new ArrayList<>();
        if (!sqliteStore) {
            // Two processes at the same moment: one deletes, the other finds it done.
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                Callable<Long> run = () -> {
                    try (Connection c = ds.getConnection()) {
                        return new Retention(30).run(c, now);
                    }
                };
                List<Future<Long>> runs = List.of(pool.submit(run), pool.submit(run));
                for (Future<Long> f : runs) {
                    results.add(f.get());
                }
            } finally {
                pool.shutdownNow();
            }
        } else {
            try (Connection c = ds.getConnection()) {
                results.add(new Retention(30).run(c, now));
            }
        }
        // Days 40 and 31 before today go: 2 + 1 + 1 + 1 + 1 + 1 rows each.
        assertThat(results).contains(14L);
        assertThat(results.stream().filter(r -> r >= 0)).hasSize(1);

        for (String table : new String[] {"page_visitors", "segment_visitors", "site_visitors", "event_visitors", "multi_segment_visitors",
                "goal_visitors"}) {
            assertThat(query(ds, "SELECT day, COUNT(*) FROM " + table + " GROUP BY day").keySet())
                    .as(table).containsExactly(String.valueOf(today - 30), String.valueOf(today));
        }
        assertThat(query(ds, "SELECT 'page', SUM(visitors) FROM page_days")).isEqualTo(Map.of("page", 8L));
        assertThat(query(ds, "SELECT 'site', SUM(visitors) FROM site_days")).isEqualTo(Map.of("site", 4L));
        assertThat(query(ds, "SELECT 'goal', SUM(visitors) FROM goal_days")).isEqualTo(Map.of("goal", 4L));
        assertThat(query(ds, "SELECT 'done', done_before_day FROM tally_retention")).isEqualTo(Map.of("done", (long) today - 30));

        try (Connection c = ds.getConnection()) {
            assertThat(new Retention(30).run(c, now)).isEqualTo(-1L);
            // The next day, the next day's rows: only those.
            assertThat(new Retention(30).run(c, now + DAY)).isEqualTo(7L);
            assertThat(new Retention(30).run(c, now + DAY + 3_600_000L)).isEqualTo(-1L);
        }
        assertThat(query(ds, "SELECT 'page', SUM(visitors) FROM page_days")).isEqualTo(Map.of("page", 8L));
    }

    private static Map<String, Long> query(DataSource ds, String sql) throws Exception {
        Map<String, Long> rows = new TreeMap<>();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                rows.put(rs.getString(1), rs.getLong(2));
            }
        }
        return rows;
    }
}
