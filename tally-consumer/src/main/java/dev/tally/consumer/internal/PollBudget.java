package dev.tally.consumer.internal;

import java.nio.ByteBuffer;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * The bytes one poll may hand over. The Kafka client bounds a fetch by its compressed size and a
 * poll by its number of records, so a producer's large or highly compressible records (a
 * megabyte of zeros compresses to a kilobyte) could make one poll hold gigabytes. The key and
 * value deserializers count the poll's bytes here; once past the budget, every further record of
 * the poll is {@linkplain #DEFERRED deferred}: its bytes are not copied, and the polling loop
 * seeks its partition back to it, so it is read again by a later poll. The first record of a poll
 * always passes, so reading always moves on.
 */
public final class PollBudget {

    /** Stands for a key or value not copied; compared by identity (an empty record's value is another array). */
    static final byte[] DEFERRED = new byte[0];

    private final long limit;
    private long used;
    private boolean exhausted;

    public PollBudget(long limit) {
        this.limit = limit;
    }

    /** Before each poll, on the polling thread (deserializers run inside {@code poll}). */
    void reset() {
        used = 0;
        exhausted = false;
    }

    /** Whether a polled record was deferred: it is to be read again, not handled. */
    static boolean deferred(org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]> r) {
        return r.key() == DEFERRED || r.value() == DEFERRED;
    }

    /** A key or value deserializer counting against this budget; one for each. */
    public Deserializer<byte[]> deserializer() {
        return new Deserializer<>() {
            @Override
            public byte[] deserialize(String topic, byte[] data) {
                return data == null ? null : take(data.length) ? data : DEFERRED;
            }

            @Override
            public byte[] deserialize(String topic, Headers headers, ByteBuffer data) {
                if (data == null) {
                    return null;
                }
                if (!take(data.remaining())) {
                    return DEFERRED;
                }
                byte[] bytes = new byte[data.remaining()];
                data.duplicate().get(bytes);
                return bytes;
            }
        };
    }

    private boolean take(int bytes) {
        if (exhausted || used > 0 && used + bytes > limit) {
            // Once one is deferred, all after it are: a partition's records are handled in order.
            exhausted = true;
            return false;
        }
        used += bytes;
        return true;
    }
}
