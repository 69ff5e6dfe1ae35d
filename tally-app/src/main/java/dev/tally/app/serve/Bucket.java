package dev.tally.app.serve;

/** The width of one point of {@code /api/series}: a UTC hour or a UTC day. */
enum Bucket {
    HOUR(3_600_000L),
    DAY(86_400_000L);

    /** The width in milliseconds; buckets start at multiples of it from the epoch (UTC). */
    final long millis;

    Bucket(long millis) {
        this.millis = millis;
    }

    /** The start of the first bucket at or after {@code t}. */
    long ceil(long t) {
        return Math.floorDiv(t + millis - 1, millis) * millis;
    }

    /** The start of the bucket holding {@code t}. */
    long floor(long t) {
        return Math.floorDiv(t, millis) * millis;
    }

    String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
