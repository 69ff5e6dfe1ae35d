package dev.tally.consumer.internal;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/** Capped exponential backoff with full jitter, so that many consumers do not retry in step. */
public final class Backoff {

    private final long initialMillis;
    private final long maxMillis;

    public Backoff(Duration initial, Duration max) {
        this.initialMillis = Math.max(1, initial.toMillis());
        this.maxMillis = Math.max(initialMillis, max.toMillis());
    }

    /** The delay before retry number {@code attempt} (1 for the first retry). */
    public long delayMillis(int attempt) {
        int shift = Math.min(Math.max(attempt - 1, 0), 30);
        long ceiling = Math.min(maxMillis, initialMillis << shift);
        if (ceiling <= 0) {
            ceiling = maxMillis;
        }
        // Half fixed, half random: never zero, never in lock step.
        return ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
    }

    public long maxMillis() {
        return maxMillis;
    }
}
