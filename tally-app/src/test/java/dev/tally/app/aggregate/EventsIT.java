package dev.tally.app.aggregate;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tally.app.Databases;
import dev.tally.app.StoredOffsets;
import dev.tally.app.TallyProcess;
import dev.tally.testkit.KafkaBrokerExtension;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Custom events against a real broker (one that creates no topic by itself) and a real store:
 * events of {@code <topic>.events} interleaved with page views, counted exactly once into the
 * event tables while the page-view counts stay those of the views alone; hostile events at the
 * limits of the format; an events topic that does not exist when the aggregator starts; a range
 * replay that keeps the events before its day and recounts the rest; "Now" from the views of the
 * last hour only.
 */
class EventsIT {

    private static final long BASE = 1_700_000_000_000L;
    private static final long DAY = PageViewAggregator.DAY;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] NAMES = {"signup", "download", "outbound", "play", "goal"};

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess().property("auto.create.topics.enable", "false");

    @RegisterExtension
    final Databases stores = new Databases();

    @TempDir
    Path dir;

    private DataSource ds(String database) {
        return stores.dataSource(database);
    }

    private String url(String database) {
        return stores.jdbcUrl(database);
    }

    /** What the event tables must hold for a set of produced events. */
    private static final class Truth {
        final Map<String, Long> days = new TreeMap<>();
        final Map<String, Long> props = new TreeMap<>();
        final Map<String, Set<String>> senders = new TreeMap<>();
        final Map<String, Long> views = new TreeMap<>();
        final Map<String, Long> segments = new TreeMap<>();

        void event(String site, String path, long ts, String name, Map<String, String> props, String visitor) {
            long day = ts / DAY;
            days.merge(site + "|" + path + "|" + day + "|" + name, 1L, Long::sum);
            props.forEach((k, v) -> this.props.merge(site + "|" + day + "|" + name + "|" + k + "|" + v, 1L, Long::sum));
            if (visitor != null) {
                senders.computeIfAbsent(site + "|" + day + "|" + name, k -> new HashSet<>()).add(visitor);
            }
        }

        Map<String, Long> uniques() {
            Map<String, Long> u = new TreeMap<>();
            senders.forEach((k, v) -> u.put(k, (long) v.size()));
            return u;
        }

        void assertStore(DataSource ds) throws Exception {
            assertStore(ds, Generation.FIRST);
        }

        void assertStore(DataSource ds, Generation g) throws Exception {
            assertThat(query(ds, g.sql("SELECT p.site || '|' || p.path || '|' || e.day || '|' || e.name, SUM(e.events) FROM {event_days} e"
                    + " JOIN pages p ON p.id = e.page GROUP BY p.site, p.path, e.day, e.name"))).isEqualTo(days);
            assertThat(query(ds, g.sql("SELECT s.site || '|' || s.referrer || '|' || s.browser || '|' || s.browser_version || '|' || s.country,"
                    + " SUM(e.events) FROM {event_days} e JOIN segments s ON s.id = e.segment"
                    + " GROUP BY s.site, s.referrer, s.browser, s.browser_version, s.country"))).isEqualTo(segments);
            assertThat(query(ds, g.sql("SELECT site || '|' || day || '|' || name || '|' || prop || '|' || value, SUM(events) FROM {event_props}"
                    + " GROUP BY site, day, name, prop, value"))).isEqualTo(props);
            assertThat(query(ds, g.sql("SELECT site || '|' || day || '|' || name, COUNT(*) FROM {event_visitors} GROUP BY site, day, name")))
                    .isEqualTo(uniques());
            // Events are no page views.
            assertThat(query(ds, "SELECT site || '|' || path, views FROM views_total")).isEqualTo(views);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void eventsAreCountedExactlyOnceBesidePageViewsAndHostileOnesStopNothing(String database) throws Exception {
        DataSource ds = ds(database);
        String topic = KAFKA.uniqueTopic("events");
        KAFKA.createTopic(topic, 3);
        KAFKA.createTopic(topic + ".events", 4);
        KAFKA.createTopic(topic + ".dlq", 1);
        String group = "events-" + database;
        Truth truth = new Truth();

        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        mixed(topic, 0, 2_000, truth, records);
        // A page view on the events topic is no event; undecodable JSON neither; an event whose
        // property holds a lone surrogate (not text) is refused: all three to the dead-letter topic.
        records.add(record(topic + ".events", "/x", "{\"path\":\"/x\",\"ts\":" + BASE + "}"));
        records.add(record(topic + ".events", "/x", "not json"));
        records.add(record(topic + ".events", "/x", "{\"v\":2,\"path\":\"/x\",\"ts\":" + BASE + ",\"event\":\"e\",\"props\":{\"a\":\"\\ud800\"}}"));
        // A custom event on the page-view topic is no view: a dead letter too.
        records.add(record(topic, "/x", "{\"v\":2,\"path\":\"/x\",\"ts\":" + BASE + ",\"event\":\"misrouted\"}"));
        // Every field at its limit, in 4-byte UTF-8: stored as it is.
        String emoji = "\uD83D\uDE00";
        String site = "s".repeat(64);
        String name = emoji.repeat(16);
        Map<String, String> props = new LinkedHashMap<>();
        for (int k = 0; k < 10; k++) {
            props.put(emoji.repeat(15) + "pk0" + k, emoji.repeat(64));
        }
        records.add(event(topic, site, "/" + emoji.repeat(100), BASE, name, props, "h".repeat(256), truth));
        produce(records);

        try (Aggregator a = Aggregator.start(KAFKA.bootstrapServers(), topic, group, url(database), 2, Map.of())) {
            StoredOffsets.awaitCaughtUp(ds, group, KAFKA.bootstrapServers(), topic);
            StoredOffsets.awaitCaughtUp(ds, group, KAFKA.bootstrapServers(), topic + ".events");
            assertThat(a.problem()).isNull();
        }
        truth.assertStore(ds);
        assertThat(query(ds, "SELECT name, COUNT(*) FROM event_props WHERE site = '" + site + "' GROUP BY name"))
                .isEqualTo(Map.of(name, 10L));

        // A restart goes on from the stored offsets of both topics: nothing counted twice.
        records.clear();
        mixed(topic, 2_000, 3_000, truth, records);
        try (Aggregator a = Aggregator.start(KAFKA.bootstrapServers(), topic, group, url(database), 1, Map.of())) {
            produce(records);
            StoredOffsets.awaitCaughtUp(ds, group, KAFKA.bootstrapServers(), topic);
            StoredOffsets.awaitCaughtUp(ds, group, KAFKA.bootstrapServers(), topic + ".events");
        }
        truth.assertStore(ds);

        List<String> dead = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : KAFKA.readAll(topic + ".dlq")) {
            dead.add(new String(r.value(), UTF_8));
        }
        assertThat(dead).hasSize(4).contains("not json", "{\"path\":\"/x\",\"ts\":" + BASE + "}",
                "{\"v\":2,\"path\":\"/x\",\"ts\":" + BASE + ",\"event\":\"misrouted\"}");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void anEventsTopicAbsentAtStartIsReadOnceItExists(String database) throws Exception {
        DataSource ds = ds(database);
        String topic = KAFKA.uniqueTopic("late-events");
        KAFKA.createTopic(topic, 2);
        KAFKA.createTopic(topic + ".dlq", 1);
        String group = "late-" + database;
        Truth truth = new Truth();
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            records.add(view(topic, i, truth));
        }
        produce(records);
        // The consumer looks for new topics every second here (5 minutes by default).
        try (Aggregator a = Aggregator.start(KAFKA.bootstrapServers(), topic, group, url(database), 1, Map.of("metadata.max.age.ms", "1000"))) {
            StoredOffsets.awaitCaughtUp(ds, group, KAFKA.bootstrapServers(), topic);
            truth.assertStore(ds);
            assertThat(a.problem()).isNull();

            KAFKA.createTopic(topic + ".events", 2);
            records.clear();
            mixed(topic, 300, 900, truth, records);
            produce(records);
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                    .untilAsserted(() -> truth.assertStore(ds));
            StoredOffsets.awaitCaughtUp(ds, group, KAFKA.bootstrapServers(), topic + ".events");
            assertThat(a.problem()).isNull();
            assertThat(a.failed()).isFalse();
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void aRangeReplayKeepsTheEventsBeforeItsDayAndRecountsTheRestOnce(String database) throws Exception {
        DataSource ds = ds(database);
        String topic = KAFKA.uniqueTopic("replay-events");
        KAFKA.createTopic(topic, 2);
        KAFKA.createTopic(topic + ".events", 2);
        KAFKA.createTopic(topic + ".dlq", 1);
        String group = "replay-events-" + database;
        Truth truth = new Truth();
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        mixed(topic, 0, 2_000, truth, records); // about four days
        produce(records);
        try (Aggregator a = Aggregator.start(KAFKA.bootstrapServers(), topic, group, url(database), 1, Map.of())) {
            StoredOffsets.awaitCaughtUp(ds, group, KAFKA.bootstrapServers(), topic);
            StoredOffsets.awaitCaughtUp(ds, group, KAFKA.bootstrapServers(), topic + ".events");
        }
        truth.assertStore(ds);
        // A miscount of every day: the replay keeps the days before its own, recounts the others.
        long day2 = (BASE / DAY + 2) * DAY;
        execute(ds, "UPDATE event_days SET events = events + 1000 WHERE day >= " + day2 / DAY);
        execute(ds, "UPDATE event_props SET events = events + 1000 WHERE day >= " + day2 / DAY);
        execute(ds, "DELETE FROM event_visitors WHERE day >= " + day2 / DAY);

        TallyProcess replay = TallyProcess.run(dir, "replay", "--from", Instant.ofEpochMilli(day2 + 5 * 3_600_000L).toString(),
                "--bootstrap-servers", KAFKA.bootstrapServers(), "--topic", topic, "--db", url(database), "--group", group,
                "--batch-records", "300");
        assertThat(replay.exitCode()).as(replay.stdout() + replay.stderr()).isZero();
        assertThat(query(ds, "SELECT 'current', generation FROM tally_current_generation")).isEqualTo(Map.of("current", 2L));
        truth.assertStore(ds, new Generation(2));

        // The live aggregator goes on from where the replay stood, into generation 2, once.
        records.clear();
        mixed(topic, 2_000, 2_400, truth, records);
        produce(records);
        try (Aggregator a = Aggregator.start(KAFKA.bootstrapServers(), topic, group, url(database), 1, Map.of())) {
            StoredOffsets.awaitCaughtUp(ds, group, KAFKA.bootstrapServers(), topic);
            StoredOffsets.awaitCaughtUp(ds, group, KAFKA.bootstrapServers(), topic + ".events");
        }
        truth.assertStore(ds, new Generation(2));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void nowHoldsTheVisitorsOfTheLastHourOnly(String database) throws Exception {
        DataSource ds = ds(database);
        String topic = KAFKA.uniqueTopic("now");
        KAFKA.createTopic(topic, 2);
        KAFKA.createTopic(topic + ".events", 1);
        KAFKA.createTopic(topic + ".dlq", 1);
        String group = "now-" + database;
        Aggregator.migrate(url(database));
        long now = System.currentTimeMillis();
        long minute = RecentVisitors.MINUTE;
        // A row of two hours ago, as a previous run would have left it: pruned.
        String x = database.equals("postgresql") ? "'\\x" : "X'";
        execute(ds, "INSERT INTO recent_visitors (site, minute, visitor) VALUES ('default', " + (now / minute - 120)
                + ", " + x + "01010101010101010101010101010101')");

        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        records.add(record(topic, "/a", view("/a", now - 10 * minute, "recent")));
        records.add(record(topic, "/b", view("/b", now - 10 * minute, "recent"))); // the same visitor and minute: one row
        records.add(record(topic, "/a", view("/a", now - 2 * minute, "other")));
        records.add(record(topic, "/a", view("/a", now - 2 * 3_600_000L, "old")));
        records.add(record(topic, "/a", view("/a", now + 3_600_000L, "future")));
        records.add(record(topic, "/a", "{\"path\":\"/a\",\"ts\":" + (now - minute) + "}")); // no visitor
        records.add(record(topic + ".events", "/a", "{\"v\":2,\"path\":\"/a\",\"ts\":" + now + ",\"visitor\":\"eventer\",\"event\":\"e\"}"));
        produce(records);
        try (Aggregator a = Aggregator.start(KAFKA.bootstrapServers(), topic, group, url(database), 1, Map.of())) {
            StoredOffsets.awaitCaughtUp(ds, group, KAFKA.bootstrapServers(), topic);
            StoredOffsets.awaitCaughtUp(ds, group, KAFKA.bootstrapServers(), topic + ".events");
        }
        Map<String, Long> expected = new TreeMap<>();
        expected.put(VisitorId.of("recent") + "@" + (now - 10 * minute) / minute, 1L);
        expected.put(VisitorId.of("other") + "@" + (now - 2 * minute) / minute, 1L);
        assertThat(recentVisitors(ds, database)).isEqualTo(expected);

        // A replay's members write no "Now": what it recounts is the past.
        execute(ds, "DELETE FROM recent_visitors");
        try (Aggregator a = Aggregator.start(KAFKA.bootstrapServers(), topic, group + "-replay", url(database), 1, Map.of(), null,
                c -> Generation.currentLocked(c), Aggregator.BATCH_RECORDS)) {
            StoredOffsets.awaitCaughtUp(ds, group + "-replay", KAFKA.bootstrapServers(), topic);
        }
        assertThat(recentVisitors(ds, database)).isEmpty();
    }

    private static Map<String, Long> recentVisitors(DataSource ds, String database) throws Exception {
        Map<String, Long> rows = new TreeMap<>();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT visitor, minute FROM recent_visitors WHERE site = 'default'")) {
            while (rs.next()) {
                byte[] b = rs.getBytes(1);
                long high = 0;
                long low = 0;
                for (int i = 0; i < 8; i++) {
                    high = high << 8 | (b[i] & 0xFF);
                    low = low << 8 | (b[i + 8] & 0xFF);
                }
                rows.merge(new VisitorId(high, low) + "@" + rs.getLong(2), 1L, Long::sum);
            }
        }
        return rows;
    }

    /** Records {@code from} to {@code to}: page views and events interleaved, over about four days. */
    private static void mixed(String topic, int from, int to, Truth truth, List<ProducerRecord<byte[], byte[]>> into) throws Exception {
        for (int i = from; i < to; i++) {
            if (i % 3 == 0) {
                into.add(view(topic, i, truth));
                continue;
            }
            String site = i % 4 == 0 ? "shop" : "default";
            Map<String, String> props = new LinkedHashMap<>();
            if (i % 5 != 0) {
                props.put("plan", "p" + i % 3);
            }
            if (i % 7 == 0) {
                props.put("size", i % 2 == 0 ? "small" : "large");
            }
            into.add(event(topic, site, "/p/" + i % 11, BASE + i * 173_000L, NAMES[i % NAMES.length], props,
                    i % 10 == 9 ? null : "v" + i % 41, truth));
        }
    }

    private static ProducerRecord<byte[], byte[]> view(String topic, int i, Truth truth) {
        String path = "/v/" + i % 13;
        truth.views.merge("default|" + path, 1L, Long::sum);
        return record(topic, path, view(path, BASE + i * 173_000L, "v" + i % 17));
    }

    private static String view(String path, long ts, String visitor) {
        return "{\"path\":\"" + path + "\",\"ts\":" + ts + ",\"visitor\":\"" + visitor + "\"}";
    }

    private static ProducerRecord<byte[], byte[]> event(String topic, String site, String path, long ts, String name,
            Map<String, String> props, String visitor, Truth truth) throws Exception {
        ObjectNode json = JSON.createObjectNode();
        json.put("v", 2);
        json.put("path", path);
        json.put("ts", ts);
        json.put("site", site);
        if (visitor != null) {
            json.put("visitor", visitor);
        }
        json.put("event", name);
        ObjectNode p = json.putObject("props");
        props.forEach(p::put);
        // Dimensions and a referrer on some: the event's segment.
        int h = Math.floorMod((path + ts).hashCode(), 3);
        String referrer = h == 1 ? "news.example.com" : "";
        if (h == 1) {
            json.put("referrer", "https://news.example.com/a?b=" + ts);
        }
        if (h != 0) {
            json.put("browser", "Firefox");
            json.put("browser_version", "132");
            json.put("country", "DE");
        }
        truth.segments.merge(site + "|" + referrer + "|" + (h != 0 ? "Firefox|132|DE" : "||"), 1L, Long::sum);
        truth.event(site, path, ts, name, props, visitor);
        return record(topic + ".events", path, JSON.writeValueAsString(json));
    }

    private static ProducerRecord<byte[], byte[]> record(String topic, String key, String value) {
        return new ProducerRecord<>(topic, key.getBytes(UTF_8), value.getBytes(UTF_8));
    }

    private static void produce(List<ProducerRecord<byte[], byte[]>> records) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", KAFKA.bootstrapServers());
        p.put("acks", "all");
        // One request in flight: a partition that becomes its broker's just after the first one
        // was refused cannot take a later one first and leave the idempotent producer out of sequence.
        p.put("max.in.flight.requests.per.connection", "1");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            List<Future<?>> acks = new ArrayList<>();
            for (ProducerRecord<byte[], byte[]> r : records) {
                acks.add(producer.send(r));
            }
            for (Future<?> f : acks) {
                f.get(30, TimeUnit.SECONDS);
            }
        }
    }

    private static void execute(DataSource ds, String sql) throws Exception {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    static Map<String, Long> query(DataSource ds, String sql) throws Exception {
        Map<String, Long> rows = new TreeMap<>();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            if (Store.of(c) == Store.MYSQL) {
                s.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',PIPES_AS_CONCAT')"); // || as in the queries above
            }
            try (ResultSet rs = s.executeQuery(sql)) {
                while (rs.next()) {
                    rows.put(rs.getString(1), rs.getLong(2));
                }
            }
        }
        return rows;
    }
}
