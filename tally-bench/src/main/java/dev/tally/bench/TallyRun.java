package dev.tally.bench;

import com.sun.management.HotSpotDiagnosticMXBean;
import dev.tally.broker.ChildJvm;
import dev.tally.consumer.OffsetStore;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * (e), (f) Tally: {@code bin/tally aggregate} itself, in a JVM of its own started as the launcher
 * starts it (the throughput collector unless {@code JAVA_OPTS} or {@code TALLY_JAVA_OPTS} choose
 * one, and those options), with {@code --threads} group members (each with its own polling and
 * committing threads and connection, the partitions shared among them), into a fresh store. In the
 * bench's JVM it would share a heap with the reference counts and every other contender's
 * leftovers, which its collector would copy and compact over and over; the command a user runs has
 * its heap to itself.
 *
 * <p>The clock starts at its first commit and stops when the offsets it stored reach the end of the
 * topic, read from the store every {@link #POLL} (so to within that): what is committed is what
 * counts. The commits it reports are the changes of the stored offsets it saw.
 */
final class TallyRun implements Contender {

    private static final Duration POLL = Duration.ofMillis(20);

    private final Store.Kind kind;
    private final int threads;

    TallyRun(Store.Kind kind, int threads) {
        this.kind = kind;
        this.threads = threads;
    }

    @Override
    public char letter() {
        return kind == Store.Kind.SQLITE ? 'e' : 'f';
    }

    @Override
    public String name() {
        return (kind == Store.Kind.SQLITE ? "(e)" : "(f)") + " Tally -> " + (kind == Store.Kind.SQLITE ? "SQLite" : "PostgreSQL")
                + (threads == 1 ? "" : ", " + threads + " members");
    }

    @Override
    public Progress.Run run(Trial t) throws Exception {
        Progress progress = new Progress(t.records());
        try (Store store = Store.create(kind, t.postgres(), t.dir())) {
            String group = "bench-tally-" + UUID.randomUUID();
            long commits = 0;
            try (ChildJvm tally = ChildJvm.builder("dev.tally.app.TallyMain").name("tally-aggregate-" + letter()).jvmArgs(launcherOptions())
                    .args("aggregate", "--bootstrap-servers", t.bootstrapServers(), "--topic", t.topic(), "--group", group,
                            "--db", store.jdbcUrl, "--threads", Integer.toString(threads))
                    .start();
                    Connection db = DriverManager.getConnection(store.jdbcUrl)) {
                CpuClock.countAsContender(tally.pid());
                try {
                    long seen = 0;
                    while (!progress.finished()) {
                        Thread.sleep(POLL.toMillis());
                        if (!tally.isAlive()) {
                            throw new IllegalStateException("bin/tally aggregate exited: " + tally.stderrTail());
                        }
                        long committed = committed(db, group, t.topic());
                        if (committed != seen) {
                            commits++;
                            seen = committed;
                        }
                        progress.at(committed);
                    }
                    tally.terminate(Duration.ofSeconds(30));
                } finally {
                    CpuClock.forget(tally.pid());
                }
            }
            String wrong = t.reference().difference(StoreReader.read(store.jdbcUrl));
            return progress.result((wrong == null ? "exact" : "WRONG: " + wrong)
                    + String.format(" (%,d commits seen, %,.0f records each on average)", commits, t.records() / (double) Math.max(commits, 1)));
        }
    }

    /** Records committed so far: the offsets stored in the same transactions as the counts (0 before the first). */
    private static long committed(Connection db, String group, String topic) {
        try (PreparedStatement ps = db.prepareStatement(
                "SELECT COALESCE(SUM(next_offset), 0) FROM " + OffsetStore.DEFAULT_TABLE + " WHERE group_id = ? AND topic = ?")) {
            ps.setString(1, group);
            ps.setString(2, topic);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        } catch (SQLException notYetMigrated) {
            return 0;
        }
    }

    /**
     * What {@code bin/tally} gives {@code aggregate}: the throughput collector unless the options
     * choose one, then the options; and the heap this JVM has, which the launcher started with the
     * same options (a child JVM would otherwise get a small one of its own).
     */
    static List<String> launcherOptions() {
        List<String> options = new ArrayList<>();
        HotSpotDiagnosticMXBean hotSpot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        options.add("-XX:MaxHeapSize=" + hotSpot.getVMOption("MaxHeapSize").getValue());
        for (String variable : List.of("JAVA_OPTS", "TALLY_JAVA_OPTS")) {
            String value = System.getenv(variable);
            if (value != null && !value.isBlank()) {
                options.addAll(List.of(value.trim().split("\\s+")));
            }
        }
        if (options.stream().noneMatch(o -> o.startsWith("-XX:+Use") && o.endsWith("GC"))) {
            options.add(1, "-XX:+UseParallelGC");
        }
        return options;
    }
}
