package dev.tally.consumer.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {

    @Test
    void growsExponentiallyWithJitterAndIsCapped() {
        Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(2));
        for (int i = 0; i < 50; i++) {
            assertThat(b.delayMillis(1)).isBetween(50L, 100L);
            assertThat(b.delayMillis(3)).isBetween(200L, 400L);
            assertThat(b.delayMillis(40)).isBetween(1000L, 2000L);
        }
    }
}
