package dev.tally.app.serve;

import dev.tally.app.TimeArgument;
import dev.tally.app.event.EventFields;
import dev.tally.app.event.InvalidFieldException;
import dev.tally.app.event.PagePath;
import dev.tally.app.http.Replies;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The query parameters of the stats API, checked. Parsing is kept apart from HTTP and SQL so that
 * every rule (and every 400) can be tested without a server: each method either returns a value
 * the queries can use as is or throws a {@link BadParameterException} naming the parameter.
 *
 * <p>An empty parameter ({@code ?from=&limit=}, what an HTML form sends) means the same as an
 * absent one, except {@code path} on {@code /api/views}, which is required.
 */
final class StatsParams {

    static final int DEFAULT_LIMIT = 10;
    static final int MAX_LIMIT = 1000;
    static final int MAX_BUCKETS = 5000;
    static final String DEFAULT_SITE = "default";

    private final Function<String, String> query;
    private final long now;

    /**
     * @param query the value of a parameter ({@link QueryString#get}), {@code null} when absent
     * @param now the current time in epoch ms: the defaults of {@code from} and {@code to} depend on it
     */
    StatsParams(Function<String, String> query, long now) {
        this.query = query;
        this.now = now;
    }

    /** The site, {@code default} when absent. */
    String site() {
        String site = value("site");
        if (site == null) {
            return DEFAULT_SITE;
        }
        try {
            return EventFields.site(site);
        } catch (InvalidFieldException e) {
            throw new BadParameterException(e.getMessage());
        }
    }

    /** The page path; {@code null} when absent and not {@code required}. */
    String path(boolean required) {
        String path = value("path");
        if (path == null) {
            if (required) {
                throw new BadParameterException("path is required, for example ?path=/posts/hello");
            }
            return null;
        }
        return page(path);
    }

    /**
     * The one place where a {@code path} from a query becomes the key the aggregator stores: the
     * page's canonical form, by the rule events are counted by, so that {@code /api/views} finds
     * {@code /café} whether the widget asks for {@code /caf%C3%A9}, a decomposed {@code é} or
     * {@code /café/}. (Control characters and invalid UTF-8 never get this far: {@link QueryString}.)
     */
    private static String page(String path) {
        try {
            return PagePath.canonical(path);
        } catch (InvalidFieldException e) {
            throw new BadParameterException(e.getMessage());
        }
    }

    /**
     * The filters of the request: {@code page}, {@code referrer}, {@code source}, {@code medium},
     * {@code campaign}, {@code browser}, {@code os}, {@code device}, {@code country} and
     * {@code event}, each absent or empty for no filter, {@code (none)} for unknown. A value that
     * no stored one could equal (too long for its column, a device or country that does not exist)
     * is a 400 naming it. {@code path}, the old name of the page filter, is the same filter.
     */
    Filters filters() {
        String page = value("page");
        String path = value("path");
        if (page != null) {
            try {
                page = page(page);
            } catch (BadParameterException e) {
                throw new BadParameterException(e.getMessage().replaceFirst("^path", "page"));
            }
        }
        if (path != null) {
            path = page(path);
            if (page != null && !page.equals(path)) {
                throw new BadParameterException("page and path name the same filter; give one of them");
            }
            page = path;
        }
        Map<Dimension, String> segment = new EnumMap<>(Dimension.class);
        for (Dimension d : Dimension.values()) {
            if (d.inSegment()) {
                String v = value(d.label());
                if (v != null) {
                    segment.put(d, stored(d, v));
                }
            }
        }
        String event = value("event");
        if (event != null) {
            if (event.getBytes(StandardCharsets.UTF_8).length > Dimension.EVENT.size) {
                throw new BadParameterException("event must be at most " + Dimension.EVENT.size + " bytes of UTF-8");
            }
        }
        return new Filters(page, segment, event);
    }

    /** The event whose properties {@code /api/props} answers: required, at most 64 bytes of UTF-8. */
    String event() {
        String event = value("event");
        if (event == null) {
            throw new BadParameterException("event is required, for example ?event=signup");
        }
        return bytes("event", event, EventFields.MAX_EVENT_BYTES);
    }

    /** The one property {@code /api/props} answers, {@code null} for all: at most 64 bytes of UTF-8. */
    String prop() {
        String prop = value("prop");
        return prop == null ? null : bytes("prop", prop, EventFields.MAX_PROP_NAME_BYTES);
    }

    /**
     * Refuses the filters that cannot narrow {@code what}, counted per site, day and event only:
     * the page ({@code page}, {@code path}) and every segment column. Answering unfiltered figures
     * to a filtered question would look like an answer to it.
     */
    void unfiltered(String what) {
        if (value("page") != null || value("path") != null) {
            throw new BadParameterException((value("page") != null ? "page" : "path") + " cannot filter " + what
                    + ": they are counted per site, day and event, not per page");
        }
        for (Dimension d : Dimension.values()) {
            if (d.inSegment() && value(d.label()) != null) {
                throw new BadParameterException(d.label() + " cannot filter " + what
                        + ": they are counted per site, day and event, not per referrer, campaign, browser, os, device or country");
            }
        }
    }

    private static String bytes(String name, String value, int max) {
        if (value.getBytes(StandardCharsets.UTF_8).length > max) {
            throw new BadParameterException(name + " must be at most " + max + " bytes of UTF-8");
        }
        return value;
    }

    /** A segment filter's value as stored: {@code ''} for {@code (none)}, else checked against the column. */
    private static String stored(Dimension d, String v) {
        if (v.equals(Dimension.NONE)) {
            return "";
        }
        String name = d.label();
        if (v.codePointCount(0, v.length()) > d.size) {
            throw new BadParameterException(name + " must be at most " + d.size + " characters, or " + Dimension.NONE);
        }
        if (d == Dimension.DEVICE && !EventFields.DEVICES.contains(v)) {
            throw new BadParameterException("device must be desktop, mobile, tablet, other or " + Dimension.NONE + ", not " + cut(v));
        }
        if (d == Dimension.COUNTRY && !EventFields.isCountry(v)) {
            throw new BadParameterException("country must be an ISO 3166-1 alpha-2 code in upper case (DE) or "
                    + Dimension.NONE + ", not " + cut(v));
        }
        return v;
    }

    /** The dimension of {@code /api/breakdown}: required, one of {@link Dimension}. */
    Dimension dimension() {
        String d = value("dimension");
        if (d != null) {
            for (Dimension each : Dimension.values()) {
                if (each.label().equals(d)) {
                    return each;
                }
            }
        }
        throw new BadParameterException("dimension must be one of page, referrer, source, medium, campaign, browser, os,"
                + " device, country, event" + (d == null ? "" : ", not " + cut(d)));
    }

    /**
     * The whole UTC days of a period ({@code /api/summary}, {@code /api/breakdown}, {@code /api/goals}):
     * the days that {@code [from, to)} touches. {@code to} defaults to now (today counts),
     * {@code from} to the 30 days that end with {@code to}'s; at most {@link #MAX_BUCKETS} days, so that the
     * previous period of the same length still begins after the epoch or at it.
     */
    DayRange days() {
        long to = instantOr("to", now);
        Long given = instant("from");
        long end = -Math.floorDiv(-to, Bucket.DAY.millis);
        if (given == null) {
            return new DayRange(Math.max(0, end - 30), Math.max(1, end));
        }
        range(given, to);
        long first = Math.floorDiv(given, Bucket.DAY.millis);
        end = Math.max(first + 1, end);
        if (end - first > MAX_BUCKETS) {
            throw new BadParameterException("from and to span " + (end - first) + " days, more than " + MAX_BUCKETS
                    + "; narrow the range");
        }
        return new DayRange(first, end);
    }

    /** How many rows to answer: 10 unless said, 1 to 1000. */
    int limit() {
        String limit = value("limit");
        if (limit == null) {
            return DEFAULT_LIMIT;
        }
        int n;
        try {
            n = Integer.parseInt(limit);
        } catch (NumberFormatException e) {
            n = 0;
        }
        if (n < 1 || n > MAX_LIMIT) {
            throw new BadParameterException("limit must be an integer from 1 to " + MAX_LIMIT + ", not " + cut(limit));
        }
        return n;
    }

    Bucket bucket() {
        String bucket = value("bucket");
        if (bucket == null) {
            return Bucket.HOUR;
        }
        return switch (bucket) {
            case "hour" -> Bucket.HOUR;
            case "day" -> Bucket.DAY;
            default -> throw new BadParameterException("bucket must be hour or day, not " + cut(bucket));
        };
    }

    /** Whether the answer is CSV ({@code format=csv}) rather than JSON ({@code format=json}, the default). */
    boolean csv() {
        String format = value("format");
        if (format == null || format.equals("json")) {
            return false;
        }
        if (format.equals("csv")) {
            return true;
        }
        throw new BadParameterException("format must be json or csv, not " + cut(format));
    }

    /**
     * The range of a ranking ({@code /api/top} over hours, {@code /api/referrers} over days):
     * {@code null} (all time) when neither {@code from} nor {@code to} is given; otherwise
     * {@code from} defaults to the epoch and {@code to} to one {@code unit} after now, so that the
     * bucket in progress counts.
     */
    TimeRange ranking(Bucket unit) {
        Long from = instant("from");
        Long to = instant("to");
        if (from == null && to == null) {
            return null;
        }
        return range(from == null ? 0 : from, to == null ? Math.min(now + unit.millis, TimeArgument.LATEST) : to);
    }

    /**
     * The buckets of {@code /api/series}: every bucket starting in {@code [from, to)}.
     * {@code to} defaults to now (the bucket in progress is the last one), {@code from} to 48 hours
     * or 30 days before {@code to}.
     *
     * @throws BadParameterException also when the range holds more than 5000 buckets
     */
    SeriesRange series(Bucket bucket) {
        Long given = instant("from");
        long to = instantOr("to", now);
        long from = given != null ? given : Math.max(0, to - (bucket == Bucket.HOUR ? 48 : 30) * bucket.millis);
        range(from, to);
        long first = bucket.ceil(from);
        long count = first < to ? (to - first + bucket.millis - 1) / bucket.millis : 0;
        if (count > MAX_BUCKETS) {
            throw new BadParameterException("from and to span " + count + " " + bucket.label() + " buckets, more than "
                    + MAX_BUCKETS + "; narrow the range" + (bucket == Bucket.HOUR ? " or use bucket=day" : ""));
        }
        return new SeriesRange(bucket, first, (int) count);
    }

    /**
     * An instant: epoch milliseconds ({@code 1764064800000}), an ISO-8601 instant
     * ({@code 2026-11-25T10:00:00Z}, an offset instead of {@code Z} is accepted) or a date
     * ({@code 2026-11-25}, midnight UTC).
     *
     * @param name the parameter, for the error
     * @throws BadParameterException when it is none of these, or before 1970 or after 9999
     */
    static long instant(String name, String value) {
        try {
            return TimeArgument.parse(name, value);
        } catch (IllegalArgumentException e) {
            throw new BadParameterException(e.getMessage());
        }
    }

    private Long instant(String name) {
        String value = value(name);
        return value == null ? null : instant(name, value);
    }

    private long instantOr(String name, long otherwise) {
        Long t = instant(name);
        return t == null ? otherwise : t;
    }

    private static TimeRange range(long from, long to) {
        if (from > to) {
            throw new BadParameterException("from must not be after to");
        }
        return new TimeRange(from, to);
    }

    /** The parameter, {@code null} when absent or empty. */
    private String value(String name) {
        String v = query.apply(name);
        return v == null || v.isEmpty() ? null : v;
    }

    /** A bad value, quoted and {@linkplain Replies#cut cut}. */
    private static String cut(String value) {
        return "\"" + Replies.cut(value) + "\"";
    }
}
