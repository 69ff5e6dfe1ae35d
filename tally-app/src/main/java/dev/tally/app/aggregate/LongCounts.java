package dev.tally.app.aggregate;

import java.util.Arrays;

/**
 * Counts per {@code long} key without boxing: open addressing, linear probing, key 0 reserved
 * for empty slots (page ids start at 1, so no key of the aggregator is 0).
 */
final class LongCounts {

    /**
     * Key and count side by side ({@code 2i}, {@code 2i + 1}): a batch's tables outgrow the
     * processor's caches, and one line then holds both, where two arrays cost two misses.
     */
    private long[] slots = new long[2048];
    private int size;

    void add(long key, long n) {
        long[] s = slots;
        int mask = (s.length >>> 1) - 1;
        int i = slot(key) & mask;
        while (true) {
            long k = s[2 * i];
            if (k == key) {
                s[2 * i + 1] += n;
                return;
            }
            if (k == 0) {
                s[2 * i] = key;
                s[2 * i + 1] = n;
                if (++size * 4 > s.length) {
                    grow();
                }
                return;
            }
            i = (i + 1) & mask;
        }
    }

    long get(long key) {
        long[] s = slots;
        int mask = (s.length >>> 1) - 1;
        for (int i = slot(key) & mask; s[2 * i] != 0; i = (i + 1) & mask) {
            if (s[2 * i] == key) {
                return s[2 * i + 1];
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
        long[] s = slots;
        for (int i = 0; i < s.length; i += 2) {
            if (s[i] != 0) {
                action.accept(s[i], s[i + 1]);
            }
        }
    }

    /** The keys, ascending: rows written in key order touch the index pages in order. */
    long[] sortedKeys() {
        long[] out = new long[size];
        int j = 0;
        long[] s = slots;
        for (int i = 0; i < s.length; i += 2) {
            if (s[i] != 0) {
                out[j++] = s[i];
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
        long[] old = slots;
        slots = new long[old.length * 2];
        size = 0;
        for (int i = 0; i < old.length; i += 2) {
            if (old[i] != 0) {
                add(old[i], old[i + 1]);
            }
        }
    }
}
