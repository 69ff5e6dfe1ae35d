package dev.tally.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * CPU time spent so far, read from {@code /proc}: by this JVM (the contender, and SQLite or RocksDB
 * inside it), by its child processes (the broker) and by the PostgreSQL server's processes. On a
 * shared machine a rate depends on what else runs; CPU time per record does much less, so the
 * bench reports both. Zero everywhere when {@code /proc} cannot be read (not Linux).
 */
final class CpuClock {

    /** CPU nanoseconds of each side. */
    record Cpu(long contender, long broker, long database) {
        Cpu minus(Cpu o) {
            return new Cpu(contender - o.contender, broker - o.broker, database - o.database);
        }
    }

    /** Clock ticks per second of {@code /proc/<pid>/stat}: 100 on every Linux that Java runs on. */
    private static final long TICK_NANOS = 10_000_000L;

    private CpuClock() {}

    static Cpu now() {
        long self = ticks(ProcessHandle.current().pid());
        long children = ProcessHandle.current().descendants().mapToLong(p -> ticks(p.pid())).sum();
        long database = 0;
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            database = procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .filter(p -> "postgres".equals(read(p.resolve("comm")).strip()))
                    .mapToLong(p -> ticks(Long.parseLong(p.getFileName().toString()))).sum();
        } catch (IOException | RuntimeException e) {
            // no /proc: report zero
        }
        return new Cpu(self * TICK_NANOS, children * TICK_NANOS, database * TICK_NANOS);
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
