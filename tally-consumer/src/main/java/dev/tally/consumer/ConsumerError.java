package dev.tally.consumer;

import java.time.Instant;
import java.util.Objects;

/**
 * One failure seen by a {@link TallyConsumer}, as passed to an {@link ErrorListener}.
 *
 * <p>Where the failure concerns records, {@code topic}, {@code partition} and the offset range
 * {@code [fromOffset, toOffset)} name them (a failed batch produces one report per partition);
 * otherwise {@code topic} is {@code null}, {@code partition} is {@code -1} and the offsets are
 * {@code -1}.
 *
 * @param phase where in the consumer's cycle the failure happened
 * @param group the consumer group
 * @param topic the topic, or {@code null}
 * @param partition the partition, or {@code -1}
 * @param fromOffset the first offset concerned, or {@code -1}
 * @param toOffset the offset after the last one concerned, or {@code -1}
 * @param attempt how many times in a row this step has failed (1 for the first failure)
 * @param cause the exception
 * @param time when the failure was seen
 */
public record ConsumerError(
        Phase phase,
        String group,
        String topic,
        int partition,
        long fromOffset,
        long toOffset,
        int attempt,
        Throwable cause,
        Instant time) {

    /** Checks the required fields. */
    public ConsumerError {
        Objects.requireNonNull(phase, "phase");
        Objects.requireNonNull(cause, "cause");
        Objects.requireNonNull(time, "time");
    }

    /** The steps of a consumer's cycle, naming where a failure happened. */
    public enum Phase {
        /** Polling Kafka or joining the group; retried with backoff. */
        POLL,
        /** A record could not be decoded; it goes to the dead-letter topic. */
        DECODE,
        /** A record was rejected by the handler; it goes to the dead-letter topic. */
        REJECT,
        /** Reading or initialising stored offsets when partitions were assigned; retried. */
        ASSIGN,
        /** The handler or the database transaction failed; the batch was rolled back and is retried. */
        COMMIT,
        /**
         * The stored offset no longer matched what this consumer expected (another member or an
         * operator moved it): the batch was rolled back, never applied, and the partition is
         * re-read from the stored offset.
         */
        FENCED,
        /** Publishing to the dead-letter topic failed; the batch was rolled back and is retried. */
        DEAD_LETTER,
        /** Copying committed offsets to Kafka (for lag tools) failed; harmless, retried with the next batch. */
        KAFKA_COMMIT,
        /**
         * The database refused one record for good (a constraint, a value its column cannot hold,
         * an encoding it cannot store); under {@link FailurePolicy#DEAD_LETTER} the record was
         * isolated and went to the dead-letter topic, and the records around it were committed.
         */
        REFUSED,
        /**
         * One partition stopped while the others go on, because going on with it would skip or
         * double count records (a stored offset beyond the log end, a stored offset row that
         * vanished, a dead letter Kafka refuses for good). The cause says what an operator can
         * do; the partition resumes by itself once its stored offset is changed (for instance
         * with {@link OffsetStore#rewind}), or when the member restarts.
         */
        HALTED,
        /** The consumer gave up and stopped, never skipping data; it must be restarted. */
        FATAL,
        /** Something went wrong while shutting down. */
        CLOSE
    }

    /** A one-line description for logs. */
    public String describe() {
        StringBuilder s = new StringBuilder().append(phase).append(" group=").append(group);
        if (topic != null) {
            s.append(' ').append(topic).append('-').append(partition);
            if (fromOffset >= 0) {
                s.append(" offsets [").append(fromOffset).append(", ").append(toOffset).append(')');
            }
        }
        if (attempt > 1) {
            s.append(" attempt ").append(attempt);
        }
        return s.append(": ").append(cause).toString();
    }
}
