package dev.tally.broker;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One Kafka node (broker and controller) in a child JVM, running {@link BrokerMain}: a broker a
 * test can {@code kill -9}, stop cleanly, freeze and restart.
 *
 * <pre>{@code
 * try (KafkaBrokerProcess broker = KafkaBrokerProcess.builder().build()) {
 *     broker.start();                      // waits for READY
 *     ... produce with acks=all ...
 *     broker.kill();                       // SIGKILL
 *     broker.restart();                    // same port, same data directory: acknowledged records are there
 * }
 * }</pre>
 *
 * <p>Ports are chosen when the builder {@link Builder#build() builds}, so every restart comes
 * back on the same client and controller ports with the same data directory. The data directory
 * defaults to a temporary one that {@link #close()} deletes. Settings and defaults are those of
 * {@link KafkaBroker}. The child runs with {@code -Xmx256m}, the serial collector and
 * {@code -XX:+ExitOnOutOfMemoryError} unless {@link Builder#jvmArgs} says otherwise; its Kafka
 * log (WARN and above) is kept as the {@link ChildJvm}'s standard error.
 *
 * <p>The methods are synchronized; none waits without a bound.
 */
public final class KafkaBrokerProcess implements AutoCloseable {

    private static final Pattern READY = Pattern.compile("^READY ");

    private final int nodeId;
    private final int port;
    private final int controllerPort;
    private final Path dataDir;
    private final boolean ownsDataDir;
    private final String clusterId;
    private final String controllers;
    private final Map<String, String> properties;
    private final List<String> jvmArgs;
    private final Duration startTimeout;
    private final Duration stopTimeout;
    private ChildJvm jvm;

    private KafkaBrokerProcess(Builder b) {
        this.nodeId = b.nodeId;
        List<Integer> free = KafkaBroker.freePorts(2);
        this.port = b.port != 0 ? b.port : free.get(0);
        this.controllerPort = b.controllerPort != 0 ? b.controllerPort : free.get(1);
        this.ownsDataDir = b.dataDir == null;
        this.dataDir = ownsDataDir ? KafkaBroker.tempDir("tally-kafka-" + nodeId + "-") : b.dataDir.toAbsolutePath();
        this.clusterId = b.clusterId;
        this.controllers = b.controllers;
        this.properties = Map.copyOf(b.properties);
        this.jvmArgs = List.copyOf(b.jvmArgs);
        this.startTimeout = b.startTimeout;
        this.stopTimeout = b.stopTimeout;
    }

    /** Starts configuring a node: free ports, node id 1, a temporary data directory. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts the child JVM and waits for its {@code READY} line.
     *
     * @return this
     * @throws IllegalStateException if it is already running, or does not become ready within the
     *     start timeout (the child is then killed; the message has its standard error)
     */
    public synchronized KafkaBrokerProcess start() {
        launch();
        awaitReady();
        return this;
    }

    /** Kills the node with SIGKILL, as a crash or an OOM killer would, and waits until it is gone. */
    public synchronized void kill() {
        if (jvm != null) {
            jvm.kill();
        }
    }

    /**
     * Stops the node cleanly with SIGTERM and waits for it; killed with SIGKILL if it takes
     * longer than the stop timeout (a node whose quorum is gone may wait for it).
     *
     * @return the exit code, 143 after a clean stop, 137 if it had to be killed; -1 if it was not
     *     running
     */
    public synchronized int stop() {
        if (jvm == null || !jvm.isAlive()) {
            return -1;
        }
        return jvm.terminate(stopTimeout);
    }

    /** Stops the node if it runs ({@link #stop()}), then starts it again on the same ports and data directory. */
    public synchronized KafkaBrokerProcess restart() {
        stop();
        return start();
    }

    /** Freezes the node with SIGSTOP: its connections stay open, nothing answers. */
    public synchronized void suspend() {
        running().suspend();
    }

    /** Continues a {@link #suspend() suspended} node with SIGCONT. */
    public synchronized void resume() {
        running().resume();
    }

    /** Whether the node is {@link #suspend() suspended} and not resumed since. */
    public synchronized boolean isSuspended() {
        return jvm != null && jvm.isSuspended();
    }

    /** Whether the child JVM is running (a suspended one is). */
    public synchronized boolean isAlive() {
        return jvm != null && jvm.isAlive();
    }

    /** The address clients connect to: {@code 127.0.0.1:<port>}; the same across restarts. */
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

    /** The data directory. */
    public Path dataDir() {
        return dataDir;
    }

    /** The current child's process id. */
    public synchronized long pid() {
        return running().pid();
    }

    /** The current (or last) child JVM, for its output and standard error; null before the first start. */
    public synchronized ChildJvm jvm() {
        return jvm;
    }

    /** Kills the node if it runs and deletes its data directory if that was a temporary one. */
    @Override
    public synchronized void close() {
        if (jvm != null) {
            jvm.close();
        }
        if (ownsDataDir) {
            KafkaBroker.deleteRecursively(dataDir);
        }
    }

    @Override
    public String toString() {
        return "Kafka node " + nodeId + " on " + bootstrapServers();
    }

    /** Starts the child without waiting, so that the nodes of a cluster can start together. */
    synchronized void launch() {
        if (jvm != null && jvm.isAlive()) {
            throw new IllegalStateException(this + " is already running");
        }
        List<String> args = new ArrayList<>(List.of(
                "--port", Integer.toString(port),
                "--controller-port", Integer.toString(controllerPort),
                "--node-id", Integer.toString(nodeId),
                "--data-dir", dataDir.toString()));
        if (clusterId != null) {
            args.addAll(List.of("--cluster-id", clusterId));
        }
        if (controllers != null) {
            args.addAll(List.of("--controllers", controllers));
        }
        properties.forEach((k, v) -> args.addAll(List.of("--property", k + "=" + v)));
        List<String> options = new ArrayList<>(List.of("-XX:+ExitOnOutOfMemoryError"));
        options.addAll(jvmArgs);
        jvm = ChildJvm.builder(BrokerMain.class).name("kafka-" + nodeId).jvmArgs(options).args(args).start();
    }

    synchronized void awaitReady() {
        try {
            jvm.awaitLine(READY, startTimeout);
        } catch (IllegalStateException e) {
            jvm.kill();
            throw new IllegalStateException(this + " did not start: " + e.getMessage(), e);
        }
    }

    private ChildJvm running() {
        if (jvm == null || !jvm.isAlive()) {
            throw new IllegalStateException(this + " is not running");
        }
        return jvm;
    }

    /** Configures a {@link KafkaBrokerProcess}; every setting has a default. */
    public static final class Builder {
        private int nodeId = 1;
        private int port;
        private int controllerPort;
        private Path dataDir;
        private String clusterId;
        private String controllers;
        private final Map<String, String> properties = new LinkedHashMap<>();
        private final List<String> jvmArgs = new ArrayList<>();
        private Duration startTimeout = Duration.ofSeconds(90);
        private Duration stopTimeout = Duration.ofSeconds(30);

        private Builder() {}

        /** The node id; default 1. */
        public Builder nodeId(int id) {
            this.nodeId = id;
            return this;
        }

        /** The client port on 127.0.0.1; 0 (the default) picks a free one, kept across restarts. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** The controller port on 127.0.0.1; 0 (the default) picks a free one, kept across restarts. */
        public Builder controllerPort(int port) {
            this.controllerPort = port;
            return this;
        }

        /** The data directory; default a temporary one, deleted on {@link KafkaBrokerProcess#close()}. */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            return this;
        }

        /** The cluster id for formatting a new data directory; default random. */
        public Builder clusterId(String id) {
            this.clusterId = id;
            return this;
        }

        /** The controller set of a cluster, {@code id@host:port,…}; default this node alone. */
        public Builder controllers(String voters) {
            this.controllers = voters;
            return this;
        }

        /** Any broker setting; overrides {@link KafkaBroker#defaults()}. */
        public Builder property(String name, String value) {
            properties.put(name, value);
            return this;
        }

        /** Options for the child JVM, such as {@code -Xmx512m}. */
        public Builder jvmArgs(String... options) {
            jvmArgs.addAll(List.of(options));
            return this;
        }

        /** How long {@link KafkaBrokerProcess#start()} waits for READY; default 90 s. */
        public Builder startTimeout(Duration timeout) {
            this.startTimeout = timeout;
            return this;
        }

        /** How long {@link KafkaBrokerProcess#stop()} waits before SIGKILL; default 30 s. */
        public Builder stopTimeout(Duration timeout) {
            this.stopTimeout = timeout;
            return this;
        }

        /** Creates the node, not started; free ports are chosen now. */
        public KafkaBrokerProcess build() {
            return new KafkaBrokerProcess(this);
        }
    }
}
