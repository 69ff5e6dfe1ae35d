package dev.tally.app.collect;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import dev.tally.app.event.EventFields;
import dev.tally.app.event.InvalidFieldException;
import dev.tally.app.event.PagePath;
import dev.tally.app.event.ReferrerHost;
import dev.tally.app.event.Text;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One beacon as a browser (or any client) sends it to {@code POST /api/event}: the page, where the
 * reader came from, and optionally the site, the time, an event id, and a custom event's name and
 * properties. {@link #parse} is the whole validation of the collector; what it accepts always
 * decodes as event format v2 with the same values (the event package's {@link PagePath} and {@link EventFields} rules are applied here too),
 * so that an accepted beacon is never a dead letter later.
 *
 * @param path the page in {@linkplain PagePath canonical form}: from {@code path}, else the path of {@code url}
 * @param referrer the referrer without its query and fragment, cut at {@link EventFields#MAX_REFERRER}
 *     characters; {@code null} when absent or on the page's own host
 * @param site the site label, {@code default} when absent
 * @param ts the client's timestamp in epoch milliseconds, or {@code null} to take the collector's clock
 * @param id the client's event id, or {@code null}
 * @param origin the origin of {@code url} ({@code https://blog.example}), or {@code null} without an absolute url
 * @param campaign the campaign named by the query of {@code url}
 * @param event the custom event's name, or {@code null} for a page view
 * @param props the custom event's properties (empty for a page view), names and values as text
 */
public record Beacon(String path, String referrer, String site, Long ts, String id, String origin, Campaign campaign,
        String event, Map<String, String> props) {

    /** A page view without campaign. */
    Beacon(String path, String referrer, String site, Long ts, String id, String origin) {
        this(path, referrer, site, ts, id, origin, Campaign.NONE, null, Map.of());
    }

    /** The largest body accepted, in bytes. */
    public static final int MAX_BODY = 16 * 1024;
    /** The deepest nesting of JSON a beacon may have (a beacon is two levels deep). */
    static final int MAX_DEPTH = 8;
    /** How far in the future a client's {@code ts} may be: clocks drift, but not by minutes. */
    public static final long MAX_CLOCK_SKEW_MS = 5_000;
    /** How old a beacon's {@code ts} may be by default ({@code --max-age}): a beacon does not rewrite history. */
    public static final long DEFAULT_MAX_AGE_MS = 3_600_000;

    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).maxStringLength(MAX_BODY).build())
            .build();

    /** {@link #parse(byte[], long, long)} with the default window of {@link #DEFAULT_MAX_AGE_MS}. */
    public static Beacon parse(byte[] body, long now) throws InvalidBeaconException {
        return parse(body, now, DEFAULT_MAX_AGE_MS);
    }

    /**
     * Validates a beacon body.
     *
     * @param body the raw body, at most {@link #MAX_BODY} bytes
     * @param now the collector's clock, epoch milliseconds
     * @param maxAgeMs how far in the past {@code ts} may be
     * @throws InvalidBeaconException with the reason to answer in the 400
     */
    public static Beacon parse(byte[] body, long now, long maxAgeMs) throws InvalidBeaconException {
        if (body.length == 0) {
            throw new InvalidBeaconException("empty body: send a JSON object with url or path");
        }
        // Jackson does not check the bytes of strings it skips; a beacon is UTF-8 throughout or refused.
        if (!Text.isUtf8(body)) {
            throw new InvalidBeaconException("the body is not valid UTF-8");
        }
        String url = null;
        String path = null;
        String referrer = null;
        String site = null;
        Long ts = null;
        String id = null;
        String event = null;
        Map<String, String> props = Map.of();
        try (JsonParser p = JSON.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new InvalidBeaconException("the body must be a JSON object");
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                switch (field) {
                    case "url" -> url = string(p, value, field);
                    case "path" -> path = string(p, value, field);
                    case "referrer" -> referrer = string(p, value, field);
                    case "site" -> site = string(p, value, field);
                    case "id" -> id = string(p, value, field);
                    case "event" -> event = string(p, value, field);
                    case "props" -> props = props(p, value);
                    case "ts" -> {
                        if (value == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
                            ts = p.getLongValue();
                        } else if (value != JsonToken.VALUE_NULL) {
                            throw new InvalidBeaconException("ts must be epoch milliseconds, an integer");
                        }
                    }
                    default -> p.skipChildren();
                }
            }
            if (t != JsonToken.END_OBJECT || p.nextToken() != null) {
                throw new InvalidBeaconException("trailing data after the JSON object");
            }
        } catch (JsonEOFException e) {
            throw new InvalidBeaconException("invalid JSON: unexpected end of the body");
        } catch (StreamConstraintsException e) {
            // Jackson's own words name its classes and settings: said here in the beacon's terms.
            String m = String.valueOf(e.getMessage());
            throw new InvalidBeaconException(m.contains("nesting depth") ? "invalid JSON: nested deeper than " + MAX_DEPTH + " levels"
                    : m.contains("Number value length") ? "invalid JSON: a number longer than 1000 digits"
                    : "invalid JSON: a value longer than the body may be");
        } catch (IOException e) {
            throw new InvalidBeaconException("invalid JSON: " + firstLine(e.getMessage()));
        }

        if (ts != null && ts < 0) {
            throw new InvalidBeaconException("ts must not be negative");
        }
        if (ts != null && ts > now + MAX_CLOCK_SKEW_MS) {
            throw new InvalidBeaconException("ts is " + (ts - now) / 1000 + " s in the future");
        }
        if (ts != null && ts < now - maxAgeMs) {
            throw new InvalidBeaconException("ts is " + (now - ts) / 1000 + " s old; beacons older than "
                    + maxAgeMs / 1000 + " s are refused");
        }
        try {
            PageUrl page = url == null ? null : PageUrl.parse(url);
            String raw = path != null ? path : page == null ? null : page.path();
            if (raw == null) {
                throw new InvalidBeaconException("url or path is required");
            }
            if (event == null && !props.isEmpty()) {
                throw new InvalidBeaconException("props belong to a custom event: name it in event");
            }
            return new Beacon(
                    PagePath.canonical(raw),
                    referrer == null ? null : referrer(referrer, page),
                    site == null ? EventFields.DEFAULT_SITE : EventFields.site(site),
                    ts,
                    id == null ? null : EventFields.id(id),
                    page == null ? null : page.origin(),
                    Campaign.of(page == null ? path : page.path()),
                    event == null ? null : EventFields.event(event),
                    EventFields.props(props));
        } catch (InvalidFieldException e) {
            throw new InvalidBeaconException(e.getMessage());
        }
    }

    /**
     * Only the referrer's host is counted downstream, so its query and fragment (search terms,
     * tokens) never leave the collector; a referrer on the page's own host is a navigation inside
     * the site, not a source of readers.
     */
    private static String referrer(String referrer, PageUrl page) throws InvalidFieldException {
        String problem = Text.problem(referrer);
        if (problem != null) {
            throw new InvalidFieldException("referrer contains " + problem);
        }
        int cut = referrer.length();
        for (int i = 0; i < cut; i++) {
            char c = referrer.charAt(i);
            if (c == '?' || c == '#') {
                cut = i;
            }
        }
        String kept = EventFields.referrer(referrer.substring(0, cut));
        if (kept.isBlank() || page != null && page.host() != null && page.host().equals(ReferrerHost.of(kept))) {
            return null;
        }
        return kept;
    }

    /** The page view as event format v2 JSON, without what the collector adds from the request. */
    public byte[] toEvent(long now, String visitor) {
        return toEvent(now, visitor, null, null);
    }

    /**
     * The page view or custom event as event format v2 JSON: v1's fields, {@code "v":2}, and the
     * dimensions that are known (an unknown one is left out, not written as null).
     *
     * @param now the collector's clock, used when the client sent no {@code ts}
     * @param visitor the visitor hash, or {@code null}
     * @param software the reader's software, or {@code null} when unknown
     * @param country the reader's country, or {@code null} when unknown
     */
    byte[] toEvent(long now, String visitor, Software software, String country) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(192 + path.length());
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeNumberField("v", 2);
            g.writeStringField("path", path);
            g.writeNumberField("ts", ts == null ? now : ts);
            g.writeStringField("site", site);
            if (referrer != null) {
                g.writeStringField("referrer", referrer);
            }
            if (visitor != null) {
                g.writeStringField("visitor", visitor);
            }
            if (id != null) {
                g.writeStringField("id", id);
            }
            optional(g, "source", campaign.source());
            optional(g, "medium", campaign.medium());
            optional(g, "campaign", campaign.campaign());
            if (software != null) {
                optional(g, "browser", software.browser());
                optional(g, "browser_version", software.browserVersion());
                optional(g, "os", software.os());
                optional(g, "os_version", software.osVersion());
                optional(g, "device", software.device());
            }
            optional(g, "country", country);
            if (event != null) {
                g.writeStringField("event", event);
                if (!props.isEmpty()) {
                    g.writeObjectFieldStart("props");
                    for (Map.Entry<String, String> e : props.entrySet()) {
                        g.writeStringField(e.getKey(), e.getValue());
                    }
                    g.writeEndObject();
                }
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory cannot fail", e);
        }
        return out.toByteArray();
    }

    private static void optional(JsonGenerator g, String field, String value) throws IOException {
        if (value != null) {
            g.writeStringField(field, value);
        }
    }

    /**
     * A custom event's properties: an object of strings, numbers and booleans, kept as text. At most
     * {@link EventFields#MAX_PROPS} are read: the body's size bounds the rest, and they are refused.
     */
    private static Map<String, String> props(JsonParser p, JsonToken value) throws IOException, InvalidBeaconException {
        if (value == JsonToken.VALUE_NULL) {
            return Map.of();
        }
        if (value != JsonToken.START_OBJECT) {
            throw new InvalidBeaconException("props must be an object of strings, numbers or booleans");
        }
        Map<String, String> props = new LinkedHashMap<>();
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken v = p.nextToken();
            if (v != JsonToken.VALUE_STRING && v != JsonToken.VALUE_NUMBER_INT && v != JsonToken.VALUE_NUMBER_FLOAT
                    && v != JsonToken.VALUE_TRUE && v != JsonToken.VALUE_FALSE) {
                throw new InvalidBeaconException("props must be an object of strings, numbers or booleans");
            }
            if (props.put(name, p.getText()) != null) {
                throw new InvalidBeaconException("props names a property twice");
            }
            if (props.size() > EventFields.MAX_PROPS) {
                throw new InvalidBeaconException("props has more than " + EventFields.MAX_PROPS + " properties");
            }
        }
        return Collections.unmodifiableMap(props);
    }

    private static String string(JsonParser p, JsonToken value, String field) throws IOException, InvalidBeaconException {
        if (value == JsonToken.VALUE_NULL) {
            return null;
        }
        if (value != JsonToken.VALUE_STRING) {
            throw new InvalidBeaconException(field + " must be a string");
        }
        return p.getText();
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "malformed";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
