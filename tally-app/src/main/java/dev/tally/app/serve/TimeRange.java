package dev.tally.app.serve;

/** A half-open range of epoch milliseconds {@code [from, to)}: a bucket starting at {@code t} is in it when {@code from ≤ t < to}. */
record TimeRange(long from, long to) {

    TimeRange {
        if (from > to) {
            throw new IllegalArgumentException("from " + from + " is after to " + to);
        }
    }
}
