package dev.tally.consumer;

import com.zaxxer.hikari.HikariDataSource;
import dev.tally.consumer.internal.BatchCommitter;
import dev.tally.consumer.internal.BatchTracer;
import dev.tally.consumer.internal.ConnectionPool;
import dev.tally.consumer.internal.ConsumerMetrics;
import dev.tally.consumer.internal.DeadLetterPublisher;
import dev.tally.consumer.internal.Dialect;
import dev.tally.consumer.internal.ErrorReporter;
import dev.tally.consumer.internal.Handoff;
import dev.tally.consumer.internal.HaltedPartitions;
import dev.tally.consumer.internal.KafkaSettings;
import dev.tally.consumer.internal.OffsetTable;
import dev.tally.consumer.internal.PollBudget;
import dev.tally.consumer.internal.PollLoop;
import dev.tally.consumer.internal.Settings;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.opentelemetry.api.OpenTelemetry;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * A member of a Kafka consumer group whose effect on a relational database is exactly once.
 *
 * <p>Each batch of records is handed to a {@link BatchHandler} together with a JDBC connection;
 * in the same transaction, Tally moves the stored offset of every partition in the batch from
 * the value it expects to the offset after the batch, and commits. On assignment, each partition
 * is sought to the offset the database holds. Because data and offsets change together and the
 * offset move is a compare-and-set, a crash at any moment, a rebalance, a paused "zombie"
 * process or a broker restart can neither lose a record nor apply one twice. Kafka's own
 * committed offsets are updated afterwards, best effort, only so that standard lag tools keep
 * working; Tally never reads them.
 *
 * <pre>{@code
 * TallyConsumer<String> words = TallyConsumer.builder(
 *         record -> new String(record.value(), UTF_8),
 *         (batch, connection) -> { ... upsert counts through connection ... })
 *     .bootstrapServers("127.0.0.1:9092")
 *     .groupId("word-count")
 *     .topics("words")
 *     .jdbcUrl("jdbc:sqlite:words.db")
 *     .build();
 * words.start();
 * ...
 * words.close(Duration.ofSeconds(10));
 * }</pre>
 *
 * <h2>Threads</h2>
 * A started consumer runs two threads: one polls Kafka and decodes records, the other runs the
 * handler and commits; the database commit of one batch overlaps the polling of the next, and
 * records polled meanwhile join the next batch (up to {@link Builder#maxBatchRecords}). A third,
 * daemon, thread delivers error reports. One {@code TallyConsumer} is one group member; run
 * several (in one process or many) for more parallelism, up to the number of partitions.
 *
 * <h2>Failures</h2>
 * Every failure is reported to the {@link ErrorListener}, asynchronously. A broker outage is
 * waited out by the Kafka client; a database outage pauses all partitions (the member stays in
 * its group) and the batch is retried with capped exponential backoff until the database is
 * back. A failure that does not look transient is retried {@link Builder#maxBatchAttempts} times,
 * then the consumer stops ({@link State#FAILED}) rather than skip records. Undecodable or
 * rejected records go to a dead-letter topic and never block their partition.
 *
 * <h2>Shutdown</h2>
 * {@link #close(Duration)} stops polling, lets the batch in hand commit or rolls it back (never
 * half), copies offsets to Kafka, leaves the group and returns within the given time.
 *
 * <h2>Tracing</h2>
 * With OpenTelemetry (an SDK the application sets as {@code GlobalOpenTelemetry}, or one given
 * to {@link Builder#openTelemetry}), every batch transaction — every attempt, retries included — is
 * one span of kind {@code CONSUMER} named {@code process <topic>}, with no parent and a link to
 * the producer span of each record carrying a W3C {@code traceparent} header (one link per
 * distinct producer span, at most 128; the others are counted in {@code tally.links.dropped}).
 * Attributes: {@code messaging.system=kafka}, {@code messaging.operation.type=process},
 * {@code messaging.destination.name}, {@code messaging.consumer.group.name},
 * {@code messaging.batch.message_count}, {@code tally.partitions}, {@code tally.offset_ranges}
 * (the stored-offset move, {@code "topic-0 [100, 150)"}), {@code tally.attempt} and
 * {@code tally.outcome}: {@code committed}, {@code rolled_back}, {@code refused} (the database
 * refused a value) or {@code fenced}, the last three with an error status. The handler runs with
 * the span current, so its own spans are children of it. Dead letters keep their record's
 * headers, trace context included. Without OpenTelemetry on the class path nothing of it is
 * loaded.
 *
 * @param <V> the decoded value type
 */
public final class TallyConsumer<V> implements AutoCloseable {

    /** The life cycle of a consumer. */
    public enum State {
        /** Built, not started. */
        NEW,
        /** Polling and committing. */
        RUNNING,
        /** {@link #close} was called; shutting down. */
        CLOSING,
        /** Closed; all threads stopped. */
        CLOSED,
        /** Stopped by itself after a failure it would not skip; see the {@link ErrorListener}. */
        FAILED
    }

    private static final AtomicInteger CLIENT_IDS = new AtomicInteger();

    private final Settings<V> settings;
    private final HikariDataSource ownedPool;
    private final boolean shutdownHook;
    private final AtomicReference<State> state = new AtomicReference<>(State.NEW);
    private final Set<TopicPartition> owned = ConcurrentHashMap.newKeySet();
    private final HaltedPartitions halted = new HaltedPartitions();
    private ErrorReporter errors;
    private ConsumerMetrics metrics;
    private DeadLetterPublisher deadLetters;
    private BatchCommitter<V> committer;
    private PollLoop<V> loop;
    private Thread pollThread;
    private Thread commitThread;
    private Thread hook;

    private TallyConsumer(Settings<V> settings, HikariDataSource ownedPool, boolean shutdownHook) {
        this.settings = settings;
        this.ownedPool = ownedPool;
        this.shutdownHook = shutdownHook;
    }

    /**
     * Starts configuring a consumer.
     *
     * @param decoder turns raw records into values; a failure sends the record to the dead-letter topic
     * @param handler writes each batch's results through the transaction's connection
     * @param <V> the decoded value type
     * @return a builder; every option may be set once
     */
    public static <V> Builder<V> builder(RecordDecoder<V> decoder, BatchHandler<V> handler) {
        return new Builder<>(decoder, handler);
    }

    /**
     * Creates the offsets table if needed, connects to Kafka and starts polling in the
     * background. Returns once the threads run; partitions are assigned asynchronously.
     *
     * @return this consumer
     * @throws IllegalStateException if already started
     * @throws SQLException if the database cannot be reached or is not supported (nothing is left running)
     */
    public TallyConsumer<V> start() throws SQLException {
        if (!state.compareAndSet(State.NEW, State.RUNNING)) {
            throw new IllegalStateException("a consumer starts once; it is " + state.get());
        }
        OffsetTable table = new OffsetTable(settings.offsetsTable());
        try (Connection c = ConnectionPool.borrow(settings.dataSource(), settings.databaseTimeout())) {
            Dialect.of(c);
            table.createIfAbsent(c);
        } catch (SQLException | RuntimeException e) {
            state.set(State.FAILED);
            closePool();
            throw e;
        }
        errors = new ErrorReporter(settings.errorListener(), settings.errorQueueCapacity(),
                "tally-errors-" + settings.clientId(), e -> metrics.error(e.phase().name()));
        metrics = new ConsumerMetrics(settings.meterRegistry(), settings.groupId(), settings.clientId(), errors::dropped);
        deadLetters = new DeadLetterPublisher(KafkaSettings.deadLetterProducer(settings), settings::deadLetterTopicFor, settings.groupId());
        KafkaConsumer<byte[], byte[]> consumer;
        PollBudget budget = new PollBudget(PollLoop.pollBytes(settings));
        try {
            consumer = new KafkaConsumer<>(KafkaSettings.consumer(settings), budget.deserializer(), budget.deserializer());
        } catch (RuntimeException e) {
            state.set(State.FAILED);
            releaseResources(Duration.ofSeconds(1));
            throw e;
        }
        Set<TopicPartition> resyncPending = ConcurrentHashMap.newKeySet();
        Handoff<V> handoff = new Handoff<>();
        committer = new BatchCommitter<>(settings, handoff, table, deadLetters, errors, metrics, owned, resyncPending, halted,
                () -> state.compareAndSet(State.RUNNING, State.FAILED));
        loop = new PollLoop<>(settings, consumer, handoff, committer, table, errors, metrics, owned, resyncPending, halted, budget);
        commitThread = new Thread(committer, "tally-commit-" + settings.clientId());
        pollThread = new Thread(() -> {
            try {
                loop.run();
            } finally {
                // The loop ends by itself only when something failed that it would not skip.
                state.compareAndSet(State.RUNNING, State.FAILED);
                if (state.get() == State.FAILED) {
                    releaseResources(settings.closeTimeout());
                }
            }
        }, "tally-poll-" + settings.clientId());
        loop.committerThread(commitThread);
        commitThread.start();
        pollThread.start();
        if (shutdownHook) {
            hook = new Thread(() -> close(settings.closeTimeout()), "tally-shutdown-" + settings.clientId());
            Runtime.getRuntime().addShutdownHook(hook);
        }
        return this;
    }

    /** Closes with the configured close timeout ({@link Builder#closeTimeout}). */
    @Override
    public void close() {
        close(settings.closeTimeout());
    }

    /**
     * Stops the consumer within {@code timeout}: no new polls; the batch being committed either
     * commits or is rolled back (a database transaction is never left half-applied); records
     * polled but not committed are abandoned and read again by the next owner; committed
     * offsets are copied to Kafka; the group is left so that partitions move at once. Safe to call
     * more than once and from any thread.
     *
     * @param timeout the longest this call blocks
     */
    public void close(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        State before = state.getAndUpdate(s -> s == State.RUNNING ? State.CLOSING : s);
        if (before == State.NEW) {
            state.set(State.CLOSED);
            closePool();
            return;
        }
        if (before == State.CLOSED || before == State.CLOSING) {
            awaitTermination(timeout);
            return;
        }
        if (loop != null) {
            loop.stop(deadline);
        }
        join(pollThread, deadline);
        join(commitThread, deadline);
        releaseResources(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        state.compareAndSet(State.CLOSING, State.CLOSED);
        removeHook();
    }

    private void releaseResources(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (deadLetters != null) {
            deadLetters.close(Duration.ofNanos(Math.max(0, (deadline - System.nanoTime()) / 3)));
        }
        if (errors != null) {
            errors.close(Duration.ofNanos(Math.max(0, (deadline - System.nanoTime()) / 3)));
        }
        if (metrics != null) {
            metrics.close();
        }
        closePool(deadline);
    }

    private void closePool() {
        closePool(System.nanoTime() + settings.closeTimeout().toNanos());
    }

    /**
     * Closes the pool Tally owns by {@code deadlineNanos}: HikariCP waits for connections in use,
     * and one stuck on a database that stopped answering must not hold {@code close} past its
     * bound. What is left closes in the background; no transaction of this consumer commits.
     */
    private void closePool(long deadlineNanos) {
        if (ownedPool == null) {
            return;
        }
        Thread closer = new Thread(ownedPool::close, "tally-pool-close-" + settings.clientId());
        closer.setDaemon(true);
        closer.start();
        join(closer, deadlineNanos);
    }

    private void removeHook() {
        if (hook != null && Thread.currentThread() != hook) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException alreadyShuttingDown) {
                // The hook is running or about to; nothing to undo.
            }
        }
    }

    private static void join(Thread t, long deadlineNanos) {
        if (t == null) {
            return;
        }
        try {
            long left = deadlineNanos - System.nanoTime();
            if (left > 0) {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            t.interrupt();
        }
    }

    /**
     * Waits until the consumer has stopped, by {@link #close} or by itself after a fatal failure.
     *
     * @param timeout the longest to wait
     * @return whether it has stopped
     */
    public boolean awaitTermination(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        join(pollThread, deadline);
        boolean pollDone = pollThread == null || !pollThread.isAlive();
        return pollDone && (commitThread == null || !commitThread.isAlive());
    }

    /** The consumer's state. */
    public State state() {
        return state.get();
    }

    /** The partitions this member currently owns. */
    public Set<TopicPartition> assignment() {
        return Set.copyOf(owned);
    }

    /**
     * When a batch last committed (or when the consumer started). With lag, this tells a stuck
     * consumer from an idle one.
     */
    public Instant lastProgress() {
        return metrics == null ? Instant.EPOCH : Instant.ofEpochMilli(metrics.lastProgressMillis());
    }

    /**
     * Partitions this member stopped while the others go on, each with the reason and what an
     * operator can do (see {@link ConsumerError.Phase#HALTED}): a stored offset beyond the log
     * end, a stored offset row that vanished, a dead letter Kafka refuses for good. A halted
     * partition resumes by itself once its stored offset is changed, for instance by
     * {@link OffsetStore#rewind}. Also the gauge {@code tally.consumer.halted.partitions}.
     */
    public Map<TopicPartition, String> haltedPartitions() {
        return halted.reasons();
    }

    /** Whether partitions are paused because the database is failing. */
    public boolean isBackingOff() {
        return committer != null && committer.blocked();
    }

    /** How many error reports were dropped because the listener did not keep up. */
    public long droppedErrorReports() {
        return errors == null ? 0 : errors.dropped();
    }

    /** The consumer group. */
    public String groupId() {
        return settings.groupId();
    }

    /** The Kafka client id, also a tag on every metric. */
    public String clientId() {
        return settings.clientId();
    }

    /**
     * Configures a {@link TallyConsumer}. Every option may be set at most once (a second call is
     * a mistake and throws); {@link #build()} checks the whole configuration and fails with every
     * problem at once. Required: {@link #bootstrapServers}, {@link #groupId}, {@link #topics} and
     * one of {@link #dataSource} or {@link #jdbcUrl}.
     *
     * @param <V> the decoded value type
     */
    public static final class Builder<V> {
        private final RecordDecoder<V> decoder;
        private final BatchHandler<V> handler;
        private final Set<String> set = new HashSet<>();
        private String bootstrapServers;
        private String groupId;
        private String clientId;
        private List<String> topics;
        private DataSource dataSource;
        private String jdbcUrl;
        private String offsetsTable = OffsetStore.DEFAULT_TABLE;
        private StartPosition startPosition = StartPosition.earliest();
        private String deadLetterTopic;
        private ErrorListener errorListener;
        private int errorQueueCapacity = 1024;
        private MeterRegistry meterRegistry = Metrics.globalRegistry;
        private final Map<String, String> kafkaProperties = new LinkedHashMap<>();
        private int maxBatchRecords = 50_000;
        private long maxBatchBytes = 128L << 20;
        private Duration pollTimeout = Duration.ofMillis(100);
        private Duration retryBackoffInitial = Duration.ofMillis(100);
        private Duration retryBackoffMax = Duration.ofSeconds(10);
        private int maxBatchAttempts = 10;
        private Duration closeTimeout = Duration.ofSeconds(30);
        private Duration offsetCheckInterval = Duration.ofSeconds(5);
        private Duration deadLetterTimeout = Duration.ofSeconds(30);
        private FailurePolicy failurePolicy = FailurePolicy.STOP;
        private Duration databaseTimeout = Duration.ofSeconds(30);
        private boolean shutdownHook;
        // An io.opentelemetry.api.OpenTelemetry, held as Object: the API is an optional dependency.
        private Object openTelemetry;

        private Builder(RecordDecoder<V> decoder, BatchHandler<V> handler) {
            this.decoder = Objects.requireNonNull(decoder, "decoder");
            this.handler = Objects.requireNonNull(handler, "handler");
        }

        private void once(String option) {
            if (!set.add(option)) {
                throw new IllegalStateException(option + " was already set");
            }
        }

        /** The Kafka cluster, {@code host:port[,host:port…]}. Required. */
        public Builder<V> bootstrapServers(String servers) {
            once("bootstrapServers");
            this.bootstrapServers = servers;
            return this;
        }

        /** The consumer group; also the key of the stored offsets. Required. */
        public Builder<V> groupId(String group) {
            once("groupId");
            this.groupId = group;
            return this;
        }

        /** The Kafka client id; default {@code tally-<group>-<n>}. Tags every metric. */
        public Builder<V> clientId(String id) {
            once("clientId");
            this.clientId = id;
            return this;
        }

        /** The topics to read. Required. */
        public Builder<V> topics(String... names) {
            return topics(List.of(names));
        }

        /** The topics to read. Required. */
        public Builder<V> topics(Collection<String> names) {
            once("topics");
            this.topics = List.copyOf(names);
            return this;
        }

        /**
         * The database, as a pool the caller owns and closes. For SQLite, use WAL mode and a
         * busy timeout, or prefer {@link #jdbcUrl}, which sets them.
         */
        public Builder<V> dataSource(DataSource ds) {
            once("database");
            this.dataSource = ds;
            return this;
        }

        /**
         * The database, as a JDBC URL ({@code jdbc:postgresql://…}, {@code jdbc:sqlite:…}, or
         * {@code jdbc:mariadb://…} / {@code jdbc:mysql://…} for MariaDB and MySQL, both through
         * MariaDB Connector/J); the consumer opens a HikariCP pool and closes it with itself.
         * Credentials go in the URL ({@code ?user=…&password=…}). On MariaDB and MySQL the pool's
         * transactions run at {@code READ COMMITTED}, as on PostgreSQL.
         */
        public Builder<V> jdbcUrl(String url) {
            once("database");
            this.jdbcUrl = url;
            return this;
        }

        /** The offsets table, optionally schema-qualified; default {@value OffsetStore#DEFAULT_TABLE}. */
        public Builder<V> offsetsTable(String table) {
            once("offsetsTable");
            this.offsetsTable = table;
            return this;
        }

        /** Where partitions without a stored offset start; default {@link StartPosition#earliest()}. */
        public Builder<V> startPosition(StartPosition position) {
            once("startPosition");
            this.startPosition = position;
            return this;
        }

        /**
         * One dead-letter topic for records of every topic. Default: {@code <topic>.dlq} for
         * records of {@code <topic>}.
         */
        public Builder<V> deadLetterTopic(String topic) {
            once("deadLetterTopic");
            this.deadLetterTopic = topic;
            return this;
        }

        /** Where failures are reported; default: SLF4J. Called on a thread of its own. */
        public Builder<V> errorListener(ErrorListener listener) {
            once("errorListener");
            this.errorListener = listener;
            return this;
        }

        /** How many reports may wait for a slow listener before new ones are dropped; default 1024. */
        public Builder<V> errorQueueCapacity(int capacity) {
            once("errorQueueCapacity");
            this.errorQueueCapacity = capacity;
            return this;
        }

        /** Where metrics go; default Micrometer's global registry. */
        public Builder<V> meterRegistry(MeterRegistry registry) {
            once("meterRegistry");
            this.meterRegistry = registry;
            return this;
        }

        /**
         * Passes a Kafka client property through (security settings, timeouts,
         * {@code group.protocol=consumer}, …) to the consumer and, where it applies, to the
         * dead-letter producer. Unknown names are refused; prefix {@code consumer.} or
         * {@code producer.} passes a setting to one client unchecked. Properties Tally relies on
         * ({@code enable.auto.commit}, {@code auto.offset.reset}, deserializers, {@code group.id},
         * {@code bootstrap.servers}) are refused with the reason.
         */
        public Builder<V> kafkaProperty(String name, String value) {
            if (kafkaProperties.containsKey(name)) {
                throw new IllegalStateException("Kafka property " + name + " was already set");
            }
            kafkaProperties.put(Objects.requireNonNull(name, "name"), value);
            return this;
        }

        /** Passes several Kafka client properties through, as {@link #kafkaProperty}. */
        public Builder<V> kafkaProperties(Map<String, String> properties) {
            properties.forEach(this::kafkaProperty);
            return this;
        }

        /**
         * The most records one transaction covers; default 50,000. Under load, records polled while
         * a batch commits join the next one up to this size, then partitions pause until it is
         * taken: memory is bounded by about twice this many records.
         */
        public Builder<V> maxBatchRecords(int records) {
            once("maxBatchRecords");
            this.maxBatchRecords = records;
            return this;
        }

        /**
         * The most bytes (keys and values, as read) the records of one transaction hold; default
         * 128 MiB. {@link #maxBatchRecords} bounds memory only for small records: any producer may
         * write records of a megabyte, or of a kilobyte that decompress to a megabyte. One poll
         * hands over at most an eighth of this (after its first record, which always comes, so
         * that reading moves on); the rest of that poll is read again by the next. With the batch
         * being committed and the one waiting, the records in memory stay under about twice this.
         */
        public Builder<V> maxBatchBytes(long bytes) {
            once("maxBatchBytes");
            this.maxBatchBytes = bytes;
            return this;
        }

        /** How long one poll waits for records; default 100 ms. */
        public Builder<V> pollTimeout(Duration timeout) {
            once("pollTimeout");
            this.pollTimeout = timeout;
            return this;
        }

        /** Capped exponential backoff between retries; default 100 ms doubling up to 10 s, with jitter. */
        public Builder<V> retryBackoff(Duration initial, Duration max) {
            once("retryBackoff");
            this.retryBackoffInitial = initial;
            this.retryBackoffMax = max;
            return this;
        }

        /**
         * How many times a batch that fails with a non-transient error is tried before the
         * consumer stops; default 10. Transient errors (lost connections, a busy or restarting
         * database) are retried without limit.
         */
        public Builder<V> maxBatchAttempts(int attempts) {
            once("maxBatchAttempts");
            this.maxBatchAttempts = attempts;
            return this;
        }

        /** The time {@link TallyConsumer#close()} and the shutdown hook take at most; default 30 s. */
        public Builder<V> closeTimeout(Duration timeout) {
            once("closeTimeout");
            this.closeTimeout = timeout;
            return this;
        }

        /**
         * How often an idle member compares its partitions' stored offsets with its own view, to
         * notice an operator's rewind without waiting for new records; default 5 s.
         */
        public Builder<V> offsetCheckInterval(Duration interval) {
            once("offsetCheckInterval");
            this.offsetCheckInterval = interval;
            return this;
        }

        /** How long a batch waits for its dead letters to be acknowledged before it is retried; default 30 s. */
        public Builder<V> deadLetterTimeout(Duration timeout) {
            once("deadLetterTimeout");
            this.deadLetterTimeout = timeout;
            return this;
        }

        /**
         * What to do with a batch that keeps failing with a non-transient error; default
         * {@link FailurePolicy#STOP}. {@link FailurePolicy#DEAD_LETTER} isolates the records the
         * database refuses and dead-letters them, so that one bad value cannot stop counting.
         */
        public Builder<V> failurePolicy(FailurePolicy policy) {
            once("failurePolicy");
            this.failurePolicy = policy;
            return this;
        }

        /**
         * The longest any single database call may wait for an answer; default 30 s. A database
         * that stops answering without closing its connections (dropped packets, a frozen
         * server) then fails the call as a lost connection, which is retried, instead of holding
         * the polling thread past the group's timeouts. Applied with
         * {@link java.sql.Connection#setNetworkTimeout} on every connection the consumer uses;
         * keep it above the slowest transaction the handler legitimately runs.
         */
        public Builder<V> databaseTimeout(Duration timeout) {
            once("databaseTimeout");
            this.databaseTimeout = timeout;
            return this;
        }

        /** Whether a JVM shutdown hook (SIGTERM, Ctrl-C) closes the consumer within the close timeout; default false. */
        public Builder<V> shutdownHook(boolean install) {
            once("shutdownHook");
            this.shutdownHook = install;
            return this;
        }

        /**
         * Traces every batch transaction with this OpenTelemetry instance (see "Tracing" in the
         * class documentation); {@link OpenTelemetry#noop()} turns tracing off. Default: the
         * instance the application sets as {@link io.opentelemetry.api.GlobalOpenTelemetry}, from
         * the first batch after it is set; no tracing while none is set, nor when the
         * OpenTelemetry API is not on the class path. Under the OpenTelemetry Java agent, pass
         * {@code GlobalOpenTelemetry.get()}. The API ({@code io.opentelemetry:opentelemetry-api}) is an optional dependency of
         * Tally: an application that calls this method has it.
         */
        public Builder<V> openTelemetry(OpenTelemetry openTelemetry) {
            once("openTelemetry");
            this.openTelemetry = Objects.requireNonNull(openTelemetry, "openTelemetry");
            return this;
        }

        /**
         * Checks the configuration and creates the consumer (not started).
         *
         * @throws IllegalArgumentException naming every problem found
         */
        public TallyConsumer<V> build() {
            List<String> problems = new ArrayList<>();
            if (blank(bootstrapServers)) {
                problems.add("bootstrapServers is required");
            }
            if (blank(groupId)) {
                problems.add("groupId is required");
            }
            if (topics == null || topics.isEmpty() || topics.stream().anyMatch(Builder::blank)) {
                problems.add("topics are required and must not be blank");
            }
            if (dataSource == null && blank(jdbcUrl)) {
                problems.add("a database is required: dataSource(...) or jdbcUrl(...)");
            }
            if (jdbcUrl != null && !jdbcUrl.startsWith("jdbc:postgresql:") && !jdbcUrl.startsWith("jdbc:sqlite:")
                    && !ConnectionPool.isMysqlUrl(jdbcUrl)) {
                problems.add("jdbcUrl must start with jdbc:postgresql:, jdbc:sqlite:, jdbc:mariadb: or jdbc:mysql:");
            }
            try {
                new OffsetTable(offsetsTable);
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
            if (startPosition == null) {
                problems.add("startPosition must not be null");
            }
            if (deadLetterTopic != null && topics != null && topics.contains(deadLetterTopic)) {
                problems.add("the dead-letter topic must not be one of the topics read");
            }
            if (topics != null && deadLetterTopic == null && topics.stream().anyMatch(t -> topics.contains(t + ".dlq"))) {
                problems.add("a topic and its dead-letter topic (<topic>.dlq) are both read; set deadLetterTopic(...)");
            }
            if (errorQueueCapacity < 1) {
                problems.add("errorQueueCapacity must be at least 1");
            }
            if (meterRegistry == null) {
                problems.add("meterRegistry must not be null");
            }
            if (maxBatchBytes < 8 * 1024) {
                problems.add("maxBatchBytes must be at least 8 KiB");
            }
            if (maxBatchRecords < 1) {
                problems.add("maxBatchRecords must be at least 1");
            }
            if (maxBatchAttempts < 1) {
                problems.add("maxBatchAttempts must be at least 1");
            }
            checkPositive(problems, "pollTimeout", pollTimeout);
            checkPositive(problems, "retryBackoff initial", retryBackoffInitial);
            checkPositive(problems, "retryBackoff max", retryBackoffMax);
            checkPositive(problems, "closeTimeout", closeTimeout);
            checkPositive(problems, "offsetCheckInterval", offsetCheckInterval);
            checkPositive(problems, "deadLetterTimeout", deadLetterTimeout);
            checkPositive(problems, "databaseTimeout", databaseTimeout);
            if (failurePolicy == null) {
                problems.add("failurePolicy must not be null");
            }
            if (retryBackoffInitial != null && retryBackoffMax != null && retryBackoffMax.compareTo(retryBackoffInitial) < 0) {
                problems.add("retryBackoff max must not be below its initial delay");
            }
            problems.addAll(KafkaSettings.problems(kafkaProperties));
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("invalid Tally consumer configuration: " + String.join("; ", problems));
            }
            String id = clientId != null ? clientId : "tally-" + groupId + "-" + CLIENT_IDS.incrementAndGet();
            if (jdbcUrl != null) {
                ConnectionPool.requireDriver(jdbcUrl);
            }
            HikariDataSource pool = jdbcUrl != null ? ConnectionPool.open(jdbcUrl, id) : null;
            Settings<V> s = new Settings<>(bootstrapServers, groupId, id, topics, pool != null ? pool : dataSource,
                    offsetsTable, decoder, handler, startPosition, deadLetterTopic,
                    errorListener != null ? errorListener : ErrorReporter.logging(), errorQueueCapacity,
                    meterRegistry, Map.copyOf(kafkaProperties), maxBatchRecords, maxBatchBytes, pollTimeout,
                    retryBackoffInitial, retryBackoffMax, maxBatchAttempts, closeTimeout,
                    offsetCheckInterval, deadLetterTimeout, failurePolicy, databaseTimeout,
                    BatchTracer.of(openTelemetry));
            return new TallyConsumer<>(s, pool, shutdownHook);
        }

        private static boolean blank(String s) {
            return s == null || s.isBlank();
        }

        private static void checkPositive(List<String> problems, String name, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                problems.add(name + " must be a positive duration");
            }
        }
    }
}
