package dev.tally.consumer;

/**
 * Receives every failure a {@link TallyConsumer} meets, with its context.
 *
 * <p>Reports are delivered asynchronously on one dedicated thread through a bounded queue: a slow
 * or blocking listener never stalls consumption. When the queue is full, further reports are
 * dropped and counted (metric {@code tally.consumer.errors.dropped}, and
 * {@link TallyConsumer#droppedErrorReports()}). An exception thrown by the listener is logged and
 * otherwise ignored. The default listener logs through SLF4J (logger
 * {@code dev.tally.consumer.TallyConsumer}).
 */
@FunctionalInterface
public interface ErrorListener {

    /**
     * Called once per failure, on the reporting thread.
     *
     * @param error what failed, where and why
     */
    void onError(ConsumerError error);
}
