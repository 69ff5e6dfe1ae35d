package dev.tally.consumer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.consumer.internal.DeadLetterPublisher;
import dev.tally.testkit.KafkaBrokerExtension;
import dev.tally.testkit.SqliteDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A record too large for the dead-letter topic goes there cut, with what was cut, and nothing
 * stops; dead letters that Kafka refuses for good all the same (too large even cut, a missing
 * topic on a cluster that does not create topics) are hard failures with their reason, never an
 * endless silent stall; and a dead letter never carries an origin timestamp the broker would
 * reject.
 */
class DeadLetterRefusedIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess()
            .property("auto.create.topics.enable", "false");

    @RegisterExtension
    final SqliteDatabase db = new SqliteDatabase();

    private static void createTopic(String name, int partitions, Map<String, String> configs) throws Exception {
        KAFKA.admin().createTopics(List.of(new NewTopic(name, Optional.of(partitions), Optional.empty()).configs(configs)))
                .all().get(30, TimeUnit.SECONDS);
        KAFKA.createTopic(name, partitions); // waits for the leaders
    }

    /** Words, one undecodable record of {@code poisonBytes} on partition 0 in the middle. */
    private static void produceWithBigPoison(String topic, int partitions, int words, int poisonBytes, long timestamp) throws Exception {
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of(
                "bootstrap.servers", KAFKA.bootstrapServers(), "acks", "all", "max.request.size", "3000000", "linger.ms", "5",
                "key.serializer", ByteArraySerializer.class.getName(), "value.serializer", ByteArraySerializer.class.getName()))) {
            for (int i = 0; i < words; i++) {
                String w = Words.word(i, 0);
                byte[] b = w.getBytes(UTF_8);
                p.send(new ProducerRecord<>(topic, i % partitions, timestamp, b, b));
                if (i == words / 2) {
                    byte[] poison = ("!" + "x".repeat(poisonBytes)).getBytes(UTF_8);
                    p.send(new ProducerRecord<>(topic, 0, timestamp, "poison".getBytes(UTF_8), poison,
                            // An origin header of any size, named as the publisher's own are: never kept when cut.
                            List.of(new RecordHeader("trace", "t-1".getBytes(UTF_8)),
                                    new RecordHeader("tally.note", "n".repeat(3_000).getBytes(UTF_8)))));
                }
            }
            p.flush();
        }
    }

    @Test
    void aDeadLetterTooLargeForItsTopicGoesCutAndNothingStops() throws Exception {
        String topic = KAFKA.uniqueTopic("cut");
        createTopic(topic, 2, Map.of("max.message.bytes", "3000000"));
        createTopic(topic + ".dlq", 1, Map.of("max.message.bytes", "2000"));
        Words.createSchema(db.dataSource());
        // Over the dead-letter producer's max.request.size (1 MB) as well as the topic's limit.
        produceWithBigPoison(topic, 2, 200, 1_100_000, System.currentTimeMillis());
        List<ConsumerError> errors = new CopyOnWriteArrayList<>();
        TallyConsumer<String> consumer = Words.consumer(KAFKA.bootstrapServers(), topic, "cut", db.dataSource())
                .maxBatchAttempts(3).deadLetterTimeout(Duration.ofSeconds(5)).errorListener(errors::add).build().start();
        try {
            Words.awaitCaughtUp(db.dataSource(), "cut", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(60));
            assertThat(consumer.state()).isEqualTo(TallyConsumer.State.RUNNING);
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
        assertThat(Words.counts(db.dataSource())).isEqualTo(Words.expected(200, 0));
        assertThat(errors).noneMatch(e -> e.phase() == ConsumerError.Phase.DEAD_LETTER || e.phase() == ConsumerError.Phase.FATAL);
        List<ConsumerRecord<byte[], byte[]>> dead = KAFKA.readAll(topic + ".dlq");
        assertThat(dead).hasSize(1);
        ConsumerRecord<byte[], byte[]> letter = dead.get(0);
        assertThat(new String(letter.value(), UTF_8)).isEqualTo("!" + "x".repeat(1023));
        assertThat(new String(letter.key(), UTF_8)).isEqualTo("poison");
        assertThat(new String(letter.headers().lastHeader(DeadLetterPublisher.CUT).value(), UTF_8))
                .contains("max.request.size", "value of 1100001 bytes cut to 1024", "2 origin headers left out");
        assertThat(new String(letter.headers().lastHeader(DeadLetterPublisher.ORIGIN_OFFSET).value(), UTF_8)).isEqualTo("51");
        assertThat(letter.headers().lastHeader(DeadLetterPublisher.ERROR_CLASS)).isNotNull();
        assertThat(letter.headers().lastHeader("trace")).isNull();
        assertThat(letter.headers().lastHeader("tally.note")).isNull();
    }

    @Test
    void aDeadLetterTooLargeForItsTopicEvenCutFailsTheConsumerWithTheReason() throws Exception {
        String topic = KAFKA.uniqueTopic("toolarge");
        createTopic(topic, 2, Map.of());
        createTopic(topic + ".dlq", 1, Map.of("max.message.bytes", "300"));
        Words.createSchema(db.dataSource());
        produceWithBigPoison(topic, 2, 200, 10_000, System.currentTimeMillis());
        List<ConsumerError> errors = new CopyOnWriteArrayList<>();
        TallyConsumer<String> consumer = Words.consumer(KAFKA.bootstrapServers(), topic, "toolarge", db.dataSource())
                .maxBatchAttempts(3).deadLetterTimeout(Duration.ofSeconds(5)).errorListener(errors::add).build().start();
        try {
            assertThat(consumer.awaitTermination(Duration.ofSeconds(60))).as("the consumer stops").isTrue();
            assertThat(consumer.state()).isEqualTo(TallyConsumer.State.FAILED);
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(errors)
                    .filteredOn(e -> e.phase() == ConsumerError.Phase.DEAD_LETTER)
                    .isNotEmpty()
                    .allSatisfy(e -> assertThat(e.cause().getClass().getSimpleName()).isEqualTo("RecordTooLargeException")));
            // Never skipped: the poison's partition did not move past it.
            long stored = new OffsetStore(db.dataSource()).positions("toolarge").get(new TopicPartition(topic, 0)).nextOffset();
            assertThat(stored).isLessThanOrEqualTo(101);
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    @Test
    void underTheDeadLetterPolicyOnlyThePoisonsPartitionStops() throws Exception {
        String topic = KAFKA.uniqueTopic("toolarge-halt");
        createTopic(topic, 2, Map.of());
        createTopic(topic + ".dlq", 1, Map.of("max.message.bytes", "300"));
        Words.createSchema(db.dataSource());
        produceWithBigPoison(topic, 2, 400, 10_000, System.currentTimeMillis());
        List<ConsumerError> errors = new CopyOnWriteArrayList<>();
        TallyConsumer<String> consumer = Words.consumer(KAFKA.bootstrapServers(), topic, "toolarge-halt", db.dataSource())
                .failurePolicy(FailurePolicy.DEAD_LETTER)
                .maxBatchAttempts(3).deadLetterTimeout(Duration.ofSeconds(5)).errorListener(errors::add).build().start();
        TopicPartition poisoned = new TopicPartition(topic, 0);
        TopicPartition clean = new TopicPartition(topic, 1);
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> consumer.haltedPartitions().containsKey(poisoned));
            Map<TopicPartition, Long> end = KAFKA.endOffsets(topic);
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    new OffsetStore(db.dataSource()).positions("toolarge-halt").get(clean).nextOffset() == end.get(clean));
            assertThat(consumer.state()).isEqualTo(TallyConsumer.State.RUNNING);
            assertThat(consumer.haltedPartitions()).containsOnlyKeys(poisoned);
            assertThat(consumer.haltedPartitions().get(poisoned)).contains("RecordTooLargeException");
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(errors)
                    .anySatisfy(e -> {
                        assertThat(e.phase()).isEqualTo(ConsumerError.Phase.HALTED);
                        assertThat(e.partition()).isZero();
                    }));
            // Everything before the poison on its partition committed; nothing after it was skipped.
            long stored = new OffsetStore(db.dataSource()).positions("toolarge-halt").get(poisoned).nextOffset();
            assertThat(stored).isLessThanOrEqualTo(201);
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    @Test
    void aMissingDeadLetterTopicOnAClusterThatDoesNotCreateTopicsFailsTheConsumer() throws Exception {
        String topic = KAFKA.uniqueTopic("nodlq");
        createTopic(topic, 1, Map.of());
        Words.createSchema(db.dataSource());
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            Words.produce(p, topic, 0, 100, 10);
        }
        List<ConsumerError> errors = new CopyOnWriteArrayList<>();
        TallyConsumer<String> consumer = Words.consumer(KAFKA.bootstrapServers(), topic, "nodlq", db.dataSource())
                .maxBatchAttempts(2).deadLetterTimeout(Duration.ofSeconds(3)).kafkaProperty("producer.max.block.ms", "2000")
                .errorListener(errors::add).build().start();
        try {
            assertThat(consumer.awaitTermination(Duration.ofSeconds(90))).as("the consumer stops").isTrue();
            assertThat(consumer.state()).isEqualTo(TallyConsumer.State.FAILED);
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(errors)
                    .filteredOn(e -> e.phase() == ConsumerError.Phase.DEAD_LETTER)
                    .anySatisfy(e -> assertThat(e.cause()).hasMessageContaining(topic + ".dlq").hasMessageContaining("does not exist")));
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    @Test
    void deadLettersOfOldRecordsAreStampedNowNotWithTheOriginTime() throws Exception {
        String topic = KAFKA.uniqueTopic("oldtime");
        createTopic(topic, 1, Map.of());
        // The dead-letter topic refuses timestamps older than an hour, as a broker with
        // log.message.timestamp.before.max.ms set would.
        createTopic(topic + ".dlq", 1, Map.of("message.timestamp.before.max.ms", "3600000"));
        Words.createSchema(db.dataSource());
        long twoDaysAgo = Instant.now().minus(Duration.ofDays(2)).toEpochMilli();
        produceWithBigPoison(topic, 1, 100, 10, twoDaysAgo);
        TallyConsumer<String> consumer = Words.consumer(KAFKA.bootstrapServers(), topic, "oldtime", db.dataSource())
                .maxBatchAttempts(3).deadLetterTimeout(Duration.ofSeconds(5)).build().start();
        try {
            Words.awaitCaughtUp(db.dataSource(), "oldtime", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(60));
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
        assertThat(Words.counts(db.dataSource())).isEqualTo(Words.expected(100, 0));
        List<ConsumerRecord<byte[], byte[]>> dead = KAFKA.readAll(topic + ".dlq");
        assertThat(dead).hasSize(1);
        assertThat(new String(dead.get(0).headers().lastHeader(DeadLetterPublisher.ORIGIN_TIMESTAMP).value(), UTF_8))
                .isEqualTo(Long.toString(twoDaysAgo));
        assertThat(dead.get(0).timestamp()).isGreaterThan(twoDaysAgo);
    }
}
