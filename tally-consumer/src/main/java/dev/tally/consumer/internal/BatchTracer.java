package dev.tally.consumer.internal;

import java.util.List;
import org.apache.kafka.common.TopicPartition;

/**
 * Traces batch transactions. No OpenTelemetry type appears here, so that the consumer loads and
 * runs without OpenTelemetry on the class path: only {@link #of} decides, once, whether the
 * implementation that uses it is loaded at all.
 */
public interface BatchTracer {

    /** One attempt at a batch transaction; returns the fenced partitions, empty when committed. */
    @FunctionalInterface
    interface Transaction {
        List<TopicPartition> run() throws Exception;
    }

    /** Tracing off: the transaction runs as it is. */
    BatchTracer OFF = (group, batch, attempt, transaction) -> transaction.run();

    /**
     * Runs one attempt at committing {@code batch}, traced when tracing is on.
     *
     * @param attempt 1 for the first try of this batch, more for its retries
     */
    List<TopicPartition> commit(String group, PendingBatch<?> batch, int attempt, Transaction transaction) throws Exception;

    /**
     * The tracer for a consumer: {@code openTelemetry} (an {@code io.opentelemetry.api.OpenTelemetry})
     * when the builder was given one, else {@code GlobalOpenTelemetry} once an application sets
     * it, else {@link #OFF} — and always {@link #OFF} when the OpenTelemetry API is not on the
     * class path.
     */
    static BatchTracer of(Object openTelemetry) {
        if (openTelemetry != null) {
            return OpenTelemetryBatchTracer.with(openTelemetry);
        }
        if (!apiPresent()) {
            return OFF;
        }
        return OpenTelemetryBatchTracer.global();
    }

    private static boolean apiPresent() {
        try {
            Class.forName("io.opentelemetry.api.GlobalOpenTelemetry", false, BatchTracer.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
