package dev.tally.consumer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.consumer.internal.DeadLetterPublisher;
import dev.tally.testkit.KafkaBrokerExtension;
import dev.tally.testkit.MariaDbDatabase;
import dev.tally.testkit.PostgresDatabase;
import dev.tally.testkit.SqliteDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A record the database refuses for good (a value too long for its column, a NUL that
 * PostgreSQL cannot store in text, a CHECK constraint; MariaDB in its default strict mode) must not stop counting: under
 * {@link FailurePolicy#DEAD_LETTER} it is isolated and dead-lettered with the database's word, the
 * rest counts exactly once; under the default {@link FailurePolicy#STOP} the consumer stops
 * without skipping it.
 */
class RefusedRecordIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final PostgresDatabase postgres = new PostgresDatabase();

    @RegisterExtension
    final SqliteDatabase sqlite = new SqliteDatabase();

    @RegisterExtension
    final MariaDbDatabase mariadb = new MariaDbDatabase();

    private static final int N = 2_000;

    /** Word {@code i}; every 333rd is one the store refuses: too long, or (PostgreSQL) with a NUL. */
    private static String word(int i, boolean withNul) {
        if (i % 333 == 100) {
            return withNul && i % 2 == 0 ? "nul\u0000" + i : "long-" + "x".repeat(300) + i;
        }
        return "w" + (i * 7919 % 101);
    }

    private static boolean refused(String w) {
        return w.length() > 200 || w.indexOf('\u0000') >= 0;
    }

    private static void createSchema(DataSource ds) throws Exception {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE strict_words (word VARCHAR(200) PRIMARY KEY CHECK (length(word) <= 200), n BIGINT NOT NULL)");
        }
    }

    private static Map<String, Long> counts(DataSource ds) throws Exception {
        Map<String, Long> counts = new TreeMap<>();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT word, n FROM strict_words")) {
            while (rs.next()) {
                counts.put(rs.getString(1), rs.getLong(2));
            }
        }
        return counts;
    }

    private static BatchHandler<String> handler(AtomicInteger transactions) {
        return (batch, connection) -> {
            transactions.incrementAndGet();
            Map<String, Long> counts = new HashMap<>();
            for (Message<String> m : batch) {
                counts.merge(m.value(), 1L, Long::sum);
            }
            try (PreparedStatement ps = connection.prepareStatement(Words.upsert(connection, "strict_words"))) {
                for (Map.Entry<String, Long> e : counts.entrySet()) {
                    ps.setString(1, e.getKey());
                    ps.setLong(2, e.getValue());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        };
    }

    private static void produce(String topic, boolean withNul) {
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            for (int i = 0; i < N; i++) {
                byte[] w = word(i, withNul).getBytes(UTF_8);
                p.send(new ProducerRecord<>(topic, i % 2, w, w));
            }
            p.flush();
        }
    }

    @Test
    void refusedRecordsAreDeadLetteredOnPostgresql() throws Exception {
        deadLetterPolicyIsolatesRefusedRecords(postgres.dataSource(), "pg", true);
    }

    @Test
    void refusedRecordsAreDeadLetteredOnSqlite() throws Exception {
        deadLetterPolicyIsolatesRefusedRecords(sqlite.dataSource(), "sqlite", false);
    }

    @Test
    void refusedRecordsAreDeadLetteredOnMariadb() throws Exception {
        deadLetterPolicyIsolatesRefusedRecords(mariadb.dataSource(), "mariadb", false);
    }

    private void deadLetterPolicyIsolatesRefusedRecords(DataSource ds, String name, boolean withNul) throws Exception {
        String topic = KAFKA.uniqueTopic("refused-" + name);
        KAFKA.createTopic(topic, 2);
        createSchema(ds);
        produce(topic, withNul);
        AtomicInteger transactions = new AtomicInteger();
        List<ConsumerError> errors = new CopyOnWriteArrayList<>();
        TallyConsumer<String> consumer = TallyConsumer.builder(r -> new String(r.value(), UTF_8), handler(transactions))
                .bootstrapServers(KAFKA.bootstrapServers()).groupId("refused").topics(topic).dataSource(ds)
                .failurePolicy(FailurePolicy.DEAD_LETTER).errorListener(errors::add).build().start();
        try {
            Words.awaitCaughtUp(ds, "refused", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(90));
            assertThat(consumer.state()).isEqualTo(TallyConsumer.State.RUNNING);
        } finally {
            consumer.close(Duration.ofSeconds(10));
        }
        Map<String, Long> expected = new TreeMap<>();
        Set<String> refused = new TreeSet<>();
        for (int i = 0; i < N; i++) {
            String w = word(i, withNul);
            if (refused(w)) {
                refused.add(w);
            } else {
                expected.merge(w, 1L, Long::sum);
            }
        }
        assertThat(counts(ds)).isEqualTo(expected);

        List<ConsumerRecord<byte[], byte[]>> dead = KAFKA.readAll(topic + ".dlq");
        Set<String> deadWords = new TreeSet<>();
        for (ConsumerRecord<byte[], byte[]> r : dead) {
            deadWords.add(new String(r.value(), UTF_8));
            String state = new String(r.headers().lastHeader(DeadLetterPublisher.ERROR_SQLSTATE).value(), UTF_8);
            String message = new String(r.headers().lastHeader(DeadLetterPublisher.ERROR_MESSAGE).value(), UTF_8);
            if (!name.equals("sqlite")) {
                assertThat(state).matches("2[23].*"); // data exception or constraint, whichever the value hits first
            } else {
                assertThat(state).startsWith("SQLITE_CONSTRAINT");
            }
            assertThat(message).isNotBlank();
        }
        assertThat(deadWords).isEqualTo(refused);
        assertThat(dead).hasSameSizeAs(refused);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(errors)
                .filteredOn(e -> e.phase() == ConsumerError.Phase.REFUSED).hasSize(refused.size()));
        // The cost of isolating k refused records among n: about 2·k·log2(n) extra transactions.
        int k = refused.size();
        int bound = 1 + 2 * k * (int) Math.ceil(Math.log(N) / Math.log(2) + 2);
        System.out.printf("refused %d of %d records on %s: %d handler transactions (bound %d)%n", k, N, name, transactions.get(), bound);
        assertThat(transactions.get()).isLessThanOrEqualTo(bound);
    }

    @Test
    void underTheDefaultPolicyARefusedRecordStopsTheConsumerWithoutSkippingIt() throws Exception {
        DataSource ds = postgres.dataSource();
        String topic = KAFKA.uniqueTopic("refused-stop");
        KAFKA.createTopic(topic, 2);
        createSchema(ds);
        produce(topic, true);
        List<ConsumerError> errors = new CopyOnWriteArrayList<>();
        TallyConsumer<String> consumer = TallyConsumer.builder(r -> new String(r.value(), UTF_8), handler(new AtomicInteger()))
                .bootstrapServers(KAFKA.bootstrapServers()).groupId("refused-stop").topics(topic).dataSource(ds)
                .maxBatchAttempts(3).retryBackoff(Duration.ofMillis(10), Duration.ofMillis(50))
                .errorListener(errors::add).build().start();
        try {
            assertThat(consumer.awaitTermination(Duration.ofSeconds(60))).isTrue();
            assertThat(consumer.state()).isEqualTo(TallyConsumer.State.FAILED);
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
        // The first refused word is record 100 of partition 0, at offset 50: nothing from there on was stored.
        OffsetStore.Position p0 = new OffsetStore(ds).positions("refused-stop").get(new TopicPartition(topic, 0));
        assertThat(p0.nextOffset()).isLessThanOrEqualTo(50);
        assertThat(errors).filteredOn(e -> e.phase() == ConsumerError.Phase.FATAL).isNotEmpty();
    }
}
