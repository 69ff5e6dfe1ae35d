package dev.tally.app.collect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RateLimiterTest {

    @Test
    void aClientGetsItsBurstThenIsRefusedWhileOthersAreNot() {
        RateLimiter limiter = new RateLimiter(2);
        int granted = 0;
        for (int i = 0; i < 50; i++) {
            granted += limiter.tryAcquire("198.51.100.1") ? 1 : 0;
        }
        // A burst of 5 × 2 plus what refilled while the loop ran (well under a second).
        assertThat(granted).isBetween(10, 12);
        assertThat(limiter.tryAcquire("198.51.100.2")).isTrue();
    }

    @Test
    void zeroTurnsItOff() {
        RateLimiter limiter = new RateLimiter(0);
        for (int i = 0; i < 10_000; i++) {
            assertThat(limiter.tryAcquire("198.51.100.1")).isTrue();
        }
        assertThatThrownBy(() -> new RateLimiter(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
