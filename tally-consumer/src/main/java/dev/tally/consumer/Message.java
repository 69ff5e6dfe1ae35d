package dev.tally.consumer;

import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * One decoded record of a {@link Batch}: the value produced by the {@link RecordDecoder} and the
 * raw record it came from (for its key, headers and timestamp, and for the dead-letter topic).
 *
 * @param record the raw record as read from Kafka
 * @param value the decoded value
 * @param <V> the decoded value type
 */
public record Message<V>(ConsumerRecord<byte[], byte[]> record, V value) {

    /** Checks that the raw record is present. */
    public Message {
        Objects.requireNonNull(record, "record");
    }

    /** The record's topic. */
    public String topic() {
        return record.topic();
    }

    /** The record's partition. */
    public int partition() {
        return record.partition();
    }

    /** The record's offset. */
    public long offset() {
        return record.offset();
    }

    /** The record's timestamp in epoch milliseconds, as Kafka stores it. */
    public long timestamp() {
        return record.timestamp();
    }

    /** The record's key bytes, or {@code null}. */
    public byte[] key() {
        return record.key();
    }

    /** The topic partition the record was read from. */
    public TopicPartition topicPartition() {
        return new TopicPartition(record.topic(), record.partition());
    }
}
