package dev.tally.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.testkit.KafkaBrokerExtension;
import dev.tally.testkit.PostgresDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Members joining and leaving while records flow: partitions move, counts stay exact. */
class RebalanceIT {

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
