package dev.tally.app.operations;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tally.app.KafkaOptions;
import dev.tally.app.StartupException;
import dev.tally.app.StoreOptions;
import dev.tally.app.TimeArgument;
import dev.tally.app.aggregate.Aggregator;
import dev.tally.app.aggregate.Generation;
import dev.tally.app.aggregate.GenerationTarget;
import dev.tally.app.event.PageView;
import dev.tally.app.operations.Generations.Building;
import dev.tally.consumer.Message;
import dev.tally.consumer.OffsetStore;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code bin/tally replay}: recounts from Kafka into a new generation of the aggregate tables
 * while the current one keeps counting and serving, then switches readers and writers to it in
 * one transaction.
 *
 * <p>Why nothing is missed or counted twice. The live group G has counted generation A up to its
 * stored offsets g; the replay group R has counted generation B up to its stored offsets r, each
 * exactly once (the library stores offsets with the data). Every aggregator transaction first
 * reads the generation pointer, locked against the switch. The switch, in one transaction with
 * the pointer locked for update: sets G's stored offsets to r and the pointer to B. The live
 * members' next compare-and-set fails (or, if a member's batch starts exactly at r, succeeds
 * into B), they re-read from r, and B goes on from exactly where it stood. R is closed before the
 * switch, and its handler refuses to write a generation that is no longer being built.
 *
 * <p>A range replay from day T keeps A's rows before T, copied in the transaction that creates B
 * together with G's offsets c at that moment; R starts at min(the offset of time T minus
 * {@link #MARGIN}, c) and counts a record when its time is T or later, or when it is at or after
 * c (then it is in no copied row). The switch waits until R has passed c on every partition:
 * from there on the two groups count the same records, and the live one may take over. An event of T or later whose record lies before the
 * offset of T minus the margin — more than the margin out of order — is lost from B.
 */
@Command(name = "replay", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Recounts the aggregates from Kafka into a new generation of the tables while the current one keeps counting,"
                + " then switches to it in one transaction. Run it again to resume.",
                "Exit 0 switched (or dropped), 1 failure, 2 bad usage, 3 another replay is running on this store."})
public final class ReplayCommand implements Callable<Integer> {

    /** How far before a range replay's start its group starts reading: events as late as this are still counted. */
    static final Duration MARGIN = Duration.ofHours(1);
    /** Exit status when another replay holds the store. */
    static final int BUSY = 3;

    @Spec
    CommandSpec spec;

    @Mixin
    KafkaOptions kafka;

    @Mixin
    StoreOptions store;

    @Option(names = "--from", paramLabel = "earliest|TIME",
            description = "recount everything (earliest), or from the UTC day of TIME on (epoch ms, ISO-8601 instant or date), keeping the rows before it")
    String from;

    @Option(names = "--group", description = "the live aggregator's consumer group (default ${DEFAULT-VALUE})")
    String group = Aggregator.DEFAULT_GROUP;

    @Option(names = "--restart", description = "abandon the replay under way and start again")
    boolean restart;

    @Option(names = "--drop-old", description = "drop the generations replaced by a replay (after this replay's switch, if --from is given)")
    boolean dropOld;

    @Option(names = "--threads", description = "replay group members in this process (default ${DEFAULT-VALUE})")
    int threads = 1;

    @Option(names = "--switch-within", paramLabel = "RECORDS", hidden = true,
            description = "switch once the replay is at most this many records behind the live group (default ${DEFAULT-VALUE})")
    long switchWithin = 1_000;

    @Option(names = "--batch-records", hidden = true, description = "events per transaction at most (default ${DEFAULT-VALUE})")
    int batchRecords = Aggregator.BATCH_RECORDS;

    @Override
    public Integer call() throws Exception {
        if (from == null && !dropOld && !restart) {
            throw new ParameterException(spec.commandLine(), "give --from earliest|TIME (or --drop-old, or --restart)");
        }
        if (threads < 1 || batchRecords < 1 || switchWithin < 0) {
            throw new ParameterException(spec.commandLine(), "--threads and --batch-records must be at least 1");
        }
        Long fromTime = null;
        if (from != null && !from.equalsIgnoreCase("earliest")) {
            try {
                fromTime = Math.floorDiv(TimeArgument.parse("--from", from), 86_400_000L) * 86_400_000L;
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage() + " (or earliest)");
            }
        }
        store.validate(spec);
        Aggregator.migrate(store.db);
        PrintStream out = System.out;
        try (ReplayLock lock = ReplayLock.tryAcquire(store.db)) {
            if (lock == null) {
                System.err.println("tally replay: another replay is running on " + store.redacted()
                        + "; let it finish, or stop it and run this again to resume it");
                return BUSY;
            }
            try (HikariDataSource pool = pool()) {
                Generations generations = new Generations(pool);
                Building b = generations.building();
                if (b != null && restart) {
                    generations.abandon(b);
                    out.println("abandoned the replay into generation " + b.generation().number());
                    b = null;
                }
                if (from == null) {
                    if (b != null) {
                        out.println("a replay into generation " + b.generation().number() + " is under way; run replay --from again to finish it");
                    }
                    return dropOld(generations, out);
                }
                if (b != null) {
                    if (!Objects.equals(b.fromTime(), fromTime) || !b.topic().equals(kafka.topic) || !b.liveGroup().equals(group)) {
                        throw new ParameterException(spec.commandLine(), "a replay into generation " + b.generation().number()
                                + " from " + describe(b.fromTime()) + " of " + b.topic() + " for group " + b.liveGroup()
                                + " is under way: run it again with the same --from to resume it, or add --restart");
                    }
                    out.println("resuming the replay into generation " + b.generation().number() + " from " + describe(fromTime));
                } else {
                    b = create(generations, fromTime);
                    out.println("replaying " + kafka.topic + " from " + describe(fromTime) + " into generation "
                            + b.generation().number() + " as group " + b.replayGroup());
                }
                out.flush();
                if (!replay(pool, b, out)) {
                    return 1;
                }
                Generation old = generations.switchTo(b);
                out.println("switched: generation " + b.generation().number() + " is current; generation " + old.number()
                        + " is kept until replay --drop-old");
                return dropOld ? dropOld(generations, out) : 0;
            }
        }
    }

    private int dropOld(Generations generations, PrintStream out) throws SQLException {
        List<Integer> dropped = generations.dropOld();
        out.println(dropped.isEmpty() ? "no old generation to drop" : "dropped generation(s) " + dropped);
        return 0;
    }

    private static String describe(Long fromTime) {
        return fromTime == null ? "the earliest record" : Instant.ofEpochMilli(fromTime).toString();
    }

    /** Creates the generation, with the replay group's start offsets looked up in Kafka. */
    private Building create(Generations generations, Long fromTime) throws Exception {
        try (Admin admin = kafka.connect(4)) {
            // The aggregator reads custom events too: the replay group starts on both topics alike
            // (connect made sure the events topic exists).
            List<String> topics = List.of(kafka.topic, kafka.eventsTopic());
            Map<String, TopicDescription> described = admin.describeTopics(topics).allTopicNames().get(15, TimeUnit.SECONDS);
            Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
            Map<TopicPartition, OffsetSpec> byTime = new HashMap<>();
            for (String topic : topics) {
                for (TopicPartitionInfo info : described.get(topic).partitions()) {
                    TopicPartition tp = new TopicPartition(topic, info.partition());
                    earliest.put(tp, OffsetSpec.earliest());
                    byTime.put(tp, OffsetSpec.forTimestamp(fromTime == null ? 0 : Math.max(0, fromTime - MARGIN.toMillis())));
                }
            }
            Map<TopicPartition, Long> starts = offsets(admin, earliest);
            Map<TopicPartition, Long> timeOffsets = new HashMap<>();
            if (fromTime != null) {
                Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
                earliest.keySet().forEach(tp -> latest.put(tp, OffsetSpec.latest()));
                Map<TopicPartition, Long> ends = offsets(admin, latest);
                offsets(admin, byTime).forEach((tp, o) -> timeOffsets.put(tp, o < 0 ? ends.get(tp) : o)); // -1: nothing that late
            }
            return generations.create(kafka.topic, group, fromTime, timeOffsets, starts);
        }
    }

    private static Map<TopicPartition, Long> offsets(Admin admin, Map<TopicPartition, OffsetSpec> query) throws Exception {
        Map<TopicPartition, Long> result = new HashMap<>();
        for (Map.Entry<TopicPartition, ListOffsetsResultInfo> e : admin.listOffsets(query).all().get(30, TimeUnit.SECONDS).entrySet()) {
            result.put(e.getKey(), e.getValue().offset());
        }
        return result;
    }

    /**
     * Runs the replay group until it is within {@link #switchWithin} records of the live group,
     * printing its progress, then closes it. Returns false when it failed.
     */
    private boolean replay(HikariDataSource pool, Building b, PrintStream out) throws Exception {
        Aggregator members = Aggregator.start(kafka.bootstrapServers, kafka.topic, b.replayGroup(), store.db, threads,
                kafka.kafka, null, new ReplayTarget(b), batchRecords);
        Thread hook = new Thread(() -> members.close(Duration.ofSeconds(20)), "replay-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        Progress progress = new Progress(out, System.console() != null);
        OffsetStore offsets = new OffsetStore(pool);
        // What the live group had counted when this run began: the switch waits until the replay
        // recounted at least that, even when it was within switchWithin records from the start (a
        // small store), or the new generation would go live nearly empty.
        Map<TopicPartition, Long> floor = new HashMap<>();
        offsets.positions(b.liveGroup()).forEach((tp, p) -> floor.put(tp, p.nextOffset()));
        try {
            while (true) {
                if (members.failed()) {
                    progress.end();
                    System.err.println("tally replay: the replay group stopped after a failure (see the log above); run it again to resume");
                    return false;
                }
                long[] doneAndLeft = distance(offsets, b, floor);
                progress.update(doneAndLeft[0], doneAndLeft[1]);
                if (doneAndLeft[1] <= switchWithin && doneAndLeft[2] == 0) {
                    break;
                }
                Thread.sleep(1_000);
            }
        } finally {
            members.close(Duration.ofSeconds(20));
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
        }
        progress.end();
        if (members.failed()) {
            System.err.println("tally replay: the replay group failed while closing; run it again to resume");
            return false;
        }
        return true;
    }

    /**
     * The replay group's stored offsets summed; how many records it is behind the live group; and
     * the partitions still before {@code floor} (the live group's offsets when the run began) or,
     * for a range replay, before the offsets of the copy, where it skips what the live group would
     * count: no switch before those are passed.
     */
    private static long[] distance(OffsetStore offsets, Building b, Map<TopicPartition, Long> floor) throws SQLException {
        Map<TopicPartition, OffsetStore.Position> live = offsets.positions(b.liveGroup());
        long done = 0;
        long left = 0;
        long filtering = 0;
        for (Map.Entry<TopicPartition, OffsetStore.Position> e : offsets.positions(b.replayGroup()).entrySet()) {
            long r = e.getValue().nextOffset();
            OffsetStore.Position g = live.get(e.getKey());
            done += r;
            left += g == null ? 0 : Math.max(0, g.nextOffset() - r);
            if (r < b.copiedTo().getOrDefault(e.getKey(), 0L) || r < floor.getOrDefault(e.getKey(), 0L)) {
                filtering++;
            }
        }
        return new long[] {done, left, filtering};
    }

    private HikariDataSource pool() {
        HikariConfig config = new HikariConfig();
        config.setPoolName("tally-replay");
        config.setJdbcUrl(store.db);
        config.setMaximumPoolSize(2);
        config.setConnectionTimeout(10_000);
        if (store.db.startsWith("jdbc:sqlite:")) {
            // As the aggregator's pool: the switch waits for a writer rather than fail.
            config.addDataSourceProperty("journal_mode", "WAL");
            config.addDataSourceProperty("busy_timeout", "10000");
            config.addDataSourceProperty("transaction_mode", "IMMEDIATE");
        }
        try {
            return new HikariDataSource(config);
        } catch (RuntimeException e) {
            throw new StartupException("cannot open the database " + store.redacted() + ": " + e.getMessage(), e);
        }
    }

    /** The replay group's target: the generation it builds, as long as it is being built, and for a range replay only what the kept rows lack. */
    private record ReplayTarget(Building b) implements GenerationTarget {

        @Override
        public Generation begin(Connection transaction) throws SQLException {
            Generation current = Generation.currentLocked(transaction);
            String state = Generations.state(transaction, b.generation());
            if (current.equals(b.generation()) || !state.equals("building")) {
                // A replay member that outlived its switch (or a --restart): it must write nothing.
                throw new IllegalStateException("generation " + b.generation().number() + " is " + state
                        + ", no longer being built; this replay group stops");
            }
            return b.generation();
        }

        @Override
        public boolean counts(Message<PageView> event) {
            return b.fromTime() == null
                    || event.value().timestamp() >= b.fromTime()
                    || event.offset() >= b.copiedTo().getOrDefault(event.topicPartition(), 0L);
        }
    }

    /** A progress bar on a terminal, otherwise a line every few seconds. */
    private static final class Progress {
        private final PrintStream out;
        private final boolean terminal;
        private final long startedNanos = System.nanoTime();
        private long first = -1;
        private long lastLine;

        Progress(PrintStream out, boolean terminal) {
            this.out = out;
            this.terminal = terminal;
        }

        void update(long done, long left) {
            if (first < 0) {
                first = done;
            }
            long counted = done - first;
            long total = counted + left;
            double seconds = Math.max(1e-3, (System.nanoTime() - startedNanos) / 1e9);
            double rate = counted / seconds;
            String eta = rate <= 0 ? "--:--" : clock((long) (left / rate));
            int percent = total == 0 ? 100 : (int) (100 * counted / total);
            if (terminal) {
                int filled = percent / 5;
                out.printf("\r[%s%s] %3d%%  %,d/%,d records  %,.0f records/s  ETA %s ",
                        "#".repeat(filled), "-".repeat(20 - filled), percent, counted, total, rate, eta);
                out.flush();
            } else if (System.nanoTime() - lastLine >= TimeUnit.SECONDS.toNanos(5) || lastLine == 0) {
                lastLine = System.nanoTime();
                out.printf("replay: %,d/%,d records (%d%%), %,.0f records/s, ETA %s%n", counted, total, percent, rate, eta);
                out.flush();
            }
        }

        void end() {
            if (terminal) {
                out.println();
            }
        }

        private static String clock(long seconds) {
            return String.format("%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60);
        }
    }
}
