package dev.tally.broker;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

/**
 * A real Apache Kafka node in KRaft mode (combined broker and controller), running inside this
 * JVM from the official Kafka jars.
 *
 * <p>The data directory is formatted on first start and reused afterwards, so a broker stopped
 * and started again on the same directory and port keeps its topics, records and committed
 * group offsets. Several nodes form one cluster when they share a cluster id and the same
 * {@link Builder#controllers controller set}; {@link KafkaCluster} does that with child processes.
 *
 * <p>Defaults suit one machine: replication factor 1 for Kafka's internal topics, no initial
 * rebalance delay, and short group session timeouts (classic protocol from 1 s, consumer
 * protocol 10 s) so that a dead consumer's partitions move quickly. Every broker setting can be
 * overridden with {@link Builder#property}.
 *
 * <pre>{@code
 * try (KafkaBroker broker = KafkaBroker.builder().port(9092).dataDir(Path.of("tally-data/kafka")).build().start()) {
 *     String bootstrap = broker.bootstrapServers();  // "127.0.0.1:9092"
 * }
 * }</pre>
 */
public final class KafkaBroker implements AutoCloseable {

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);

    private final int port;
    private final int controllerPort;
    private final int nodeId;
    private final Path dataDir;
    private final boolean ownsDataDir;
    private final String clusterId;
    private final String controllers;
    private final Map<String, String> overrides;
    private KafkaRaftServer server;

    private KafkaBroker(Builder b) {
        this.port = b.port == 0 ? freePort() : b.port;
        this.controllerPort = b.controllerPort == 0 ? freePort() : b.controllerPort;
        this.nodeId = b.nodeId;
        this.ownsDataDir = b.dataDir == null;
        this.dataDir = ownsDataDir ? tempDir() : b.dataDir.toAbsolutePath();
        this.clusterId = b.clusterId;
        this.controllers = b.controllers != null ? b.controllers : nodeId + "@127.0.0.1:" + controllerPort;
        this.overrides = Map.copyOf(b.properties);
    }

    /** Starts configuring a node. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Formats the data directory if it is new, starts the node and waits until it answers
     * clients (at most 90 s).
     *
     * @return this broker
     * @throws IllegalStateException if it does not start, with the reason (a port in use, a data
     *     directory of another cluster, …)
     */
    public synchronized KafkaBroker start() {
        if (server != null) {
            throw new IllegalStateException("broker already started");
        }
        Properties props = properties();
        try {
            Files.createDirectories(logDir());
            if (!Files.exists(logDir().resolve("meta.properties"))) {
                format(props);
            }
            KafkaRaftServer s = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
            server = s;
            s.startup();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            stop();
            throw new IllegalStateException("Kafka broker did not start: " + rootMessage(e), e);
        }
        awaitReady();
        return this;
    }

    /** The address clients connect to: {@code 127.0.0.1:<port>}. */
    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** The client port. */
    public int port() {
        return port;
    }

    /** The controller port. */
    public int controllerPort() {
        return controllerPort;
    }

    /** The node id. */
    public int nodeId() {
        return nodeId;
    }

    /** The data directory; it survives {@link #stop()}. */
    public Path dataDir() {
        return dataDir;
    }

    /** Shuts the node down cleanly; its data stays, and a new broker on the same directory and port continues it. */
    public synchronized void stop() {
        KafkaRaftServer s = server;
        server = null;
        if (s != null) {
            s.shutdown();
            s.awaitShutdown();
        }
    }

    /** Stops the node and, if the data directory was a temporary one, deletes it. */
    @Override
    public void close() {
        stop();
        if (ownsDataDir) {
            deleteRecursively(dataDir);
        }
    }

    private Path logDir() {
        return dataDir.resolve("logs");
    }

    private Properties properties() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("process.roles", "broker,controller");
        p.put("node.id", Integer.toString(nodeId));
        p.put("controller.quorum.voters", controllers);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", logDir().toString());
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "8");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "4");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("group.min.session.timeout.ms", "1000");
        p.put("group.consumer.min.session.timeout.ms", "6000");
        p.put("group.consumer.session.timeout.ms", "10000");
        p.put("group.consumer.min.heartbeat.interval.ms", "500");
        p.put("group.consumer.heartbeat.interval.ms", "1000");
        p.put("auto.create.topics.enable", "true");
        p.put("num.partitions", "1");
        // Small enough for a laptop; the broker is rarely the bottleneck on one machine.
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "4");
        p.put("log.cleaner.dedupe.buffer.size", Integer.toString(4 * 1024 * 1024));
        p.putAll(overrides);
        Properties props = new Properties();
        props.putAll(p);
        return props;
    }

    private void format(Properties props) throws IOException {
        Path config = Files.createTempFile("tally-broker-", ".properties");
        try {
            try (OutputStream out = Files.newOutputStream(config)) {
                props.store(out, null);
            }
            String id = clusterId != null ? clusterId : Uuid.randomUuid().toString();
            ByteArrayOutputStream output = new ByteArrayOutputStream();
            int rc;
            try (PrintStream ps = new PrintStream(output, true, StandardCharsets.UTF_8)) {
                rc = StorageTool.execute(new String[] {"format", "-t", id, "-c", config.toString(), "--ignore-formatted"}, ps);
            }
            if (rc != 0) {
                throw new IllegalStateException("formatting " + logDir() + " failed: " + output.toString(StandardCharsets.UTF_8).trim());
            }
        } finally {
            Files.deleteIfExists(config);
        }
    }

    private void awaitReady() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        Exception last = null;
        try (Admin admin = Admin.create(p)) {
            while (System.nanoTime() < deadline) {
                try {
                    if (!admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (Exception e) {
                    last = e;
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        stop();
        throw new IllegalStateException("Kafka broker on " + bootstrapServers() + " did not become ready in "
                + READY_TIMEOUT.toSeconds() + " s" + (last == null ? "" : ": " + rootMessage(last)));
    }

    static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }

    /** A port free at the time of asking, on the loopback interface. */
    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("tally-kafka-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException ignored) {
                    // best effort: a temporary directory
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }

    /** Configures a {@link KafkaBroker}. */
    public static final class Builder {
        private int port;
        private int controllerPort;
        private int nodeId = 1;
        private Path dataDir;
        private String clusterId;
        private String controllers;
        private final Map<String, String> properties = new LinkedHashMap<>();

        private Builder() {}

        /** The client port on 127.0.0.1; 0 (the default) picks a free one. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** The controller port on 127.0.0.1; 0 (the default) picks a free one. */
        public Builder controllerPort(int port) {
            this.controllerPort = port;
            return this;
        }

        /** The node id; default 1. */
        public Builder nodeId(int id) {
            this.nodeId = id;
            return this;
        }

        /** The data directory; default a temporary one, deleted on {@link #close()}. */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            return this;
        }

        /** The cluster id used when formatting a new data directory; default random. */
        public Builder clusterId(String id) {
            this.clusterId = id;
            return this;
        }

        /**
         * The controller set of a multi-node cluster, {@code id@host:port,…} (the static
         * {@code controller.quorum.voters}); default this node alone.
         */
        public Builder controllers(String voters) {
            this.controllers = voters;
            return this;
        }

        /** Any broker setting; overrides Tally's defaults. */
        public Builder property(String name, String value) {
            properties.put(name, value);
            return this;
        }

        /** Creates the broker (not started). */
        public KafkaBroker build() {
            return new KafkaBroker(this);
        }
    }
}
