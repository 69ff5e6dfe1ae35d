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

    private final int generation;
    private Map<K, Integer> newer = new HashMap<>();
    private Map<K, Integer> older = new HashMap<>();

    IdCache(int max) {
        this.generation = Math.max(1, max / 2);
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
