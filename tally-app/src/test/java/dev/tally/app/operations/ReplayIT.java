package dev.tally.app.operations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.app.Databases;
import dev.tally.app.PageViewTruth;
import dev.tally.app.StoredOffsets;
import dev.tally.app.TallyProcess;
import dev.tally.app.aggregate.Aggregator;
import dev.tally.app.aggregate.Generation;
import dev.tally.consumer.OffsetStore;
import dev.tally.testkit.KafkaBrokerExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code bin/tally replay} on a real broker, SQLite and PostgreSQL: a deliberate miscount of the
 * live aggregator recounted right while the API answers throughout; a replay killed midway
 * resumed to exact counts while a second one is refused; old generations dropped; a range
 * replay that keeps the days before it.
 */
class ReplayIT {

    private static final String BUG = "tally.test.miscount";

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final Databases stores = new Databases();

    @TempDir
    Path dir;

    private String url(String database) {
        return stores.jdbcUrl(database);
    }

    private DataSource ds(String database) {
        return stores.dataSource(database);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void aReplayRecountsAMiscountWhileTheApiAnswersAndCountsViewsDuringItOnce(String database) throws Exception {
        String topic = KAFKA.uniqueTopic("replay");
        KAFKA.createTopic(topic, 4);
        KAFKA.createTopic(topic + ".dlq", 1);
        String group = "live-" + database;
        String kafka = KAFKA.bootstrapServers();
        PageViewTruth truth = new PageViewTruth();
        truth.produce(kafka, topic, 3_000, 8);

        // The live aggregator with a bug: /posts/0 is counted as /posts/1.
        try (TallyProcess buggy = aggregate(database, topic, group, Map.of(BUG, "/posts/0=/posts/1"));
                TallyProcess serve = TallyProcess.start(dir, "serve", "--db", url(database), "--port", "0")) {
            String api = serve.await("serving (http://[^/ ]+)/", Duration.ofSeconds(60));
            StoredOffsets.awaitCaughtUp(ds(database), group, kafka, topic);
            assertThat(PageViewTruth.get(api + "/api/views?path=/posts/0").get("views").asLong()).isZero();
            assertThat(buggy.terminate(Duration.ofSeconds(30))).isEqualTo(143);

            // The fix is deployed: the live aggregator counts right from here on, and a replay recounts the past.
            try (TallyProcess live = aggregate(database, topic, group, Map.of())) {
                ApiPoller poller = new ApiPoller(api);
                poller.start();
                TallyProcess replay = TallyProcess.start(dir, "replay", "--from", "earliest", "--bootstrap-servers", kafka,
                        "--topic", topic, "--db", url(database), "--group", group, "--batch-records", "200");
                int during = 0;
                do {
                    truth.produce(kafka, topic, 100, 8); // views sent while the replay runs
                    during += 100;
                } while (replay.isAlive() && during < 3_000);
                replay.await("switched: generation 2 is current", Duration.ofSeconds(120));
                assertThat(waitFor(replay)).as(replay.stderr()).isZero();

                StoredOffsets.awaitCaughtUp(ds(database), group, kafka, topic);
                truth.assertApiMatches(api);
                poller.stop();
                assertThat(poller.errors).as("API answers other than 200 during the replay").isEmpty();
                assertThat(poller.requests.get()).isPositive();
                assertThat(state(ds(database), 1)).isEqualTo("old");

                // The audit reads the schema-2 views, now over generation 2: equal to the topic.
                TallyProcess audit = TallyProcess.run(dir, "audit", "--bootstrap-servers", kafka, "--topic", topic,
                        "--db", url(database), "--group", group);
                assertThat(audit.exitCode()).as(audit.stdout() + audit.stderr()).isZero();
                live.terminate(Duration.ofSeconds(30));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void aReplayKilledMidwayResumesToExactCountsAndASecondOneIsRefused(String database) throws Exception {
        String topic = KAFKA.uniqueTopic("replay-kill");
        KAFKA.createTopic(topic, 4);
        KAFKA.createTopic(topic + ".dlq", 1);
        String group = "live-kill-" + database;
        String kafka = KAFKA.bootstrapServers();
        DataSource ds = ds(database);
        PageViewTruth truth = new PageViewTruth();
        truth.produce(kafka, topic, 10_000, 50);
        try (Aggregator live = Aggregator.start(kafka, topic, group, url(database), 1, Map.of())) {
            StoredOffsets.awaitCaughtUp(ds, group, kafka, topic);
            execute(ds, "UPDATE page_totals SET views = views + 7"); // a miscount the replay must not keep
            String[] args = {"replay", "--from", "earliest", "--bootstrap-servers", kafka, "--topic", topic,
                "--db", url(database), "--group", group, "--batch-records", "50"};

            TallyProcess first = TallyProcess.start(dir, args);
            OffsetStore offsets = new OffsetStore(ds);
            String replayGroup = group + ".replay-2";
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(5))
                    .until(() -> stored(offsets, replayGroup) > 0);
            first.close(); // kill -9
            long midway = stored(offsets, replayGroup);
            assertThat(midway).as("killed midway").isPositive().isLessThan(10_000);
            assertThat(state(ds, 2)).isEqualTo("building");
            assertThat(query(ds, "SELECT path, views FROM views_total")).isNotEqualTo(truth.views()); // still generation 1

            TallyProcess resumed = TallyProcess.start(dir, args);
            resumed.await("resuming the replay into generation 2", Duration.ofSeconds(60));
            TallyProcess second = TallyProcess.run(dir, args);
            assertThat(second.exitCode()).as(second.stderr()).isEqualTo(ReplayCommand.BUSY);
            assertThat(second.stderr().strip()).startsWith("tally replay: another replay is running on ").doesNotContain("\tat ");
            resumed.await("switched: generation 2 is current", Duration.ofSeconds(120));
            assertThat(waitFor(resumed)).as(resumed.stderr()).isZero();

            truth.produce(kafka, topic, 500, 50);
            StoredOffsets.awaitCaughtUp(ds, group, kafka, topic);
            assertThat(query(ds, "SELECT path, views FROM views_total")).isEqualTo(truth.views());
        }

        TallyProcess drop = TallyProcess.run(dir, "replay", "--drop-old", "--db", url(database));
        assertThat(drop.exitCode()).as(drop.stderr()).isZero();
        assertThat(drop.stdout()).contains("dropped generation(s) [1]");
        assertThat(state(ds, 1)).isEqualTo("dropped");
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.executeQuery("SELECT COUNT(*) FROM page_totals"))
                    .isInstanceOf(SQLException.class);
        }
        assertThat(query(ds, "SELECT path, views FROM views_total")).isEqualTo(truth.views());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void aRangeReplayKeepsTheDaysBeforeItAndRecountsTheRest(String database) throws Exception {
        String topic = KAFKA.uniqueTopic("replay-range");
        KAFKA.createTopic(topic, 2);
        KAFKA.createTopic(topic + ".dlq", 1);
        String group = "live-range-" + database;
        String kafka = KAFKA.bootstrapServers();
        DataSource ds = ds(database);
        // Recent days: the broker's retention (7 days by the records' timestamps) must keep them.
        long day2 = Math.floorDiv(System.currentTimeMillis(), 86_400_000L) * 86_400_000L - 86_400_000L;
        long day1 = day2 - 86_400_000L;
        // Two days of views, each record's timestamp its event's time, as the collector writes them.
        try (KafkaProducer<String, String> p = new KafkaProducer<>(KAFKA.producerProperties())) {
            for (int i = 0; i < 400; i++) {
                long ts = (i < 200 ? day1 : day2) + 3_600_000L * (i % 5) + i;
                String path = "/p" + (i % 3);
                p.send(new ProducerRecord<>(topic, null, ts, path, "{\"path\":\"" + path + "\",\"ts\":" + ts + "}"));
            }
            p.flush();
        }
        try (Aggregator live = Aggregator.start(kafka, topic, group, url(database), 1, Map.of())) {
            StoredOffsets.awaitCaughtUp(ds, group, kafka, topic);
            Map<String, Long> right = query(ds, "SELECT CONCAT(path, '@', hour), views FROM views_hourly");
            // A miscount on each day: the replay from day 2 keeps day 1's rows as they are and recounts day 2.
            long h1 = day1 / 3_600_000L;
            long h2 = day2 / 3_600_000L;
            execute(ds, "UPDATE page_hours SET views = views + 5 WHERE hour IN (" + h1 + ", " + h2 + ")");
            execute(ds, "UPDATE page_days SET views = views + 5 WHERE day IN (" + day1 / 86_400_000L + ", " + day2 / 86_400_000L + ")");
            Map<String, Long> expected = new TreeMap<>(right);
            right.forEach((k, v) -> {
                if (k.endsWith("@" + day1)) {
                    expected.put(k, v + 5);
                }
            });

            TallyProcess replay = TallyProcess.run(dir, "replay", "--from", Instant.ofEpochMilli(day2 + 13 * 3_600_000L).toString(), "--bootstrap-servers", kafka,
                    "--topic", topic, "--db", url(database), "--group", group);
            assertThat(replay.exitCode()).as(replay.stdout() + replay.stderr()).isZero();
            assertThat(replay.stdout()).contains("from " + Instant.ofEpochMilli(day2));
            StoredOffsets.awaitCaughtUp(ds, group, kafka, topic);
            assertThat(query(ds, "SELECT CONCAT(path, '@', hour), views FROM views_hourly")).isEqualTo(expected);
            Map<String, Long> totals = new TreeMap<>();
            expected.forEach((k, v) -> totals.merge(k.substring(0, k.indexOf('@')), v, Long::sum));
            assertThat(query(ds, "SELECT path, views FROM views_total")).isEqualTo(totals);
            // The weeks are the sums of the days kept and recounted, the kept miscount of day 1 included.
            try (Connection c = ds.getConnection()) {
                Generation g = Generation.current(c);
                Map<String, Long> days = query(ds, "SELECT CONCAT(page, '@', day), views FROM " + g.table("page_days"));
                assertThat(days).hasSize(6);
                assertThat(days.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(400 + 3 * 5);
                assertThat(query(ds, "SELECT CONCAT(page, '@', week), views FROM " + g.table("page_weeks")))
                        .isEqualTo(query(ds, "SELECT CONCAT(page, '@', day - day % 7), SUM(views) FROM " + g.table("page_days")
                                + " GROUP BY page, day - day % 7"));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql"})
    void aReplayOfASmallStoreSwitchesOnlyOnceItRecountedWhatWasCountedWhenItBegan(String database) throws Exception {
        String topic = KAFKA.uniqueTopic("small");
        KAFKA.createTopic(topic, 2);
        KAFKA.createTopic(topic + ".dlq", 1);
        String group = "small-" + database;
        String kafka = KAFKA.bootstrapServers();
        new PageViewTruth().produce(kafka, topic, 300, 8);
        try (TallyProcess live = aggregate(database, topic, group, Map.of())) {
            StoredOffsets.awaitCaughtUp(ds(database), group, kafka, topic);
            live.terminate(Duration.ofSeconds(30));
        }
        Map<String, Long> counted = query(ds(database), "SELECT 'views', SUM(views) FROM page_totals");
        assertThat(counted.get("views")).isPositive();
        // 300 records are within the switch's 1 000 of the live group from the start: the switch
        // must still wait until the replay recounted them, or the dashboard shows zeros meanwhile.
        TallyProcess replay = TallyProcess.run(dir, "replay", "--from", "earliest", "--bootstrap-servers", kafka, "--topic", topic,
                "--db", url(database), "--group", group);
        assertThat(replay.exitCode()).as(replay.stdout() + replay.stderr()).isZero();
        assertThat(query(ds(database), "SELECT 'views', SUM(views) FROM page_totals_g2")).isEqualTo(counted);
    }

    private TallyProcess aggregate(String database, String topic, String group, Map<String, String> properties) throws Exception {
        return TallyProcess.startWithProperties(dir, properties, "aggregate", "--bootstrap-servers", KAFKA.bootstrapServers(), "--topic", topic,
                "--db", url(database), "--group", group);
    }

    private static int waitFor(TallyProcess p) throws InterruptedException {
        await().atMost(Duration.ofSeconds(60)).until(() -> !p.isAlive());
        return p.exitCode();
    }

    private static String state(DataSource ds, int generation) throws SQLException {
        try (Connection c = ds.getConnection()) {
            return Generations.state(c, new Generation(generation));
        }
    }

    private static long stored(OffsetStore offsets, String group) throws SQLException {
        return offsets.positions(group).values().stream().mapToLong(OffsetStore.Position::nextOffset).sum();
    }

    private static void execute(DataSource ds, String sql) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate(sql);
        }
    }

    private static Map<String, Long> query(DataSource ds, String sql) throws SQLException {
        Map<String, Long> rows = new TreeMap<>();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                rows.put(rs.getString(1), rs.getLong(2));
            }
        }
        return rows;
    }

    /** Polls the API without pause and keeps every answer that is not a 200. */
    private static final class ApiPoller {
        final List<String> errors = new CopyOnWriteArrayList<>();
        final AtomicLong requests = new AtomicLong();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final HttpClient http = HttpClient.newHttpClient();
        private final Thread thread;

        ApiPoller(String api) {
            List<String> urls = List.of(api + "/api/views?path=/posts/1", api + "/api/top?limit=1000",
                    api + "/api/series?bucket=hour", api + "/api/referrers");
            thread = new Thread(() -> {
                int i = 0;
                while (running.get()) {
                    String u = urls.get(i++ % urls.size());
                    try {
                        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(u)).timeout(Duration.ofSeconds(10)).build(),
                                HttpResponse.BodyHandlers.ofString());
                        requests.incrementAndGet();
                        if (r.statusCode() != 200) {
                            errors.add(u + " -> " + r.statusCode() + " " + r.body());
                        }
                    } catch (Exception e) {
                        errors.add(u + " -> " + e);
                    }
                }
            }, "api-poller");
        }

        void start() {
            thread.start();
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join(15_000);
        }
    }
}
