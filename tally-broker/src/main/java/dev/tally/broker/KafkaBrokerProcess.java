package dev.tally.broker;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One Kafka node as a child process ({@link BrokerMain} in a {@link ChildJvm}), so that it can be
 * killed with {@code kill -9}, frozen, and restarted on the same port and data directory.
 */
public final class KafkaBrokerProcess implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);

    private final int nodeId;
    private final int port;
    private final int controllerPort;
    private final Path dataDir;
    private final String clusterId;
    private final String controllers;
    private final Map<String, String> properties;
    private ChildJvm child;

    /**
     * @param nodeId the node id
     * @param port the client port (fixed, so that a restart keeps the address)
     * @param controllerPort the controller port
     * @param dataDir the data directory, formatted on first start
     * @param clusterId the cluster id for formatting, or {@code null} for a random one
     * @param controllers the controller set ({@code id@host:port,…}), or {@code null} for this node alone
     * @param properties broker settings
     */
    public KafkaBrokerProcess(int nodeId, int port, int controllerPort, Path dataDir, String clusterId,
            String controllers, Map<String, String> properties) {
        this.nodeId = nodeId;
        this.port = port;
        this.controllerPort = controllerPort;
        this.dataDir = dataDir;
        this.clusterId = clusterId;
        this.controllers = controllers;
        this.properties = new LinkedHashMap<>(properties);
    }

    /** A single-node broker on free ports. */
    public static KafkaBrokerProcess single(Path dataDir, Map<String, String> properties) {
        return new KafkaBrokerProcess(1, KafkaBroker.freePort(), KafkaBroker.freePort(), dataDir, null, null, properties);
    }

    /** Starts the node and waits until it serves clients. */
    public synchronized KafkaBrokerProcess start() {
        if (child != null && child.isAlive()) {
            throw new IllegalStateException("node " + nodeId + " is running");
        }
        List<String> args = new ArrayList<>(List.of("--port", Integer.toString(port), "--controller-port",
                Integer.toString(controllerPort), "--data-dir", dataDir.toString(), "--node-id", Integer.toString(nodeId)));
        if (clusterId != null) {
            args.addAll(List.of("--cluster-id", clusterId));
        }
        if (controllers != null) {
            args.addAll(List.of("--controllers", controllers));
        }
        properties.forEach((k, v) -> args.addAll(List.of("--property", k + "=" + v)));
        child = ChildJvm.builder(BrokerMain.class.getName())
                .name("kafka-" + nodeId)
                .jvmArgs("-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
                .args(args)
                .start();
        try {
            child.awaitLine(l -> l.startsWith("READY"), START_TIMEOUT);
        } catch (RuntimeException e) {
            child.kill();
            throw e;
        }
        return this;
    }

    /** {@code kill -9} of the node. */
    public synchronized void kill() {
        if (child != null) {
            child.kill();
        }
    }

    /** A clean shutdown (SIGTERM). */
    public synchronized void stop() {
        if (child != null && child.isAlive()) {
            child.terminate(Duration.ofSeconds(60));
        }
    }

    /** Kills the node if it runs, then starts it again on the same port and data directory. */
    public synchronized KafkaBrokerProcess restart() {
        kill();
        return start();
    }

    /** SIGSTOP: the node freezes (its sessions time out, its leadership moves). */
    public synchronized void suspend() {
        child.suspend();
    }

    /** SIGCONT. */
    public synchronized void resume() {
        child.resume();
    }

    public boolean isAlive() {
        return child != null && child.isAlive();
    }

    public long pid() {
        return child.pid();
    }

    public int nodeId() {
        return nodeId;
    }

    public int port() {
        return port;
    }

    public int controllerPort() {
        return controllerPort;
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** The node's log file, for diagnostics. */
    public Path log() {
        return child == null ? null : child.log();
    }

    @Override
    public synchronized void close() {
        if (child != null) {
            child.close();
        }
    }
}
