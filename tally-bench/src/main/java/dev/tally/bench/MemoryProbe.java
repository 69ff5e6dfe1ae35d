package dev.tally.bench;

import dev.tally.app.aggregate.Aggregator;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The aggregator alone in a JVM (started by {@link MemoryRun} with a small heap), reporting its
 * memory as the records go by: the heap in use after the last collection (the live data) at each
 * tenth of the topic, the highest heap in use sampled every 100 ms, and the peak resident set.
 * Arguments: bootstrap servers, topic, JDBC URL, records in the topic.
 */
public final class MemoryProbe {

    private MemoryProbe() {}

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String topic = args[1];
        String jdbcUrl = args[2];
        long records = Long.parseLong(args[3]);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        long peakHeap = 0;
        long nextReport = records / 10;
        long start = System.nanoTime();
        try (Aggregator a = Aggregator.start(bootstrap, topic, "bench-memory", jdbcUrl, 1, Map.of(), meters)) {
            long done = 0;
            while (done < records) {
                Thread.sleep(100);
                if (a.failed()) {
                    System.out.println("FAILED");
                    return;
                }
                done = (long) meters.find("tally.consumer.records").tag("outcome", "processed").counters().stream()
                        .mapToDouble(Counter::count).sum();
                peakHeap = Math.max(peakHeap, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
                if (done >= nextReport) {
                    System.out.printf("  %,12d records: heap after last GC %5.1f MiB, RSS %5.1f MiB%n", done,
                            mib(afterLastGc()), mib(procStatus("VmRSS:")));
                    nextReport += records / 10;
                }
            }
        }
        System.out.printf("  %,d records in %.1f s; peak heap in use %.1f MiB (max %.0f MiB); peak RSS %.1f MiB%n", records,
                (System.nanoTime() - start) / 1e9, mib(peakHeap), mib(Runtime.getRuntime().maxMemory()),
                mib(procStatus("VmHWM:")));
        System.out.println("DONE");
    }

    private static long afterLastGc() {
        long used = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            MemoryUsage u = pool.getCollectionUsage();
            if (pool.getType() == MemoryType.HEAP && u != null) {
                used += u.getUsed();
            }
        }
        return used;
    }

    /** A size from /proc/self/status, in bytes; 0 where there is none. */
    private static long procStatus(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]) * 1024;
                }
            }
        } catch (Exception e) {
            // not Linux
        }
        return 0;
    }

    private static double mib(long bytes) {
        return bytes / 1024.0 / 1024.0;
    }
}
