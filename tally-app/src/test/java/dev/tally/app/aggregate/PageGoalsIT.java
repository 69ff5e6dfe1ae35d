package dev.tally.app.aggregate;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.app.Databases;
import dev.tally.app.StoredOffsets;
import dev.tally.app.TallyProcess;
import dev.tally.testkit.KafkaBrokerExtension;
import java.nio.file.Path;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Page goals against a real broker and store: a goal registered while two aggregators of one
 * group count is counted exactly, the views stored before it by the registration's backfill and
 * the later ones by the aggregators, none twice; a goal registered after everything was counted
 * is backfilled alone; registering again changes nothing. Matching is case-sensitive and whole-path
 * on every store, and a visitor who reaches one goal on several pages of a day counts once.
 */
class PageGoalsIT {

    private static final long BASE = 1_700_000_000_000L;
    private static final long DAY = 86_400_000L;
    private static final String[] PATHS = {"/docs/a", "/docs/b/c", "/Docs/a", "/docs", "/blog/docs/a", "/pricing", "/pricing-plans"};
    private static final String DOCS = "/docs/*";
    private static final String PRICING = "/pricing";

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final Databases stores = new Databases();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void aGoalRegisteredWhileAggregatorsCountIsCountedExactly(String database) throws Exception {
        DataSource ds = stores.dataSource(database);
        String url = stores.jdbcUrl(database);
        String topic = KAFKA.uniqueTopic("pageviews");
        KAFKA.createTopic(topic, 4);
        String group = "goals-" + database;

        produce(topic, 0, 3_000);
        Map<String, Integer> ids;
        try (Aggregator a = Aggregator.start(KAFKA.bootstrapServers(), topic, group, url, 2, Map.of());
                Aggregator b = Aggregator.start(KAFKA.bootstrapServers(), topic, group, url, 1, Map.of())) {
            Thread more = producing(topic, 3_000, 6_000);
            // While both count and records keep coming.
            try (Connection c = ds.getConnection()) {
                ids = PageGoals.register(c, List.of(DOCS));
            }
            more.join();
            StoredOffsets.awaitCaughtUp(ds, group, KAFKA.bootstrapServers(), topic);
        }
        assertGoal(ds, ids.get(DOCS), DOCS, 6_000);

        try (Connection c = ds.getConnection()) {
            Map<String, Integer> again = PageGoals.register(c, List.of(PRICING, DOCS));
            assertThat(again.get(DOCS)).isEqualTo(ids.get(DOCS));
            ids = again;
        }
        assertGoal(ds, ids.get(DOCS), DOCS, 6_000);
        assertGoal(ds, ids.get(PRICING), PRICING, 6_000);

        try (Aggregator a = Aggregator.start(KAFKA.bootstrapServers(), topic, group, url, 1, Map.of())) {
            produce(topic, 6_000, 7_000);
            StoredOffsets.awaitCaughtUp(ds, group, KAFKA.bootstrapServers(), topic);
        }
        assertGoal(ds, ids.get(DOCS), DOCS, 7_000);
        assertGoal(ds, ids.get(PRICING), PRICING, 7_000);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void aRemovedGoalStopsBeingCountedAndItsIdIsNotGivenAgain(String database) throws Exception {
        DataSource ds = stores.dataSource(database);
        String url = stores.jdbcUrl(database);
        String topic = KAFKA.uniqueTopic("pageviews");
        KAFKA.createTopic(topic, 4);
        String group = "goals-removed-" + database;

        produce(topic, 0, 2_000);
        try (Aggregator a = Aggregator.start(KAFKA.bootstrapServers(), topic, group, url, 2, Map.of())) {
            int docs;
            try (Connection c = ds.getConnection()) {
                docs = PageGoals.register(c, List.of(DOCS, PRICING)).get(DOCS);
            }
            StoredOffsets.awaitCaughtUp(ds, group, KAFKA.bootstrapServers(), topic);
            assertGoal(ds, docs, DOCS, 2_000);

            // Removed while the aggregator counts and records keep coming.
            Thread more = producing(topic, 2_000, 4_000);
            try (Connection c = ds.getConnection()) {
                assertThat(PageGoals.remove(c, List.of(DOCS, "/not-registered"))).isEqualTo(Map.of(DOCS, docs));
                assertThat(PageGoals.registered(c)).containsOnlyKeys(PRICING);
            }
            more.join();
            StoredOffsets.awaitCaughtUp(ds, group, KAFKA.bootstrapServers(), topic);
            assertThat(query(ds, "SELECT site, day, COUNT(*) FROM goal_visitors WHERE goal = " + docs + " GROUP BY site, day")).isEmpty();
            assertThat(query(ds, "SELECT site, day, COUNT(*) FROM goal_days WHERE goal = " + docs + " GROUP BY site, day")).isEmpty();
            try (Connection c = ds.getConnection()) {
                assertGoal(ds, PageGoals.registered(c).get(PRICING), PRICING, 4_000);
                // Registered again: a new id, backfilled from the visitor rows, then counted by the same aggregator.
                int again = PageGoals.register(c, List.of(DOCS)).get(DOCS);
                assertThat(again).isNotEqualTo(docs);
                produce(topic, 4_000, 5_000);
                StoredOffsets.awaitCaughtUp(ds, group, KAFKA.bootstrapServers(), topic);
                assertGoal(ds, again, DOCS, 5_000);
                assertGoal(ds, PageGoals.registered(c).get(PRICING), PRICING, 5_000);
            }
        }
    }

    @Test
    void goalsListsAndRemovesPatterns(@TempDir Path dir) throws Exception {
        Aggregator.migrate(stores.jdbcUrl("sqlite"));
        try (Connection c = stores.dataSource("sqlite").getConnection()) {
            PageGoals.register(c, List.of(DOCS, PRICING));
        }
        TallyProcess list = TallyProcess.run(dir, "goals", "--db", stores.jdbcUrl("sqlite"));
        assertThat(list.exitCode()).as(list.stderr()).isZero();
        assertThat(list.stdout()).contains("page:/docs/*\t(id 1)", "page:/pricing\t(id 2)");

        TallyProcess remove = TallyProcess.run(dir, "goals", "--db", stores.jdbcUrl("sqlite"), "--remove", "page:/docs/*", "--remove", "/nope");
        assertThat(remove.exitCode()).isEqualTo(1);
        assertThat(remove.stdout()).contains("removed page:/docs/* (id 1)");
        assertThat(remove.stderr()).contains("page:/nope is not registered");

        TallyProcess after = TallyProcess.run(dir, "goals", "--db", stores.jdbcUrl("sqlite"));
        assertThat(after.stdout()).contains("page:/pricing").doesNotContain("/docs");
        assertThat(TallyProcess.run(dir, "goals", "--db", stores.jdbcUrl("sqlite"), "--remove", "docs").exitCode()).isEqualTo(2);
    }

    private static String path(int i) {
        return PATHS[i * 31 % PATHS.length];
    }

    private static long ts(int i) {
        return BASE + (i % 1_000) * 300_000L + (i / 2_500) * DAY;
    }

    private static String site(int i) {
        return i % 5 == 0 ? "other" : "default";
    }

    private static String visitor(int i) {
        return i % 11 == 0 ? null : "v" + (i * 7 % 53);
    }

    private static String event(int i) {
        StringBuilder s = new StringBuilder("{\"path\":\"").append(path(i)).append("\",\"ts\":").append(ts(i));
        if (visitor(i) != null) {
            s.append(",\"visitor\":\"").append(visitor(i)).append('"');
        }
        if (!site(i).equals("default")) {
            s.append(",\"site\":\"").append(site(i)).append('"');
        }
        return s.append('}').toString();
    }

    /** Events {@code from} to {@code to}, written by a thread of their own, started. */
    private static Thread producing(String topic, int from, int to) {
        Thread t = new Thread(() -> {
            try {
                produce(topic, from, to);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        t.start();
        return t;
    }

    private static void produce(String topic, int from, int to) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", KAFKA.bootstrapServers());
        p.put("acks", "all");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int chunk = from; chunk < to; chunk += 500) {
                List<Future<?>> acks = new ArrayList<>();
                for (int i = chunk; i < Math.min(to, chunk + 500); i++) {
                    // Some without a key: one visitor's views of a day on several partitions.
                    byte[] key = i % 3 == 0 ? null : path(i).getBytes(UTF_8);
                    acks.add(producer.send(new ProducerRecord<>(topic, key, event(i).getBytes(UTF_8))));
                }
                for (Future<?> f : acks) {
                    f.get(60, TimeUnit.SECONDS);
                }
            }
        }
    }

    /** The goal's visitors by site and day, as stored and as counted, equal what the first {@code n} events make. */
    private static void assertGoal(DataSource ds, int id, String pattern, int n) throws Exception {
        Map<String, Set<String>> expected = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            if (visitor(i) != null && PageGoals.matches(pattern, path(i))) {
                expected.computeIfAbsent(site(i) + "|" + ts(i) / DAY, k -> new HashSet<>()).add(visitor(i));
            }
        }
        Map<String, Long> counts = new TreeMap<>();
        expected.forEach((k, v) -> counts.put(k, (long) v.size()));
        assertThat(counts).as("the test's own goal").isNotEmpty();
        assertThat(query(ds, "SELECT site, day, SUM(visitors) FROM goal_days WHERE goal = " + id + " GROUP BY site, day"))
                .as("%s counted", pattern).isEqualTo(counts);
        assertThat(query(ds, "SELECT site, day, COUNT(*) FROM goal_visitors WHERE goal = " + id + " GROUP BY site, day"))
                .as("%s stored", pattern).isEqualTo(counts);
    }

    private static Map<String, Long> query(DataSource ds, String sql) throws Exception {
        Map<String, Long> rows = new TreeMap<>();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                rows.put(rs.getString(1) + "|" + rs.getLong(2), rs.getLong(3));
            }
        }
        return rows;
    }
}
