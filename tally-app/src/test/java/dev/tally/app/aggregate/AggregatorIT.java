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
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The aggregator against a real broker and a real store: events from a plain Kafka producer (as
 * kcat would write them), some invalid, counted exactly into every table; the invalid ones in the
 * dead-letter topic; the counts survive a restart and keep growing correctly after it.
 */
class AggregatorIT {

    private static final long BASE = 1_700_000_000_000L;

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final Databases stores = new Databases();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void countsEveryTableExactlyAndSurvivesARestart(String database) throws Exception {
        DataSource ds = stores.dataSource(database);
        String url = stores.jdbcUrl(database);
        String topic = KAFKA.uniqueTopic("pageviews");
        KAFKA.createTopic(topic, 4);
        // Every partition led before the first record: an idempotent producer whose first requests
        // meet a partition not yet led can be left with a sequence the broker refuses forever.
        assertThat(KafkaBrokerExtension.endOffsets(KAFKA.bootstrapServers(), topic)).hasSize(4);
        String group = "aggregator-" + database;

        produce(topic, 0, 3_000);
        try (Aggregator a = Aggregator.start(KAFKA.bootstrapServers(), topic, group, url, 2, Map.of())) {
            StoredOffsets.awaitCaughtUp(ds, group, KAFKA.bootstrapServers(), topic);
        }
        assertTables(ds, 3_000);

        // A restart continues from the stored offsets: nothing counted twice, new events counted once.
        try (Aggregator a = Aggregator.start(KAFKA.bootstrapServers(), topic, group, url, 1, Map.of())) {
            produce(topic, 3_000, 4_000);
            StoredOffsets.awaitCaughtUp(ds, group, KAFKA.bootstrapServers(), topic);
        }
        assertTables(ds, 4_000);

        Set<String> dead = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> r : KAFKA.readAll(topic + ".dlq")) {
            dead.add(new String(r.value(), UTF_8));
        }
        Set<String> invalid = new HashSet<>();
        for (int i = 0; i < 4_000; i++) {
            if (!valid(i)) {
                invalid.add(event(i));
            }
        }
        assertThat(dead).isEqualTo(invalid);

        if (database.equals("postgresql")) {
            // Room on each heap page for the counters' updates to stay heap-only (migration 5).
            try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT relname, array_to_string(reloptions, ',') FROM pg_class"
                            + " WHERE relname IN ('page_hours', 'page_totals', 'referrers_daily') ORDER BY relname")) {
                List<String> options = new ArrayList<>();
                while (rs.next()) {
                    options.add(rs.getString(1) + ":" + rs.getString(2));
                }
                assertThat(options).containsExactly("page_hours:fillfactor=70", "page_totals:fillfactor=70", "referrers_daily:fillfactor=70");
            }
        }
    }

    private static boolean valid(int i) {
        return i % 50 != 49;
    }

    private static String path(int i) {
        return "/post/" + (i * 31 % 23);
    }

    private static long ts(int i) {
        return BASE + i * 97_000L; // about 4 days over 4,000 events
    }

    private static String site(int i) {
        return i % 4 == 0 ? "other" : "default";
    }

    private static String referrer(int i) {
        return i % 3 == 0 ? "https://News.Example.com/a?b=" + i : i % 3 == 1 ? "not a url" : null;
    }

    private static String visitor(int i) {
        return "v" + (i % 37);
    }

    private static String event(int i) {
        if (!valid(i)) {
            return i % 100 == 49 ? "{\"path\":\"no-slash-" + i + "\"}" : "{not json " + i;
        }
        StringBuilder s = new StringBuilder("{\"path\":\"").append(path(i)).append("\",\"ts\":").append(ts(i))
                .append(",\"visitor\":\"").append(visitor(i)).append('"');
        if (!site(i).equals("default")) {
            s.append(",\"site\":\"").append(site(i)).append('"');
        }
        if (referrer(i) != null) {
            s.append(",\"referrer\":\"").append(referrer(i)).append('"');
        }
        return s.append('}').toString();
    }

    private void produce(String topic, int from, int to) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", KAFKA.bootstrapServers());
        p.put("acks", "all");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            List<Future<?>> acks = new ArrayList<>();
            for (int i = from; i < to; i++) {
                // Some records carry no key, as other producers may send them.
                byte[] key = i % 7 == 0 ? null : path(i).getBytes(UTF_8);
                acks.add(producer.send(new ProducerRecord<>(topic, key, event(i).getBytes(UTF_8))));
            }
            for (Future<?> f : acks) {
                f.get(30, TimeUnit.SECONDS);
            }
        }
    }

    private void assertTables(DataSource ds, int n) throws Exception {
        Map<String, Long> hourly = new TreeMap<>();
        Map<String, Long> totals = new TreeMap<>();
        Map<String, Long> referrers = new TreeMap<>();
        Map<String, Set<String>> visitors = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            if (!valid(i)) {
                continue;
            }
            long hour = ts(i) / PageViewAggregator.HOUR * PageViewAggregator.HOUR;
            long day = ts(i) / PageViewAggregator.DAY * PageViewAggregator.DAY;
            hourly.merge(site(i) + "|" + path(i) + "|" + hour, 1L, Long::sum);
            totals.merge(site(i) + "|" + path(i), 1L, Long::sum);
            if (i % 3 == 0) {
                referrers.merge(site(i) + "|news.example.com|" + day, 1L, Long::sum);
            }
            visitors.computeIfAbsent(site(i) + "|" + path(i) + "|" + day, k -> new HashSet<>()).add(visitor(i));
        }
        Map<String, Long> uniques = new TreeMap<>();
        visitors.forEach((k, v) -> uniques.put(k, (long) v.size()));

        assertThat(query(ds, "SELECT CONCAT(site, '|', path, '|', hour), views FROM views_hourly")).isEqualTo(hourly);
        assertThat(query(ds, "SELECT CONCAT(site, '|', path), views FROM views_total")).isEqualTo(totals);
        assertThat(query(ds, "SELECT CONCAT(site, '|', host, '|', day), views FROM referrers_daily")).isEqualTo(referrers);
        assertThat(query(ds, "SELECT CONCAT(site, '|', path, '|', day), COUNT(*) FROM visitors_daily GROUP BY site, path, day"))
                .isEqualTo(uniques);
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
