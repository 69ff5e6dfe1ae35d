package dev.tally.app.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class IdCacheTest {

    @Test
    void keepsWhatIsUsedWhileManyEntriesPassThroughOnce() {
        IdCache<String> cache = new IdCache<>(100);
        cache.put("busy", 7);
        for (int i = 0; i < 10_000; i++) {
            cache.put("once-" + i, i + 1);
            assertThat(cache.get("busy")).isEqualTo(7);
            assertThat(cache.size()).isLessThanOrEqualTo(100);
        }
        assertThat(cache.get("once-9999")).isEqualTo(10_000);
        assertThat(cache.get("once-0")).isZero();
    }

    @Test
    void anEntryNotUsedForTwoGenerationsIsDropped() {
        IdCache<String> cache = new IdCache<>(4);
        cache.put("a", 1);
        cache.put("b", 2);
        cache.put("c", 3); // a and b are now the older generation
        assertThat(cache.get("a")).isEqualTo(1); // back in the newer: c, a
        cache.put("d", 4); // newer full: older = {c, a}, newer = {d}
        cache.put("e", 5);
        cache.put("f", 6); // older = {d, e}: b, c and a are gone
        assertThat(cache.get("b")).isZero();
        assertThat(cache.get("a")).isZero();
        assertThat(cache.get("d")).isEqualTo(4);
        assertThat(cache.get("f")).isEqualTo(6);
    }

    @Test
    void keepsOneEntryPer4KiBOfHeapWithinBounds() {
        assertThat(IdCache.entriesFor(256L << 20)).isEqualTo(100_000);
        assertThat(IdCache.entriesFor(6L << 30)).isEqualTo(1_572_864);
        assertThat(IdCache.entriesFor(64L << 30)).isEqualTo(2_000_000);
    }
}
