package dev.tally.broker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Uuid;

/**
 * A Kafka cluster of several nodes, each a child process and each both broker and controller,
 * on free loopback ports: replication factor 3 and {@code min.insync.replicas=2} by default, as
 * production runs it. Nodes can be killed, frozen and restarted one by one.
 */
public final class KafkaCluster implements AutoCloseable {

    private final List<KafkaBrokerProcess> nodes = new ArrayList<>();
    private final Path root;
    private final boolean ownsRoot;
    private Admin admin;

    private KafkaCluster(int size, Path root, Map<String, String> overrides) {
        this.ownsRoot = root == null;
        try {
            this.root = ownsRoot ? Files.createTempDirectory("tally-cluster-") : root;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String clusterId = Uuid.randomUuid().toString();
        int[] ports = new int[size];
        int[] controllerPorts = new int[size];
        for (int i = 0; i < size; i++) {
            ports[i] = KafkaBroker.freePort();
            controllerPorts[i] = KafkaBroker.freePort();
        }
        StringBuilder voters = new StringBuilder();
        for (int i = 0; i < size; i++) {
            voters.append(i == 0 ? "" : ",").append(i + 1).append("@127.0.0.1:").append(controllerPorts[i]);
        }
        int replication = Math.min(3, size);
        Map<String, String> props = new LinkedHashMap<>();
        props.put("default.replication.factor", Integer.toString(replication));
        props.put("min.insync.replicas", Integer.toString(Math.max(1, replication - 1)));
        props.put("offsets.topic.replication.factor", Integer.toString(replication));
        props.put("transaction.state.log.replication.factor", Integer.toString(replication));
        props.put("transaction.state.log.min.isr", Integer.toString(Math.max(1, replication - 1)));
        props.put("share.coordinator.state.topic.replication.factor", Integer.toString(replication));
        props.put("share.coordinator.state.topic.min.isr", Integer.toString(Math.max(1, replication - 1)));
        props.putAll(overrides);
        for (int i = 0; i < size; i++) {
            nodes.add(new KafkaBrokerProcess(i + 1, ports[i], controllerPorts[i], this.root.resolve("node-" + (i + 1)),
                    clusterId, voters.toString(), props));
        }
    }

    /**
     * A cluster of {@code size} nodes (not started).
     *
     * @param root where the nodes' data directories go, or {@code null} for a temporary directory deleted on close
     * @param properties broker settings for every node
     */
    public static KafkaCluster of(int size, Path root, Map<String, String> properties) {
        return new KafkaCluster(size, root, properties);
    }

    /** Starts every node (in parallel: the controllers need a quorum to answer). */
    public KafkaCluster start() {
        List<Thread> starters = new ArrayList<>();
        List<RuntimeException> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (KafkaBrokerProcess node : nodes) {
            Thread t = new Thread(() -> {
                try {
                    node.start();
                } catch (RuntimeException e) {
                    failures.add(e);
                }
            }, "start-kafka-" + node.nodeId());
            t.start();
            starters.add(t);
        }
        for (Thread t : starters) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting the cluster", e);
            }
        }
        if (!failures.isEmpty()) {
            close();
            throw failures.get(0);
        }
        return this;
    }

    /** Every node's client address. */
    public String bootstrapServers() {
        return nodes.stream().map(KafkaBrokerProcess::bootstrapServers).collect(Collectors.joining(","));
    }

    /** The node with id {@code id} (1-based). */
    public KafkaBrokerProcess node(int id) {
        return nodes.get(id - 1);
    }

    public List<KafkaBrokerProcess> nodes() {
        return List.copyOf(nodes);
    }

    /** An admin client for the cluster, created on first use and closed with the cluster. */
    public synchronized Admin admin() {
        if (admin == null) {
            Properties p = new Properties();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
            admin = Admin.create(p);
        }
        return admin;
    }

    /** Creates a topic with the cluster's replication and waits for it. */
    public void createTopic(String name, int partitions) throws Exception {
        admin().createTopics(List.of(new NewTopic(name, partitions, (short) Math.min(3, nodes.size())))).all().get(60, TimeUnit.SECONDS);
    }

    /** The node id leading a partition, or -1 if it has no leader. */
    public int leaderOf(String topic, int partition) throws Exception {
        TopicDescription d = admin().describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
        var leader = d.partitions().get(partition).leader();
        return leader == null ? -1 : leader.id();
    }

    /** The node id of the active controller. */
    public int activeController() throws Exception {
        return admin().describeMetadataQuorum().quorumInfo().get(30, TimeUnit.SECONDS).leaderId();
    }

    @Override
    public void close() {
        if (admin != null) {
            admin.close(java.time.Duration.ofSeconds(5));
            admin = null;
        }
        nodes.forEach(KafkaBrokerProcess::close);
        if (ownsRoot) {
            KafkaBroker.deleteRecursively(root);
        }
    }
}
