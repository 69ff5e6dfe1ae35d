package dev.tally.app.event;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The rules of event format v1's and v2's fields, one place for the collector and the decoder: whatever the
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

    /** The longest campaign value ({@code utm_source}, {@code utm_medium}, {@code utm_campaign}) kept, in characters. */
    public static final int MAX_CAMPAIGN = 128;
    /** The longest browser or operating-system name, in characters. */
    public static final int MAX_SOFTWARE = 64;
    /** The longest major version of a browser or operating system, in digits. */
    public static final int MAX_VERSION = 8;
    /** The classes of device, a fixed vocabulary: what a user agent can tell. */
    public static final Set<String> DEVICES = Set.of("desktop", "mobile", "tablet", "other");
    /** The longest custom event name, in bytes of UTF-8. */
    public static final int MAX_EVENT_BYTES = 64;
    /** The most properties a custom event may carry. */
    public static final int MAX_PROPS = 10;
    /** The longest property name, in bytes of UTF-8. */
    public static final int MAX_PROP_NAME_BYTES = 64;
    /** The longest property value, in bytes of UTF-8. */
    public static final int MAX_PROP_VALUE_BYTES = 256;

    /** ISO 3166-1 alpha-2, and {@code XK} (Kosovo), which the usual country databases use. */
    private static final Set<String> COUNTRIES;

    static {
        Set<String> countries = new TreeSet<>(Arrays.asList(Locale.getISOCountries()));
        countries.add("XK");
        COUNTRIES = Set.copyOf(countries);
    }

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

    /**
     * A campaign value (from {@code utm_source}, {@code utm_medium}, {@code utm_campaign}, {@code ref}):
     * 1 to {@link #MAX_CAMPAIGN} characters, no control characters.
     */
    public static String campaign(String field, String value) throws InvalidFieldException {
        text(field, value);
        if (value.isEmpty() || value.length() > MAX_CAMPAIGN) {
            throw new InvalidFieldException(field + " must be 1 to " + MAX_CAMPAIGN + " characters");
        }
        return value;
    }

    /** A browser or operating-system name: 1 to {@link #MAX_SOFTWARE} characters, no control characters. */
    public static String software(String field, String value) throws InvalidFieldException {
        text(field, value);
        if (value.isEmpty() || value.length() > MAX_SOFTWARE) {
            throw new InvalidFieldException(field + " must be 1 to " + MAX_SOFTWARE + " characters");
        }
        return value;
    }

    /** Whether {@code value} is a major version: 1 to {@link #MAX_VERSION} ASCII digits. */
    public static boolean isVersion(String value) {
        int n = value.length();
        if (n == 0 || n > MAX_VERSION) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /** A major version: 1 to {@link #MAX_VERSION} ASCII digits. */
    public static String version(String field, String value) throws InvalidFieldException {
        if (!isVersion(value)) {
            throw new InvalidFieldException(field + " must be a major version, 1 to " + MAX_VERSION + " digits");
        }
        return value;
    }

    /** A device class, one of {@link #DEVICES}. */
    public static String device(String value) throws InvalidFieldException {
        if (!DEVICES.contains(value)) {
            throw new InvalidFieldException("device must be one of desktop, mobile, tablet, other");
        }
        return value;
    }

    /** Whether {@code value} is an ISO 3166-1 alpha-2 country code in upper case (or {@code XK}). */
    public static boolean isCountry(String value) {
        return value.length() == 2 && COUNTRIES.contains(value);
    }

    /** A country: an ISO 3166-1 alpha-2 code in upper case ({@code DE}), or {@code XK}. */
    public static String country(String value) throws InvalidFieldException {
        if (!isCountry(value)) {
            throw new InvalidFieldException("country must be an ISO 3166-1 alpha-2 code in upper case");
        }
        return value;
    }

    /** A custom event's name: 1 to {@link #MAX_EVENT_BYTES} bytes of UTF-8, no control characters. */
    public static String event(String name) throws InvalidFieldException {
        if (name.isEmpty()) {
            throw new InvalidFieldException("event must not be empty");
        }
        return bounded("event", name, MAX_EVENT_BYTES);
    }

    /**
     * A custom event's properties: at most {@link #MAX_PROPS}, each name 1 to
     * {@link #MAX_PROP_NAME_BYTES} bytes and each value at most {@link #MAX_PROP_VALUE_BYTES} bytes
     * of UTF-8, no control characters.
     */
    public static Map<String, String> props(Map<String, String> props) throws InvalidFieldException {
        if (props.size() > MAX_PROPS) {
            throw new InvalidFieldException("props has more than " + MAX_PROPS + " properties");
        }
        for (Map.Entry<String, String> e : props.entrySet()) {
            if (e.getKey().isEmpty()) {
                throw new InvalidFieldException("props has a property without a name");
            }
            bounded("a name in props", e.getKey(), MAX_PROP_NAME_BYTES);
            bounded("props." + (e.getKey().length() <= MAX_PROP_NAME_BYTES ? e.getKey() : "?"), e.getValue(), MAX_PROP_VALUE_BYTES);
        }
        return props;
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
