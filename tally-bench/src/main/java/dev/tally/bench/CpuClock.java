package dev.tally.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * CPU time spent so far, read from {@code /proc}: by the contender (this JVM, with RocksDB inside it,
 * and Tally's own JVM, with SQLite inside it), by the other child processes (the broker) and by the
 * PostgreSQL server's processes. On a
 * shared machine a rate depends on what else runs; CPU time per record does much less, so the
 * bench reports both. Zero everywhere when {@code /proc} cannot be read (not Linux).
 */
final class CpuClock {

    /** CPU nanoseconds of each side. */
    record Cpu(long contender, long broker, long database) {}

    /** A reading: CPU ticks per process, so that a process that ends or starts in between is counted right. */
    record Reading(long self, Map<Long, Long> children, Map<Long, Long> database) {

        /** The CPU spent from {@code before} to this reading. */
        Cpu minus(Reading before) {
            return new Cpu((self - before.self) * TICK_NANOS, since(children, before.children) * TICK_NANOS,
                    since(database, before.database) * TICK_NANOS);
        }

        private static long since(Map<Long, Long> now, Map<Long, Long> before) {
            long sum = 0;
            for (Map.Entry<Long, Long> e : now.entrySet()) {
                sum += Math.max(0, e.getValue() - before.getOrDefault(e.getKey(), 0L));
            }
            return sum;
        }
    }

    /** Clock ticks per second of {@code /proc/<pid>/stat}: 100 on every Linux that Java runs on. */
    private static final long TICK_NANOS = 10_000_000L;

    /** Child processes that are the contender itself (a {@code bin/tally aggregate}), not the broker. */
    private static final Set<Long> CONTENDERS = ConcurrentHashMap.newKeySet();

    private CpuClock() {}

    /** Counts {@code pid}, a child of this JVM, as the contender's CPU until {@link #forget}. */
    static void countAsContender(long pid) {
        CONTENDERS.add(pid);
    }

    static void forget(long pid) {
        CONTENDERS.remove(pid);
    }

    static Reading now() {
        long self = ticks(ProcessHandle.current().pid());
        for (long pid : CONTENDERS) {
            self += ticks(pid);
        }
        Map<Long, Long> children = new HashMap<>();
        ProcessHandle.current().descendants().filter(p -> !CONTENDERS.contains(p.pid())).forEach(p -> children.put(p.pid(), ticks(p.pid())));
        Map<Long, Long> database = new HashMap<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .filter(p -> "postgres".equals(read(p.resolve("comm")).strip()))
                    .forEach(p -> {
                        long pid = Long.parseLong(p.getFileName().toString());
                        database.put(pid, ticks(pid));
                    });
        } catch (IOException | RuntimeException e) {
            // no /proc: report zero
        }
        return new Reading(self, children, database);
    }

    /**
     * CPU nanoseconds spent so far by one process and the descendants it has now (a server and the
     * broker it started), so that a load generator started by this JVM is left out.
     */
    static long ofTree(ProcessHandle root) {
        long sum = ticks(root.pid());
        for (ProcessHandle p : (Iterable<ProcessHandle>) root.descendants()::iterator) {
            sum += ticks(p.pid());
        }
        return sum * TICK_NANOS;
    }

    /** utime + stime of a process, in ticks; 0 when it is gone. */
    private static long ticks(long pid) {
        String stat = read(Path.of("/proc", Long.toString(pid), "stat"));
        int close = stat.lastIndexOf(')'); // the command name may hold spaces and parentheses
        if (close < 0) {
            return 0;
        }
        String[] f = stat.substring(close + 2).split(" ");
        // after the name: state(0) ... utime(11) stime(12)
        return f.length > 12 ? Long.parseLong(f[11]) + Long.parseLong(f[12]) : 0;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "";
        }
    }
}
