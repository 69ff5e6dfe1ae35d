package dev.tally.broker;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * A Kafka cluster of N nodes (default 3), each a {@link KafkaBrokerProcess} (broker and
 * controller in one child JVM) on free loopback ports, sharing one cluster id and one static
 * controller quorum: the ground for fault tests that kill, stop, freeze and restart nodes.
 *
 * <pre>{@code
 * try (KafkaCluster cluster = KafkaCluster.builder().build().start()) {
 *     cluster.createTopic("events", 3);                    // replication factor 3
 *     int leader = cluster.leaderOf("events", 0);
 *     cluster.node(leader).kill();                         // kill -9 the partition leader
 *     ... produce and consume with acks=all through cluster.bootstrapServers() ...
 *     cluster.node(leader).restart();                      // it rejoins and catches up
 * }
 * }</pre>
 *
 * <p>Node ids are 1 to N. On top of {@link KafkaBroker#defaults()}, a cluster of three or more
 * sets replication factor 3 and {@code min.insync.replicas=2} for new topics and for the internal
 * topics (so one node may be down and {@code acks=all} still succeeds, but never with a single
 * copy), keeps unclean leader election off, and sets failure detection for tests: a broker
 * is fenced 6 s after its last heartbeat ({@code broker.session.timeout.ms}: Kafka's default is
 * 9 s, a lone node's here 4 s; several JVMs on two cores need some slack) and a follower leaves
 * the ISR after 10 s behind ({@code replica.lag.time.max.ms}, default 30 s).
 * Smaller clusters use replication factor N and at most N - 1 in-sync replicas. Every setting
 * can be overridden with {@link Builder#property}.
 *
 * <p>{@link #close()} kills every node (SIGKILL: quick, and a clean stop would wait for a quorum
 * that is leaving too) and deletes the data directories if they were temporary.
 */
public final class KafkaCluster implements AutoCloseable {

    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);

    private final Map<Integer, KafkaBrokerProcess> nodes;
    private final Path root;
    private final boolean ownsRoot;
    private final String clusterId;
    private Admin admin;

    private KafkaCluster(Builder b) {
        this.ownsRoot = b.dataDir == null;
        this.root = ownsRoot ? KafkaBroker.tempDir("tally-kafka-cluster-") : b.dataDir.toAbsolutePath();
        this.clusterId = b.clusterId != null ? b.clusterId : Uuid.randomUuid().toString();
        List<Integer> ports = KafkaBroker.freePorts(2 * b.size);
        String controllers = java.util.stream.IntStream.rangeClosed(1, b.size)
                .mapToObj(id -> id + "@127.0.0.1:" + ports.get(2 * (id - 1) + 1))
                .collect(Collectors.joining(","));
        Map<String, String> settings = new LinkedHashMap<>(defaults(b.size));
        settings.putAll(b.properties);
        Map<Integer, KafkaBrokerProcess> built = new LinkedHashMap<>();
        for (int id = 1; id <= b.size; id++) {
            KafkaBrokerProcess.Builder node = KafkaBrokerProcess.builder()
                    .nodeId(id)
                    .port(ports.get(2 * (id - 1)))
                    .controllerPort(ports.get(2 * (id - 1) + 1))
                    .dataDir(root.resolve("node-" + id))
                    .clusterId(clusterId)
                    .controllers(controllers)
                    .jvmArgs(b.jvmArgs.toArray(String[]::new));
            settings.forEach(node::property);
            built.put(id, node.build());
        }
        this.nodes = Collections.unmodifiableMap(built);
    }

    /** Starts configuring a cluster: 3 nodes, temporary data directories. */
    public static Builder builder() {
        return new Builder();
    }

    /** The settings a cluster of {@code size} nodes adds to {@link KafkaBroker#defaults()}. */
    public static Map<String, String> defaults(int size) {
        String rf = Integer.toString(Math.min(size, 3));
        String isr = Integer.toString(Math.max(1, Math.min(size - 1, 2)));
        Map<String, String> p = new LinkedHashMap<>();
        p.put("default.replication.factor", rf);
        p.put("min.insync.replicas", isr);
        p.put("offsets.topic.replication.factor", rf);
        p.put("transaction.state.log.replication.factor", rf);
        p.put("transaction.state.log.min.isr", isr);
        p.put("share.coordinator.state.topic.replication.factor", rf);
        p.put("share.coordinator.state.topic.min.isr", isr);
        p.put("unclean.leader.election.enable", "false");
        p.put("broker.session.timeout.ms", "6000");
        p.put("replica.lag.time.max.ms", "10000");
        return p;
    }

    /**
     * Starts every node at once (a static quorum needs a majority before any node is ready) and
     * waits until all print READY.
     *
     * @return this
     * @throws IllegalStateException if a node does not start; all nodes are then killed
     */
    public KafkaCluster start() {
        try {
            nodes.values().forEach(KafkaBrokerProcess::launch);
            nodes.values().forEach(KafkaBrokerProcess::awaitReady);
        } catch (RuntimeException e) {
            nodes.values().forEach(KafkaBrokerProcess::kill);
            throw e;
        }
        return this;
    }

    /** Every node's address, comma-separated, whether it is running or not. */
    public String bootstrapServers() {
        return nodes.values().stream().map(KafkaBrokerProcess::bootstrapServers).collect(Collectors.joining(","));
    }

    /** The node with this id (1 to N). */
    public KafkaBrokerProcess node(int nodeId) {
        KafkaBrokerProcess node = nodes.get(nodeId);
        if (node == null) {
            throw new IllegalArgumentException("no node " + nodeId + "; ids are 1 to " + nodes.size());
        }
        return node;
    }

    /** All nodes, by id. */
    public Map<Integer, KafkaBrokerProcess> nodes() {
        return nodes;
    }

    /** The cluster id every node was formatted with. */
    public String clusterId() {
        return clusterId;
    }

    /**
     * Creates a topic with the cluster's default replication factor and waits (at most 30 s)
     * until every partition has a leader. A topic that already exists is accepted.
     */
    public void createTopic(String name, int partitions) {
        try {
            admin().createTopics(List.of(new NewTopic(name, java.util.Optional.of(partitions), java.util.Optional.empty())))
                    .all().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("cannot create topic " + name + ": " + KafkaBroker.rootMessage(e), e);
            }
        } catch (InterruptedException | TimeoutException e) {
            throw failure("creating topic " + name, e);
        }
        long deadline = System.nanoTime() + ADMIN_TIMEOUT.toNanos();
        while (true) {
            try {
                TopicDescription d = describe(name);
                if (d.partitions().size() == partitions && d.partitions().stream().allMatch(p -> p.leader() != null)) {
                    return;
                }
            } catch (IllegalStateException e) {
                // metadata may not have reached the node asked yet
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("topic " + name + " has no leader for every partition after " + ADMIN_TIMEOUT.toSeconds() + " s");
            }
            sleep(100);
        }
    }

    /**
     * The id of the node leading a partition, as the cluster's metadata says now.
     *
     * @throws IllegalStateException if the partition has no leader at the moment
     */
    public int leaderOf(String topic, int partition) {
        TopicPartitionInfo info = describe(topic).partitions().stream().filter(p -> p.partition() == partition).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(topic + " has no partition " + partition));
        Node leader = info.leader();
        if (leader == null || leader.id() < 0) {
            throw new IllegalStateException(topic + "-" + partition + " has no leader at the moment");
        }
        return leader.id();
    }

    /** The ids of a partition's in-sync replicas, as the cluster's metadata says now. */
    public List<Integer> inSyncReplicasOf(String topic, int partition) {
        return describe(topic).partitions().stream().filter(p -> p.partition() == partition).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(topic + " has no partition " + partition))
                .isr().stream().map(Node::id).sorted().collect(Collectors.toList());
    }

    /** The id of the active controller, the leader of the KRaft metadata quorum. */
    public int activeController() {
        try {
            return admin().describeMetadataQuorum().quorumInfo().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).leaderId();
        } catch (ExecutionException | InterruptedException | TimeoutException e) {
            throw failure("describing the metadata quorum", e);
        }
    }

    /** The ids of the brokers the cluster currently counts as alive (registered and not fenced). */
    public List<Integer> liveBrokers() {
        try {
            return admin().describeCluster().nodes().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).stream()
                    .map(Node::id).sorted().collect(Collectors.toList());
        } catch (ExecutionException | InterruptedException | TimeoutException e) {
            throw failure("describing the cluster", e);
        }
    }

    /**
     * An Admin client on all nodes, created on first use and closed with the cluster; it survives
     * nodes dying and coming back.
     */
    public synchronized Admin admin() {
        if (admin == null) {
            Properties p = new Properties();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
            p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
            p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "20000");
            admin = Admin.create(p);
        }
        return admin;
    }

    /** Closes the Admin client, kills every node and deletes temporary data directories. */
    @Override
    public void close() {
        synchronized (this) {
            if (admin != null) {
                admin.close(Duration.ofSeconds(5));
                admin = null;
            }
        }
        List<RuntimeException> failures = new ArrayList<>();
        for (KafkaBrokerProcess node : nodes.values()) {
            try {
                node.close();
            } catch (RuntimeException e) {
                failures.add(e);
            }
        }
        if (ownsRoot) {
            KafkaBroker.deleteRecursively(root);
        }
        if (!failures.isEmpty()) {
            throw failures.get(0);
        }
    }

    private TopicDescription describe(String topic) {
        try {
            return admin().describeTopics(List.of(topic)).allTopicNames().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).get(topic);
        } catch (ExecutionException | InterruptedException | TimeoutException e) {
            throw failure("describing topic " + topic, e);
        }
    }

    private static IllegalStateException failure(String what, Exception e) {
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
        }
        return new IllegalStateException(what + " failed: " + KafkaBroker.rootMessage(e), e);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Configures a {@link KafkaCluster}. */
    public static final class Builder {
        private int size = 3;
        private Path dataDir;
        private String clusterId;
        private final Map<String, String> properties = new LinkedHashMap<>();
        private final List<String> jvmArgs = new ArrayList<>();

        private Builder() {}

        /** The number of nodes, 1 or more; default 3. All are controllers, so an odd number tolerates most failures. */
        public Builder nodes(int count) {
            if (count < 1) {
                throw new IllegalArgumentException("a cluster has at least one node: " + count);
            }
            this.size = count;
            return this;
        }

        /** The directory under which each node gets {@code node-<id>}; default a temporary one, deleted on close. */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            return this;
        }

        /** The cluster id; default random. */
        public Builder clusterId(String id) {
            this.clusterId = id;
            return this;
        }

        /** Any broker setting for every node; overrides the cluster's and Tally's defaults. */
        public Builder property(String name, String value) {
            properties.put(name, value);
            return this;
        }

        /** Options for every node's JVM. */
        public Builder jvmArgs(String... options) {
            jvmArgs.addAll(List.of(options));
            return this;
        }

        /** Creates the cluster, not started; ports are chosen now and kept across node restarts. */
        public KafkaCluster build() {
            return new KafkaCluster(this);
        }
    }
}
