package dev.tally.broker;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
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
 * A real Apache Kafka node in KRaft mode, broker and controller in one, running inside this JVM
 * from the official Kafka jars: no mock, no container.
 *
 * <pre>{@code
 * try (KafkaBroker broker = KafkaBroker.builder().build().start()) {
 *     String bootstrap = broker.bootstrapServers();   // "127.0.0.1:<a free port>"
 *     ...
 * }
 * }</pre>
 *
 * <h2>Data and restarts</h2>
 * Kafka's {@code log.dirs} is the {@code logs} subdirectory of the data directory (Kafka takes
 * any other directory in it for a broken partition and halts). It is formatted the first time,
 * as {@code kafka-storage.sh format} would, and used as it is once it holds a
 * {@code meta.properties}. So a node that was {@link #stop() stopped}, or whose process died,
 * and is built again on the same {@link Builder#dataDir data directory} and
 * {@link Builder#port port} keeps its topics, records and committed group offsets. Without a
 * data directory the node uses a temporary one that {@link #close()} deletes.
 *
 * <h2>Quorum</h2>
 * The controller quorum is static ({@code controller.quorum.voters}): a lone node is its own
 * quorum, and the nodes of a cluster share one cluster id and the same
 * {@link Builder#controllers controller set} ({@link KafkaCluster} does that with child
 * processes). A static quorum needs no directory ids, and lets a lone node come back on another
 * controller port.
 *
 * <h2>Defaults</h2>
 * Settings for one machine and for tests, each overridable with {@link Builder#property}:
 * <ul>
 *   <li>replication factor and minimum in-sync replicas 1 for the internal topics (group offsets,
 *       transactions, share-group state), with 4 partitions each rather than 50, so that the first
 *       group or transaction does not wait for 50 partitions to be created;</li>
 *   <li>{@code auto.create.topics.enable=true}, {@code num.partitions=1};</li>
 *   <li>{@code group.initial.rebalance.delay.ms=0}: the first member of a group gets its
 *       partitions at once instead of after 3 s;</li>
 *   <li>short group session timeouts, so that a test which kills a consumer sees its partitions
 *       move in seconds: classic protocol minimum 1 s ({@code group.min.session.timeout.ms});
 *       consumer protocol (KIP-848) session 10 s, heartbeat 1 s, and minimums of 1 s and 0.5 s
 *       ({@code group.consumer.*}) so that a group may lower them further;</li>
 *   <li>a broker session of 4 s instead of 9 s (heartbeats every second): a node restarted
 *       after {@code kill -9} cannot register again until the session of its previous
 *       incarnation has run out, so this is most of the time such a restart takes;</li>
 *   <li>fewer threads (2 network, 4 I/O) and a 4 MiB log-cleaner buffer instead of 128 MiB, so
 *       that a broker fits in a 256 MiB heap on a two-core machine.</li>
 * </ul>
 * {@link #defaults()} lists them.
 *
 * <h2>Logging and faults</h2>
 * Kafka logs through SLF4J. On slf4j-simple its loggers ({@code kafka}, {@code org.apache.kafka},
 * which includes Kafka's clients, and {@code state.change.logger}) are set to WARN unless the
 * application set their levels itself. A fatal fault inside Kafka (a corrupt metadata log, a
 * failing disk) halts the JVM, as it does in a standalone broker; Kafka's exit procedure is left
 * alone.
 */
public final class KafkaBroker implements AutoCloseable {

    static {
        KafkaLogLevels.quiet();
    }

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);

    private final int port;
    private final int controllerPort;
    private final int nodeId;
    private final Path dataDir;
    private final boolean ownsDataDir;
    private final String clusterId;
    private final String controllers;
    private final Map<String, String> overrides;
    private final String scramUser;
    private final String scramPassword;
    private final int saslPort;
    private KafkaRaftServer server;

    private KafkaBroker(Builder b) {
        // Asked for together: a port asked for alone is closed again and may be handed out twice
        // (both listeners on one port, and the node cannot start); none may be a port given.
        List<Integer> free = new ArrayList<>(freePorts(5));
        free.removeAll(List.of(b.port, b.controllerPort));
        this.port = b.port == 0 ? free.get(0) : b.port;
        this.controllerPort = b.controllerPort == 0 ? free.get(1) : b.controllerPort;
        this.nodeId = b.nodeId;
        this.ownsDataDir = b.dataDir == null;
        this.dataDir = ownsDataDir ? tempDir("tally-kafka-") : b.dataDir.toAbsolutePath();
        this.clusterId = b.clusterId;
        this.controllers = b.controllers != null ? b.controllers : nodeId + "@127.0.0.1:" + controllerPort;
        this.overrides = Map.copyOf(b.properties);
        this.scramUser = b.scramUser;
        this.scramPassword = b.scramPassword;
        this.saslPort = b.scramUser == null ? -1 : free.get(2);
    }

    /** Starts configuring a node: free ports, node id 1, a temporary data directory. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Tally's broker settings for a lone node, before {@link Builder#property} overrides; the
     * listeners, node id, quorum and log directory are added per node.
     */
    public static Map<String, String> defaults() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("num.partitions", "1");
        p.put("auto.create.topics.enable", "true");
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "4");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "4");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("share.coordinator.state.topic.num.partitions", "4");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("group.min.session.timeout.ms", "1000");
        p.put("group.consumer.min.session.timeout.ms", "1000");
        p.put("group.consumer.session.timeout.ms", "10000");
        p.put("group.consumer.min.heartbeat.interval.ms", "500");
        p.put("group.consumer.heartbeat.interval.ms", "1000");
        p.put("broker.heartbeat.interval.ms", "1000");
        p.put("broker.session.timeout.ms", "4000");
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "4");
        p.put("log.cleaner.dedupe.buffer.size", Integer.toString(4 * 1024 * 1024));
        return p;
    }

    /**
     * Formats the data directory if it is new, starts the node and waits until it answers
     * clients (at most 90 s).
     *
     * @return this broker
     * @throws IllegalStateException if it does not start, with the reason in one line (a port in
     *     use, a data directory of another cluster, a bad setting, …)
     */
    public synchronized KafkaBroker start() {
        if (server != null) {
            throw new IllegalStateException("broker already started");
        }
        // Kafka reports a port in use only after it has started half its threads; say it plainly first.
        requireFree(port, "port");
        requireFree(controllerPort, "controller port");
        Properties props = serverProperties();
        try {
            Files.createDirectories(logDir());
            if (!isFormatted()) {
                format(props);
            }
            KafkaRaftServer s = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
            server = s;
            s.startup();
        } catch (IOException e) {
            throw new IllegalStateException("Kafka broker did not start: " + e, e);
        } catch (RuntimeException e) {
            stop();
            throw new IllegalStateException("Kafka broker did not start: " + rootMessage(e), e);
        }
        awaitReady();
        return this;
    }

    /** The address clients connect to: {@code 127.0.0.1:<port>}. */
    /**
     * The {@code SASL_PLAINTEXT} listener's address (SCRAM-SHA-256), for a broker built with
     * {@link Builder#scramUser}.
     *
     * @throws IllegalStateException when the broker has no such listener
     */
    public String saslBootstrapServers() {
        if (scramUser == null) {
            throw new IllegalStateException("this broker has no SASL listener; build it with scramUser(...)");
        }
        return "127.0.0.1:" + saslPort;
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** The client port on 127.0.0.1. */
    public int port() {
        return port;
    }

    /** The controller port on 127.0.0.1. */
    public int controllerPort() {
        return controllerPort;
    }

    /** The node id. */
    public int nodeId() {
        return nodeId;
    }

    /** The data directory (Kafka's {@code log.dirs} is its {@code logs} subdirectory); it survives {@link #stop()}. */
    public Path dataDir() {
        return dataDir;
    }

    /** Whether the node has been started and not stopped since. */
    public synchronized boolean isRunning() {
        return server != null;
    }

    /**
     * The cluster id written in the data directory, or the one it will be formatted with; null if
     * neither is known yet (a random one is chosen when formatting).
     */
    public String clusterId() {
        Path meta = logDir().resolve("meta.properties");
        if (Files.exists(meta)) {
            Properties p = new Properties();
            try (InputStream in = Files.newInputStream(meta)) {
                p.load(in);
                return p.getProperty("cluster.id");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return clusterId;
    }

    /**
     * Shuts the node down cleanly and waits for it; its data stays, and a new broker on the same
     * directory and port continues where it left off. Does nothing if it is not running.
     */
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

    @Override
    public String toString() {
        return "KafkaBroker[node " + nodeId + " on " + bootstrapServers() + ", " + dataDir + "]";
    }

    boolean isFormatted() {
        return Files.exists(logDir().resolve("meta.properties"));
    }

    /** Kafka's {@code log.dirs}: a directory of its own, since Kafka rejects any other directory in it. */
    Path logDir() {
        return dataDir.resolve("logs");
    }

    /** All settings the node runs with: per-node ones, then {@link #defaults()}, then overrides. */
    Properties serverProperties() {
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
        if (scramUser != null) {
            p.put("listeners", p.get("listeners") + ",SASL_PLAINTEXT://127.0.0.1:" + saslPort);
            p.put("advertised.listeners", p.get("advertised.listeners") + ",SASL_PLAINTEXT://127.0.0.1:" + saslPort);
            p.put("listener.security.protocol.map", p.get("listener.security.protocol.map") + ",SASL_PLAINTEXT:SASL_PLAINTEXT");
            p.put("sasl.enabled.mechanisms", "SCRAM-SHA-256");
            p.put("listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config",
                    "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        }
        p.putAll(defaults());
        p.putAll(overrides);
        Properties props = new Properties();
        props.putAll(p);
        return props;
    }

    /**
     * Formats through the storage tool's own entry point, minus its {@code System.exit}, so that
     * what is written (meta.properties, the bootstrap checkpoint, feature levels) follows the
     * Kafka version exactly as {@code kafka-storage.sh format} would.
     */
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
                List<String> args = new ArrayList<>(List.of("format", "-t", id, "-c", config.toString()));
                if (scramUser != null) {
                    // KRaft keeps SCRAM credentials in its metadata log: they are written when it is formatted.
                    args.add("--add-scram");
                    args.add("SCRAM-SHA-256=[name=" + scramUser + ",password=" + scramPassword + "]");
                }
                rc = StorageTool.execute(args.toArray(String[]::new), ps);
            } catch (RuntimeException e) {
                throw new IllegalStateException("formatting " + logDir() + " failed: " + rootMessage(e), e);
            }
            if (rc != 0) {
                throw new IllegalStateException("formatting " + logDir() + " failed: "
                        + output.toString(StandardCharsets.UTF_8).trim().lines().findFirst().orElse("exit code " + rc));
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
                    // Only unfenced brokers are listed: this one is listed once it takes requests.
                    boolean listed = admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).stream()
                            .anyMatch(n -> n.id() == nodeId);
                    if (listed) {
                        return;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    last = e;
                    break;
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

    private static void requireFree(int port, String what) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        } catch (IOException e) {
            throw new IllegalStateException(what + " " + port + " on 127.0.0.1 is in use (" + e.getMessage() + ")");
        }
    }

    /** Distinct ports free at the time of asking: all are held open together so none repeats. */
    static List<Integer> freePorts(int count) {
        List<ServerSocket> held = new ArrayList<>();
        try {
            List<Integer> ports = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                ServerSocket s = new ServerSocket(0, 0, InetAddress.getLoopbackAddress());
                held.add(s);
                ports.add(s.getLocalPort());
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            for (ServerSocket s : held) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // it was only borrowed
                }
            }
        }
    }

    static Path tempDir(String prefix) {
        try {
            return Files.createTempDirectory(prefix);
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
        } catch (IOException | UncheckedIOException ignored) {
            // best effort
        }
    }

    /** Configures a {@link KafkaBroker}; every setting has a default. */
    public static final class Builder {
        private int port;
        private int controllerPort;
        private int nodeId = 1;
        private Path dataDir;
        private String clusterId;
        private String controllers;
        private final Map<String, String> properties = new LinkedHashMap<>();
        private String scramUser;
        private String scramPassword;

        private Builder() {}

        /** The client port on 127.0.0.1; 0 (the default) picks a free one. */
        public Builder port(int port) {
            this.port = requirePort(port);
            return this;
        }

        /** The controller port on 127.0.0.1; 0 (the default) picks a free one. */
        public Builder controllerPort(int port) {
            this.controllerPort = requirePort(port);
            return this;
        }

        /** The node id, 0 or more; default 1. */
        public Builder nodeId(int id) {
            if (id < 0) {
                throw new IllegalArgumentException("node id must be 0 or more: " + id);
            }
            this.nodeId = id;
            return this;
        }

        /**
         * The data directory, created if missing and formatted if new; default a temporary one,
         * deleted on {@link KafkaBroker#close()}.
         */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            return this;
        }

        /**
         * The cluster id used when formatting a new data directory (a Kafka UUID such as
         * {@code Uuid.randomUuid().toString()}); default random. Ignored for a formatted one.
         */
        public Builder clusterId(String id) {
            this.clusterId = id;
            return this;
        }

        /**
         * The controller set of a multi-node cluster, {@code id@host:port,…} (Kafka's static
         * {@code controller.quorum.voters}), the same on every node; default this node alone.
         */
        public Builder controllers(String voters) {
            if (voters != null && !voters.matches("\\d+@[^,@:]+:\\d+(,\\d+@[^,@:]+:\\d+)*")) {
                throw new IllegalArgumentException("controllers must look like 1@127.0.0.1:19093,2@127.0.0.1:19095: " + voters);
            }
            this.controllers = voters;
            return this;
        }

        /**
         * Adds a {@code SASL_PLAINTEXT} listener on a free port ({@link KafkaBroker#saslBootstrapServers()})
         * where this user, and only this user, logs in with SCRAM-SHA-256; for tests of clients'
         * security settings. The plaintext listener stays, for the broker's own use.
         */
        public Builder scramUser(String name, String password) {
            if (name == null || !name.matches("[A-Za-z0-9_-]+") || password == null || password.matches(".*[\\],\\[].*")) {
                throw new IllegalArgumentException("a SCRAM user needs a plain name and a password without ',', '[' or ']'");
            }
            this.scramUser = name;
            this.scramPassword = password;
            return this;
        }

        /** Any broker setting; overrides Tally's {@link KafkaBroker#defaults() defaults}. */
        public Builder property(String name, String value) {
            properties.put(name, value);
            return this;
        }

        /**
         * Creates the broker, not started yet; free ports and a temporary data directory, if
         * any, are chosen now, so {@link KafkaBroker#close()} it even if it never starts.
         */
        public KafkaBroker build() {
            return new KafkaBroker(this);
        }

        private static int requirePort(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0 to 65535: " + port);
            }
            return port;
        }
    }
}
