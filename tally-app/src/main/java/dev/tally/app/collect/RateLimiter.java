package dev.tally.app.collect;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import java.time.Duration;

/**
 * A token bucket per client address (Bucket4j): {@code perSecond} beacons a second on average,
 * bursts of {@code 5 × perSecond}. Buckets of clients not seen for ten minutes are dropped, and
 * at most 100 000 are kept, so that many clients cannot grow memory without bound.
 */
public final class RateLimiter {

    private final long perSecond;
    private final Cache<String, Bucket> buckets = Caffeine.newBuilder()
            .maximumSize(100_000)
            .expireAfterAccess(Duration.ofMinutes(10))
            .build();

    /** @param perSecond the sustained rate per client; 0 turns the limit off */
    public RateLimiter(long perSecond) {
        if (perSecond < 0) {
            throw new IllegalArgumentException("the rate limit must be 0 (off) or positive");
        }
        this.perSecond = perSecond;
    }

    /** Takes a token for {@code client}; {@code false} means answer 429. */
    public boolean tryAcquire(String client) {
        if (perSecond == 0) {
            return true;
        }
        return buckets.get(client, c -> Bucket.builder()
                .addLimit(Bandwidth.builder().capacity(perSecond * 5).refillGreedy(perSecond, Duration.ofSeconds(1)).build())
                .build()).tryConsume(1);
    }
}
