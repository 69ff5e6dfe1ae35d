package dev.tally.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.testkit.KafkaBrokerExtension;
import dev.tally.testkit.SqliteDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Where a group starts without stored offsets, and rewinding them to recompute. */
class StartPositionIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final SqliteDatabase db = new SqliteDatabase();

    @Test
    void earliestLatestAndTimestampDecideOnlyWhileTheDatabaseHasNoOffset() throws Exception {
        String topic = KAFKA.uniqueTopic("start");
        KAFKA.createTopic(topic, 1);
        Words.createSchema(db.dataSource());
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            Words.produce(p, topic, 0, 100, 0);
            Thread.sleep(50);
            Instant middle = Instant.now();
            Thread.sleep(50);
            Words.produce(p, topic, 100, 150, 0);

            assertStartsAt(topic, "from-earliest", StartPosition.earliest(), 0);
            assertStartsAt(topic, "from-latest", StartPosition.latest(), 150);
            assertStartsAt(topic, "from-time", StartPosition.timestamp(middle), 100);
            assertStartsAt(topic, "from-future", StartPosition.timestamp(Instant.now().plusSeconds(3600)), 150);
        }
    }

    private void assertStartsAt(String topic, String group, StartPosition start, long expected) throws Exception {
        java.util.concurrent.atomic.AtomicLong firstOffset = new java.util.concurrent.atomic.AtomicLong(-1);
        java.util.concurrent.atomic.AtomicLong read = new java.util.concurrent.atomic.AtomicLong();
        TallyConsumer<String> consumer = TallyConsumer.<String>builder(Words.DECODER, (batch, connection) -> {
            for (Message<String> m : batch) {
                firstOffset.compareAndSet(-1, m.offset());
                read.incrementAndGet();
            }
        }).bootstrapServers(KAFKA.bootstrapServers()).groupId(group).topics(topic).dataSource(db.dataSource())
                .startPosition(start).build().start();
        try {
            Words.awaitCaughtUp(db.dataSource(), group, KAFKA.bootstrapServers(), topic, Duration.ofSeconds(60));
        } finally {
            consumer.close(Duration.ofSeconds(10));
        }
        // A row is stored at the start position even when nothing is read after it.
        Map<TopicPartition, OffsetStore.Position> stored = new OffsetStore(db.dataSource()).positions(group);
        assertThat(stored.get(new TopicPartition(topic, 0)).nextOffset()).isEqualTo(150);
        assertThat(read.get()).as("records read by %s", group).isEqualTo(150 - expected);
        if (expected < 150) {
            assertThat(firstOffset.get()).isEqualTo(expected);
        }
    }

    @Test
    void rewindingWithTheDataResetRecomputesExactlyWhileTheConsumerRuns() throws Exception {
        String topic = KAFKA.uniqueTopic("rewind");
        KAFKA.createTopic(topic, 2);
        Words.createSchema(db.dataSource());
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            Words.produce(p, topic, 0, 1_000, 0);
        }
        TallyConsumer<String> consumer = Words.consumer(KAFKA.bootstrapServers(), topic, "rewind", db.dataSource())
                .offsetCheckInterval(Duration.ofMillis(300)).build().start();
        try {
            Words.awaitCaughtUp(db.dataSource(), "rewind", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(60));
            assertThat(Words.counts(db.dataSource())).isEqualTo(Words.expected(1_000, 0));

            // "A bug fix": reset the derived data and rewind both partitions in one transaction.
            OffsetStore store = new OffsetStore(db.dataSource());
            try (Connection c = db.dataSource().getConnection()) {
                c.setAutoCommit(false);
                try (Statement s = c.createStatement()) {
                    s.executeUpdate("DELETE FROM word_counts");
                }
                store.rewind(c, "rewind", new TopicPartition(topic, 0), 0);
                store.rewind(c, "rewind", new TopicPartition(topic, 1), 0);
                c.commit();
            }
            // The partitions are idle: the consumer must notice the rewind by itself.
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> Words.total(db.dataSource()) == 1_000);
            Words.awaitCaughtUp(db.dataSource(), "rewind", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(30));
            assertThat(Words.counts(db.dataSource())).isEqualTo(Words.expected(1_000, 0));
        } finally {
            consumer.close(Duration.ofSeconds(10));
        }
    }

    @Test
    void rewindMovesBackOnlyAndFindsOffsetsByTime() throws Exception {
        String topic = KAFKA.uniqueTopic("rewindtime");
        KAFKA.createTopic(topic, 1);
        Words.createSchema(db.dataSource());
        Instant middle;
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            Words.produce(p, topic, 0, 40, 0);
            Thread.sleep(50);
            middle = Instant.now();
            Thread.sleep(50);
            Words.produce(p, topic, 40, 60, 0);
        }
        TallyConsumer<String> consumer = Words.consumer(KAFKA.bootstrapServers(), topic, "rt", db.dataSource()).build().start();
        try {
            Words.awaitCaughtUp(db.dataSource(), "rt", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(60));
        } finally {
            consumer.close(Duration.ofSeconds(10));
        }
        OffsetStore store = new OffsetStore(db.dataSource());
        TopicPartition tp = new TopicPartition(topic, 0);
        assertThatThrownBy(() -> store.rewind("rt", tp, 61)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("back only");
        assertThatThrownBy(() -> store.rewind("rt", tp, -1)).isInstanceOf(IllegalArgumentException.class);
        Admin admin = KAFKA.admin();
        assertThat(store.rewind("rt", topic, middle, admin)).containsExactly(Map.entry(tp, 40L));
        // Already before that time: left alone.
        assertThat(store.rewind("rt", topic, Instant.now(), admin)).isEmpty();
        assertThat(store.rewind("rt", tp, 10)).isEqualTo(40);
        assertThat(store.positions("rt").get(tp).nextOffset()).isEqualTo(10);
    }
}
