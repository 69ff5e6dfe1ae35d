package dev.tally.app.serve;

/**
 * The buckets of one {@code /api/series} answer: {@code count} buckets of {@code bucket} width,
 * the first starting at {@code first}. Every one of them is answered, zeros included, so that a
 * chart needs no gap filling.
 */
record SeriesRange(Bucket bucket, long first, int count) {

    /** The end of the last bucket (exclusive). */
    long end() {
        return first + count * bucket.millis;
    }

    /** The hours the buckets cover: the rows of {@code views_hourly} to sum. */
    TimeRange hours() {
        return new TimeRange(first, end());
    }

    /** The start of bucket {@code i}. */
    long start(int i) {
        return first + i * bucket.millis;
    }
}
