package dev.tally.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.broker.ChildJvm;
import dev.tally.testkit.KafkaBrokerExtension;
import dev.tally.testkit.MariaDbDatabase;
import dev.tally.testkit.PostgresDatabase;
import dev.tally.testkit.SqliteDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The central invariant: a consumer process killed with {@code kill -9} at random moments, many of
 * them inside its database transaction, while a producer writes a known set of records, ends with
 * counts equal to the ground truth. The same harness with a naive "process, then commit to Kafka"
 * consumer must count some records twice: proof that the check can fail.
 */
class CrashIT {

    private static final Logger LOG = LoggerFactory.getLogger(CrashIT.class);
    private static final int KILLS = 6;
    private static final int CHUNK = 500;
    private static final int POISON_EVERY = 25;

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final SqliteDatabase sqlite = new SqliteDatabase();

    @RegisterExtension
    final PostgresDatabase postgres = new PostgresDatabase();

    @RegisterExtension
    final MariaDbDatabase mariadb = new MariaDbDatabase();

    @ParameterizedTest(name = "{0} consumer, {1}, group.protocol={2}")
    @CsvSource({
        "tally, sqlite, classic",
        "tally, postgresql, consumer",
        "tally, mariadb, classic",
        "naive, sqlite, classic"
    })
    void killedAtRandomMomentsWhileAProducerWrites(String mode, String database, String protocol) throws Exception {
        boolean naive = mode.equals("naive");
        Words.Database db = Words.Database.of(database, sqlite, postgres, mariadb);
        DataSource ds = db.dataSource();
        String jdbc = db.jdbcUrl();
        String topic = KAFKA.uniqueTopic("crash-" + mode + "-" + protocol);
        String group = topic;
        KAFKA.createTopic(topic, 4);
        Words.createSchema(ds);
        List<String> args = List.of("bootstrap=" + KAFKA.bootstrapServers(), "topic=" + topic, "group=" + group,
                "jdbc=" + jdbc, "mode=" + mode, "protocol=" + protocol, "slowMs=150");

        // Records flow during every kill; the ground truth is every acknowledged one.
        GroundTruthProducer producer = GroundTruthProducer.start(KAFKA.bootstrapServers(), topic, CHUNK, 100, POISON_EVERY);

        Random random = new Random(42);
        int midTransaction = 0;
        for (int k = 0; k < KILLS; k++) {
            ChildJvm child = WordCountProcess.start(args);
            child.awaitLine(l -> l.startsWith("BEGIN"), Duration.ofSeconds(60));
            Thread.sleep(500 + random.nextInt(2_000));
            child.kill();
            List<String> lines = child.lines();
            String last = lines.stream().filter(l -> l.startsWith("BEGIN") || l.startsWith("HANDLED")).reduce((a, b) -> b).orElse("");
            if (last.startsWith("BEGIN")) {
                midTransaction++;
            }
            LOG.info("kill {} of {} {}: last line '{}'", k + 1, KILLS, mode, last);
        }
        producer.close();
        Map<String, Long> expected = Words.expected(producer.produced(), POISON_EVERY);

        ChildJvm last = WordCountProcess.start(args);
        try {
            if (naive) {
                // Auto-commit keeps no database offsets: wait until every record has been counted at least once.
                long valid = expected.values().stream().mapToLong(Long::longValue).sum();
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250))
                        .ignoreExceptions().until(() -> Words.total(ds) >= valid);
                Thread.sleep(1_000);
            } else {
                Words.awaitCaughtUp(ds, group, KAFKA.bootstrapServers(), topic, Duration.ofSeconds(90));
            }
        } finally {
            int exit = last.terminate(Duration.ofSeconds(20));
            if (!naive) {
                // SIGTERM runs the shutdown hook: a graceful, bounded stop that leaves the group at once.
                assertThat(exit).isIn(0, 143);
                assertThat(KAFKA.admin().describeConsumerGroups(List.of(group)).all().get(10, TimeUnit.SECONDS)
                        .get(group).members()).isEmpty();
            }
        }

        Map<String, Long> counted = Words.counts(ds);
        assertThat(midTransaction).as("kills that landed inside a transaction").isPositive();
        if (naive) {
            long over = counted.values().stream().mapToLong(Long::longValue).sum()
                    - expected.values().stream().mapToLong(Long::longValue).sum();
            LOG.info("naive consumer counted {} records more than were written", over);
            assertThat(counted).as("the naive consumer double counts after kill -9").isNotEqualTo(expected);
            assertThat(over).isPositive();
        } else {
            assertThat(counted).isEqualTo(expected);
        }
    }
}
