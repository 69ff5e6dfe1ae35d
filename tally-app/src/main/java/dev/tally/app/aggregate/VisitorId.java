package dev.tally.app.aggregate;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * A visitor as 16 bytes, derived deterministically from the event's opaque visitor string, so
 * that the visitors table has a narrow fixed-size key instead of text: the collector's own hashes
 * (16 bytes in unpadded base64url, 22 characters) and 32-character hex hashes are decoded as they
 * are; any other string is hashed to 128 bits (MD5, as a fingerprint, not for security). Two
 * different strings give the same id only if they collide in 128 bits.
 *
 * @param high the first 8 bytes, big-endian
 * @param low the last 8 bytes, big-endian
 */
public record VisitorId(long high, long low) implements Comparable<VisitorId> {

    /** The id of a visitor string. */
    public static VisitorId of(String visitor) {
        int n = visitor.length();
        if (n == 32) {
            VisitorId hex = hex(visitor);
            if (hex != null) {
                return hex;
            }
        } else if (n == 22) {
            VisitorId b64 = base64url(visitor);
            if (b64 != null) {
                return b64;
            }
        }
        return md5(visitor);
    }

    /** The id whose {@linkplain #bytes() bytes} are {@code b}, as a BLOB or BYTEA column hands them back. */
    static VisitorId of(byte[] b) {
        if (b.length != 16) {
            throw new IllegalArgumentException("a visitor id has 16 bytes, not " + b.length);
        }
        long hi = 0;
        long lo = 0;
        for (int i = 0; i < 8; i++) {
            hi = hi << 8 | (b[i] & 0xFF);
            lo = lo << 8 | (b[8 + i] & 0xFF);
        }
        return new VisitorId(hi, lo);
    }

    /** The 16 bytes, for a BLOB or BYTEA column. */
    public byte[] bytes() {
        byte[] b = new byte[16];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (high >>> (56 - 8 * i));
            b[8 + i] = (byte) (low >>> (56 - 8 * i));
        }
        return b;
    }

    // Spelled out, here and in the batch keys that hold a visitor: a batch looks them up a few
    // times per event, and a record's generated methods went through method-handle combinators
    // that the compiler did not fold away (an eighth of the committing thread on beacons).
    @Override
    public int hashCode() {
        return Long.hashCode(high) * 31 + Long.hashCode(low);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VisitorId v && v.high == high && v.low == low;
    }

    @Override
    public int compareTo(VisitorId o) {
        int c = Long.compareUnsigned(high, o.high);
        return c != 0 ? c : Long.compareUnsigned(low, o.low);
    }

    private static VisitorId hex(String s) {
        long hi = 0;
        long lo = 0;
        for (int i = 0; i < 32; i++) {
            int d = Character.digit(s.charAt(i), 16);
            if (d < 0 || s.charAt(i) > 'f') {
                return null;
            }
            if (Character.isUpperCase(s.charAt(i))) {
                return null; // "AB" and "ab" must not be the same visitor
            }
            if (i < 16) {
                hi = hi << 4 | d;
            } else {
                lo = lo << 4 | d;
            }
        }
        return new VisitorId(hi, lo);
    }

    private static VisitorId base64url(String s) {
        long hi = 0;
        long lo = 0;
        int bits = 0; // of the 128, how many are filled
        for (int i = 0; i < 22; i++) {
            int v = sextet(s.charAt(i));
            if (v < 0) {
                return null;
            }
            if (i == 21) {
                // 22 sextets carry 132 bits: the last 4 must be zero, or two strings would share an id.
                if ((v & 0xF) != 0) {
                    return null;
                }
                v >>>= 4;
                lo = lo << 2 | v;
                bits += 2;
            } else if (bits + 6 <= 64) {
                hi = hi << 6 | v;
                bits += 6;
            } else if (bits < 64) {
                int intoHigh = 64 - bits;
                hi = hi << intoHigh | (v >>> (6 - intoHigh));
                lo = v & ((1 << (6 - intoHigh)) - 1);
                bits += 6;
            } else {
                lo = lo << 6 | v;
                bits += 6;
            }
        }
        return new VisitorId(hi, lo);
    }

    private static int sextet(char c) {
        if (c >= 'A' && c <= 'Z') {
            return c - 'A';
        }
        if (c >= 'a' && c <= 'z') {
            return c - 'a' + 26;
        }
        if (c >= '0' && c <= '9') {
            return c - '0' + 52;
        }
        return c == '-' ? 62 : c == '_' ? 63 : -1;
    }

    private static VisitorId md5(String s) {
        try {
            return of(MessageDigest.getInstance("MD5").digest(s.getBytes(UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has MD5", e);
        }
    }
}
