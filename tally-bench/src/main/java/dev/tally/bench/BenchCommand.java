package dev.tally.bench;

import dev.tally.broker.KafkaCluster;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code bin/tally bench}: the aggregator against its alternatives, side by side in one run, on
 * one embedded broker (a child JVM) and the same topics. Each workload's topic (4 partitions,
 * event format v1) is written once; every contender then reads it with a fresh group and a fresh
 * store, {@code --runs} times. It prints each run, then the median, min and max records/s and
 * the ratios, and exits 1 if an exact contender did not count exactly. With {@code --collector} it
 * measures the beacon endpoint instead ({@link CollectorBench}).
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Measures the aggregator against a plain consumer, Kafka Streams, a naive consumer and the store's own limit; checks every exact count.")
public final class BenchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--quick", description = "a small topic and one run of each (a few minutes)")
    boolean quick;

    @Option(names = "--events", description = "events of the views workload (default ${DEFAULT-VALUE}; --quick: 200000)")
    long events = 5_000_000;

    @Option(names = "--beacon-events", description = "events of the beacons workload (default ${DEFAULT-VALUE}; --quick: 50000)")
    long beaconEvents = 1_000_000;

    @Option(names = "--paths", description = "distinct paths (default ${DEFAULT-VALUE})")
    int paths = 10_000;

    @Option(names = "--runs", description = "runs of each contender (default ${DEFAULT-VALUE}; --quick: 1)")
    int runs = 3;

    @Option(names = "--workloads", split = ",", description = "views, beacons (default: both)")
    List<String> workloads = new ArrayList<>(List.of("views", "beacons"));

    @Option(names = "--shuffled-times", description = "event times at random over the span instead of rising with the offsets, as a collector writes them: a worst case for the stores")
    boolean shuffledTimes;

    @Option(names = "--contenders", description = "letters of the contenders to run (default ${DEFAULT-VALUE})")
    String contenders = "abcdefg";

    @Option(names = "--streams-threads", split = ",", description = "stream threads of (c); the best counts (default 1,2)")
    List<Integer> streamsThreads = new ArrayList<>(List.of(1, 2));

    @Option(names = "--tally-threads", split = ",",
            description = "group members of (e) and (f) in their process, as aggregate --threads; each is a contender (default 1,2)")
    List<Integer> tallyThreads = new ArrayList<>(List.of(1, 2));

    @Option(names = "--naive-records", description = "records (d) processes before it is extrapolated (default ${DEFAULT-VALUE}; --quick: 2000)")
    long naiveRecords = 100_000;

    @Option(names = "--postgres", paramLabel = "JDBC_URL",
            description = "a database on the PostgreSQL server, for creating each run's own (default ${DEFAULT-VALUE})")
    String postgres = "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres";

    @Option(names = "--memory", description = "instead: the aggregator's heap and RSS in a -Xmx256m JVM over --memory-events events on --memory-paths distinct paths")
    boolean memory;

    @Option(names = "--memory-events", description = "(default ${DEFAULT-VALUE})")
    long memoryEvents = 10_000_000;

    @Option(names = "--memory-paths", description = "(default ${DEFAULT-VALUE})")
    int memoryPaths = 1_000_000;

    @Option(names = "--memory-store", description = "sqlite or postgresql (default ${DEFAULT-VALUE})")
    String memoryStore = "sqlite";

    @Option(names = "--collector", description = "instead: the collector of run and of collect under wrk (against /health on the same server), and beacon -> /api/views at a steady rate; needs wrk")
    boolean collector;

    @Option(names = "--wrk-seconds", description = "length of each wrk run of --collector (default ${DEFAULT-VALUE}; --quick: 5)")
    int wrkSeconds = 20;

    @Option(names = "--collector-seconds", description = "length of the end-to-end run of --collector (default ${DEFAULT-VALUE}; --quick: 10)")
    int collectorSeconds = 30;

    @Option(names = "--api", description = "instead: the stats API's answer times over --api-days days of --api-views-per-day views, on PostgreSQL")
    boolean api;

    @Option(names = "--api-days", description = "(default ${DEFAULT-VALUE}; --quick: 3)")
    int apiDays = 30;

    @Option(names = "--api-views-per-day", description = "(default ${DEFAULT-VALUE}; --quick: 100000)")
    long apiViewsPerDay = 1_000_000;

    @Option(names = "--collector-rate", description = "beacons a second of the end-to-end run of --collector (default ${DEFAULT-VALUE})")
    int collectorRate = 1_000;

    private final PrintStream out = System.out;

    @Override
    public Integer call() throws Exception {
        if (quick) {
            events = Math.min(events, 200_000);
            beaconEvents = Math.min(beaconEvents, 50_000);
            runs = 1;
            naiveRecords = Math.min(naiveRecords, 2_000);
            memoryEvents = Math.min(memoryEvents, 500_000);
            memoryPaths = Math.min(memoryPaths, 50_000);
            wrkSeconds = Math.min(wrkSeconds, 5);
            collectorSeconds = Math.min(collectorSeconds, 10);
            apiDays = Math.min(apiDays, 3);
            apiViewsPerDay = Math.min(apiViewsPerDay, 100_000);
        }
        if (collector) {
            return collector();
        }
        if (api) {
            if (apiDays < 1 || apiViewsPerDay < 300) {
                throw new ParameterException(spec.commandLine(), "--api-days must be positive and --api-views-per-day at least 300");
            }
            Path dir = Files.createTempDirectory("tally-bench-");
            try {
                return new ApiBench(out, dir).run(postgres, apiDays, apiViewsPerDay);
            } finally {
                deleteTree(dir);
            }
        }
        if (runs < 1 || events < 1 || beaconEvents < 1 || paths < 1) {
            throw new ParameterException(spec.commandLine(), "--runs, --events, --beacon-events and --paths must be positive");
        }
        Path dir = Files.createTempDirectory("tally-bench-");
        out.printf("== tally bench, %s, %d cores, load %s ==%n", Instant.now().truncatedTo(ChronoUnit.SECONDS),
                Runtime.getRuntime().availableProcessors(), loadAverage());
        try (KafkaCluster broker = KafkaCluster.builder().nodes(1).jvmArgs("-Xmx1g").build().start()) {
            if (memory) {
                return new MemoryRun(broker, dir, out).run(Workload.uniform(memoryEvents, memoryPaths),
                        "postgresql".equalsIgnoreCase(memoryStore) ? Store.Kind.POSTGRESQL : Store.Kind.SQLITE, postgres);
            }
            boolean allExact = true;
            for (String name : workloads) {
                Workload w = switch (name) {
                    case "views" -> Workload.views(events, paths);
                    case "beacons" -> Workload.beacons(beaconEvents, paths);
                    default -> throw new ParameterException(spec.commandLine(), "unknown workload " + name);
                };
                allExact &= measure(broker, shuffledTimes ? w.withShuffledTimes() : w, dir);
            }
            out.println(allExact ? "RESULT: every exact contender counted exactly" : "RESULT: a contender did NOT count exactly");
            return allExact ? 0 : 1;
        } finally {
            deleteTree(dir);
        }
    }

    private int collector() throws Exception {
        if (wrkSeconds < 1 || collectorSeconds < 1 || collectorRate < 1) {
            throw new ParameterException(spec.commandLine(), "--wrk-seconds, --collector-seconds and --collector-rate must be positive");
        }
        if (!CollectorBench.wrkAvailable()) {
            System.err.println("bench --collector needs wrk on the PATH (Debian: apt-get install wrk)");
            return 2;
        }
        Path dir = Files.createTempDirectory("tally-bench-collector-");
        out.printf("== tally bench --collector, %s, %d cores, load %s ==%n", Instant.now().truncatedTo(ChronoUnit.SECONDS),
                Runtime.getRuntime().availableProcessors(), loadAverage());
        try {
            int result = new CollectorBench(out, dir).run(wrkSeconds, collectorSeconds, collectorRate);
            out.printf("(load at the end: %s)%n", loadAverage());
            return result;
        } finally {
            deleteTree(dir);
        }
    }

    private boolean measure(KafkaCluster broker, Workload w, Path dir) throws Exception {
        String topic = "bench-" + w.name();
        out.printf("%n== workload %s: %,d events, %,d paths, 4 partitions, times %s ==%n", w.name(), w.events(), w.paths(),
                w.shuffledTimes() ? "shuffled" : "in the topic's order");
        Trial trial = write(broker, topic, w, dir);
        List<Contender> all = new ArrayList<>(List.of(new Discard(), new PlainConsumer()));
        streamsThreads.forEach(n -> all.add(new StreamsCount(n)));
        all.add(new NaiveUpsert());
        tallyThreads.forEach(n -> all.add(new TallyRun(Store.Kind.SQLITE, n)));
        tallyThreads.forEach(n -> all.add(new TallyRun(Store.Kind.POSTGRESQL, n)));
        all.addAll(List.of(new StoreLimit(Store.Kind.POSTGRESQL), new StoreLimit(Store.Kind.SQLITE)));
        Map<Contender, List<Progress.Run>> results = new LinkedHashMap<>();
        for (Contender c : all) {
            if (contenders.indexOf(c.letter()) < 0 || !c.appliesTo(w)) {
                continue;
            }
            int n = c.letter() == 'd' ? 1 : runs;
            for (int i = 1; i <= n; i++) {
                Progress.Run r = c.run(trial);
                results.computeIfAbsent(c, k -> new ArrayList<>()).add(r);
                CpuClock.Cpu cpu = r.cpuPerRecord();
                out.printf("  %-52s run %d: %,12.0f records/s  %7.2f s  cpu ns/record: %,6d here %,6d broker %,6d postgres  %s%n",
                        c.name(), i, r.rate(), r.seconds(), cpu.contender(), cpu.broker(), cpu.database(), r.check());
                out.flush();
            }
        }
        return table(w, results);
    }

    /** Writes the workload to its topic once, and the reference aggregates of the same events. */
    private Trial write(KafkaCluster broker, String topic, Workload w, Path dir) throws Exception {
        broker.createTopic(topic, 4);
        Aggregates reference = new Aggregates();
        long[] streamKeys = new long[1];
        long start = System.nanoTime();
        w.produce(broker.bootstrapServers(), topic, e -> {
            reference.add(e.view(), e.host());
            streamKeys[0] += Aggregates.streamKeys(e.view()).size();
        });
        out.printf("  wrote the topic in %.1f s; reference: %,d page-hours, %,d pages, %,d host-days, %,d page-segment-days,"
                + " %,d visitor rows (page), %,d (segment), %,d (site)%n",
                (System.nanoTime() - start) / 1e9, reference.hourly.size(), reference.totals.size(), reference.referrers.size(),
                reference.segments.size(), reference.visits.size(), reference.segmentVisits.size(), reference.siteVisits.size());
        return new Trial(broker.bootstrapServers(), topic, w, reference, w.events(), streamKeys[0],
                postgres, dir, naiveRecords);
    }

    private boolean table(Workload w, Map<Contender, List<Progress.Run>> results) {
        double plain = median(results, 'b');
        double streams = results.entrySet().stream().filter(e -> e.getKey().letter() == 'c')
                .mapToDouble(e -> median(e.getValue())).max().orElse(Double.NaN);
        Map<String, Double> limits = new LinkedHashMap<>();
        results.forEach((c, runs) -> {
            if (c.letter() == 'g') {
                limits.put(c.name().endsWith("SQLite") ? "SQLite" : "PostgreSQL", median(runs));
            }
        });
        out.printf("%n%s: %,d events, %d run(s) each (d: 1 run)%n", w.name(), w.events(), runs);
        out.printf("%-52s %12s %12s %12s %7s %7s %7s %9s  %s%n", "contender", "median/s", "min/s", "max/s", "x (b)", "x (c)", "x (g)",
                "cpu µs/r", "counts");
        boolean exact = true;
        for (Map.Entry<Contender, List<Progress.Run>> e : results.entrySet()) {
            Contender c = e.getKey();
            double[] rates = e.getValue().stream().mapToDouble(Progress.Run::rate).sorted().toArray();
            double med = median(e.getValue());
            Double limit = c.letter() == 'e' ? limits.get("SQLite") : c.letter() == 'f' ? limits.get("PostgreSQL") : null;
            String check = e.getValue().stream().map(Progress.Run::check).filter(s -> !s.startsWith("exact")).findFirst().orElse("exact");
            if (check.startsWith("WRONG")) {
                exact = false;
            }
            double cpu = e.getValue().stream().mapToLong(r -> r.cpuPerRecord().contender() + r.cpuPerRecord().broker() + r.cpuPerRecord().database())
                    .sorted().skip((e.getValue().size() - 1) / 2).findFirst().orElse(0) / 1000.0;
            out.printf("%-52s %,12.0f %,12.0f %,12.0f %7s %7s %7s %9.2f  %s%n", c.name(), med, rates[0], rates[rates.length - 1],
                    ratio(med, plain), ratio(med, streams), limit == null ? "" : ratio(med, limit), cpu, check);
        }
        return exact;
    }

    private static String ratio(double a, double b) {
        return Double.isNaN(b) || b == 0 ? "" : String.format(Locale.ROOT, "%.2f", a / b);
    }

    private static double median(Map<Contender, List<Progress.Run>> results, char letter) {
        return results.entrySet().stream().filter(e -> e.getKey().letter() == letter).mapToDouble(e -> median(e.getValue()))
                .findFirst().orElse(Double.NaN);
    }

    private static double median(List<Progress.Run> runs) {
        double[] r = runs.stream().mapToDouble(Progress.Run::rate).sorted().toArray();
        return r.length % 2 == 1 ? r[r.length / 2] : (r[r.length / 2 - 1] + r[r.length / 2]) / 2;
    }

    static String loadAverage() {
        try {
            return Arrays.stream(Files.readString(Path.of("/proc/loadavg")).split(" ")).limit(3).reduce((a, b) -> a + " " + b).orElse("?");
        } catch (IOException e) {
            return "unknown";
        }
    }

    static void deleteTree(Path dir) throws IOException {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}
