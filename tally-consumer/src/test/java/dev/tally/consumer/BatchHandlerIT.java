package dev.tally.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.testkit.KafkaBrokerExtension;
import dev.tally.testkit.SqliteDatabase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The handler contract: per-partition order, one transaction per batch, retries that never skip. */
class BatchHandlerIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final SqliteDatabase db = new SqliteDatabase();

    @Test
    void recordsArriveInOffsetOrderPerPartitionInsideATransaction() throws Exception {
        String topic = KAFKA.uniqueTopic("order");
        KAFKA.createTopic(topic, 3);
        Words.createSchema(db.dataSource());
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            Words.produce(p, topic, 0, 3_000, 0);
        }
        Map<TopicPartition, List<Long>> seen = new ConcurrentHashMap<>();
        AtomicInteger autoCommitSeen = new AtomicInteger();
        TallyConsumer<String> consumer = TallyConsumer.<String>builder(Words.DECODER, (batch, connection) -> {
            if (connection.getAutoCommit()) {
                autoCommitSeen.incrementAndGet();
            }
            for (TopicPartition tp : batch.partitions()) {
                for (Message<String> m : batch.messages(tp)) {
                    seen.computeIfAbsent(tp, k -> new CopyOnWriteArrayList<>()).add(m.offset());
                }
            }
            Words.handler().handle(batch, connection);
        }).bootstrapServers(KAFKA.bootstrapServers()).groupId("order").topics(topic).dataSource(db.dataSource()).build().start();
        try {
            Words.awaitCaughtUp(db.dataSource(), "order", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(60));
        } finally {
            consumer.close(Duration.ofSeconds(10));
        }
        assertThat(autoCommitSeen).hasValue(0);
        Map<TopicPartition, Long> end = Words.endOffsets(KAFKA.bootstrapServers(), topic);
        assertThat(seen.keySet()).isEqualTo(end.keySet());
        seen.forEach((tp, offsets) -> {
            assertThat(offsets).as("offsets of %s", tp).hasSize(end.get(tp).intValue());
            for (int i = 0; i < offsets.size(); i++) {
                assertThat(offsets.get(i)).isEqualTo(i);
            }
        });
        assertThat(Words.counts(db.dataSource())).isEqualTo(Words.expected(3_000, 0));
    }

    @Test
    void aFailedAttemptIsRolledBackWholeAndRetried() throws Exception {
        String topic = KAFKA.uniqueTopic("retry");
        KAFKA.createTopic(topic, 2);
        Words.createSchema(db.dataSource());
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            Words.produce(p, topic, 0, 1_000, 0);
        }
        AtomicInteger calls = new AtomicInteger();
        List<ConsumerError> errors = new CopyOnWriteArrayList<>();
        TallyConsumer<String> consumer = TallyConsumer.<String>builder(Words.DECODER, (batch, connection) -> {
            Words.handler().handle(batch, connection);
            if (calls.incrementAndGet() <= 2) {
                throw new IllegalStateException("fails after writing, attempt " + calls.get());
            }
        }).bootstrapServers(KAFKA.bootstrapServers()).groupId("retry").topics(topic).dataSource(db.dataSource())
                .retryBackoff(Duration.ofMillis(10), Duration.ofMillis(50)).errorListener(errors::add).build().start();
        try {
            Words.awaitCaughtUp(db.dataSource(), "retry", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(60));
        } finally {
            consumer.close(Duration.ofSeconds(10));
        }
        // The two failed attempts wrote counts too; only a rollback keeps them out.
        assertThat(Words.counts(db.dataSource())).isEqualTo(Words.expected(1_000, 0));
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(errors)
                .filteredOn(e -> e.phase() == ConsumerError.Phase.COMMIT)
                .isNotEmpty()
                .allSatisfy(e -> {
                    assertThat(e.topic()).isEqualTo(topic);
                    assertThat(e.partition()).isBetween(0, 1);
                    assertThat(e.toOffset()).isGreaterThan(e.fromOffset());
                    assertThat(e.cause()).hasMessageContaining("fails after writing");
                }));
    }

    @Test
    void aBatchThatKeepsFailingStopsTheConsumerAndSkipsNothing() throws Exception {
        String topic = KAFKA.uniqueTopic("fatal");
        KAFKA.createTopic(topic, 1);
        Words.createSchema(db.dataSource());
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            Words.produce(p, topic, 0, 100, 0);
        }
        List<ConsumerError> errors = new CopyOnWriteArrayList<>();
        TallyConsumer<String> consumer = TallyConsumer.<String>builder(Words.DECODER, (batch, connection) -> {
            throw new IllegalStateException("a bug");
        }).bootstrapServers(KAFKA.bootstrapServers()).groupId("fatal").topics(topic).dataSource(db.dataSource())
                .maxBatchAttempts(3).retryBackoff(Duration.ofMillis(10), Duration.ofMillis(20))
                .errorListener(errors::add).build().start();
        assertThat(consumer.awaitTermination(Duration.ofSeconds(60))).isTrue();
        assertThat(consumer.state()).isEqualTo(TallyConsumer.State.FAILED);
        await().atMost(Duration.ofSeconds(5)).until(() -> errors.stream().anyMatch(e -> e.phase() == ConsumerError.Phase.FATAL));
        assertThat(errors).filteredOn(e -> e.phase() == ConsumerError.Phase.COMMIT).hasSize(3);
        // Never skipped: the stored offset is still where the failing batch starts.
        assertThat(new OffsetStore(db.dataSource()).positions("fatal"))
                .containsOnlyKeys(new TopicPartition(topic, 0))
                .allSatisfy((tp, pos) -> assertThat(pos.nextOffset()).isZero());
        consumer.close(Duration.ofSeconds(5));
    }

    @Test
    void metricsCountRecordsBatchesLagAndRebalancesAndKafkaOffsetsFollow() throws Exception {
        String topic = KAFKA.uniqueTopic("metrics");
        KAFKA.createTopic(topic, 2);
        Words.createSchema(db.dataSource());
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            Words.produce(p, topic, 0, 1_000, 10);
        }
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        TallyConsumer<String> consumer = Words.consumer(KAFKA.bootstrapServers(), topic, "metrics", db.dataSource())
                .meterRegistry(registry).clientId("m1").build().start();
        try {
            Words.awaitCaughtUp(db.dataSource(), "metrics", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(60));
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertThat(registry.get("tally.consumer.records").tag("outcome", "processed").counter().count()).isEqualTo(900);
                assertThat(registry.get("tally.consumer.records").tag("outcome", "dead_lettered").counter().count()).isEqualTo(100);
                assertThat(registry.get("tally.consumer.batches").tag("outcome", "committed").counter().count()).isPositive();
                assertThat(registry.get("tally.consumer.db.transaction").timer().count()).isPositive();
                assertThat(registry.get("tally.consumer.batch.latency").timer().count()).isPositive();
                assertThat(registry.get("tally.consumer.rebalances").tag("kind", "assigned").counter().count()).isPositive();
                assertThat(registry.get("tally.consumer.lag").tag("partition", "0").gauge().value()).isZero();
                assertThat(registry.get("tally.consumer.lag").tag("partition", "1").gauge().value()).isZero();
                assertThat(registry.get("tally.consumer.last.progress").tag("client.id", "m1").gauge().value()).isPositive();
            });
            // The best-effort copy for lag tools: Kafka's committed offsets follow the database's.
            Map<TopicPartition, Long> end = Words.endOffsets(KAFKA.bootstrapServers(), topic);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                Map<TopicPartition, Long> inKafka = new java.util.HashMap<>();
                KAFKA.admin().listConsumerGroupOffsets("metrics").partitionsToOffsetAndMetadata()
                        .get(10, java.util.concurrent.TimeUnit.SECONDS).forEach((tp, om) -> inKafka.put(tp, om.offset()));
                assertThat(inKafka).isEqualTo(end);
            });
        } finally {
            consumer.close(Duration.ofSeconds(10));
        }
        assertThat(registry.find("tally.consumer.lag").gauges()).isEmpty();
    }
}
