package dev.tally.consumer.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class OutOfRangeTest {

    @Test
    void aStoredOffsetStillInTheLogIsWhereReadingResumes() {
        assertThat(OutOfRange.of(50, 10, 100)).isEqualTo(OutOfRange.RESUME);
        assertThat(OutOfRange.of(10, 10, 100)).isEqualTo(OutOfRange.RESUME);
        assertThat(OutOfRange.of(100, 10, 100)).isEqualTo(OutOfRange.RESUME);
    }

    @Test
    void belowTheLogStartIsAGapAndBeyondItsEndAHalt() {
        assertThat(OutOfRange.of(9, 10, 100)).isEqualTo(OutOfRange.GAP);
        assertThat(OutOfRange.of(101, 10, 100)).isEqualTo(OutOfRange.HALT);
        assertThat(OutOfRange.of(100, 0, 10)).isEqualTo(OutOfRange.HALT); // a recreated topic
    }
}
