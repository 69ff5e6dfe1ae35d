package dev.tally.consumer.internal;

/**
 * What to do when Kafka says a stored offset is out of range, given the log's bounds then.
 * Never skip a record still in the log; never move a stored offset backwards on our own.
 */
enum OutOfRange {
    /** Inside [log start, log end]: a passing surprise (a leader change); read on from the stored offset. */
    RESUME,
    /** Below the log start: retention deleted records before they were read; go on at the start and report the gap. */
    GAP,
    /** Beyond the log end: the topic was deleted and recreated (or truncated); stop the partition, an operator decides. */
    HALT;

    static OutOfRange of(long stored, long logStart, long logEnd) {
        if (stored < logStart) {
            return GAP;
        }
        return stored > logEnd ? HALT : RESUME;
    }
}
