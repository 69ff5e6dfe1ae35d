package dev.tally.consumer;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a partition starts when the database holds no offset for it yet (the first time a group
 * reads a partition). Once a partition has a stored offset, the stored offset always wins; to
 * move it, use {@link OffsetStore#rewind}.
 */
public final class StartPosition {

    private enum Kind { EARLIEST, LATEST, TIMESTAMP }

    private static final StartPosition EARLIEST = new StartPosition(Kind.EARLIEST, null);
    private static final StartPosition LATEST = new StartPosition(Kind.LATEST, null);

    private final Kind kind;
    private final Instant timestamp;

    private StartPosition(Kind kind, Instant timestamp) {
        this.kind = kind;
        this.timestamp = timestamp;
    }

    /** Starts at the oldest record still in the partition. The default. */
    public static StartPosition earliest() {
        return EARLIEST;
    }

    /** Starts after the last record in the partition at the time it is first assigned. */
    public static StartPosition latest() {
        return LATEST;
    }

    /**
     * Starts at the first record whose timestamp is at or after {@code time}; a partition with no
     * such record starts at its end.
     *
     * @param time the earliest record time to read
     */
    public static StartPosition timestamp(Instant time) {
        return new StartPosition(Kind.TIMESTAMP, Objects.requireNonNull(time, "time"));
    }

    /** Whether this is {@link #earliest()}. */
    public boolean isEarliest() {
        return kind == Kind.EARLIEST;
    }

    /** Whether this is {@link #latest()}. */
    public boolean isLatest() {
        return kind == Kind.LATEST;
    }

    /** The time of a {@link #timestamp(Instant)} position, empty for the others. */
    public Optional<Instant> time() {
        return Optional.ofNullable(timestamp);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StartPosition other && kind == other.kind && Objects.equals(timestamp, other.timestamp);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, timestamp);
    }

    @Override
    public String toString() {
        return kind == Kind.TIMESTAMP ? "timestamp(" + timestamp + ")" : kind.name().toLowerCase(java.util.Locale.ROOT);
    }
}
