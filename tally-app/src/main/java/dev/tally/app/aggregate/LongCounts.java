package dev.tally.app.aggregate;

import java.util.Arrays;

/**
 * Counts per {@code long} key without boxing: open addressing, linear probing, key 0 reserved
 * for empty slots (page ids start at 1, so no key of the aggregator is 0).
 */
final class LongCounts {

    private long[] keys = new long[1024];
    private long[] counts = new long[1024];
    private int size;

    void add(long key, long n) {
        int mask = keys.length - 1;
        int i = slot(key) & mask;
        while (true) {
            long k = keys[i];
            if (k == key) {
                counts[i] += n;
                return;
            }
            if (k == 0) {
                keys[i] = key;
                counts[i] = n;
                if (++size * 2 > keys.length) {
                    grow();
                }
                return;
            }
            i = (i + 1) & mask;
        }
    }

    long get(long key) {
        int mask = keys.length - 1;
        for (int i = slot(key) & mask; keys[i] != 0; i = (i + 1) & mask) {
            if (keys[i] == key) {
                return counts[i];
            }
        }
        return 0;
    }

    int size() {
        return size;
    }

    /** A key and its count. */
    @FunctionalInterface
    interface Entry {
        void accept(long key, long count);
    }

    /** Each key and its count, in no order. */
    void forEach(Entry action) {
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != 0) {
                action.accept(keys[i], counts[i]);
            }
        }
    }

    /** The keys, ascending: rows written in key order touch the index pages in order. */
    long[] sortedKeys() {
        long[] out = new long[size];
        int j = 0;
        for (long k : keys) {
            if (k != 0) {
                out[j++] = k;
            }
        }
        Arrays.sort(out);
        return out;
    }

    private static int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    private void grow() {
        long[] oldKeys = keys;
        long[] oldCounts = counts;
        keys = new long[oldKeys.length * 2];
        counts = new long[oldKeys.length * 2];
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != 0) {
                add(oldKeys[i], oldCounts[i]);
            }
        }
    }
}
