package dev.tally.consumer;

import java.sql.Connection;

/**
 * The application's processing step: turns the records of one batch into database writes.
 *
 * <p>A batch holds the records of one or more polls, grouped per partition, in offset order
 * within each partition. The handler writes its results through {@code connection}, which is
 * inside a transaction that Tally opened; it must not commit, roll back or close it. After the
 * handler returns, Tally advances the stored offset of every partition in the batch in the
 * <em>same</em> transaction and commits. So either the handler's writes and the new offsets are
 * both durable, or neither is, and a crash at any moment neither loses nor double-counts a
 * record.
 *
 * <p>Rules for a correct handler:
 * <ul>
 *   <li>Write only through {@code connection}. A side effect elsewhere (an HTTP call, a file, a
 *       second connection) is not covered by the transaction and may be repeated.</li>
 *   <li>The same batch may be handed over again after a rolled-back attempt (a transient
 *       database error, a lost connection). Keep no state between calls that the transaction
 *       does not cover.</li>
 *   <li>A record that is invalid for the application is not a reason to throw: call
 *       {@link Batch#reject(Message, String)} and it goes to the dead-letter topic while the rest
 *       of the batch commits. Throwing rolls back the whole batch; Tally retries it (forever for
 *       transient database errors, a bounded number of times otherwise, then stops the consumer
 *       rather than skip data).</li>
 *   <li>Batch your statements ({@code addBatch}/{@code executeBatch}) and aggregate in memory
 *       first: the batch is where the speed comes from.</li>
 * </ul>
 *
 * @param <V> the decoded value type, see {@link RecordDecoder}
 */
@FunctionalInterface
public interface BatchHandler<V> {

    /**
     * Processes one batch.
     *
     * @param batch the records, per partition, in offset order
     * @param connection the connection of the open transaction; do not commit or close it
     * @throws Exception to roll the whole batch back; it is reported and retried
     */
    void handle(Batch<V> batch, Connection connection) throws Exception;
}
