package dev.tally.testkit;

import dev.tally.broker.KafkaBroker;
import dev.tally.broker.KafkaBrokerProcess;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real Kafka broker (KRaft, broker and controller in one node) for the tests of one class.
 *
 * <pre>{@code
 * class WordCountIT {
 *     @RegisterExtension
 *     static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();
 *
 *     @Test
 *     void counts() {
 *         String topic = KAFKA.createTopic(KAFKA.uniqueTopic("words"), 3);
 *         try (var producer = new KafkaProducer<String, String>(KAFKA.producerProperties())) { ... }
 *     }
 * }
 * }</pre>
 *
 * <p>Registered on a static field, one broker serves every test of the class (and of its
 * {@code @Nested} classes) and is closed with its data after the last one; on an instance field,
 * each test gets a broker of its own, which is slower. Tests share the broker, so each should use
 * topics and groups of its own: {@link #uniqueTopic(String)} makes names.
 *
 * <ul>
 *   <li>{@link #inProcess()}: a {@link KafkaBroker} in the test JVM; starts in about two seconds.</li>
 *   <li>{@link #childProcess()}: a {@link KafkaBrokerProcess} in a child JVM, which the test can
 *       kill with SIGKILL, stop, freeze and restart through {@link #process()}. A broker found
 *       dead or frozen before a test (an earlier test left it so, say because it failed) is
 *       started or resumed first.</li>
 * </ul>
 *
 * <p>The broker runs with {@link KafkaBroker#defaults() Tally's defaults}: one replica, automatic
 * topic creation, no initial rebalance delay, group session timeouts down to 1 s under both group
 * protocols. {@link #property(String, String)} changes any setting before the broker starts.
 */
public final class KafkaBrokerExtension extends ScopedExtension {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final boolean childProcess;
    private final Map<String, String> properties = new LinkedHashMap<>();
    private KafkaBroker broker;
    private KafkaBrokerProcess process;
    private Admin admin;

    private KafkaBrokerExtension(boolean childProcess) {
        this.childProcess = childProcess;
    }

    /** A broker inside the test JVM. */
    public static KafkaBrokerExtension inProcess() {
        return new KafkaBrokerExtension(false);
    }

    /** A broker in a child JVM that tests can kill and restart through {@link #process()}. */
    public static KafkaBrokerExtension childProcess() {
        return new KafkaBrokerExtension(true);
    }

    /**
     * A broker setting, on top of Tally's defaults; only before the broker starts, that is when
     * the extension is created: {@code KafkaBrokerExtension.inProcess().property("num.partitions", "3")}.
     */
    public KafkaBrokerExtension property(String name, String value) {
        if (isOpen()) {
            throw new IllegalStateException("the broker is running already; set properties where the extension is created");
        }
        properties.put(name, value);
        return this;
    }

    /** The broker's address, {@code 127.0.0.1:<port>}; the same across {@link #process()} restarts. */
    public String bootstrapServers() {
        requireOpen();
        return childProcess ? process.bootstrapServers() : broker.bootstrapServers();
    }

    /**
     * Creates a topic and waits (at most 30 s) until every partition has a leader that answers
     * for its offsets, so that clients can use it at once: an idempotent producer whose first
     * requests meet a partition not yet led can be left with a sequence the broker refuses. A
     * topic that exists already is accepted.
     *
     * @return the topic's name
     */
    public String createTopic(String name, int partitions) {
        try {
            admin().createTopics(List.of(new NewTopic(name, Optional.of(partitions), Optional.empty())))
                    .all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("cannot create topic " + name + ": " + e.getCause().getMessage(), e);
            }
        } catch (InterruptedException | TimeoutException e) {
            throw failed("creating topic " + name, e);
        }
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!hasLeaders(name, partitions) || !answersOffsets(name, partitions)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("topic " + name + " has no leader for every partition after " + TIMEOUT.toSeconds() + " s");
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                throw failed("waiting for the leaders of " + name, e);
            }
        }
        return name;
    }

    /**
     * A topic name no other test has used: {@code prefix}, a dash, and random characters; characters
     * Kafka does not allow in a topic name become dashes.
     */
    public String uniqueTopic(String prefix) {
        String safe = prefix.replaceAll("[^a-zA-Z0-9._-]", "-");
        if (safe.length() > 200) {
            safe = safe.substring(0, 200);
        }
        return safe + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** An Admin client on the broker, shared by the tests and closed with the broker. */
    public synchronized Admin admin() {
        requireOpen();
        if (admin == null) {
            Properties p = new Properties();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
            p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
            admin = Admin.create(p);
        }
        return admin;
    }

    /**
     * Producer settings: this broker, {@code acks=all}, idempotence, String serializers. A new
     * mutable map each time, for the test to change.
     */
    public Map<String, Object> producerProperties() {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return p;
    }

    /**
     * Consumer settings: this broker, the group, reading from the earliest offset, no auto-commit,
     * String deserializers. A new mutable map each time, for the test to change.
     */
    public Map<String, Object> consumerProperties(String group) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        return p;
    }

    /** The end offset of every partition of {@code topic}: where the next record will be written. */
    public Map<TopicPartition, Long> endOffsets(String topic) {
        return endOffsets(bootstrapServers(), topic);
    }

    /** {@link #endOffsets(String)} on any cluster, such as one a child process started. */
    public static Map<TopicPartition, Long> endOffsets(String bootstrapServers, String topic) {
        try (KafkaConsumer<byte[], byte[]> c = rawConsumer(bootstrapServers)) {
            List<TopicPartition> parts = new ArrayList<>();
            c.partitionsFor(topic, Duration.ofSeconds(30)).forEach(i -> parts.add(new TopicPartition(topic, i.partition())));
            return c.endOffsets(parts, Duration.ofSeconds(30));
        }
    }

    /**
     * Every record of {@code topic} up to its end offsets at the time of the call, partition by
     * partition in offset order (read_committed, so aborted transactions are left out).
     */
    public List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
        return readAll(bootstrapServers(), topic);
    }

    /** {@link #readAll(String)} on any cluster, such as one a child process started. */
    public static List<ConsumerRecord<byte[], byte[]>> readAll(String bootstrapServers, String topic) {
        List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>();
        Map<TopicPartition, Long> end = endOffsets(bootstrapServers, topic);
        try (KafkaConsumer<byte[], byte[]> c = rawConsumer(bootstrapServers)) {
            c.assign(end.keySet());
            c.seekToBeginning(end.keySet());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (end.entrySet().stream().anyMatch(e -> c.position(e.getKey()) < e.getValue())) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read " + topic + " to its end offsets " + end + " within 60 s");
                }
                c.poll(Duration.ofMillis(200)).forEach(r -> {
                    if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
                        all.add(r);
                    }
                });
            }
        }
        return all;
    }

    private static KafkaConsumer<byte[], byte[]> rawConsumer(String bootstrapServers) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /**
     * The child-process broker, to {@link KafkaBrokerProcess#kill() kill},
     * {@link KafkaBrokerProcess#stop() stop}, {@link KafkaBrokerProcess#suspend() suspend} and
     * {@link KafkaBrokerProcess#restart() restart} it; same port and data after a restart.
     *
     * @throws IllegalStateException for an {@link #inProcess()} broker
     */
    public KafkaBrokerProcess process() {
        if (!childProcess) {
            throw new IllegalStateException("an in-process broker has no process; use KafkaBrokerExtension.childProcess()");
        }
        requireOpen();
        return process;
    }

    @Override
    void open(ExtensionContext context) {
        if (childProcess) {
            KafkaBrokerProcess.Builder b = KafkaBrokerProcess.builder();
            properties.forEach(b::property);
            KafkaBrokerProcess p = b.build();
            try {
                p.start();
            } catch (RuntimeException e) {
                p.close();
                throw e;
            }
            process = p;
        } else {
            KafkaBroker.Builder b = KafkaBroker.builder();
            properties.forEach(b::property);
            KafkaBroker k = b.build();
            try {
                k.start();
            } catch (RuntimeException e) {
                k.close();
                throw e;
            }
            broker = k;
        }
    }

    @Override
    void beforeEachTest(ExtensionContext context) {
        if (childProcess && !process.isAlive()) {
            System.err.println("tally-testkit: the Kafka child process is not running before "
                    + context.getDisplayName() + "; starting it again");
            process.start();
        } else if (childProcess && process.isSuspended()) {
            System.err.println("tally-testkit: the Kafka child process is suspended before "
                    + context.getDisplayName() + "; resuming it");
            process.resume();
        }
    }

    @Override
    synchronized void close() {
        try {
            if (admin != null) {
                admin.close(Duration.ofSeconds(5));
            }
        } finally {
            admin = null;
            if (process != null) {
                process.close();
                process = null;
            }
            if (broker != null) {
                broker.close();
                broker = null;
            }
        }
    }

    /**
     * Whether every partition's leader answers ListOffsets: the metadata can name a leader a
     * moment before that leader serves the partition.
     */
    private boolean answersOffsets(String topic, int partitions) {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
        }
        try {
            admin().listOffsets(latest).all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (ExecutionException e) {
            return false;
        } catch (InterruptedException | TimeoutException e) {
            throw failed("listing the offsets of " + topic, e);
        }
    }

    private boolean hasLeaders(String topic, int partitions) {
        try {
            TopicDescription d = admin().describeTopics(List.of(topic)).allTopicNames()
                    .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).get(topic);
            return d.partitions().size() >= partitions && d.partitions().stream().allMatch(p -> p.leader() != null && p.leader().id() >= 0);
        } catch (ExecutionException e) {
            return false; // not known to the broker's metadata yet
        } catch (InterruptedException | TimeoutException e) {
            throw failed("describing topic " + topic, e);
        }
    }

    private void requireOpen() {
        if (!isOpen()) {
            throw new IllegalStateException("the Kafka broker runs only while tests run: register the extension with "
                    + "@RegisterExtension (static for one broker per class) and use it from tests or callbacks");
        }
    }

    private static IllegalStateException failed(String what, Exception e) {
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
        }
        return new IllegalStateException(what + " failed: " + e, e);
    }
}
