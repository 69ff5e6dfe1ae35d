package dev.tally.spring;

import dev.tally.consumer.FailurePolicy;
import dev.tally.consumer.OffsetStore;
import dev.tally.consumer.StartPosition;
import dev.tally.consumer.TallyConsumer;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * The {@code tally.consumer.*} properties: the options of {@link TallyConsumer.Builder}, under
 * their names. Only {@code topics}, {@code group} and {@code bootstrap-servers} are required;
 * an option left out keeps the library's default. The database is the application's own
 * {@code DataSource}.
 *
 * <pre>
 * tally.consumer.bootstrap-servers=k1:9092,k2:9092
 * tally.consumer.group=page-counter
 * tally.consumer.topics=pageviews
 * tally.consumer.failure-policy=dead-letter
 * tally.consumer.kafka.security.protocol=SASL_SSL
 * </pre>
 */
@ConfigurationProperties("tally.consumer")
public class TallyProperties {

    /** Whether to run the consumer at all. */
    private boolean enabled = true;
    /** The Kafka cluster, host:port[,host:port...]. */
    private String bootstrapServers;
    /** The consumer group; also the key of the stored offsets. */
    private String group;
    /** The Kafka client id; default tally-GROUP-N. */
    private String clientId;
    /** The topics to read. */
    private List<String> topics = new ArrayList<>();
    /** The offsets table, optionally schema-qualified. */
    private String offsetsTable = OffsetStore.DEFAULT_TABLE;
    /** Where a partition without a stored offset starts: earliest, latest, or an ISO-8601 instant. */
    private String startPosition = "earliest";
    /** One dead-letter topic for every topic; default TOPIC.dlq for records of TOPIC. */
    private String deadLetterTopic;
    /** What to do with a batch that keeps failing with a non-transient error. */
    private FailurePolicy failurePolicy = FailurePolicy.STOP;
    /** The most records one transaction covers. */
    private Integer maxBatchRecords;
    /** The most bytes (keys and values) one transaction holds; bounds memory for large records. */
    private DataSize maxBatchBytes;
    /** How many times a batch failing with a non-transient error is tried before giving up. */
    private Integer maxBatchAttempts;
    /** How many error reports may wait for the listeners before new ones are dropped. */
    private Integer errorQueueCapacity;
    /** How long one poll waits for records. */
    private Duration pollTimeout;
    /** The first delay between retries of a failed batch. */
    private Duration retryBackoffInitial;
    /** The longest delay between retries of a failed batch. */
    private Duration retryBackoffMax;
    /** The longest the consumer takes to close when the application stops. */
    private Duration closeTimeout;
    /** How often an idle member checks its stored offsets for an operator's rewind. */
    private Duration offsetCheckInterval;
    /** How long a batch waits for its dead letters to be acknowledged. */
    private Duration deadLetterTimeout;
    /** The longest any single database call may wait for an answer. */
    private Duration databaseTimeout;
    /** Kafka client properties passed through (security settings, timeouts, consumer.X or producer.X). */
    private Map<String, String> kafka = new LinkedHashMap<>();

    /** Applies every option that is set to {@code builder}. */
    <V> TallyConsumer.Builder<V> applyTo(TallyConsumer.Builder<V> builder) {
        if (bootstrapServers != null) {
            builder.bootstrapServers(bootstrapServers);
        }
        if (group != null) {
            builder.groupId(group);
        }
        if (clientId != null) {
            builder.clientId(clientId);
        }
        builder.topics(topics);
        builder.offsetsTable(offsetsTable);
        builder.startPosition(startPosition());
        if (deadLetterTopic != null) {
            builder.deadLetterTopic(deadLetterTopic);
        }
        builder.failurePolicy(failurePolicy);
        if (maxBatchRecords != null) {
            builder.maxBatchRecords(maxBatchRecords);
        }
        if (maxBatchBytes != null) {
            builder.maxBatchBytes(maxBatchBytes.toBytes());
        }
        if (maxBatchAttempts != null) {
            builder.maxBatchAttempts(maxBatchAttempts);
        }
        if (errorQueueCapacity != null) {
            builder.errorQueueCapacity(errorQueueCapacity);
        }
        if (pollTimeout != null) {
            builder.pollTimeout(pollTimeout);
        }
        if (retryBackoffInitial != null || retryBackoffMax != null) {
            // The library's defaults for the half left out.
            builder.retryBackoff(retryBackoffInitial != null ? retryBackoffInitial : Duration.ofMillis(100),
                    retryBackoffMax != null ? retryBackoffMax : Duration.ofSeconds(10));
        }
        if (closeTimeout != null) {
            builder.closeTimeout(closeTimeout);
        }
        if (offsetCheckInterval != null) {
            builder.offsetCheckInterval(offsetCheckInterval);
        }
        if (deadLetterTimeout != null) {
            builder.deadLetterTimeout(deadLetterTimeout);
        }
        if (databaseTimeout != null) {
            builder.databaseTimeout(databaseTimeout);
        }
        builder.kafkaProperties(kafka);
        return builder;
    }

    /** The start position named by {@link #getStartPosition()}. */
    StartPosition startPosition() {
        String s = startPosition == null ? "earliest" : startPosition.trim();
        switch (s.toLowerCase(Locale.ROOT)) {
            case "earliest":
                return StartPosition.earliest();
            case "latest":
                return StartPosition.latest();
            default:
                try {
                    return StartPosition.timestamp(Instant.parse(s));
                } catch (DateTimeParseException e) {
                    throw new IllegalArgumentException("tally.consumer.start-position must be earliest, latest or an "
                            + "ISO-8601 instant such as 2026-11-27T00:00:00Z, not " + startPosition, e);
                }
        }
    }

    /** The close timeout in force: the one set, or the library's default. */
    Duration effectiveCloseTimeout() {
        return closeTimeout != null ? closeTimeout : Duration.ofSeconds(30);
    }

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public String getBootstrapServers() {
        return bootstrapServers;
    }

    public void setBootstrapServers(String bootstrapServers) {
        this.bootstrapServers = bootstrapServers;
    }

    public String getGroup() {
        return group;
    }

    public void setGroup(String group) {
        this.group = group;
    }

    public String getClientId() {
        return clientId;
    }

    public void setClientId(String clientId) {
        this.clientId = clientId;
    }

    public List<String> getTopics() {
        return topics;
    }

    public void setTopics(List<String> topics) {
        this.topics = topics;
    }

    public String getOffsetsTable() {
        return offsetsTable;
    }

    public void setOffsetsTable(String offsetsTable) {
        this.offsetsTable = offsetsTable;
    }

    public String getStartPosition() {
        return startPosition;
    }

    public void setStartPosition(String startPosition) {
        this.startPosition = startPosition;
    }

    public String getDeadLetterTopic() {
        return deadLetterTopic;
    }

    public void setDeadLetterTopic(String deadLetterTopic) {
        this.deadLetterTopic = deadLetterTopic;
    }

    public FailurePolicy getFailurePolicy() {
        return failurePolicy;
    }

    public void setFailurePolicy(FailurePolicy failurePolicy) {
        this.failurePolicy = failurePolicy;
    }

    public Integer getMaxBatchRecords() {
        return maxBatchRecords;
    }

    public void setMaxBatchRecords(Integer maxBatchRecords) {
        this.maxBatchRecords = maxBatchRecords;
    }

    public DataSize getMaxBatchBytes() {
        return maxBatchBytes;
    }

    public void setMaxBatchBytes(DataSize maxBatchBytes) {
        this.maxBatchBytes = maxBatchBytes;
    }

    public Integer getMaxBatchAttempts() {
        return maxBatchAttempts;
    }

    public void setMaxBatchAttempts(Integer maxBatchAttempts) {
        this.maxBatchAttempts = maxBatchAttempts;
    }

    public Integer getErrorQueueCapacity() {
        return errorQueueCapacity;
    }

    public void setErrorQueueCapacity(Integer errorQueueCapacity) {
        this.errorQueueCapacity = errorQueueCapacity;
    }

    public Duration getPollTimeout() {
        return pollTimeout;
    }

    public void setPollTimeout(Duration pollTimeout) {
        this.pollTimeout = pollTimeout;
    }

    public Duration getRetryBackoffInitial() {
        return retryBackoffInitial;
    }

    public void setRetryBackoffInitial(Duration retryBackoffInitial) {
        this.retryBackoffInitial = retryBackoffInitial;
    }

    public Duration getRetryBackoffMax() {
        return retryBackoffMax;
    }

    public void setRetryBackoffMax(Duration retryBackoffMax) {
        this.retryBackoffMax = retryBackoffMax;
    }

    public Duration getCloseTimeout() {
        return closeTimeout;
    }

    public void setCloseTimeout(Duration closeTimeout) {
        this.closeTimeout = closeTimeout;
    }

    public Duration getOffsetCheckInterval() {
        return offsetCheckInterval;
    }

    public void setOffsetCheckInterval(Duration offsetCheckInterval) {
        this.offsetCheckInterval = offsetCheckInterval;
    }

    public Duration getDeadLetterTimeout() {
        return deadLetterTimeout;
    }

    public void setDeadLetterTimeout(Duration deadLetterTimeout) {
        this.deadLetterTimeout = deadLetterTimeout;
    }

    public Duration getDatabaseTimeout() {
        return databaseTimeout;
    }

    public void setDatabaseTimeout(Duration databaseTimeout) {
        this.databaseTimeout = databaseTimeout;
    }

    public Map<String, String> getKafka() {
        return kafka;
    }

    public void setKafka(Map<String, String> kafka) {
        this.kafka = kafka;
    }
}
