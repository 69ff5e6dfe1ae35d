package dev.tally.bench;

import dev.tally.broker.ChildJvm;
import dev.tally.broker.KafkaCluster;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;

/**
 * {@code bin/tally bench --memory}: the aggregator's memory over many events and distinct pages.
 * The topic is written, then {@link MemoryProbe} runs the aggregator in a {@code -Xmx256m} JVM;
 * at the end the store must hold every view.
 */
final class MemoryRun {

    private final KafkaCluster broker;
    private final Path dir;
    private final PrintStream out;

    MemoryRun(KafkaCluster broker, Path dir, PrintStream out) {
        this.broker = broker;
        this.dir = dir;
        this.out = out;
    }

    int run(Workload w, Store.Kind kind, String postgres) throws Exception {
        String topic = "bench-memory";
        broker.createTopic(topic, 4);
        long start = System.nanoTime();
        w.produce(broker.bootstrapServers(), topic, e -> { });
        out.printf("== memory: %,d events over %,d paths (uniform), written in %.1f s; aggregator in -Xmx256m -> %s ==%n",
                w.events(), w.paths(), (System.nanoTime() - start) / 1e9, kind == Store.Kind.SQLITE ? "SQLite" : "PostgreSQL");
        try (Store store = Store.create(kind, postgres, dir);
                ChildJvm probe = ChildJvm.builder(MemoryProbe.class).name("memory-probe").jvmArgs("-Xmx256m")
                        .args(broker.bootstrapServers(), topic, store.jdbcUrl, Long.toString(w.events())).start()) {
            int shown = 0;
            long deadline = System.nanoTime() + Duration.ofHours(1).toNanos();
            while (System.nanoTime() < deadline) {
                var lines = probe.lines();
                for (; shown < lines.size(); shown++) {
                    out.println(lines.get(shown));
                }
                if (lines.contains("DONE") || lines.contains("FAILED") || !probe.isAlive()) {
                    break;
                }
                Thread.sleep(500);
            }
            boolean done = probe.lines().contains("DONE");
            long stored = done ? StoreReader.totalViews(store.jdbcUrl) : -1;
            out.printf("views in the store: %,d of %,d%n", stored, w.events());
            boolean ok = done && stored == w.events();
            out.println(ok ? "RESULT: completed in -Xmx256m, every view stored" : "RESULT: FAILED (see above)");
            return ok ? 0 : 1;
        }
    }
}
