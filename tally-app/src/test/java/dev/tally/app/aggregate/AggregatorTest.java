package dev.tally.app.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AggregatorTest {

    private static final long MIB = 1024 * 1024;

    @Test
    void batchesGrowWithTheHeapBetweenTheirBounds() {
        assertThat(Aggregator.batchRecordsFor(256 * MIB)).isEqualTo(104_857);
        assertThat(Aggregator.batchRecordsFor(64 * MIB)).isEqualTo(26_214);
        assertThat(Aggregator.batchRecordsFor(16 * MIB)).isEqualTo(10_000);
        assertThat(Aggregator.batchRecordsFor(1024 * MIB)).isEqualTo(400_000);
        assertThat(Aggregator.batchRecordsFor(Long.MAX_VALUE)).isEqualTo(400_000);
    }
}
