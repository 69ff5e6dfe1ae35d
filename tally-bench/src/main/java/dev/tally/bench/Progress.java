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
        }
        if (total != done) {
            lastChangeNanos = now;
        } else if (now - lastChangeNanos > STALL_NANOS) {
            throw new IllegalStateException("no progress for " + STALL_NANOS / 1_000_000_000L + " s at " + total + " of " + target + " records");
        }
        done = total;
        if (endNanos < 0 && total >= target) {
            endNanos = now;
        }
    }

    /** Starts the clock now with nothing done yet (for contenders whose first sign of progress is not a count). */
    void startNow() {
        if (startNanos < 0) {
            startNanos = System.nanoTime();
        }
    }

    boolean finished() {
        return endNanos >= 0;
    }

    /** Stops the clock now, whatever the count says. */
    void finishNow() {
        if (endNanos < 0) {
            endNanos = System.nanoTime();
        }
        done = Math.max(done, target);
    }

    long done() {
        return done;
    }

    Run result(String check) {
        double seconds = Math.max(endNanos - startNanos, 1_000) / 1e9;
        return new Run((target - doneAtStart) / seconds, target, seconds, check);
    }

    /** One measured run: records per second over {@code seconds}; {@code check} says whether it counted exactly. */
    record Run(double rate, long records, double seconds, String check) {
        boolean exact() {
            return check.startsWith("exact");
        }
    }
}
