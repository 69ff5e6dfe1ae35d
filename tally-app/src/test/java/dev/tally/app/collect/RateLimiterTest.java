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

    @Test
    void anIpv6ClientIsLimitedPer64NotPerAddress() {
        RateLimiter limiter = new RateLimiter(1);
        int granted = 0;
        for (int i = 0; i < 50; i++) {
            granted += limiter.tryAcquire("2001:db8:1:2:" + Integer.toHexString(i) + "::1") ? 1 : 0;
        }
        assertThat(granted).isBetween(5, 6);
        assertThat(limiter.tryAcquire("2001:db8:1:3::1")).isTrue();
        assertThat(RateLimiter.key("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).isEqualTo(RateLimiter.key("2001:0db8:0001:0002::"));
        assertThat(RateLimiter.key("::ffff:198.51.100.1")).isEqualTo("198.51.100.1");
        assertThat(RateLimiter.key("198.51.100.1")).isEqualTo("198.51.100.1");
    }

    @Test
    void theBucketsAreBoundedInBytes() {
        RateLimiter limiter = new RateLimiter(1, 64 * 1024);
        for (int i = 0; i < 20_000; i++) {
            limiter.tryAcquire("198.51." + (i >> 8) + "." + (i & 0xFF));
        }
        assertThat(limiter.weightedBytes()).isLessThanOrEqualTo(64 * 1024);
    }
}
