package dev.tally.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.broker.ChildJvm;
import dev.tally.testkit.KafkaBrokerExtension;
import dev.tally.testkit.MariaDbDatabase;
import dev.tally.testkit.PostgresDatabase;
import dev.tally.testkit.SqliteDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Zombies: a consumer frozen with SIGSTOP until the group drops it and gives its partitions to
 * another member, then woken with SIGCONT while it still holds a batch. The batch must never be
 * applied twice: counts stay exact and stored offsets never move backwards.
 *
 * <p>Frozen inside its transaction (PostgreSQL, MariaDB), the zombie still holds the row locks of its
 * partition's rows, so the new owner waits on them; when the zombie wakes, whichever of the two
 * commits second finds the offset moved and is fenced. Frozen while decoding (outside any
 * transaction, the SQLite case: an SQLite writer frozen inside a transaction would block every
 * writer), the new owner moves the partition on and the zombie's stale batch is fenced or dropped.
 */
class FencingIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final SqliteDatabase sqlite = new SqliteDatabase();

    @RegisterExtension
    final PostgresDatabase postgres = new PostgresDatabase();

    @RegisterExtension
    final MariaDbDatabase mariadb = new MariaDbDatabase();

    @ParameterizedTest(name = "{0}, group.protocol={1}, frozen in {2}")
    @CsvSource({
        "postgresql, classic, transaction",
        "postgresql, consumer, transaction",
        "mariadb, classic, transaction",
        "sqlite, classic, decoding"
    })
    void aZombieThatWakesUpNeverAppliesABatchTwice(String database, String protocol, String frozenIn) throws Exception {
        boolean inTransaction = frozenIn.equals("transaction");
        Words.Database db = Words.Database.of(database, sqlite, postgres, mariadb);
        DataSource ds = db.dataSource();
        String jdbc = db.jdbcUrl();
        String topic = KAFKA.uniqueTopic("zombie-" + protocol);
        String group = topic;
        KAFKA.createTopic(topic, 2);
        Words.createSchema(ds);
        List<String> common = List.of("bootstrap=" + KAFKA.bootstrapServers(), "topic=" + topic, "group=" + group,
                "jdbc=" + jdbc, "mode=tally", "protocol=" + protocol);

        GroundTruthProducer producer = GroundTruthProducer.start(KAFKA.bootstrapServers(), topic, 200, 200, 0);

        OffsetStore store = new OffsetStore(ds);
        Map<TopicPartition, Long> highest = new ConcurrentHashMap<>();
        List<String> backwards = new CopyOnWriteArrayList<>();
        AtomicBoolean sampling = new AtomicBoolean(true);
        Thread sampler = new Thread(() -> {
            while (sampling.get()) {
                try {
                    store.positions(group).forEach((tp, pos) -> {
                        Long before = highest.put(tp, pos.nextOffset());
                        if (before != null && pos.nextOffset() < before) {
                            backwards.add(tp + ": " + before + " -> " + pos.nextOffset());
                        }
                    });
                    Thread.sleep(100);
                } catch (Exception ignored) {
                    // a busy database: sample again
                }
            }
        }, "offset-sampler");
        sampler.start();

        String marker = inTransaction ? "BEGIN" : "DECODING";
        ChildJvm zombie = WordCountProcess.start(common, inTransaction ? "slowMs=3000" : "decodePauseMs=3000");
        ChildJvm survivor = null;
        try {
            zombie.awaitLine(l -> l.startsWith(marker), Duration.ofSeconds(60));
            survivor = WordCountProcess.start(common, "slowMs=0");
            survivor.awaitLine(l -> l.startsWith("STARTED"), Duration.ofSeconds(60));
            await().atMost(Duration.ofSeconds(60)).until(() -> Words.members(KAFKA.admin(), group) == 2);
            // Freeze the zombie right after it entered a transaction (or a decode pause).
            int seen = WordCountProcess.count(zombie, marker);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(10)).until(() -> WordCountProcess.count(zombie, marker) > seen);
            zombie.suspend();

            // The group drops the frozen member once its session expires; the survivor owns everything.
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250)).until(() -> Words.members(KAFKA.admin(), group) == 1);
            if (!inTransaction) {
                Map<TopicPartition, Long> atDrop = Map.copyOf(highest);
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(() ->
                        atDrop.keySet().stream().allMatch(tp -> highest.getOrDefault(tp, 0L) > atDrop.get(tp) + 100));
            } else {
                Thread.sleep(2_000); // the survivor now waits on the zombie's row locks
            }
            zombie.resume();
            if (inTransaction) {
                ChildJvm other = survivor;
                await().atMost(Duration.ofSeconds(60)).until(() ->
                        WordCountProcess.count(zombie, "ERROR FENCED") + WordCountProcess.count(other, "ERROR FENCED") > 0);
            } else {
                Thread.sleep(5_000); // the zombie finishes its stale batch and learns it lost its partitions
            }
        } finally {
            zombie.kill();
            producer.close();
        }
        try {
            Words.awaitCaughtUp(ds, group, KAFKA.bootstrapServers(), topic, Duration.ofSeconds(90));
        } finally {
            survivor.terminate(Duration.ofSeconds(20));
            sampling.set(false);
            sampler.join(10_000);
        }
        assertThat(backwards).isEmpty();
        assertThat(Words.counts(ds)).isEqualTo(Words.expected(producer.produced(), 0));
    }
}
