package dev.tally.app.collect;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import java.time.Duration;

/**
 * A token bucket per client (Bucket4j): {@code perSecond} beacons a second on average, bursts of
 * {@code 5 × perSecond}. A client is an IPv4 address, or an IPv6 <em>/64</em>: one host is
 * usually given a whole /64 and can send from any of its 2^64 addresses. Buckets of clients not
 * seen for ten minutes are dropped, and all of them together weigh at most {@code maxBytes}
 * (counted, not guessed from the number of entries), so that many clients cannot grow memory.
 */
public final class RateLimiter {

    /** What the buckets may weigh by default: about 100 000 clients. */
    public static final long DEFAULT_MAX_BYTES = 32L << 20;
    /** An estimate of one bucket with its cache entry (bucket object, state array, cache node), on the high side. */
    private static final int BUCKET_BYTES = 240;

    private final long perSecond;
    private final Bandwidth bandwidth;
    private final Cache<String, Bucket> buckets;

    /** @param perSecond the sustained rate per client; 0 turns the limit off */
    public RateLimiter(long perSecond) {
        this(perSecond, DEFAULT_MAX_BYTES);
    }

    RateLimiter(long perSecond, long maxBytes) {
        if (perSecond < 0) {
            throw new IllegalArgumentException("the rate limit must be 0 (off) or positive");
        }
        this.perSecond = perSecond;
        this.bandwidth = perSecond == 0 ? null
                : Bandwidth.builder().capacity(perSecond * 5).refillGreedy(perSecond, Duration.ofSeconds(1)).build();
        this.buckets = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((String key, Bucket b) -> BUCKET_BYTES + 40 + 2 * key.length())
                .expireAfterAccess(Duration.ofMinutes(10))
                .build();
    }

    /** Takes a token for the client at {@code address}; {@code false} means answer 429. */
    public boolean tryAcquire(String address) {
        if (perSecond == 0) {
            return true;
        }
        return buckets.get(key(address), k -> Bucket.builder().addLimit(bandwidth).build()).tryConsume(1);
    }

    /** The bucket of an address: itself for IPv4, its /64 for IPv6, the text itself for anything else. */
    static String key(String address) {
        byte[] a = IpAddress.parse(address);
        if (a == null || a.length == 4) {
            return a == null ? address : IpAddress.format(a);
        }
        byte[] prefix = new byte[16];
        System.arraycopy(a, 0, prefix, 0, 8);
        return IpAddress.format(prefix) + "/64";
    }

    /** What the buckets weigh now, in bytes (after pending evictions). */
    long weightedBytes() {
        buckets.cleanUp();
        return buckets.policy().eviction().orElseThrow().weightedSize().orElseThrow();
    }
}
