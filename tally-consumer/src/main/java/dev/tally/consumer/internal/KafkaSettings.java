package dev.tally.consumer.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Builds the Kafka client configurations from Tally's settings and the user's pass-through
 * properties. Settings Tally depends on for correctness cannot be overridden; unknown names are
 * rejected so that a typo in a security setting fails at start instead of connecting in the clear.
 * Names prefixed {@code consumer.} or {@code producer.} go to that client only, unchecked, for
 * plugin settings Kafka does not know.
 */
public final class KafkaSettings {

    private static final Map<String, String> OWNED = Map.of(
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "offsets are committed in the database; Kafka's auto-commit would break the guarantee",
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "the start position comes from the database; set startPosition(...) for partitions it does not know",
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, "records are read as bytes and decoded by the RecordDecoder",
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, "records are read as bytes and decoded by the RecordDecoder",
            ConsumerConfig.GROUP_ID_CONFIG, "set it with groupId(...)",
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "set it with bootstrapServers(...)");

    private static final String CONSUMER_PREFIX = "consumer.";
    private static final String PRODUCER_PREFIX = "producer.";

    private KafkaSettings() {}

    /** Checks pass-through properties; returns a list of problems, empty when all is well. */
    public static List<String> problems(Map<String, String> user) {
        List<String> problems = new ArrayList<>();
        Set<String> consumerNames = ConsumerConfig.configNames();
        Set<String> producerNames = ProducerConfig.configNames();
        for (Map.Entry<String, String> e : user.entrySet()) {
            String key = e.getKey();
            if (e.getValue() == null) {
                problems.add("Kafka property '" + key + "' has no value");
            } else if (key.startsWith(CONSUMER_PREFIX) || key.startsWith(PRODUCER_PREFIX)) {
                continue;
            } else if (OWNED.containsKey(key)) {
                problems.add("Kafka property '" + key + "' cannot be set: " + OWNED.get(key));
            } else if (!consumerNames.contains(key) && !producerNames.contains(key)) {
                problems.add("unknown Kafka client property '" + key + "' (prefix it with 'consumer.' or 'producer.' to pass a plugin setting unchecked)");
            }
        }
        return problems;
    }

    public static Properties consumer(Settings<?> s) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        // Aborted transactions of upstream producers must not be counted.
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, s.clientId());
        Set<String> names = ConsumerConfig.configNames();
        for (Map.Entry<String, String> e : s.kafkaProperties().entrySet()) {
            if (e.getKey().startsWith(CONSUMER_PREFIX)) {
                p.put(e.getKey().substring(CONSUMER_PREFIX.length()), e.getValue());
            } else if (names.contains(e.getKey())) {
                p.put(e.getKey(), e.getValue());
            }
        }
        boolean newProtocol = "consumer".equalsIgnoreCase(String.valueOf(p.get(ConsumerConfig.GROUP_PROTOCOL_CONFIG)));
        if (!newProtocol) {
            // Cooperative rebalancing keeps the partitions that do not move flowing.
            p.putIfAbsent(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                    "org.apache.kafka.clients.consumer.CooperativeStickyAssignor");
        }
        // No poll may hand over more than one transaction may hold.
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(maxPollRecords(s)));
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, s.groupId());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        Properties props = new Properties();
        props.putAll(p);
        return props;
    }

    /** The records one poll may return: the configured {@code max.poll.records} (default 5000), at most the batch cap. */
    public static int maxPollRecords(Settings<?> s) {
        String configured = s.kafkaProperties().getOrDefault(ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                s.kafkaProperties().getOrDefault(CONSUMER_PREFIX + ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000"));
        int n;
        try {
            n = Integer.parseInt(configured.trim());
        } catch (NumberFormatException e) {
            n = 5000;
        }
        return Math.max(1, Math.min(n, s.maxBatchRecords()));
    }

    public static Properties deadLetterProducer(Settings<?> s) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put(ProducerConfig.CLIENT_ID_CONFIG, s.clientId() + "-dlq");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
        Set<String> names = ProducerConfig.configNames();
        for (Map.Entry<String, String> e : s.kafkaProperties().entrySet()) {
            if (e.getKey().startsWith(PRODUCER_PREFIX)) {
                p.put(e.getKey().substring(PRODUCER_PREFIX.length()), e.getValue());
            } else if (names.contains(e.getKey()) && !e.getKey().equals(ProducerConfig.CLIENT_ID_CONFIG)) {
                p.put(e.getKey(), e.getValue());
            }
        }
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        Properties props = new Properties();
        props.putAll(p);
        return props;
    }
}
