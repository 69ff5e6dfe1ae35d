package dev.tally.app.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LongCountsTest {

    @Test
    void countsAsAMapDoesThroughManyGrowths() {
        LongCounts counts = new LongCounts();
        Map<Long, Long> expected = new HashMap<>();
        Random random = new Random(7);
        for (int i = 0; i < 200_000; i++) {
            // Keys as the aggregator makes them: an id in the high half, a small number in the low.
            long key = (long) (1 + random.nextInt(5_000)) << 32 | random.nextInt(40);
            long n = 1 + random.nextInt(3);
            counts.add(key, n);
            expected.merge(key, n, Long::sum);
        }
        assertThat(counts.size()).isEqualTo(expected.size());
        expected.forEach((k, n) -> assertThat(counts.get(k)).as("key %x", k).isEqualTo(n));
        assertThat(counts.get(1L << 32 | 41)).isZero();

        Map<Long, Long> visited = new HashMap<>();
        counts.forEach((k, n) -> assertThat(visited.put(k, n)).isNull());
        assertThat(visited).isEqualTo(expected);

        long[] sorted = counts.sortedKeys();
        assertThat(sorted).hasSize(expected.size()).isSorted();
        assertThat(sorted).containsExactlyInAnyOrder(expected.keySet().stream().mapToLong(Long::longValue).toArray());
    }
}
