package dev.tally.app.aggregate;

import dev.tally.app.event.PageView;
import dev.tally.app.event.PageViewDecoder;
import dev.tally.consumer.FailurePolicy;
import dev.tally.consumer.RecordDecoder;
import dev.tally.consumer.TallyConsumer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import io.micrometer.core.instrument.MeterRegistry;
import org.flywaydb.core.Flyway;

/**
 * The aggregator: migrates the store's schema, then runs {@code threads} members of the consumer
 * group, each a {@link TallyConsumer} writing {@link PageViewAggregator}'s tables exactly once.
 * Undecodable events go to {@code <topic>.dlq}.
 */
public final class Aggregator implements AutoCloseable {

    /**
     * Events per transaction at most. Each batch writes one row per distinct page and hour, so a
     * larger batch writes fewer rows per event (the store's cost); the library keeps about twice
     * this many records in memory, which stays within a 256 MiB heap.
     */
    public static final int BATCH_RECORDS = 100_000;

    /** The consumer group of {@code aggregate} and {@code run}, and the one {@code lag} and {@code audit} look at, unless told otherwise. */
    public static final String DEFAULT_GROUP = "tally-aggregator";

    private final List<TallyConsumer<?>> members = new ArrayList<>();
    private volatile ScheduledExecutorService retention;

    private Aggregator() {}

    /**
     * Migrates the schema and starts the members.
     *
     * @param kafka pass-through Kafka client properties
     * @throws SQLException if the database cannot be reached
     */
    public static Aggregator start(String bootstrapServers, String topic, String group, String jdbcUrl, int threads,
            Map<String, String> kafka) throws SQLException {
        return start(bootstrapServers, topic, group, jdbcUrl, threads, kafka, null);
    }

    /**
     * Migrates the schema and starts the members, publishing their meters to {@code registry}
     * (none when {@code null}).
     */
    public static Aggregator start(String bootstrapServers, String topic, String group, String jdbcUrl, int threads,
            Map<String, String> kafka, MeterRegistry registry) throws SQLException {
        migrate(jdbcUrl);
        return start(bootstrapServers, topic, group, jdbcUrl, threads, kafka, registry, GenerationTarget.CURRENT, BATCH_RECORDS);
    }

    /**
     * Starts the members over a migrated schema, counting into {@code target} (the current
     * generation, or the one a replay builds), at most {@code batchRecords} events per transaction.
     */
    public static Aggregator start(String bootstrapServers, String topic, String group, String jdbcUrl, int threads,
            Map<String, String> kafka, MeterRegistry registry, GenerationTarget target, int batchRecords) throws SQLException {
        Aggregator a = new Aggregator();
        try {
            for (int i = 0; i < threads; i++) {
                TallyConsumer.Builder<PageView> builder = TallyConsumer.builder(decoder(), new PageViewAggregator(target));
                if (registry != null) {
                    builder.meterRegistry(registry);
                }
                a.members.add(builder
                        .bootstrapServers(bootstrapServers)
                        .groupId(group)
                        .topics(topic)
                        .jdbcUrl(writeUrl(jdbcUrl))
                        .kafkaProperties(kafka)
                        .closeTimeout(Duration.ofSeconds(20))
                        // What an event contains must never stop counting: a value the store
                        // refuses is isolated and dead-lettered, the events around it counted.
                        .failurePolicy(FailurePolicy.DEAD_LETTER)
                        .maxBatchRecords(batchRecords)
                        .build()
                        .start());
            }
        } catch (SQLException | RuntimeException e) {
            a.close();
            throw e;
        }
        return a;
    }

    /**
     * The aggregator's decoder. For tests only, the system property {@code tally.test.miscount}
     * ({@code /a=/b}) makes it count the views of page {@code /a} as views of {@code /b}: a bug
     * on purpose, for a test of {@code bin/tally replay} to fix.
     */
    public static RecordDecoder<PageView> decoder() {
        PageViewDecoder decoder = new PageViewDecoder();
        String miscount = System.getProperty("tally.test.miscount");
        if (miscount == null || miscount.indexOf('=') < 0) {
            return decoder;
        }
        String from = miscount.substring(0, miscount.indexOf('='));
        String to = miscount.substring(miscount.indexOf('=') + 1);
        return record -> {
            PageView v = decoder.decode(record);
            return v.path().equals(from)
                    ? new PageView(to, v.timestamp(), v.site(), v.referrer(), v.referrerHost(), v.visitor(), v.id(), v.dimensions(), v.event(), v.props())
                    : v;
        };
    }

    /**
     * Brings the schema to the newest version (Flyway: the same migrations on PostgreSQL and
     * SQLite, {@code db/mysql}'s on MySQL and MariaDB, with the same version numbers).
     */
    public static void migrate(String jdbcUrl) {
        Store store = Store.of(jdbcUrl);
        String url = Store.url(jdbcUrl);
        Flyway.configure()
                .dataSource(url, null, null)
                .locations(store == null ? Store.SQLITE.migrations() : store.migrations())
                .load()
                .migrate();
        if (store != null && store.ddlCommits()) {
            pointLegacyViews(url, store);
        }
    }

    /**
     * Where DDL commits by itself, a replay's switch re-points the schema-2 views after its
     * transaction; a switch interrupted between the two is made good here, at the next start.
     */
    private static void pointLegacyViews(String url, Store store) {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            for (Map.Entry<String, String> v : Generation.current(c).legacyViews().entrySet()) {
                for (String sql : store.replaceView(v.getKey(), v.getValue())) {
                    s.execute(sql);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot point the views of the store at its current generation: " + e.getMessage(), e);
        }
    }

    /**
     * The URL the members write through. PostgreSQL's driver sends a batch of upserts as one
     * multi-row statement only when asked; that is most of the speed of a batch. MariaDB
     * Connector/J sends a batch to a MariaDB server in one bulk command only when asked.
     */
    public static String writeUrl(String jdbcUrl) {
        String url = Store.url(jdbcUrl);
        if (url.startsWith("jdbc:postgresql:") && !url.contains("reWriteBatchedInserts")) {
            return url + (url.contains("?") ? "&" : "?") + "reWriteBatchedInserts=true";
        }
        if (Store.of(url) == Store.MYSQL && !url.contains("useBulkStmts")) {
            return url + (url.contains("?") ? "&" : "?") + "useBulkStmts=true";
        }
        return url;
    }

    /** Runs {@code r} against {@code jdbcUrl} about every hour while the aggregator runs ({@code --retain}). */
    public void retain(Retention r, String jdbcUrl) {
        if (retention != null) {
            throw new IllegalStateException("a retention already runs");
        }
        retention = r.schedule(writeUrl(jdbcUrl));
    }

    /** The members, for health and metrics. */
    public List<TallyConsumer<?>> members() {
        return List.copyOf(members);
    }

    /**
     * What is wrong with the aggregator, for {@code /health}: a member that stopped, or
     * partitions halted until an operator acts; {@code null} when nothing is.
     */
    public String problem() {
        if (failed()) {
            return "the aggregator stopped after a failure; see the log";
        }
        List<String> halted = new ArrayList<>();
        members.forEach(m -> m.haltedPartitions().forEach((tp, why) -> halted.add(tp + ": " + why)));
        return halted.isEmpty() ? null : "halted partitions: " + String.join("; ", halted);
    }

    /** Whether any member stopped by itself after a failure it would not skip. */
    public boolean failed() {
        return members.stream().anyMatch(m -> m.state() == TallyConsumer.State.FAILED);
    }

    /** Closes every member, in parallel, within {@code timeout}. */
    public void close(Duration timeout) {
        ScheduledExecutorService r = retention;
        if (r != null) {
            r.shutdownNow(); // an interrupted delete rolls back; the next start does it
        }
        List<Thread> closers = new ArrayList<>();
        for (TallyConsumer<?> m : members) {
            Thread t = new Thread(() -> m.close(timeout), "close-" + m.clientId());
            t.start();
            closers.add(t);
        }
        for (Thread t : closers) {
            try {
                t.join(timeout.toMillis() + 1_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(20));
    }
}
