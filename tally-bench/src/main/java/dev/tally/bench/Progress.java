package dev.tally.bench;

/**
 * The clock of one run: it starts at the first sign of progress (the first records polled, the
 * first commit) and stops when every record is done; the rate counts only the records done in
 * between, so group joins and start-up are left out for every contender alike.
 */
final class Progress {

    private final long target;
    private volatile long startNanos = -1;
    private long doneAtStart;
    private volatile long endNanos = -1;
    private long done;
    private long lastChangeNanos = System.nanoTime();
    private CpuClock.Reading cpuAtStart;
    private CpuClock.Reading cpuAtEnd;

    /** A run that moves no record for this long has failed (a lost broker, a stuck consumer). */
    static final long STALL_NANOS = 120_000_000_000L;

    Progress(long target) {
        this.target = target;
    }

    /** Records that {@code total} records are done now. */
    void at(long total) {
        long now = System.nanoTime();
        if (startNanos < 0 && total > 0) {
            startNanos = now;
            doneAtStart = total;
            cpuAtStart = CpuClock.now();
        }
        if (total != done) {
            lastChangeNanos = now;
        } else if (now - lastChangeNanos > STALL_NANOS) {
            throw new IllegalStateException("no progress for " + STALL_NANOS / 1_000_000_000L + " s at " + total + " of " + target + " records");
        }
        done = total;
        if (endNanos < 0 && total >= target) {
            endNanos = now;
            cpuAtEnd = CpuClock.now();
        }
    }

    /** Starts the clock now with nothing done yet (for contenders whose first sign of progress is not a count). */
    void startNow() {
        if (startNanos < 0) {
            startNanos = System.nanoTime();
            cpuAtStart = CpuClock.now();
        }
    }

    boolean finished() {
        return endNanos >= 0;
    }

    /** Stops the clock now, whatever the count says. */
    void finishNow() {
        if (endNanos < 0) {
            endNanos = System.nanoTime();
            cpuAtEnd = CpuClock.now();
        }
        done = Math.max(done, target);
    }

    long done() {
        return done;
    }

    Run result(String check) {
        double seconds = Math.max(endNanos - startNanos, 1_000) / 1e9;
        long records = Math.max(target - doneAtStart, 1);
        CpuClock.Cpu cpu = cpuAtStart == null || cpuAtEnd == null ? new CpuClock.Cpu(0, 0, 0) : cpuAtEnd.minus(cpuAtStart);
        return new Run(records / seconds, target, seconds, check,
                new CpuClock.Cpu(cpu.contender() / records, cpu.broker() / records, cpu.database() / records));
    }

    /**
     * One measured run: records per second over {@code seconds}; {@code check} says whether it
     * counted exactly; {@code cpuPerRecord} the CPU nanoseconds each side spent per record meanwhile.
     */
    record Run(double rate, long records, double seconds, String check, CpuClock.Cpu cpuPerRecord) {
        boolean exact() {
            return check.startsWith("exact");
        }
    }
}
