package dev.tally.consumer;

import java.util.Objects;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;

/**
 * One decoded record of a {@link Batch}: the value produced by the {@link RecordDecoder} and what
 * Kafka said of the record it came from (topic, partition, offset, timestamp, key, headers), with
 * its raw value for the dead-letter topic.
 *
 * <p>A batch holds up to {@link TallyConsumer.Builder#maxBatchRecords} messages until its
 * transaction commits, so a message keeps only those fields, not the client's
 * {@link ConsumerRecord} (its leader epoch, sizes and an empty header list add about a hundred
 * bytes to each record, copied by the garbage collector for as long as the batch waits).
 * {@link #record()} builds an equivalent record when one is needed.
 *
 * <p>Messages are compared by identity: two reads of the same offset are two messages.
 *
 * @param <V> the decoded value type
 */
public final class Message<V> {

    private static final Headers NO_HEADERS = noHeaders();

    private final String topic;
    private final int partition;
    private final long offset;
    private final long timestamp;
    private final TimestampType timestampType;
    private final byte[] key;
    private final byte[] rawValue;
    /** {@code null} when the record had none: most have none, and an empty list is not free. */
    private final Headers headers;
    private final V value;

    /**
     * A message of {@code record} decoded as {@code value}.
     *
     * @param record the raw record as read from Kafka
     * @param value the decoded value; {@code null} is allowed
     */
    public Message(ConsumerRecord<byte[], byte[]> record, V value) {
        Objects.requireNonNull(record, "record");
        this.topic = record.topic();
        this.partition = record.partition();
        this.offset = record.offset();
        this.timestamp = record.timestamp();
        this.timestampType = record.timestampType();
        this.key = record.key();
        this.rawValue = record.value();
        Headers h = record.headers();
        this.headers = h == null || !h.iterator().hasNext() ? null : h;
        this.value = value;
    }

    /** The decoded value. */
    public V value() {
        return value;
    }

    /**
     * The raw record, rebuilt from what this message keeps: topic, partition, offset, timestamp
     * and its type, key, value and headers (the leader epoch and serialized sizes are not kept).
     * A new object on each call; prefer the accessors of this class.
     */
    public ConsumerRecord<byte[], byte[]> record() {
        return new ConsumerRecord<>(topic, partition, offset, timestamp, timestampType, ConsumerRecord.NULL_SIZE,
                ConsumerRecord.NULL_SIZE, key, rawValue, headers(), Optional.empty());
    }

    /** The record's topic. */
    public String topic() {
        return topic;
    }

    /** The record's partition. */
    public int partition() {
        return partition;
    }

    /** The record's offset. */
    public long offset() {
        return offset;
    }

    /** The record's timestamp in epoch milliseconds, as Kafka stores it. */
    public long timestamp() {
        return timestamp;
    }

    /** The record's key bytes, or {@code null}. */
    public byte[] key() {
        return key;
    }

    /** The record's headers; read-only and empty when it had none. */
    public Headers headers() {
        return headers == null ? NO_HEADERS : headers;
    }

    /** The topic partition the record was read from. */
    public TopicPartition topicPartition() {
        return new TopicPartition(topic, partition);
    }

    @Override
    public String toString() {
        return "Message[" + topic + "-" + partition + "@" + offset + ", value=" + value + "]";
    }

    private static Headers noHeaders() {
        RecordHeaders h = new RecordHeaders();
        h.setReadOnly();
        return h;
    }
}
