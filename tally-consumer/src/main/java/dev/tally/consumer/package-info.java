/**
 * Exactly-once Kafka consumer groups into a relational database.
 *
 * <p>Start with {@link dev.tally.consumer.TallyConsumer#builder}: give it a
 * {@link dev.tally.consumer.RecordDecoder} and a {@link dev.tally.consumer.BatchHandler}, a
 * cluster, a group, topics and a database. Each batch's database writes and the partitions' next
 * offsets commit in one transaction; partitions are sought to the offsets in the database; the
 * offset update is a compare-and-set that fences zombies. {@link dev.tally.consumer.OffsetStore}
 * reads and rewinds stored offsets; {@link dev.tally.consumer.ErrorListener} receives every
 * failure as a {@link dev.tally.consumer.ConsumerError}.
 *
 * <p>Everything in {@code dev.tally.consumer.internal} is implementation, unsupported, and may
 * change in any release.
 */
package dev.tally.consumer;
