package dev.tally.app.serve;

/**
 * Whole UTC days {@code [first, end)}, counted since the epoch like the day columns of the store:
 * what filtered figures and visitors are counted over (visitors are unique per UTC day).
 */
record DayRange(long first, long end) {

    private static final long DAY = 86_400_000L;

    DayRange {
        if (first < 0 || end < first) {
            throw new IllegalArgumentException("days [" + first + ", " + end + ")");
        }
    }

    /** The same number of days just before these, cut at the epoch. */
    DayRange previous() {
        long n = end - first;
        return new DayRange(Math.max(0, first - n), first);
    }

    long fromMillis() {
        return first * DAY;
    }

    long toMillis() {
        return end * DAY;
    }
}
