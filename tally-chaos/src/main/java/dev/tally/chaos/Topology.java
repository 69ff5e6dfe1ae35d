package dev.tally.chaos;

import dev.tally.app.aggregate.Aggregator;
import dev.tally.broker.ChildJvm;
import dev.tally.broker.KafkaCluster;
import dev.tally.consumer.OffsetStore;
import dev.tally.testkit.TcpProxy;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Everything the harness runs, all real processes on loopback: a 3-node KRaft cluster (RF 3,
 * min ISR 2), a fresh PostgreSQL database on the machine's server, the aggregators of one group
 * and one collector. It knows how to start, kill, freeze and restart each of them. The aggregators
 * reach PostgreSQL through a {@link TcpProxy} in this process, which can blackhole their
 * connections; the harness's own reads (checker, offset sampler) go to the server directly.
 */
final class Topology implements AutoCloseable {

    static final String TOPIC = "pageviews";
    static final String GROUP = "chaos-aggregators";
    /** Short enough that a frozen member is dropped within seconds, as the pause fault needs. */
    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(6);
    /**
     * Eight JVMs share two cores here; the C1 compiler alone starts a restarted process in half
     * the time, and these processes are measured for correctness, not speed.
     */
    private static final String[] JVM_OPTIONS = {"-XX:TieredStopAtLevel=1", "-Xmx256m"};

    final int partitions;
    final boolean naive;
    final String adminUrl;
    final String database;
    /** The run's database, directly: for the harness's own reads. */
    final String jdbcUrl;
    /** Between the aggregators and PostgreSQL. */
    final TcpProxy dbProxy;
    /** The run's database through {@link #dbProxy}: what the aggregators are given. */
    final String aggregatorJdbcUrl;
    final KafkaCluster cluster;
    final int collectorPort;
    final List<ChildJvm> aggregators = new ArrayList<>();
    private ChildJvm collector;
    private int started;

    Topology(int partitions, int aggregatorCount, boolean naive, String adminUrl, long seed) throws Exception {
        this.partitions = partitions;
        this.naive = naive;
        this.adminUrl = adminUrl;
        this.database = "tally_chaos_" + Long.toUnsignedString(seed, 36) + "_" + System.currentTimeMillis() % 1_000_000;
        this.jdbcUrl = databaseUrl(adminUrl, database);
        URI server = URI.create(jdbcUrl.substring("jdbc:".length()));
        this.dbProxy = TcpProxy.to(server.getHost(), server.getPort() < 0 ? 5432 : server.getPort());
        this.aggregatorJdbcUrl = "jdbc:postgresql://127.0.0.1:" + dbProxy.port() + server.getRawPath()
                + (server.getRawQuery() == null ? "" : "?" + server.getRawQuery());
        try (ServerSocket s = new ServerSocket(0)) {
            this.collectorPort = s.getLocalPort();
        }
        try (Connection c = DriverManager.getConnection(adminUrl); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + database);
        }
        Aggregator.migrate(jdbcUrl);
        cluster = KafkaCluster.builder().nodes(3).build().start();
        cluster.createTopic(TOPIC, partitions);
        cluster.createTopic(TOPIC + ".dlq", partitions);
        startCollector();
        aggregators.addAll(startAggregators(aggregatorCount));
    }

    /** The library's own view of the stored offsets: the checker and the sampler read them as an operator would. */
    OffsetStore offsetStore() {
        return new OffsetStore(dataSource());
    }

    /** The run's database, directly (not through the proxy). */
    javax.sql.DataSource dataSource() {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(jdbcUrl);
        return ds;
    }

    String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    String collectorUrl() {
        return "http://127.0.0.1:" + collectorPort + "/api/event";
    }

    ChildJvm startAggregator() {
        return startAggregators(1).get(0);
    }

    /** Launches {@code count} aggregators at once (a JVM takes seconds to start), then waits for each. */
    List<ChildJvm> startAggregators(int count) {
        List<ChildJvm> launched = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            launched.add(launchAggregator());
        }
        for (ChildJvm jvm : launched) {
            jvm.awaitLine(Pattern.compile("aggregating"), Duration.ofSeconds(120));
        }
        return launched;
    }

    private ChildJvm launchAggregator() {
        String name = "aggregate-" + (++started);
        ChildJvm.Builder b = naive
                ? ChildJvm.builder(NaiveAggregator.class).args(bootstrapServers(), TOPIC, GROUP, aggregatorJdbcUrl)
                : ChildJvm.builder("dev.tally.app.TallyMain").args("aggregate", "--bootstrap-servers", bootstrapServers(),
                        "--topic", TOPIC, "--group", GROUP, "--db", aggregatorJdbcUrl,
                        "--kafka", "session.timeout.ms=" + SESSION_TIMEOUT.toMillis(), "--kafka", "heartbeat.interval.ms=1000");
        return b.jvmArgs(JVM_OPTIONS).name(name).start();
    }

    /** Launches {@code bin/tally replay --from earliest} for the group, through the same database proxy as the aggregators. */
    ChildJvm startReplay() {
        return ChildJvm.builder("dev.tally.app.TallyMain")
                .args("replay", "--from", "earliest", "--bootstrap-servers", bootstrapServers(), "--topic", TOPIC, "--group", GROUP,
                        "--db", aggregatorJdbcUrl, "--batch-records", "2000",
                        "--kafka", "session.timeout.ms=" + SESSION_TIMEOUT.toMillis(), "--kafka", "heartbeat.interval.ms=1000")
                .jvmArgs(JVM_OPTIONS).name("replay-" + (++started)).start();
    }

    void startCollector() {
        collector = ChildJvm.builder("dev.tally.app.TallyMain")
                .args("collect", "--bootstrap-servers", bootstrapServers(), "--topic", TOPIC, "--port", String.valueOf(collectorPort),
                        "--rate-limit", "0", "--salt-file", System.getProperty("java.io.tmpdir") + "/" + database + ".salt")
                .jvmArgs(JVM_OPTIONS).name("collect").start();
        collector.awaitLine(Pattern.compile("collecting on"), Duration.ofSeconds(120));
    }

    ChildJvm collector() {
        return collector;
    }

    /** Waits until every partition of the topic has all three replicas in sync, so that one more node may go down. */
    void awaitFullIsr(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            boolean full = true;
            try {
                for (int p = 0; p < partitions && full; p++) {
                    full = cluster.inSyncReplicasOf(TOPIC, p).size() == 3;
                }
            } catch (RuntimeException e) {
                full = false;
            }
            if (full) {
                return;
            }
            Thread.sleep(250);
        }
    }

    /** Restarts the machine's PostgreSQL: every connection of every process is cut. */
    void restartPostgres() throws IOException, InterruptedException {
        String version;
        try (var dirs = java.nio.file.Files.list(java.nio.file.Path.of("/etc/postgresql"))) {
            version = dirs.map(p -> p.getFileName().toString()).sorted().findFirst().orElseThrow();
        }
        Process p = new ProcessBuilder("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("PostgreSQL did not restart: " + out.strip());
        }
    }

    @Override
    public void close() {
        for (ChildJvm a : aggregators) {
            a.close();
        }
        if (collector != null) {
            collector.close();
        }
        cluster.close();
        dbProxy.close();
        try (Connection c = DriverManager.getConnection(adminUrl); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
        } catch (SQLException e) {
            System.err.println("chaos: could not drop database " + database + ": " + e.getMessage());
        }
    }

    private static String databaseUrl(String adminUrl, String database) {
        // jdbc:postgresql://host:port/postgres?user=… → the same server and options, another database.
        int slash = adminUrl.indexOf('/', "jdbc:postgresql://".length());
        int query = adminUrl.indexOf('?');
        String base = adminUrl.substring(0, slash + 1) + database;
        return query < 0 ? base : base + adminUrl.substring(query);
    }
}
