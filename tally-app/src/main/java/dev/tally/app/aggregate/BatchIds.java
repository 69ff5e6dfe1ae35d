package dev.tally.app.aggregate;

/**
 * Dictionary ids found in one batch, by the instances of their key's parts. The decoder hands out
 * one instance of each popular site, path, referrer host and dimension set, so a batch's views
 * of one page or segment mostly carry the same instances: found here by identity, they need no
 * key object and no hash map lookup. A miss (an instance not seen in the batch, two keys in one
 * slot) only sends the caller to the dictionary; an id is never another key's, as every part is
 * compared. Valid for one batch: the ids it holds may not be confirmed yet (see {@link PageIds}).
 */
final class BatchIds {

    private final Object[] parts;
    private final int[] ids;

    /** @param size slots, a power of two */
    BatchIds(int size) {
        if (Integer.bitCount(size) != 1) {
            throw new IllegalArgumentException("size must be a power of two: " + size);
        }
        this.parts = new Object[3 * size];
        this.ids = new int[size];
    }

    /** The id put for exactly these instances ({@code c} may be {@code null}), or 0. */
    int get(Object a, Object b, Object c) {
        int slot = slot(a, b, c);
        int i = 3 * slot;
        return parts[i] == a && parts[i + 1] == b && parts[i + 2] == c ? ids[slot] : 0;
    }

    /** Remembers {@code id} (not 0) for these instances, in place of what shared their slot. */
    void put(Object a, Object b, Object c, int id) {
        int slot = slot(a, b, c);
        int i = 3 * slot;
        parts[i] = a;
        parts[i + 1] = b;
        parts[i + 2] = c;
        ids[slot] = id;
    }

    private int slot(Object a, Object b, Object c) {
        int h = (System.identityHashCode(a) * 31 + System.identityHashCode(b)) * 31 + System.identityHashCode(c);
        return (h ^ h >>> 16) & (ids.length - 1);
    }
}
