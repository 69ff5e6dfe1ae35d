package dev.tally.app;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/** The Kafka options every command shares: where the cluster is, which topic, any client property. */
public final class KafkaOptions {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaOptions.class);

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT,...", description = "Kafka cluster (default ${DEFAULT-VALUE})")
    public String bootstrapServers = "127.0.0.1:9092";

    @Option(names = "--topic", description = "topic of page views (default ${DEFAULT-VALUE}); invalid events go to <topic>.dlq")
    public String topic = "pageviews";

    @Option(names = "--kafka", paramLabel = "KEY=VALUE", description = "any Kafka client property, e.g. security.protocol=SASL_SSL; repeatable")
    public Map<String, String> kafka = new LinkedHashMap<>();

    /** The dead-letter topic of {@link #topic}. */
    public String deadLetterTopic() {
        return topic + ".dlq";
    }

    /** The topic of custom events beside {@link #topic}: {@code <topic>.events}. */
    public String eventsTopic() {
        return eventsTopic(topic);
    }

    /**
     * The topic of custom events beside a page-view topic. Custom events are event format v2 with an
     * {@code event} field; they have a topic of their own so that no consumer of page views, of any
     * version, counts one as a page view.
     */
    public static String eventsTopic(String topic) {
        return topic + ".events";
    }

    /** Admin client properties: the cluster plus every pass-through property an admin client knows. */
    public Properties adminProperties() {
        Properties p = new Properties();
        Set<String> known = AdminClientConfig.configNames();
        kafka.forEach((k, v) -> {
            if (known.contains(k)) {
                p.put(k, v);
            }
        });
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        return p;
    }

    /**
     * Checks that the cluster answers within {@code timeout} and that {@link #topic}, its
     * dead-letter topic and its events topic exist, creating the missing ones with {@code partitions} partitions and a
     * replication factor of min(3, brokers).
     *
     * @throws StartupException if the cluster cannot be reached or a topic cannot be created
     */
    public void ensureTopics(Admin admin, int partitions, Duration timeout) {
        try {
            int brokers = admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) timeout.toMillis()))
                    .nodes().get(timeout.toMillis() + 1_000, TimeUnit.MILLISECONDS).size();
            Set<String> existing = admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (String t : List.of(topic, deadLetterTopic(), eventsTopic())) {
                if (!existing.contains(t)) {
                    Map<String, String> configs = new HashMap<>();
                    if (brokers >= 3) {
                        configs.put("min.insync.replicas", "2");
                    }
                    missing.add(new NewTopic(t, partitions, (short) Math.min(3, brokers)).configs(configs));
                }
            }
            if (!missing.isEmpty()) {
                try {
                    admin.createTopics(missing).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                    missing.forEach(t -> LOG.info("created topic {} with {} partitions", t.name(), t.numPartitions()));
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
        } catch (TimeoutException e) {
            throw new StartupException("Kafka at " + bootstrapServers + " is unreachable (no answer within "
                    + timeout.toSeconds() + " s); is the broker running? (bin/tally broker)");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw new StartupException("Kafka at " + bootstrapServers + " is unreachable (no answer within "
                        + timeout.toSeconds() + " s); is the broker running? (bin/tally broker)");
            }
            throw new StartupException("Kafka at " + bootstrapServers + ": " + cause.getMessage(), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StartupException("interrupted while connecting to Kafka");
        }
    }

    /** Opens an admin client, checks the cluster and the topics (see {@link #ensureTopics}). */
    public Admin connect(int partitions) {
        Admin admin = Admin.create(adminProperties());
        try {
            ensureTopics(admin, partitions, Duration.ofSeconds(15));
            return admin;
        } catch (RuntimeException e) {
            admin.close(Duration.ZERO);
            throw e;
        }
    }
}
