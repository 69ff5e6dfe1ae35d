package dev.tally.consumer;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.tally.testkit.KafkaBrokerExtension;
import dev.tally.testkit.MariaDbDatabase;
import dev.tally.testkit.PostgresDatabase;
import dev.tally.testkit.SqliteDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The test domain: counting words exactly once. A record's value is a word; a value starting
 * with {@code !} cannot be decoded and one starting with {@code ?} is rejected by the handler,
 * so both must end in the dead-letter topic and never in the counts.
 */
final class Words {

    static final RecordDecoder<String> DECODER = record -> {
        String word = new String(record.value(), UTF_8);
        if (word.startsWith("!")) {
            throw new IllegalArgumentException("not a word: " + word);
        }
        return word;
    };

    private Words() {}

    /** The word-count handler: aggregates the batch in memory, then one batched upsert. */
    static BatchHandler<String> handler() {
        return (batch, connection) -> {
            Map<String, Long> counts = new HashMap<>();
            for (Message<String> m : batch) {
                if (m.value().startsWith("?")) {
                    batch.reject(m, "questions are not counted");
                } else {
                    counts.merge(m.value(), 1L, Long::sum);
                }
            }
            upsert(connection, counts);
        };
    }

    static void upsert(Connection connection, Map<String, Long> counts) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement(upsert(connection, "word_counts"))) {
            for (Map.Entry<String, Long> e : counts.entrySet()) {
                ps.setString(1, e.getKey());
                ps.setLong(2, e.getValue());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** Adds to {@code table (word, n)}: MySQL and MariaDB spell the upsert their own way. */
    static String upsert(Connection connection, String table) throws SQLException {
        String product = connection.getMetaData().getDatabaseProductName().toLowerCase(java.util.Locale.ROOT);
        if (product.contains("mysql") || product.contains("mariadb")) {
            return "INSERT INTO " + table + " (word, n) VALUES (?, ?) ON DUPLICATE KEY UPDATE n = n + VALUES(n)";
        }
        return "INSERT INTO " + table + " (word, n) VALUES (?, ?) ON CONFLICT (word) DO UPDATE SET n = " + table + ".n + excluded.n";
    }

    /** One of the databases a test runs on: its pool, and its URL for a consumer that opens its own. */
    record Database(DataSource dataSource, String jdbcUrl) {

        static Database of(String name, SqliteDatabase sqlite, PostgresDatabase postgres, MariaDbDatabase mariadb) {
            return switch (name) {
                case "sqlite" -> new Database(sqlite.dataSource(), sqlite.jdbcUrl());
                case "postgresql" -> new Database(postgres.dataSource(), postgres.jdbcUrl());
                case "mariadb" -> new Database(mariadb.dataSource(), mariadb.jdbcUrl());
                default -> throw new IllegalArgumentException(name);
            };
        }
    }

    static void createSchema(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS word_counts (word VARCHAR(200) PRIMARY KEY, n BIGINT NOT NULL)");
        }
    }

    static Map<String, Long> counts(DataSource ds) throws SQLException {
        Map<String, Long> counts = new TreeMap<>();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT word, n FROM word_counts")) {
            while (rs.next()) {
                counts.put(rs.getString(1), rs.getLong(2));
            }
        }
        return counts;
    }

    static long total(DataSource ds) throws SQLException {
        return counts(ds).values().stream().mapToLong(Long::longValue).sum();
    }

    /** The i-th word of a deterministic stream; {@code poisonEvery > 0} makes every such record undecodable or rejected. */
    static String word(int i, int poisonEvery) {
        if (poisonEvery > 0 && i % poisonEvery == poisonEvery - 1) {
            return (i / poisonEvery) % 2 == 0 ? "!bad-" + i : "?question-" + i;
        }
        return "w" + (i * 7919 % 101);
    }

    static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return new KafkaProducer<>(p);
    }

    /** Sends words {@code from..to-1}, keyed by word, and waits for every acknowledgement. */
    static void produce(KafkaProducer<byte[], byte[]> producer, String topic, int from, int to, int poisonEvery) {
        List<java.util.concurrent.Future<?>> acks = new ArrayList<>();
        for (int i = from; i < to; i++) {
            String w = word(i, poisonEvery);
            acks.add(producer.send(new ProducerRecord<>(topic, w.getBytes(UTF_8), w.getBytes(UTF_8))));
        }
        for (java.util.concurrent.Future<?> f : acks) {
            try {
                f.get(60, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError("record not acknowledged", e);
            }
        }
    }

    /** The expected counts of words {@code 0..n-1}: the ground truth. */
    static Map<String, Long> expected(int n, int poisonEvery) {
        Map<String, Long> counts = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            String w = word(i, poisonEvery);
            if (!w.startsWith("!") && !w.startsWith("?")) {
                counts.merge(w, 1L, Long::sum);
            }
        }
        return counts;
    }

    /** A word-count consumer with test-friendly timings; callers add what their test is about. */
    static TallyConsumer.Builder<String> consumer(String bootstrap, String topic, String group, DataSource ds) {
        return TallyConsumer.builder(DECODER, handler())
                .bootstrapServers(bootstrap)
                .groupId(group)
                .topics(topic)
                .dataSource(ds)
                .retryBackoff(Duration.ofMillis(50), Duration.ofSeconds(1));
    }

    static Map<TopicPartition, Long> endOffsets(String bootstrap, String topic) {
        return KafkaBrokerExtension.endOffsets(bootstrap, topic);
    }

    /** How many members the group has now, as the broker sees them. */
    static int members(Admin admin, String group) throws Exception {
        return admin.describeConsumerGroups(List.of(group)).all().get(10, TimeUnit.SECONDS).get(group).members().size();
    }

    /** Waits until the group's stored offsets reach the end of every partition of the topic. */
    static void awaitCaughtUp(DataSource ds, String group, String bootstrap, String topic, Duration atMost) {
        Map<TopicPartition, Long> end = endOffsets(bootstrap, topic);
        OffsetStore store = new OffsetStore(ds);
        org.awaitility.Awaitility.await("stored offsets of " + group + " reach " + end)
                .atMost(atMost).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                .until(() -> {
                    Map<TopicPartition, OffsetStore.Position> stored = store.positions(group);
                    return end.entrySet().stream().allMatch(e -> e.getValue() == 0
                            || (stored.containsKey(e.getKey()) && stored.get(e.getKey()).nextOffset() == e.getValue()));
                });
    }

    /** Reads a whole topic from Kafka: every record, per partition, in offset order. */
    static Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> readAll(String bootstrap, String topic) {
        Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> all = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : KafkaBrokerExtension.readAll(bootstrap, topic)) {
            all.computeIfAbsent(new TopicPartition(r.topic(), r.partition()), k -> new ArrayList<>()).add(r);
        }
        return all;
    }

    /**
     * The counts the invariant demands at any stopping point: the valid words of every record
     * before each partition's stored offset.
     */
    static Map<String, Long> expectedBefore(Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> log,
            Map<TopicPartition, OffsetStore.Position> stored) {
        Map<String, Long> counts = new TreeMap<>();
        log.forEach((tp, records) -> {
            OffsetStore.Position pos = stored.get(tp);
            long next = pos == null ? 0 : pos.nextOffset();
            for (ConsumerRecord<byte[], byte[]> r : records) {
                String w = new String(r.value(), UTF_8);
                if (r.offset() < next && !w.startsWith("!") && !w.startsWith("?")) {
                    counts.merge(w, 1L, Long::sum);
                }
            }
        });
        return counts;
    }
}
