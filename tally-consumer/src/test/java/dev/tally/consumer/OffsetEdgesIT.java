package dev.tally.consumer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.testkit.KafkaBrokerExtension;
import dev.tally.testkit.PostgresDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Stored offsets at the edges of the log: never skip a record that is still there, never move a
 * stored offset backwards except by an operator, report what retention deleted, refuse to guess
 * when a topic was recreated, and reach the log end past transaction markers.
 */
class OffsetEdgesIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final PostgresDatabase db = new PostgresDatabase();

    private final List<ConsumerError> errors = new CopyOnWriteArrayList<>();

    private TallyConsumer<String> start(String topic, String group) throws Exception {
        return Words.consumer(KAFKA.bootstrapServers(), topic, group, db.dataSource())
                .offsetCheckInterval(Duration.ofMillis(300))
                .errorListener(errors::add).build().start();
    }

    private static long stored(PostgresDatabase db, String group, TopicPartition tp) throws Exception {
        OffsetStore.Position p = new OffsetStore(db.dataSource()).positions(group).get(tp);
        return p == null ? -1 : p.nextOffset();
    }

    @Test
    void recordsDeletedBeforeTheyWereReadAreReportedWithTheSizeOfTheGap() throws Exception {
        String topic = KAFKA.uniqueTopic("retention");
        KAFKA.createTopic(topic, 1);
        TopicPartition tp = new TopicPartition(topic, 0);
        Words.createSchema(db.dataSource());
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            Words.produce(p, topic, 0, 100, 0);
        }
        TallyConsumer<String> first = start(topic, "retention");
        Words.awaitCaughtUp(db.dataSource(), "retention", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(60));
        first.close(Duration.ofSeconds(10));
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            Words.produce(p, topic, 100, 300, 0);
        }
        // Retention deletes records 100..149 before the group read them.
        KAFKA.admin().deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(150))).all().get(30, TimeUnit.SECONDS);
        TallyConsumer<String> second = start(topic, "retention");
        try {
            Words.awaitCaughtUp(db.dataSource(), "retention", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(60));
        } finally {
            second.close(Duration.ofSeconds(10));
        }
        Map<String, Long> expected = Words.expected(100, 0);
        for (int i = 150; i < 300; i++) {
            expected.merge(Words.word(i, 0), 1L, Long::sum);
        }
        assertThat(Words.counts(db.dataSource())).isEqualTo(expected);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(errors).anySatisfy(e -> {
            assertThat(e.partition()).isZero();
            assertThat(e.fromOffset()).isEqualTo(100);
            assertThat(e.toOffset()).isEqualTo(150);
            assertThat(e.cause()).hasMessageContaining("50 records").hasMessageContaining("retention");
        }));
    }

    @Test
    void aRecreatedTopicStopsItsPartitionsUntilAnOperatorAcceptsTheNewLog() throws Exception {
        String topic = KAFKA.uniqueTopic("recreated");
        KAFKA.createTopic(topic, 1);
        TopicPartition tp = new TopicPartition(topic, 0);
        Words.createSchema(db.dataSource());
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            Words.produce(p, topic, 0, 100, 0);
        }
        TallyConsumer<String> first = start(topic, "recreated");
        Words.awaitCaughtUp(db.dataSource(), "recreated", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(60));
        first.close(Duration.ofSeconds(10));

        KAFKA.admin().deleteTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            KAFKA.createTopic(topic, 1);
            return true;
        });
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            Words.produce(p, topic, 1_000, 1_010, 0);
        }
        TallyConsumer<String> second = start(topic, "recreated");
        try {
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(errors).anySatisfy(e -> {
                assertThat(e.phase().name()).isEqualTo("HALTED");
                assertThat(e.topic()).isEqualTo(topic);
                assertThat(e.partition()).isZero();
                assertThat(e.cause()).hasMessageContaining("beyond the log end")
                        .hasMessageContaining("OffsetStore.rewind");
            }));
            Thread.sleep(1_000); // a partition that moved on would have done so by now
            assertThat(stored(db, "recreated", tp)).as("never rewritten by the consumer").isEqualTo(100);
            assertThat(Words.counts(db.dataSource())).isEqualTo(Words.expected(100, 0));

            // The operator accepts the new log; the running member notices and counts it.
            new OffsetStore(db.dataSource()).rewind("recreated", tp, 0);
            await().atMost(Duration.ofSeconds(30)).until(() -> stored(db, "recreated", tp) == 10);
        } finally {
            second.close(Duration.ofSeconds(10));
        }
        Map<String, Long> expected = Words.expected(100, 0);
        for (int i = 1_000; i < 1_010; i++) {
            expected.merge(Words.word(i, 0), 1L, Long::sum);
        }
        assertThat(Words.counts(db.dataSource())).isEqualTo(expected);
    }

    @Test
    void storedOffsetsReachTheLogEndPastTransactionMarkersAndAbortedRecordsAreNotCounted() throws Exception {
        String topic = KAFKA.uniqueTopic("transactional");
        KAFKA.createTopic(topic, 1);
        TopicPartition tp = new TopicPartition(topic, 0);
        Words.createSchema(db.dataSource());
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers());
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx-" + topic);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        TallyConsumer<String> consumer = start(topic, "transactional");
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(props)) {
            p.initTransactions();
            for (int t = 0; t < 6; t++) {
                p.beginTransaction();
                for (int i = 0; i < 10; i++) {
                    String w = t % 3 == 2 ? "aborted" : Words.word(t * 10 + i, 0);
                    p.send(new ProducerRecord<>(topic, 0, w.getBytes(UTF_8), w.getBytes(UTF_8)));
                }
                if (t % 3 == 2) {
                    p.flush(); // the aborted records are in the log, behind an abort marker
                    p.abortTransaction();
                } else {
                    p.commitTransaction();
                }
            }
        }
        // 60 records and 6 markers; the coordinator writes the last markers after the producer returns.
        long end = 66;
        await().atMost(Duration.ofSeconds(30)).until(() -> KAFKA.endOffsets(topic).get(tp) == end);
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> stored(db, "transactional", tp) == end);
        } finally {
            consumer.close(Duration.ofSeconds(10));
        }
        Map<String, Long> expected = new java.util.TreeMap<>();
        for (int t = 0; t < 6; t++) {
            for (int i = 0; i < 10 && t % 3 != 2; i++) {
                expected.merge(Words.word(t * 10 + i, 0), 1L, Long::sum);
            }
        }
        assertThat(Words.counts(db.dataSource())).isEqualTo(expected);
    }

    @Test
    void aMemberWhoseOffsetRowVanishesStopsThePartitionInsteadOfStartingOver() throws Exception {
        String topic = KAFKA.uniqueTopic("vanished");
        KAFKA.createTopic(topic, 1);
        TopicPartition tp = new TopicPartition(topic, 0);
        Words.createSchema(db.dataSource());
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            Words.produce(p, topic, 0, 100, 0);
        }
        TallyConsumer<String> consumer = start(topic, "vanished");
        try {
            Words.awaitCaughtUp(db.dataSource(), "vanished", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(60));
            try (Connection c = db.dataSource().getConnection();
                    PreparedStatement ps = c.prepareStatement("DELETE FROM tally_offsets WHERE group_id = 'vanished'")) {
                ps.executeUpdate();
            }
            try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
                Words.produce(p, topic, 100, 150, 0);
            }
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(errors).anySatisfy(e -> {
                assertThat(e.phase().name()).isEqualTo("HALTED");
                assertThat(e.partition()).isZero();
                assertThat(e.cause()).hasMessageContaining("no stored offset");
            }));
            Thread.sleep(1_000);
            // Not started over from the beginning on top of the counts already stored.
            assertThat(Words.counts(db.dataSource())).isEqualTo(Words.expected(100, 0));
            assertThat(stored(db, "vanished", tp)).isEqualTo(-1);
        } finally {
            consumer.close(Duration.ofSeconds(10));
        }
    }
}
