package dev.tally.consumer;

/**
 * What a consumer does with a batch that keeps failing with a non-transient error. Transient
 * errors (a lost connection, a busy or restarting database, a deadlock) are always retried
 * without limit, whatever the policy.
 *
 * <p>Set with {@link TallyConsumer.Builder#failurePolicy}.
 */
public enum FailurePolicy {

    /**
     * Retry the batch {@link TallyConsumer.Builder#maxBatchAttempts} times, then stop the
     * consumer ({@link TallyConsumer.State#FAILED}) without skipping anything. The default: a
     * library cannot know whether a failure is in the data or in the handler.
     */
    STOP,

    /**
     * When the database refuses records for good — SQLSTATE class 22 (data exception: a value
     * too long for its column, a character the encoding cannot store, a number out of range) or
     * 23 (integrity constraint violation), SQLite's constraint, too-big and mismatch errors, or
     * the few MySQL files under other states (1265 data truncated, 1366 incorrect value, 3819
     * CHECK constraint) —
     * split the batch in halves, again and again, until the refused records are isolated; those
     * go to the dead-letter topic with the database's SQLSTATE and message in headers, and every
     * other record commits exactly once as usual. Isolating {@code k} refused records in a batch
     * of {@code n} costs about {@code 2·k·log2(n)} extra transactions.
     *
     * <p>Other non-transient failures (a bug in the handler, a missing table) are not the
     * records' fault: they are retried and stop the consumer as under {@link #STOP}, so that a
     * broken deployment never empties the stream into the dead-letter topic. A dead letter that
     * Kafka refuses for good (too large for the dead-letter topic, no permission) stops only its
     * partition ({@link ConsumerError.Phase#HALTED}); the other partitions go on.
     */
    DEAD_LETTER
}
