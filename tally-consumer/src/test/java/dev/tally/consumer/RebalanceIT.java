package dev.tally.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.broker.ChildJvm;
import dev.tally.testkit.KafkaBrokerExtension;
import dev.tally.testkit.PostgresDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Members joining and leaving while records flow: partitions move, counts stay exact — also when
 * a partition moves while its old owner's batch is still in flight.
 */
class RebalanceIT {

    private static final Logger LOG = LoggerFactory.getLogger(RebalanceIT.class);

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final PostgresDatabase db = new PostgresDatabase();

    @ParameterizedTest(name = "group.protocol={0}")
    @ValueSource(strings = {"classic", "consumer"})
    void threeMembersJoiningAndLeavingUnderLoadCountExactly(String protocol) throws Exception {
        String topic = KAFKA.uniqueTopic("rebalance-" + protocol);
        KAFKA.createTopic(topic, 6);
        Words.createSchema(db.dataSource());
        String group = "rebalance-" + protocol;
        int chunks = 30;
        int chunk = 1_000;
        Thread producer = new Thread(() -> {
            try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
                for (int i = 0; i < chunks; i++) {
                    Words.produce(p, topic, i * chunk, (i + 1) * chunk, 50);
                    sleep(300);
                }
            }
        });
        producer.start();
        List<TallyConsumer<String>> members = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            members.add(start(topic, group, protocol, i));
            sleep(1_500);
        }
        // All three share the six partitions, each owned by exactly one of them.
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            Set<TopicPartition> union = new HashSet<>();
            int total = 0;
            for (TallyConsumer<String> m : members) {
                union.addAll(m.assignment());
                total += m.assignment().size();
                assertThat(m.assignment()).isNotEmpty();
            }
            assertThat(union).hasSize(6);
            assertThat(total).isEqualTo(6);
        });
        members.remove(0).close(Duration.ofSeconds(10));
        sleep(1_500);
        members.add(start(topic, group, protocol, 3));
        sleep(1_500);
        members.remove(0).close(Duration.ofSeconds(10));
        producer.join(120_000);
        try {
            Words.awaitCaughtUp(db.dataSource(), group, KAFKA.bootstrapServers(), topic, Duration.ofSeconds(90));
        } finally {
            for (TallyConsumer<String> m : members) {
                m.close(Duration.ofSeconds(10));
            }
        }
        assertThat(Words.counts(db.dataSource())).isEqualTo(Words.expected(chunks * chunk, 50));
    }

    /**
     * The race, forced rather than hoped for: of three member processes, one is frozen with
     * SIGSTOP inside its transaction (its handler holds each transaction 3 s) until the group
     * drops it and the two others take its partitions over. It is woken only once the new owner
     * has either committed past the frozen batch's start (the frozen member's commit must then be
     * fenced) or is waiting on the frozen transaction's row locks (the frozen member commits
     * first, and the new owner's commit must be fenced). Either way a {@code FENCED} error is
     * certain, and the counts must equal the ground truth.
     */
    @ParameterizedTest(name = "group.protocol={0}")
    @ValueSource(strings = {"classic", "consumer"})
    void aMemberFrozenMidCommitWhileOthersTakeItsPartitionsIsFenced(String protocol) throws Exception {
        String topic = KAFKA.uniqueTopic("race-" + protocol);
        String group = topic;
        KAFKA.createTopic(topic, 6);
        Words.createSchema(db.dataSource());
        List<String> common = List.of("bootstrap=" + KAFKA.bootstrapServers(), "topic=" + topic, "group=" + group,
                "jdbc=" + db.jdbcUrl(), "mode=tally", "protocol=" + protocol);

        GroundTruthProducer producer = GroundTruthProducer.start(KAFKA.bootstrapServers(), topic, 200, 200, 50);

        ChildJvm frozen = WordCountProcess.start(common, "slowMs=3000");
        List<ChildJvm> others = List.of(WordCountProcess.start(common), WordCountProcess.start(common));
        List<ChildJvm> all = List.of(frozen, others.get(0), others.get(1));
        try {
            for (ChildJvm m : all) {
                m.awaitLine(l -> l.startsWith("STARTED"), Duration.ofSeconds(60));
            }
            // The group exists only once a member joined it.
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> Words.members(KAFKA.admin(), group) == 3);
            // Every partition has a stored offset, so that "moved past it" below is defined for each.
            await().atMost(Duration.ofSeconds(60)).until(() -> stored(group).size() == 6);
            freezeInsideATransaction(frozen);
            Map<TopicPartition, Long> atFreeze = stored(group);

            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250))
                    .until(() -> Words.members(KAFKA.admin(), group) == 2);
            await("a new owner committed past the frozen batch, or waits on its row locks")
                    .atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                    .until(() -> sessionsWaitingOnALock() > 0 || movedPast(stored(group), atFreeze));
            boolean waiting = sessionsWaitingOnALock() > 0;
            frozen.resume();
            await().atMost(Duration.ofSeconds(60)).until(() ->
                    all.stream().mapToInt(m -> WordCountProcess.count(m, "ERROR FENCED")).sum() > 0);
            LOG.info("{}: the new owner {} when the frozen member woke; FENCED reports: frozen member {}, the others {} and {}",
                    protocol, waiting ? "waited on its row locks" : "had committed past its batch", WordCountProcess.count(frozen, "ERROR FENCED"),
                    WordCountProcess.count(others.get(0), "ERROR FENCED"), WordCountProcess.count(others.get(1), "ERROR FENCED"));
            producer.close();
            Words.awaitCaughtUp(db.dataSource(), group, KAFKA.bootstrapServers(), topic, Duration.ofSeconds(90));
        } finally {
            producer.close();
            if (frozen.isSuspended()) {
                frozen.resume();
            }
            for (ChildJvm m : all) {
                m.terminate(Duration.ofSeconds(20));
            }
        }
        assertThat(Words.counts(db.dataSource())).isEqualTo(Words.expected(producer.produced(), 50));
    }

    /** SIGSTOP right after the member began a batch; if that batch had already been handled, wake it and try the next. */
    private static void freezeInsideATransaction(ChildJvm member) {
        while (true) {
            int begun = WordCountProcess.count(member, "BEGIN");
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(10))
                    .until(() -> WordCountProcess.count(member, "BEGIN") > begun);
            member.suspend();
            List<String> lines = member.lines();
            String last = lines.stream().filter(l -> l.startsWith("BEGIN") || l.startsWith("HANDLED")).reduce((a, b) -> b).orElse("");
            if (last.startsWith("BEGIN")) {
                return;
            }
            member.resume();
        }
    }

    private Map<TopicPartition, Long> stored(String group) throws Exception {
        Map<TopicPartition, Long> at = new HashMap<>();
        new OffsetStore(db.dataSource()).positions(group).forEach((tp, p) -> at.put(tp, p.nextOffset()));
        return at;
    }

    /** Whether every partition stored at {@code before} has moved past it. */
    private static boolean movedPast(Map<TopicPartition, Long> now, Map<TopicPartition, Long> before) {
        return before.entrySet().stream().allMatch(e -> now.getOrDefault(e.getKey(), 0L) > e.getValue());
    }

    private int sessionsWaitingOnALock() throws Exception {
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")) {
            r.next();
            return r.getInt(1);
        }
    }

    private TallyConsumer<String> start(String topic, String group, String protocol, int n) throws Exception {
        TallyConsumer.Builder<String> b = Words.consumer(KAFKA.bootstrapServers(), topic, group, db.dataSource())
                .clientId(group + "-" + n).maxBatchRecords(1_000);
        if (protocol.equals("consumer")) {
            b.kafkaProperty("group.protocol", "consumer");
        }
        return b.build().start();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
