package dev.tally.app.aggregate;

import java.util.HashMap;
import java.util.Map;

/**
 * The ids of a dictionary's entries ({@link PageIds}, {@link Segments}) used lately, at most
 * {@code max} of them. Two generations: an entry found in the older one moves to the newer; when
 * the newer is full, the older is dropped and the newer takes its place. What every batch uses
 * stays, however many entries pass through once; a plain bounded map emptied when full would drop
 * the busy entries with the rest and read them all again (a site with more segments than fit
 * looked all of them up in every batch). A lookup is one or two hash lookups, no reordering.
 */
final class IdCache<K> {

    /** The entries each dictionary keeps in this JVM: {@link #entriesFor} its maximum heap. */
    static final int ENTRIES = entriesFor(Runtime.getRuntime().maxMemory());

    private final int generation;
    private Map<K, Integer> newer = new HashMap<>();
    private Map<K, Integer> older = new HashMap<>();

    IdCache(int max) {
        this.generation = Math.max(1, max / 2);
    }

    /**
     * The entries a cache keeps in a heap of {@code maxHeapBytes}: one per 4 KiB, from 100 000 to
     * 2 000 000. An entry takes a few hundred bytes, so a cache takes at most a tenth of the heap;
     * a site whose segments outnumber the cache looks the missing ones up in the database in
     * every batch (a million beacons spread over 235 000 segments did, and that was a third of
     * the committing thread's time).
     */
    static int entriesFor(long maxHeapBytes) {
        return (int) Math.max(100_000, Math.min(2_000_000, maxHeapBytes / 4096));
    }

    /** The id of {@code key}, or 0. */
    int get(K key) {
        Integer id = newer.get(key);
        if (id == null) {
            id = older.get(key);
            if (id == null) {
                return 0;
            }
            put(key, id);
        }
        return id;
    }

    void put(K key, int id) {
        if (newer.size() >= generation) {
            older = newer;
            newer = new HashMap<>();
        }
        newer.put(key, id);
    }

    int size() {
        return newer.size() + older.size();
    }
}
