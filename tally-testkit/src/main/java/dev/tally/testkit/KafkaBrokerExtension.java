package dev.tally.testkit;

import dev.tally.broker.KafkaBroker;
import dev.tally.broker.KafkaBrokerProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real Kafka broker for the tests of one class: {@code @RegisterExtension static final
 * KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();}. Started before the first
 * test, stopped and deleted after the last. Tests share it, so each uses its own topics
 * ({@link #uniqueTopic}) and groups.
 *
 * <p>{@link #childProcess()} runs the broker in a process of its own, which a test can kill with
 * {@code kill -9} and restart on the same port and data ({@link #process()}).
 */
public final class KafkaBrokerExtension implements BeforeAllCallback, AfterAllCallback {

    private static final AtomicInteger TOPICS = new AtomicInteger();

    private final boolean child;
    private final Map<String, String> properties = new LinkedHashMap<>();
    private KafkaBroker broker;
    private KafkaBrokerProcess process;
    private Path dataDir;
    private Admin admin;

    private KafkaBrokerExtension(boolean child) {
        this.child = child;
    }

    /** A broker inside the test JVM: the fastest to start. */
    public static KafkaBrokerExtension inProcess() {
        return new KafkaBrokerExtension(false);
    }

    /** A broker in a child process, for tests that kill or restart it. */
    public static KafkaBrokerExtension childProcess() {
        return new KafkaBrokerExtension(true);
    }

    /** A broker setting for this extension's broker. */
    public KafkaBrokerExtension property(String name, String value) {
        properties.put(name, value);
        return this;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        dataDir = Files.createTempDirectory("tally-it-kafka-");
        if (child) {
            process = KafkaBrokerProcess.single(dataDir, properties).start();
        } else {
            KafkaBroker.Builder b = KafkaBroker.builder().dataDir(dataDir);
            properties.forEach(b::property);
            broker = b.build().start();
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (admin != null) {
            admin.close(java.time.Duration.ofSeconds(5));
            admin = null;
        }
        if (process != null) {
            process.close();
        }
        if (broker != null) {
            broker.stop();
        }
        deleteRecursively(dataDir);
    }

    public String bootstrapServers() {
        return child ? process.bootstrapServers() : broker.bootstrapServers();
    }

    /** The child-process broker, to kill, stop or restart. */
    public KafkaBrokerProcess process() {
        if (!child) {
            throw new IllegalStateException("this broker runs in-process; use KafkaBrokerExtension.childProcess()");
        }
        return process;
    }

    /** A topic name no other test of this run uses. */
    public String uniqueTopic(String prefix) {
        return prefix + "-" + TOPICS.incrementAndGet() + "-" + Long.toHexString(System.nanoTime() & 0xffffff);
    }

    /** Creates a topic (replication factor 1) and waits until every partition has a leader. */
    public void createTopic(String name, int partitions) throws Exception {
        admin().createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get(60, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            TopicDescription d = admin().describeTopics(List.of(name)).allTopicNames().get(30, TimeUnit.SECONDS).get(name);
            if (d.partitions().size() == partitions && d.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty())) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("topic " + name + " has no leaders after 60 s");
            }
            Thread.sleep(50);
        }
    }

    /** An admin client shared by the class's tests; closed after them. Do not close it. */
    public synchronized Admin admin() {
        if (admin == null) {
            Properties p = new Properties();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
            admin = Admin.create(p);
        }
        return admin;
    }

    private static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (java.io.IOException ignored) {
            // a temporary directory
        }
    }
}
