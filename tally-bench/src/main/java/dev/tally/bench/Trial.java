package dev.tally.bench;

import java.nio.file.Path;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * What every contender of one workload gets: the topic, written once, and the reference
 * aggregates of its events.
 *
 * @param records the events in the topic
 * @param streamKeys the keys the Kafka Streams contender counts ({@link Aggregates#streamKeys})
 * @param postgres a database on the PostgreSQL server, for creating each run's own
 * @param dir where SQLite files and Kafka Streams state go
 * @param naiveRecords how many records the per-record contender processes before it is extrapolated
 */
record Trial(String bootstrapServers, String topic, Workload workload, Aggregates reference, long records,
        long streamKeys, String postgres, Path dir, long naiveRecords) {

    /** A plain consumer in a fresh group, reading from the beginning, with the aggregator's poll size. */
    KafkaConsumer<byte[], byte[]> consumer(String purpose) {
        return consumer(bootstrapServers, purpose);
    }

    /** As {@link #consumer(String)}, of the broker at {@code bootstrapServers} (in a JVM that has no trial). */
    static KafkaConsumer<byte[], byte[]> consumer(String bootstrapServers, String purpose) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-" + purpose + "-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }
}
