package dev.tally.consumer;

import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Turns a raw Kafka record into the value a {@link BatchHandler} works with.
 *
 * <p>Decoding runs on the polling thread while the previous batch is being committed, so an
 * expensive parse overlaps with the database. A decoder that throws marks the record as
 * <em>poison</em>: it is published to the dead-letter topic with the exception's class and
 * message, its offset is consumed in the same transaction as the rest of its batch, and it never
 * blocks the partition. Decoders must be thread-confined or stateless; one instance is used by one
 * polling thread.
 *
 * @param <V> the decoded type; {@code null} is allowed and passed on as is
 */
@FunctionalInterface
public interface RecordDecoder<V> {

    /**
     * Decodes one record.
     *
     * @param record the record as read from Kafka, key and value as bytes (either may be null)
     * @return the decoded value
     * @throws Exception if the record cannot be decoded; the record goes to the dead-letter topic
     */
    V decode(ConsumerRecord<byte[], byte[]> record) throws Exception;

    /** A decoder that hands the raw value bytes through unchanged. */
    static RecordDecoder<byte[]> bytes() {
        return ConsumerRecord::value;
    }
}
