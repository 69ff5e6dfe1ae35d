package dev.tally.app.event;

/**
 * The rules of event format v1's fields, one place for the collector and the decoder: whatever the
 * collector accepts, the decoder accepts, and whatever the decoder accepts fits the store's columns
 * on SQLite and PostgreSQL (a page's row key — site, path, day, visitor — stays under PostgreSQL's
 * index entry limit of about 2700 bytes). No text field may hold a control character or a lone
 * surrogate. The path's rules are {@link PagePath}'s.
 */
public final class EventFields {

    /** Site labels: 1–64 of {@code A–Z a–z 0–9 . _ -}. */
    public static final int MAX_SITE = 64;
    /** The site of an event that names none. */
    public static final String DEFAULT_SITE = "default";
    /** The longest referrer kept, in characters; longer ones are cut. */
    public static final int MAX_REFERRER = 2048;
    /** The longest visitor hash or event id, in bytes of UTF-8. */
    public static final int MAX_VISITOR_BYTES = 256;
    /** The longest event id, in bytes of UTF-8. */
    public static final int MAX_ID_BYTES = 256;
    /** 9999-12-31T23:59:59.999Z: later times are not times but garbage (and overflow date arithmetic). */
    public static final long MAX_TIMESTAMP = 253_402_300_799_999L;

    private EventFields() {}

    /** Whether {@code site} is a site label. */
    public static boolean isSite(String site) {
        int n = site.length();
        if (n == 0 || n > MAX_SITE) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = site.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-')) {
                return false;
            }
        }
        return true;
    }

    /** {@code site} when it is a label. */
    public static String site(String site) throws InvalidFieldException {
        text("site", site);
        if (!isSite(site)) {
            throw new InvalidFieldException("site must be 1 to " + MAX_SITE + " of the characters A-Z a-z 0-9 . _ -");
        }
        return site;
    }

    /**
     * The referrer as kept: cut at {@link #MAX_REFERRER} characters; refused when it holds a control
     * character or a lone surrogate, or names a host that cannot be stored (see {@link ReferrerHost}).
     * A referrer without a host ({@code android-app:…}, free text) is kept: it has no host to count.
     */
    public static String referrer(String referrer) throws InvalidFieldException {
        String kept = keptReferrer(referrer);
        referrerHost(kept);
        return kept;
    }

    /** The referrer cut at {@link #MAX_REFERRER} characters, refused when it holds a control character or a lone surrogate; its host is not checked. */
    public static String keptReferrer(String referrer) throws InvalidFieldException {
        text("referrer", referrer);
        return Text.cut(referrer, MAX_REFERRER);
    }

    /**
     * The host a {@linkplain #keptReferrer kept referrer} counts for, as {@link ReferrerHost#of} gives
     * it ({@code null}: it names none), or refused when it names a host that cannot be stored.
     */
    public static String referrerHost(String keptReferrer) throws InvalidFieldException {
        return keptReferrer == null ? null : ReferrerHost.checked(keptReferrer);
    }

    /** An opaque visitor hash: at most {@link #MAX_VISITOR_BYTES} bytes, no control characters. */
    public static String visitor(String visitor) throws InvalidFieldException {
        return bounded("visitor", visitor, MAX_VISITOR_BYTES);
    }

    /** An event id: at most {@link #MAX_ID_BYTES} bytes, no control characters. */
    public static String id(String id) throws InvalidFieldException {
        return bounded("id", id, MAX_ID_BYTES);
    }

    /** An event time in epoch milliseconds: from 1970 to the end of year 9999. */
    public static long timestamp(long ts) throws InvalidFieldException {
        if (ts < 0) {
            throw new InvalidFieldException("ts must not be negative (epoch milliseconds)");
        }
        if (ts > MAX_TIMESTAMP) {
            throw new InvalidFieldException("ts is after the year 9999 (epoch milliseconds expected)");
        }
        return ts;
    }

    private static String bounded(String field, String value, int maxBytes) throws InvalidFieldException {
        text(field, value);
        if (value.length() > maxBytes || Text.utf8Length(value) > maxBytes) {
            throw new InvalidFieldException(field + " is longer than " + maxBytes + " bytes of UTF-8");
        }
        return value;
    }

    private static void text(String field, String value) throws InvalidFieldException {
        String problem = Text.problem(value);
        if (problem != null) {
            throw new InvalidFieldException(field + " contains " + problem);
        }
    }
}
