package dev.tally.consumer.internal;

import dev.tally.consumer.BatchHandler;
import dev.tally.consumer.ErrorListener;
import dev.tally.consumer.FailurePolicy;
import dev.tally.consumer.RecordDecoder;
import dev.tally.consumer.StartPosition;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/** A validated, immutable copy of a consumer's configuration, as the builder sealed it. */
public record Settings<V>(
        String bootstrapServers,
        String groupId,
        String clientId,
        List<String> topics,
        DataSource dataSource,
        String offsetsTable,
        RecordDecoder<V> decoder,
        BatchHandler<V> handler,
        StartPosition startPosition,
        String deadLetterTopic,
        ErrorListener errorListener,
        int errorQueueCapacity,
        MeterRegistry meterRegistry,
        Map<String, String> kafkaProperties,
        int maxBatchRecords,
        long maxBatchBytes,
        Duration pollTimeout,
        Duration retryBackoffInitial,
        Duration retryBackoffMax,
        int maxBatchAttempts,
        Duration closeTimeout,
        Duration offsetCheckInterval,
        Duration deadLetterTimeout,
        FailurePolicy failurePolicy,
        Duration databaseTimeout,
        BatchTracer tracer) {

    /** The dead-letter topic for records of {@code origin}. */
    public String deadLetterTopicFor(String origin) {
        return deadLetterTopic != null ? deadLetterTopic : origin + ".dlq";
    }
}
