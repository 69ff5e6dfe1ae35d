package dev.tally.consumer;

import java.util.List;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;

/**
 * The records a {@link BatchHandler} processes in one database transaction.
 *
 * <p>A batch holds the decoded records of one or more consecutive polls of one consumer. Records
 * are grouped per partition and kept in offset order within a partition; there is no order
 * between partitions. Records that failed to decode are not in the batch (they went to the
 * dead-letter topic). Iterating the batch visits partition after partition.
 *
 * <p>A batch is only valid during the {@link BatchHandler#handle} call it was passed to and must
 * not be shared with other threads.
 *
 * @param <V> the decoded value type
 */
public interface Batch<V> extends Iterable<Message<V>> {

    /** The partitions with records in this batch. */
    Set<TopicPartition> partitions();

    /**
     * The records of one partition, in offset order.
     *
     * @param partition a partition of {@link #partitions()}
     * @return the records; empty for a partition not in the batch
     */
    List<Message<V>> messages(TopicPartition partition);

    /** The number of records in the batch, over all partitions. */
    int size();

    /**
     * Marks a record as invalid for the application: it is published to the dead-letter topic
     * with {@code reason}, before the transaction commits, and counted as dead-lettered. The
     * handler should not count it itself. Marks are forgotten when the batch is retried.
     *
     * @param message a record of this batch
     * @param reason why the record is rejected, for the dead-letter headers
     */
    void reject(Message<V> message, String reason);
}
