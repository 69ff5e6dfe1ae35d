package dev.tally.chaos;

import dev.tally.broker.ChildJvm;
import dev.tally.broker.KafkaBrokerProcess;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code bin/tally chaos}: Tally's promise — nothing lost, nothing counted twice — checked the way
 * Jepsen checks databases. Real processes, real faults at seeded random moments, a load with a
 * known ground truth, and a checker at the end. Exit 0 when every check passes, 1 otherwise.
 *
 * <p>Faults run in two lanes at once: broker faults (one node down at a time, after the replicas
 * are back in sync) and the others (aggregators, PostgreSQL, the collector). The seed fixes each
 * lane's sequence of faults and their parameters; the moments they land on depend on the
 * machine, as with any real fault injection.
 */
@Command(name = "chaos", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Runs the whole pipeline under real faults and checks every count against the ground truth.")
public final class ChaosCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--seed", description = "seed of the fault sequence (default: random, printed)")
    Long seed;

    @Option(names = "--minutes", description = "how long the load and the faults run at least (default ${DEFAULT-VALUE}); longer until --min-each is reached")
    double minutes = 3;

    @Option(names = "--faults", split = ",", paramLabel = "KIND,...",
            description = "fault kinds: aggregator-kill, aggregator-pause, leader-kill, controller-kill, postgres-restart, db-blackhole, rebalance, collector-kill, rewind (default: all)")
    List<String> faults = new ArrayList<>();

    @Option(names = "--min-each", description = "faults of each kind to inject at least; the run goes on until they are (default ${DEFAULT-VALUE})")
    int minEach = 1;

    @Option(names = "--naive", description = "run an at-least-once aggregator (process, then commit to Kafka) instead: the checker must find duplicates")
    boolean naive;

    @Option(names = "--partitions", description = "partitions of the topic (default ${DEFAULT-VALUE})")
    int partitions = 6;

    @Option(names = "--aggregators", description = "aggregate processes in the group (default ${DEFAULT-VALUE})")
    int aggregators = 3;

    @Option(names = "--beacons-per-second", description = "beacons sent over HTTP (default ${DEFAULT-VALUE})")
    int beaconsPerSecond = 100;

    @Option(names = "--records-per-second", description = "records written straight to Kafka (default ${DEFAULT-VALUE})")
    int recordsPerSecond = 300;

    @Option(names = "--postgres", paramLabel = "JDBC_URL",
            description = "a database on the server to test, for creating the run's own (default ${DEFAULT-VALUE})")
    String postgres = "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres";

    private final Map<FaultKind, AtomicLong> injected = Collections.synchronizedMap(new EnumMap<>(FaultKind.class));
    private final AtomicLong unexpectedExits = new AtomicLong();
    private final AtomicLong failedFaults = new AtomicLong();
    private long startNanos;
    private long ranNanos;

    @Override
    public Integer call() throws Exception {
        List<FaultKind> kinds;
        try {
            kinds = faults.isEmpty() ? List.of(FaultKind.values()) : faults.stream().map(FaultKind::parse).distinct().toList();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        if (minutes <= 0 || aggregators < 1 || partitions < 1) {
            throw new ParameterException(spec.commandLine(), "--minutes, --aggregators and --partitions must be positive");
        }
        long s = seed != null ? seed : ThreadLocalRandom.current().nextLong();
        kinds.forEach(k -> injected.put(k, new AtomicLong()));
        say("seed " + s + ", " + minutes + " min, faults " + kinds.stream().map(FaultKind::label).toList()
                + (naive ? ", NAIVE aggregator" : ""));

        try (Topology t = new Topology(partitions, aggregators, naive, postgres, s)) {
            say("topology up: 3 brokers at " + t.bootstrapServers() + ", " + aggregators + " aggregators, collector on "
                    + t.collectorUrl() + ", database " + t.database + " (aggregators through 127.0.0.1:" + t.dbProxy.port() + ")");
            OffsetSampler sampler = naive ? null : new OffsetSampler(t.dataSource());
            LoadGenerator load = new LoadGenerator(t, beaconsPerSecond, recordsPerSecond, s);
            startNanos = System.nanoTime();
            load.start();
            Thread.sleep(3_000);
            long deadline = startNanos + (long) (minutes * 60e9);
            List<Thread> lanes = new ArrayList<>();
            List<FaultKind> brokerKinds = kinds.stream().filter(k -> k.broker).toList();
            List<FaultKind> otherKinds = kinds.stream().filter(k -> !k.broker).toList();
            if (!brokerKinds.isEmpty()) {
                lanes.add(new Thread(() -> lane(t, brokerKinds, new Random(s), deadline), "faults-brokers"));
            }
            if (!otherKinds.isEmpty()) {
                lanes.add(new Thread(() -> lane(t, otherKinds, new Random(s ^ 0x5DEECE66DL), deadline), "faults-processes"));
            }
            lanes.forEach(Thread::start);
            for (Thread lane : lanes) {
                lane.join();
            }
            load.stop();
            ranNanos = System.nanoTime() - startNanos;
            say("load stopped: " + load.sentBeacons.get() + " beacons, " + load.sentRecords.get() + " records, "
                    + load.sentPoison.get() + " poison sent; healing and waiting for the group to catch up");
            heal(t);
            Checker.awaitCaughtUp(t, Duration.ofMinutes(5));
            if (sampler != null) {
                sampler.close();
            }
            Checker.Result r = Checker.check(t, load);
            boolean enough = kinds.stream().allMatch(k -> injected.get(k).get() >= minEach);
            boolean passed = r.passed() && enough && unexpectedExits.get() == 0 && failedFaults.get() == 0
                    && (sampler == null || sampler.backwards.get() == 0);
            report(s, kinds, load, r, sampler, enough);
            return passed ? 0 : 1;
        }
    }

    private void lane(Topology t, List<FaultKind> kinds, Random random, long deadline) {
        List<FaultKind> bag = new ArrayList<>();
        // Past the deadline, the lane goes on until each of its kinds was injected --min-each times.
        while (System.nanoTime() < deadline || kinds.stream().anyMatch(k -> injected.get(k).get() < minEach)) {
            if (bag.isEmpty()) {
                bag.addAll(kinds);
                Collections.shuffle(bag, random);
            }
            FaultKind kind = bag.remove(0);
            try {
                sleep(1_000 + random.nextInt(3_000));
                if (System.nanoTime() >= deadline && injected.get(kind).get() >= minEach) {
                    continue;
                }
                long began = System.nanoTime();
                inject(t, kind, random);
                say(kind.label() + " done in " + (System.nanoTime() - began) / 1_000_000 + " ms");
                injected.get(kind).incrementAndGet();
                if (!kind.broker) {
                    // Only the lane that kills and restarts these processes may judge whether one died by itself.
                    superviseProcesses(t);
                }
            } catch (Exception e) {
                failedFaults.incrementAndGet();
                say("fault " + kind.label() + " could not be completed: " + e);
            }
        }
    }

    private void inject(Topology t, FaultKind kind, Random random) throws Exception {
        switch (kind) {
            case AGGREGATOR_KILL -> {
                int i = random.nextInt(t.aggregators.size());
                say(kind.label() + " aggregator #" + i);
                t.aggregators.get(i).kill();
                sleep(1_000 + random.nextInt(3_000));
                t.aggregators.set(i, t.startAggregator());
            }
            case AGGREGATOR_PAUSE -> {
                int i = random.nextInt(t.aggregators.size());
                say(kind.label() + " aggregator #" + i + " (SIGSTOP past the session timeout, then SIGCONT)");
                ChildJvm a = t.aggregators.get(i);
                a.suspend();
                sleep(Topology.SESSION_TIMEOUT.toMillis() + 2_000 + random.nextInt(3_000));
                a.resume();
            }
            case LEADER_KILL, CONTROLLER_KILL -> {
                t.awaitFullIsr(Duration.ofSeconds(90));
                int partition = random.nextInt(t.partitions);
                int node = kind == FaultKind.LEADER_KILL ? t.cluster.leaderOf(Topology.TOPIC, partition) : t.cluster.activeController();
                say(kind.label() + " node " + node + (kind == FaultKind.LEADER_KILL ? " (leader of partition " + partition + ")" : ""));
                KafkaBrokerProcess p = t.cluster.node(node);
                p.kill();
                sleep(3_000 + random.nextInt(5_000));
                p.restart();
            }
            case POSTGRES_RESTART -> {
                say(kind.label());
                t.restartPostgres();
            }
            case DB_BLACKHOLE -> {
                long ms = 10_000 + random.nextInt(10_001);
                say(kind.label() + " for " + ms + " ms: the aggregators' database connections go silent");
                t.dbProxy.blackhole();
                try {
                    // What reached the server before the blackhole finishes; after that, nothing may move.
                    sleep(2_000);
                    Map<TopicPartition, Long> before = Checker.storedOffsets(t);
                    sleep(ms - 2_000);
                    if (!Checker.storedOffsets(t).equals(before)) {
                        throw new IllegalStateException("stored offsets moved during the blackhole: an aggregator reaches the database around the proxy");
                    }
                } finally {
                    t.dbProxy.heal();
                }
            }
            case REBALANCE -> {
                say(kind.label() + ": two aggregators join, then leave");
                List<ChildJvm> extra = t.startAggregators(2);
                sleep(2_000 + random.nextInt(4_000));
                for (ChildJvm e : extra) {
                    e.terminate(Duration.ofSeconds(30));
                }
            }
            case COLLECTOR_KILL -> {
                say(kind.label());
                t.collector().kill();
                sleep(1_000 + random.nextInt(2_000));
                t.startCollector();
            }
            case REWIND -> {
                int kills = 1 + random.nextInt(2);
                say(kind.label() + ": a replay from the earliest record, kill -9ed " + kills + " time(s), then run to its switch");
                for (int k = 0; k < kills; k++) {
                    ChildJvm replay = t.startReplay();
                    sleep(3_000 + random.nextInt(6_000));
                    replay.kill();
                    say(kind.label() + ": replay killed (" + (replay.isAlive() ? "still alive?" : "exit " + replay.exitCode()) + ")");
                }
                ChildJvm replay = t.startReplay();
                java.util.OptionalInt exit = replay.awaitExit(Duration.ofMinutes(4));
                if (exit.isEmpty() || exit.getAsInt() != 0) {
                    replay.kill();
                    throw new IllegalStateException("the replay did not switch (exit " + exit + "): " + replay.stderrTail());
                }
                say(kind.label() + ": " + replay.lines().stream().filter(l -> l.startsWith("switched")).findFirst().orElse("switched"));
            }
        }
    }

    /**
     * A process that ended by itself is a finding (an aggregator in naive mode: the naive code's);
     * it is restarted either way, so that the run goes on.
     */
    private void superviseProcesses(Topology t) {
        if (!t.collector().isAlive()) {
            unexpectedExits.incrementAndGet();
            say("the collector exited by itself (" + t.collector().exitCode() + "): " + t.collector().stderrTail());
            t.startCollector();
        }
        for (int i = 0; i < t.aggregators.size(); i++) {
            ChildJvm a = t.aggregators.get(i);
            if (!a.isAlive()) {
                if (!naive) {
                    unexpectedExits.incrementAndGet();
                    say("aggregator #" + i + " exited by itself (" + a.exitCode() + "): " + a.stderrTail());
                }
                t.aggregators.set(i, t.startAggregator());
            }
        }
    }

    private void heal(Topology t) throws Exception {
        t.dbProxy.heal();
        for (KafkaBrokerProcess node : t.cluster.nodes().values()) {
            if (!node.isAlive()) {
                node.restart();
            }
        }
        for (ChildJvm a : t.aggregators) {
            if (a.isSuspended()) {
                a.resume();
            }
        }
        superviseProcesses(t);
    }

    private void report(long s, List<FaultKind> kinds, LoadGenerator load, Checker.Result r, OffsetSampler sampler, boolean enough) {
        StringBuilder out = new StringBuilder();
        out.append(String.format("%n== chaos%s, seed %d, load and faults for %.1f min ==%n", naive ? " (NAIVE aggregator)" : "", s,
                ranNanos / 60e9));
        out.append(String.format("%-22s %8s%n", "fault", "injected"));
        for (FaultKind k : kinds) {
            out.append(String.format("%-22s %8d%n", k.label(), injected.get(k).get()));
        }
        out.append(String.format("%n%-22s %12s %12s%n", "events", "sent", "acknowledged"));
        out.append(String.format("%-22s %12d %12d%n", "beacons (HTTP)", load.sentBeacons.get(), load.ackedBeacons.size()));
        out.append(String.format("%-22s %12d %12d%n", "records (Kafka)", load.sentRecords.get(), load.ackedRecords.size()));
        out.append(String.format("%-22s %12d %12d%n", "poison records", load.sentPoison.get(), load.ackedPoison.size()));
        out.append(String.format("%n%-44s %10d%n", "records in Kafka", r.inKafka()));
        out.append(String.format("%-44s %10d%n", "valid events in Kafka (the truth)", r.validInKafka()));
        out.append(String.format("%-44s %10d%n", "counted in the store", r.counted()));
        out.append(String.format("%-44s %10d%n", "lost (acknowledged, not in Kafka)", r.ackedLost()));
        out.append(String.format("%-44s %10d%n", "acknowledged ids in Kafka more than once", r.ackedDuplicated()));
        out.append(String.format("%-44s %10d%n", "lost counts (truth > store, per path+hour)", r.countsLost()));
        out.append(String.format("%-44s %10d%n", "duplicated counts (store > truth)", r.countsDuplicated()));
        out.append(String.format("%-44s %10d%n", "poison in Kafka", r.poisonInKafka()));
        out.append(String.format("%-44s %10d%n", "poison missing from the DLQ", r.dlqMissing()));
        out.append(String.format("%-44s %10d%n", "DLQ records that are not poison", r.dlqUnexpected()));
        out.append(String.format("%-44s %10d%n", "DLQ redeliveries (at-least-once, allowed)", r.dlqRedelivered()));
        out.append(String.format("%-44s %10d%n", "stored though unacknowledged (allowed)", r.storedUnacknowledged()));
        if (sampler != null) {
            out.append(String.format("%-44s %10d%n", "stored offsets moved backwards (samples " + sampler.samples.get() + ")",
                    sampler.backwards.get()));
        }
        out.append(String.format("%-44s %10d%n", "processes that exited by themselves", unexpectedExits.get()));
        out.append(String.format("%-44s %10d%n", "faults that could not be completed", failedFaults.get()));
        if (!enough) {
            out.append("not every fault kind was injected " + minEach + " times: run longer\n");
        }
        boolean passed = r.passed() && enough && unexpectedExits.get() == 0 && failedFaults.get() == 0
                && (sampler == null || sampler.backwards.get() == 0);
        out.append(passed ? "RESULT: PASS\n" : "RESULT: FAIL\n");
        System.out.print(out);
        System.out.flush();
    }

    private void say(String line) {
        double t = startNanos == 0 ? 0 : (System.nanoTime() - startNanos) / 1e9;
        System.out.printf("chaos [%7.1fs] %s%n", t, line);
        System.out.flush();
    }

    private static void sleep(long ms) throws InterruptedException {
        Thread.sleep(ms);
    }
}
