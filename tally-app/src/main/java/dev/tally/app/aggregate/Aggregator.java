package dev.tally.app.aggregate;

import dev.tally.app.KafkaOptions;
import dev.tally.app.event.PageView;
import dev.tally.app.event.PageViewDecoder;
import dev.tally.consumer.Batch;
import dev.tally.consumer.BatchHandler;
import dev.tally.consumer.FailurePolicy;
import dev.tally.consumer.Message;
import dev.tally.consumer.RecordDecoder;
import dev.tally.consumer.TallyConsumer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.kafka.common.TopicPartition;
import io.micrometer.core.instrument.MeterRegistry;
import org.flywaydb.core.Flyway;

/**
 * The aggregator: migrates the store's schema, then runs {@code threads} members of the consumer
 * group, each a {@link TallyConsumer} that reads the page-view topic and its custom events topic
 * ({@code <topic>.events}) and writes {@link PageViewAggregator}'s and {@link EventAggregator}'s
 * tables exactly once: the records of both topics and the offsets of their partitions commit in
 * one transaction. The live aggregator also keeps {@link RecentVisitors}. Undecodable records of
 * either topic, and records on the wrong one (a custom event among the page views, a page view
 * among the events), go to {@code <topic>.dlq}.
 *
 * <p>An events topic that does not exist is no failure: Kafka assigns the page-view topic's
 * partitions alone, and the events topic's once it exists (the consumer notices within
 * {@code metadata.max.age.ms}, 5 minutes by default). {@code aggregate}, {@code run} and
 * {@code replay} create it at start, as the collector does; the members themselves create no topic.
 */
public final class Aggregator implements AutoCloseable {

    /**
     * Events per transaction at most: {@link #batchRecordsFor} the heap this JVM may use. Each
     * batch writes one row per distinct key of each counter table, so a larger batch writes
     * fewer rows per event (the store's cost: from 100 000 to 400 000 events, about a third
     * fewer on the benchmark's page views); a batch is only as large as what is waiting, so a
     * consumer that keeps up commits small ones.
     */
    public static final int BATCH_RECORDS = batchRecordsFor(Runtime.getRuntime().maxMemory());

    /**
     * The batch cap for a heap of {@code maxHeapBytes}: one event per 2.5 KiB, from 10 000 to
     * 400 000 (100 000 in 256 MiB). The library holds up to two batches (one committing, the next
     * being polled), each event with its raw value and its decoded view, at most about 600 bytes
     * for a beacon of the collector (less since both keep only what they need, and share what
     * repeats): about half the heap, the other half for the per-batch maps and the caches
     * ({@code bin/tally bench --memory} checks it in 256 MiB).
     */
    static int batchRecordsFor(long maxHeapBytes) {
        return (int) Math.max(10_000, Math.min(400_000, maxHeapBytes / 2560));
    }

    /** The consumer group of {@code aggregate} and {@code run}, and the one {@code lag} and {@code audit} look at, unless told otherwise. */
    public static final String DEFAULT_GROUP = "tally-aggregator";

    private static final String AUTO_CREATE = "allow.auto.create.topics";
    private static final String CONSUMER_PREFIX = "consumer.";

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
        Map<String, String> properties = new LinkedHashMap<>(kafka);
        if (!kafka.containsKey(CONSUMER_PREFIX + AUTO_CREATE)) {
            // Subscribing creates no topic: an events topic made by a consumer's metadata request
            // would get the broker's default partitions and replication, not the topic's.
            properties.putIfAbsent(AUTO_CREATE, "false");
        }
        try {
            for (int i = 0; i < threads; i++) {
                TallyConsumer.Builder<PageView> builder = TallyConsumer.builder(decoder(), new ByTopic(topic, target));
                if (registry != null) {
                    builder.meterRegistry(registry);
                }
                a.members.add(builder
                        .bootstrapServers(bootstrapServers)
                        .groupId(group)
                        .topics(topic, KafkaOptions.eventsTopic(topic))
                        // One dead-letter topic for both, the one that exists wherever the page-view topic does.
                        .deadLetterTopic(topic + ".dlq")
                        .jdbcUrl(writeUrl(jdbcUrl))
                        .kafkaProperties(properties)
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
        PageViewDecoder decoder = PageViewDecoder.forCounting();
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

    /**
     * A member's handler: the page views of a batch to {@link PageViewAggregator} (and, for the
     * live aggregator, {@link RecentVisitors}), its custom events to {@link EventAggregator}, in
     * the batch's one transaction.
     */
    private static final class ByTopic implements BatchHandler<PageView> {
        private final String eventsTopic;
        private final PageViewAggregator views;
        private final EventAggregator events;
        private final RecentVisitors recent;

        ByTopic(String topic, GenerationTarget target) {
            this.eventsTopic = KafkaOptions.eventsTopic(topic);
            this.views = new PageViewAggregator(target);
            this.events = new EventAggregator(target);
            // "Now" is the live count's: a replay recounts the past, not the last hour.
            this.recent = target == GenerationTarget.CURRENT ? new RecentVisitors(System::currentTimeMillis) : null;
        }

        @Override
        public void handle(Batch<PageView> batch, Connection connection) throws Exception {
            Map<TopicPartition, List<Message<PageView>>> viewParts = new LinkedHashMap<>();
            Map<TopicPartition, List<Message<PageView>>> eventParts = new LinkedHashMap<>();
            boolean misrouted = false;
            for (TopicPartition tp : batch.partitions()) {
                List<Message<PageView>> messages = batch.messages(tp);
                if (tp.topic().equals(eventsTopic)) {
                    eventParts.put(tp, messages);
                    continue;
                }
                List<Message<PageView>> kept = messages;
                for (int i = 0; i < messages.size(); i++) {
                    Message<PageView> m = messages.get(i);
                    if (m.value().event() != null) {
                        // A custom event sent to the page-view topic by some producer: never a view.
                        if (kept == messages) {
                            kept = new ArrayList<>(messages.subList(0, i));
                        }
                        batch.reject(m, "a custom event on the page-view topic; it belongs on " + eventsTopic);
                    } else if (kept != messages) {
                        kept.add(m);
                    }
                }
                misrouted |= kept != messages;
                viewParts.put(tp, kept);
            }
            if (!viewParts.isEmpty()) {
                Batch<PageView> part = eventParts.isEmpty() && !misrouted ? batch : new Part(batch, viewParts);
                views.handle(part, connection);
                if (recent != null) {
                    recent.write(part, connection);
                }
            }
            if (!eventParts.isEmpty()) {
                events.handle(viewParts.isEmpty() ? batch : new Part(batch, eventParts), connection);
            }
        }
    }

    /** Some of a batch's records, by partition; a rejection is the batch's. */
    private record Part(Batch<PageView> batch, Map<TopicPartition, List<Message<PageView>>> records) implements Batch<PageView> {

        @Override
        public Set<TopicPartition> partitions() {
            return records.keySet();
        }

        @Override
        public List<Message<PageView>> messages(TopicPartition partition) {
            return records.getOrDefault(partition, List.of());
        }

        @Override
        public int size() {
            int n = 0;
            for (List<Message<PageView>> m : records.values()) {
                n += m.size();
            }
            return n;
        }

        @Override
        public void reject(Message<PageView> message, String reason) {
            batch.reject(message, reason);
        }

        @Override
        public Iterator<Message<PageView>> iterator() {
            return records.values().stream().flatMap(List::stream).iterator();
        }
    }
}
