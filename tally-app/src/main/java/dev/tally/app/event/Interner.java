package dev.tally.app.event;

/**
 * A small direct-mapped table of values seen, so that equal values decoded from different records
 * become one instance: a batch keeps its decoded records until it commits, and a copy of a
 * repeating value per record would be most of their memory. A value that meets another in its slot
 * takes the slot; the next equal one is then a copy again, never a wrong value.
 *
 * <p>Entries are immutable and published through a plain array, as in {@link FieldCache}: racing
 * decoders may each keep their own instance, both right.
 */
final class Interner<T> {

    private final Object[] seen;

    /** @param size entries, a power of two */
    Interner(int size) {
        if (Integer.bitCount(size) != 1) {
            throw new IllegalArgumentException("size must be a power of two: " + size);
        }
        this.seen = new Object[size];
    }

    /** {@code value}, or an equal instance seen before; {@code null} for {@code null}. */
    @SuppressWarnings("unchecked")
    T intern(T value) {
        if (value == null) {
            return null;
        }
        int h = value.hashCode();
        int slot = (h ^ h >>> 16) & (seen.length - 1);
        Object before = seen[slot];
        if (value.equals(before)) {
            return (T) before;
        }
        seen[slot] = value;
        return value;
    }
}
