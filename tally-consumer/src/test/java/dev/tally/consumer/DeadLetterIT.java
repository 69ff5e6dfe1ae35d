package dev.tally.consumer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.consumer.internal.DeadLetterPublisher;
import dev.tally.testkit.KafkaBrokerExtension;
import dev.tally.testkit.PostgresDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Poison records go to the dead-letter topic, with their origin, and never block or slow the stream. */
class DeadLetterIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final PostgresDatabase db = new PostgresDatabase();

    @Test
    void undecodableAndRejectedRecordsAreDeadLetteredWithTheirOrigin() throws Exception {
        String topic = KAFKA.uniqueTopic("poison");
        KAFKA.createTopic(topic, 3);
        Words.createSchema(db.dataSource());
        int n = 2_000;
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            Words.produce(p, topic, 0, n, 20);
        }
        TallyConsumer<String> consumer = Words.consumer(KAFKA.bootstrapServers(), topic, "poison", db.dataSource()).build().start();
        try {
            Words.awaitCaughtUp(db.dataSource(), "poison", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(60));
        } finally {
            consumer.close(Duration.ofSeconds(10));
        }
        assertThat(Words.counts(db.dataSource())).isEqualTo(Words.expected(n, 20));

        Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> origin = Words.readAll(KAFKA.bootstrapServers(), topic);
        Set<String> poison = new TreeSet<>();
        origin.forEach((tp, records) -> records.forEach(r -> {
            String w = new String(r.value(), UTF_8);
            if (w.startsWith("!") || w.startsWith("?")) {
                poison.add(tp.partition() + "@" + r.offset() + "=" + w);
            }
        }));
        assertThat(poison).hasSize(n / 20);

        Set<String> dead = new TreeSet<>();
        Words.readAll(KAFKA.bootstrapServers(), topic + ".dlq").values().forEach(records -> records.forEach(r -> {
            String w = new String(r.value(), UTF_8);
            String key = header(r, DeadLetterPublisher.ORIGIN_PARTITION) + "@" + header(r, DeadLetterPublisher.ORIGIN_OFFSET) + "=" + w;
            assertThat(dead.add(key)).as("dead-lettered once: %s", key).isTrue();
            assertThat(header(r, DeadLetterPublisher.ORIGIN_TOPIC)).isEqualTo(topic);
            assertThat(header(r, DeadLetterPublisher.GROUP)).isEqualTo("poison");
            assertThat(new String(r.key(), UTF_8)).isEqualTo(w);
            if (w.startsWith("!")) {
                assertThat(header(r, DeadLetterPublisher.ERROR_CLASS)).isEqualTo(IllegalArgumentException.class.getName());
                assertThat(header(r, DeadLetterPublisher.ERROR_MESSAGE)).isEqualTo("not a word: " + w);
            } else {
                assertThat(header(r, DeadLetterPublisher.ERROR_CLASS)).isEqualTo("rejected");
                assertThat(header(r, DeadLetterPublisher.ERROR_MESSAGE)).isEqualTo("questions are not counted");
            }
        }));
        assertThat(dead).isEqualTo(poison);
    }

    @Test
    void aSlowErrorListenerNeitherBlocksConsumptionNorHidesItsDrops() throws Exception {
        String topic = KAFKA.uniqueTopic("slowlistener");
        KAFKA.createTopic(topic, 2);
        Words.createSchema(db.dataSource());
        int n = 3_000;
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            Words.produce(p, topic, 0, n, 2); // every other record is poison: 1,500 reports
        }
        List<ConsumerError> delivered = new CopyOnWriteArrayList<>();
        TallyConsumer<String> consumer = Words.consumer(KAFKA.bootstrapServers(), topic, "slow", db.dataSource())
                .errorQueueCapacity(8)
                .errorListener(e -> {
                    delivered.add(e);
                    try {
                        Thread.sleep(1_000);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                    }
                }).build().start();
        try {
            // 1,500 reports at one per second would take 25 minutes if the listener held consumption up.
            Words.awaitCaughtUp(db.dataSource(), "slow", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(60));
            assertThat(Words.counts(db.dataSource())).isEqualTo(Words.expected(n, 2));
            await().atMost(Duration.ofSeconds(5)).until(() -> consumer.droppedErrorReports() > 1_000);
            assertThat(delivered).isNotEmpty().allSatisfy(e -> {
                assertThat(e.phase()).isIn(ConsumerError.Phase.DECODE, ConsumerError.Phase.REJECT);
                assertThat(e.topic()).isEqualTo(topic);
                assertThat(e.toOffset()).isEqualTo(e.fromOffset() + 1);
                assertThat(e.group()).isEqualTo("slow");
            });
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        return r.headers().lastHeader(name) == null ? null : new String(r.headers().lastHeader(name).value(), UTF_8);
    }
}
