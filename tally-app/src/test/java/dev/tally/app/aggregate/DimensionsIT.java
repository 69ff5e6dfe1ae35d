package dev.tally.app.aggregate;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.app.Databases;
import dev.tally.app.StoredOffsets;
import dev.tally.testkit.KafkaBrokerExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The day tables of event format v2's dimensions against a real broker and store: v1 and v2 page
 * views (some without a visitor, some without a key, so that one page's views and one visitor's
 * visits arrive on several partitions) counted by two aggregators of one group at once, then by
 * one after a restart; {@code page_days}, {@code segment_days}, {@code segment_visitors},
 * {@code site_segment_days} (visitors less one column's repeats the visitors of each of its
 * values), {@code multi_segment_visitors}, {@code site_days} and
 * {@code site_visitors} exactly as computed here, one segment row per combination; each page
 * visitor held in a segment it came with, and counted there.
 */
class DimensionsIT {

    private static final long BASE = 1_700_000_000_000L;
    private static final long DAY = 86_400_000L;

    // Backslashes, quotes and a value that COPY's text format would read as NULL unescaped.
    private static final String[] SOURCES = {null, "news", "Winter Sale", "\\N", "a\\b 'c' \"d\" \u00fc"};
    private static final String[] BROWSERS = {null, "Firefox", "Chrome Mobile"};
    private static final String[] OSES = {null, "Linux", "Mac OS X", "Android"};
    private static final String[] DEVICES = {null, "desktop", "mobile"};
    private static final String[] COUNTRIES = {null, "DE", "US", "XK"};

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final Databases stores = new Databases();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void countsEveryDimensionExactlyWithTwoAggregatorsSharingThePartitions(String database) throws Exception {
        DataSource ds = stores.dataSource(database);
        String url = stores.jdbcUrl(database);
        String topic = KAFKA.uniqueTopic("pageviews");
        KAFKA.createTopic(topic, 4);
        // Every partition led before the first record: an idempotent producer whose first requests
        // meet a partition not yet led can be left with a sequence the broker refuses forever.
        assertThat(KafkaBrokerExtension.endOffsets(KAFKA.bootstrapServers(), topic)).hasSize(4);
        String group = "dimensions-" + database;

        produce(topic, 0, 4_000);
        try (Aggregator a = Aggregator.start(KAFKA.bootstrapServers(), topic, group, url, 2, Map.of());
                Aggregator b = Aggregator.start(KAFKA.bootstrapServers(), topic, group, url, 1, Map.of())) {
            produce(topic, 4_000, 6_000);
            StoredOffsets.awaitCaughtUp(ds, group, KAFKA.bootstrapServers(), topic);
        }
        assertTables(ds, 6_000);

        try (Aggregator a = Aggregator.start(KAFKA.bootstrapServers(), topic, group, url, 1, Map.of())) {
            produce(topic, 6_000, 7_000);
            StoredOffsets.awaitCaughtUp(ds, group, KAFKA.bootstrapServers(), topic);
        }
        assertTables(ds, 7_000);
    }

    private static String path(int i) {
        return "/post/" + (i * 31 % 17);
    }

    private static long ts(int i) {
        return BASE + (i % 1_000) * 300_000L + (i / 2_500) * DAY; // about 4 days, interleaved
    }

    private static int day(int i) {
        return (int) (ts(i) / DAY);
    }

    private static String site(int i) {
        return i % 5 == 0 ? "other" : "default";
    }

    private static String referrerHost(int i) {
        return i % 3 == 0 ? "news.example.com" : i % 3 == 1 ? "search.example" : null;
    }

    private static String visitor(int i) {
        return i % 11 == 0 ? null : "v" + (i * 7 % 53);
    }

    private static boolean v2(int i) {
        return i % 4 != 3;
    }

    private static String pick(String[] values, int i, int salt) {
        return values[Math.floorMod(i * salt + salt, values.length)];
    }

    /** The segment's values, '' for unknown, in the order of the segments table. */
    private static String segment(int i) {
        List<String> s = new ArrayList<>();
        s.add(site(i));
        s.add(referrerHost(i));
        if (v2(i)) {
            s.add(pick(SOURCES, i, 7));
            s.add(i % 13 == 0 ? "email" : null);
            s.add(i % 13 == 0 ? "launch" : null);
            s.add(pick(BROWSERS, i, 3));
            s.add(pick(BROWSERS, i, 3) == null ? null : String.valueOf(100 + i % 3));
            s.add(pick(OSES, i, 5));
            s.add(pick(OSES, i, 5) == null ? null : String.valueOf(i % 2 + 10));
            s.add(pick(DEVICES, i, 11));
            s.add(pick(COUNTRIES, i, 13));
        } else {
            for (int k = 0; k < 9; k++) {
                s.add(null);
            }
        }
        StringBuilder b = new StringBuilder();
        for (String v : s) {
            b.append(v == null ? "" : v).append('|');
        }
        return b.toString();
    }

    private static final String[] FIELDS = {"source", "medium", "campaign", "browser", "browser_version", "os", "os_version", "device", "country"};

    private static String event(int i) {
        StringBuilder s = new StringBuilder("{");
        if (v2(i)) {
            s.append("\"v\":2,");
        }
        s.append("\"path\":\"").append(path(i)).append("\",\"ts\":").append(ts(i));
        if (visitor(i) != null) {
            s.append(",\"visitor\":\"").append(visitor(i)).append('"');
        }
        if (!site(i).equals("default")) {
            s.append(",\"site\":\"").append(site(i)).append('"');
        }
        if (referrerHost(i) != null) {
            s.append(",\"referrer\":\"https://").append(referrerHost(i)).append("/a?b=").append(i).append('"');
        }
        String[] values = segment(i).split("\\|", -1);
        for (int k = 0; k < FIELDS.length; k++) {
            if (!values[k + 2].isEmpty()) {
                s.append(",\"").append(FIELDS[k]).append("\":\"").append(values[k + 2].replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
            }
        }
        return s.append('}').toString();
    }

    private void produce(String topic, int from, int to) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", KAFKA.bootstrapServers());
        p.put("acks", "all");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            // In chunks: the shared test broker answers a few hundred records at a time promptly.
            for (int chunk = from; chunk < to; chunk += 500) {
                List<Future<?>> acks = new ArrayList<>();
                for (int i = chunk; i < Math.min(to, chunk + 500); i++) {
                    byte[] key = i % 3 == 0 ? null : path(i).getBytes(UTF_8);
                    acks.add(producer.send(new ProducerRecord<>(topic, key, event(i).getBytes(UTF_8))));
                }
                for (Future<?> f : acks) {
                    f.get(60, TimeUnit.SECONDS);
                }
            }
        }
    }

    private static final String SEGMENT = "s.site || '|' || s.referrer || '|' || s.source || '|' || s.medium || '|' || s.campaign || '|'"
            + " || s.browser || '|' || s.browser_version || '|' || s.os || '|' || s.os_version || '|' || s.device || '|' || s.country || '|'";

    private void assertTables(DataSource ds, int n) throws Exception {
        Map<String, Long> pageViews = new TreeMap<>();
        Map<String, Set<String>> pageVisitors = new TreeMap<>();
        Map<String, Long> segmentViews = new TreeMap<>();
        Map<String, Long> siteSegmentViews = new TreeMap<>();
        Map<String, Set<String>> segmentVisitors = new TreeMap<>();
        Map<String, Long> siteViews = new TreeMap<>();
        Map<String, Set<String>> siteVisitors = new TreeMap<>();
        Set<String> segments = new HashSet<>();
        Map<String, Set<String>> pageSegmentVisitors = new TreeMap<>();
        Map<String, Set<String>> visitorSegments = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            String page = site(i) + "|" + path(i) + "|" + day(i);
            pageViews.merge(page, 1L, Long::sum);
            segmentViews.merge(page + "|" + segment(i), 1L, Long::sum);
            siteSegmentViews.merge(day(i) + "|" + segment(i), 1L, Long::sum);
            siteViews.merge(site(i) + "|" + day(i), 1L, Long::sum);
            segments.add(segment(i));
            if (visitor(i) != null) {
                pageVisitors.computeIfAbsent(page, k -> new HashSet<>()).add(visitor(i));
                segmentVisitors.computeIfAbsent(day(i) + "|" + segment(i), k -> new HashSet<>()).add(visitor(i));
                siteVisitors.computeIfAbsent(site(i) + "|" + day(i), k -> new HashSet<>()).add(visitor(i));
                pageSegmentVisitors.computeIfAbsent(page + "|" + segment(i), k -> new HashSet<>()).add(visitor(i));
                visitorSegments.computeIfAbsent(site(i) + "|" + day(i) + "|" + visitor(i), k -> new HashSet<>()).add(segment(i));
            }
        }
        // The visitors who came with more than one segment of a site in a day, counted per day.
        Map<String, Set<String>> multi = new TreeMap<>();
        visitorSegments.forEach((k, v) -> {
            if (v.size() > 1) {
                String[] siteDayVisitor = k.split("\\|");
                multi.computeIfAbsent(siteDayVisitor[1], d -> new HashSet<>()).add(siteDayVisitor[2]);
            }
        });

        assertThat(query(ds, "SELECT p.site || '|' || p.path || '|' || d.day, d.views FROM page_days d JOIN pages p ON p.id = d.page"))
                .isEqualTo(pageViews);
        assertThat(query(ds, "SELECT p.site || '|' || p.path || '|' || d.day, d.visitors FROM page_days d JOIN pages p ON p.id = d.page"
                + " WHERE d.visitors > 0")).isEqualTo(sizes(pageVisitors));
        // The same sums per seven days (migration 13), over more than one such week.
        Map<String, Long> weekViews = new TreeMap<>();
        Map<String, Long> weekVisitors = new TreeMap<>();
        pageViews.forEach((k, count) -> weekViews.merge(week(k), count, Long::sum));
        sizes(pageVisitors).forEach((k, count) -> weekVisitors.merge(week(k), count, Long::sum));
        assertThat(weekViews.keySet().stream().map(k -> k.substring(k.lastIndexOf('|'))).distinct().count()).isGreaterThan(1);
        assertThat(query(ds, "SELECT p.site || '|' || p.path || '|' || w.week, w.views FROM page_weeks w JOIN pages p ON p.id = w.page"))
                .isEqualTo(weekViews);
        assertThat(query(ds, "SELECT p.site || '|' || p.path || '|' || w.week, w.visitors FROM page_weeks w JOIN pages p ON p.id = w.page"
                + " WHERE w.visitors > 0")).isEqualTo(weekVisitors);
        assertThat(query(ds, "SELECT p.site || '|' || p.path || '|' || d.day || '|' || " + SEGMENT + ", d.views FROM segment_days d"
                + " JOIN pages p ON p.id = d.page JOIN segments s ON s.id = d.segment")).isEqualTo(segmentViews);
        // A visitor's first segment of a day is held by its site row, the others by segment_visitors.
        assertThat(query(ds, "SELECT v.day || '|' || " + SEGMENT + ", COUNT(*) FROM (SELECT day, visitor, segment FROM segment_visitors UNION ALL"
                + " SELECT day, visitor, segment FROM site_visitors WHERE segment IS NOT NULL) v JOIN segments s ON s.id = v.segment"
                + " GROUP BY v.day, s.id, s.site, s.referrer, s.source, s.medium, s.campaign, s.browser, s.browser_version, s.os, s.os_version,"
                + " s.device, s.country")).isEqualTo(sizes(segmentVisitors));
        String bySegmentDay = " FROM site_segment_days v JOIN segments s ON s.id = v.segment"
                + " GROUP BY v.day, s.id, s.site, s.referrer, s.source, s.medium, s.campaign, s.browser, s.browser_version, s.os, s.os_version,"
                + " s.device, s.country";
        assertThat(query(ds, "SELECT v.day || '|' || " + SEGMENT + ", SUM(v.views)" + bySegmentDay)).isEqualTo(siteSegmentViews);
        assertThat(query(ds, "SELECT v.day || '|' || " + SEGMENT + ", SUM(v.visitors)" + bySegmentDay + " HAVING SUM(v.visitors) > 0"))
                .isEqualTo(sizes(segmentVisitors));
        assertThat(query(ds, "SELECT day || '', COUNT(DISTINCT visitor) FROM multi_segment_visitors GROUP BY day")).isEqualTo(sizes(multi));
        // Each of them with every segment of the site they came with that day.
        Map<String, Long> multiRows = new TreeMap<>();
        visitorSegments.forEach((k, v) -> {
            if (v.size() > 1) {
                multiRows.merge(k.substring(0, k.lastIndexOf('|')), (long) v.size(), Long::sum);
            }
        });
        assertThat(query(ds, "SELECT x.k, SUM(x.n) FROM (SELECT s.site || '|' || m.day AS k, COUNT(*) AS n FROM multi_segment_visitors m"
                + " JOIN segments s ON s.id = m.segment GROUP BY s.site, m.day, m.visitor HAVING COUNT(*) > 1) x GROUP BY x.k"))
                .isEqualTo(multiRows);
        // Visitors less the repeats of one column are the visitors of each of its values, exactly.
        String[] repeated = {"referrer", "source", "medium", "campaign"};
        for (int r = 0; r < repeated.length; r++) {
            Map<String, Set<String>> byValue = new TreeMap<>();
            for (int i = 0; i < n; i++) {
                if (visitor(i) != null) {
                    byValue.computeIfAbsent(site(i) + "|" + day(i) + "|" + segment(i).split("\\|", -1)[1 + r], k -> new HashSet<>()).add(visitor(i));
                }
            }
            String column = repeated[r];
            assertThat(query(ds, "SELECT s.site || '|' || v.day || '|' || s." + column + ", SUM(v.visitors - v.repeat_" + column + ")"
                    + " FROM site_segment_days v JOIN segments s ON s.id = v.segment GROUP BY s.site, v.day, s." + column
                    + " HAVING SUM(v.visitors) > 0")).as(column).isEqualTo(sizes(byValue));
        }
        // Each site visitor is a first visitor once, in a segment they came with.
        assertThat(query(ds, "SELECT s.site || '|' || v.day, SUM(v.first_visitors) FROM site_segment_days v JOIN segments s ON s.id = v.segment"
                + " GROUP BY s.site, v.day HAVING SUM(v.first_visitors) > 0")).isEqualTo(sizes(siteVisitors));
        query(ds, "SELECT v.day || '|' || " + SEGMENT + ", SUM(v.first_visitors)" + bySegmentDay).forEach((k, first) ->
                assertThat(first).as(k).isLessThanOrEqualTo(segmentVisitors.getOrDefault(k, Set.of()).size()));
        // Each page visitor is in the segment of one of their views of the page that day, and
        // segment_days counts them there.
        // A visitor's first page of a day is held by its site row, the others by page_visitors.
        Map<String, Long> held = query(ds, "SELECT p.site || '|' || p.path || '|' || v.day || '|' || " + SEGMENT + ", COUNT(*)"
                + " FROM (SELECT page, day, visitor, segment FROM page_visitors UNION ALL SELECT page, day, visitor, segment FROM site_visitors"
                + " WHERE page IS NOT NULL) v JOIN pages p ON p.id = v.page JOIN segments s ON s.id = v.segment"
                + " GROUP BY p.site, p.path, v.day, s.id, s.site, s.referrer, s.source, s.medium, s.campaign, s.browser, s.browser_version,"
                + " s.os, s.os_version, s.device, s.country");
        assertThat(query(ds, "SELECT p.site || '|' || p.path || '|' || d.day || '|' || " + SEGMENT + ", d.visitors FROM segment_days d"
                + " JOIN pages p ON p.id = d.page JOIN segments s ON s.id = d.segment WHERE d.visitors > 0")).isEqualTo(held);
        held.forEach((k, count) -> assertThat(count).as(k).isLessThanOrEqualTo(pageSegmentVisitors.getOrDefault(k, Set.of()).size()));
        Map<String, Long> heldPerPage = new TreeMap<>();
        held.forEach((k, count) -> heldPerPage.merge(k.substring(0, k.indexOf('|', k.indexOf('|', k.indexOf('|') + 1) + 1)), count, Long::sum));
        assertThat(heldPerPage).isEqualTo(sizes(pageVisitors));
        assertThat(query(ds, "SELECT site || '|' || day, SUM(views) FROM site_days GROUP BY site, day")).isEqualTo(siteViews);
        assertThat(query(ds, "SELECT site || '|' || day, SUM(visitors) FROM site_days GROUP BY site, day HAVING SUM(visitors) > 0"))
                .isEqualTo(sizes(siteVisitors));
        assertThat(query(ds, "SELECT site || '|' || day, COUNT(*) FROM site_visitors GROUP BY site, day")).isEqualTo(sizes(siteVisitors));
        assertThat(query(ds, "SELECT 'segments', COUNT(*) FROM segments")).isEqualTo(Map.of("segments", (long) segments.size()));
    }

    private static Map<String, Long> sizes(Map<String, Set<String>> sets) {
        Map<String, Long> out = new TreeMap<>();
        sets.forEach((k, v) -> out.put(k, (long) v.size()));
        return out;
    }

    /** {@code site|path|day} as {@code site|path|week}: the first of its seven days, as {@code page_weeks} keys it. */
    private static String week(String pageDay) {
        int bar = pageDay.lastIndexOf('|');
        int day = Integer.parseInt(pageDay.substring(bar + 1));
        return pageDay.substring(0, bar + 1) + (day - day % 7);
    }

    private static Map<String, Long> query(DataSource ds, String sql) throws Exception {
        Map<String, Long> rows = new TreeMap<>();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            if (Store.of(c) == Store.MYSQL) {
                s.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',PIPES_AS_CONCAT')"); // || as in the queries above
            }
            ResultSet rs = s.executeQuery(sql);
            while (rs.next()) {
                assertThat(rows.put(rs.getString(1), rs.getLong(2))).as("row %s twice", rs.getString(1)).isNull();
            }
        }
        return rows;
    }
}
