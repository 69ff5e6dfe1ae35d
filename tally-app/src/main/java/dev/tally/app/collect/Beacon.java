package dev.tally.app.collect;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.io.JsonEOFException;
import dev.tally.app.event.PageViewDecoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;

/**
 * One beacon as a browser (or any client) sends it to {@code POST /api/event}: the page, where the
 * reader came from, and optionally the site, the time and an event id. {@link #parse} is the whole
 * validation of the collector; what it accepts always decodes as event format v1.
 *
 * @param path the page's path: the path of {@code url} (query and fragment dropped) or {@code path}
 * @param referrer the referrer, cut at {@link PageViewDecoder#MAX_REFERRER} characters, or {@code null}
 * @param site the site, {@code default} when absent
 * @param ts the client's timestamp in epoch milliseconds, or {@code null} to take the collector's clock
 * @param id the client's event id, or {@code null}
 */
public record Beacon(String path, String referrer, String site, Long ts, String id) {

    /** The largest body accepted, in bytes. */
    public static final int MAX_BODY = 16 * 1024;
    /** How far in the future a client's {@code ts} may be: clocks drift, but not by minutes. */
    public static final long MAX_CLOCK_SKEW_MS = 5_000;
    /** The longest site name or event id accepted. */
    public static final int MAX_SHORT_FIELD = 256;

    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(8).maxStringLength(MAX_BODY).build())
            .build();

    /**
     * Validates a beacon body.
     *
     * @param body the raw body, at most {@link #MAX_BODY} bytes
     * @param now the collector's clock, epoch milliseconds
     * @throws InvalidBeaconException with the reason to answer in the 400
     */
    public static Beacon parse(byte[] body, long now) throws InvalidBeaconException {
        if (body.length == 0) {
            throw new InvalidBeaconException("empty body: send a JSON object with url or path");
        }
        requireUtf8(body);
        String url = null;
        String path = null;
        String referrer = null;
        String site = null;
        Long ts = null;
        String id = null;
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
                    case "ts" -> {
                        if (value == JsonToken.VALUE_NUMBER_INT) {
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
        } catch (IOException e) {
            throw new InvalidBeaconException("invalid JSON: " + firstLine(e.getMessage()));
        }

        String page = path != null ? path : pathOf(url);
        if (page == null) {
            throw new InvalidBeaconException("url or path is required");
        }
        if (!page.startsWith("/")) {
            throw new InvalidBeaconException("path must begin with /");
        }
        if (page.length() > PageViewDecoder.MAX_PATH) {
            throw new InvalidBeaconException("path is longer than " + PageViewDecoder.MAX_PATH + " characters");
        }
        if (site != null && (site.isEmpty() || site.length() > MAX_SHORT_FIELD)) {
            throw new InvalidBeaconException("site must be 1 to " + MAX_SHORT_FIELD + " characters");
        }
        if (id != null && id.length() > MAX_SHORT_FIELD) {
            throw new InvalidBeaconException("id is longer than " + MAX_SHORT_FIELD + " characters");
        }
        if (ts != null && ts > now + MAX_CLOCK_SKEW_MS) {
            throw new InvalidBeaconException("ts is " + (ts - now) / 1000 + " s in the future");
        }
        if (ts != null && ts < 0) {
            throw new InvalidBeaconException("ts must not be negative");
        }
        if (referrer != null) {
            referrer = referrer.isBlank() || sameHost(url, referrer) ? null : cut(referrer, PageViewDecoder.MAX_REFERRER);
        }
        return new Beacon(page, referrer, site == null ? "default" : site, ts, id);
    }

    /**
     * The page view as event format v1 JSON.
     *
     * @param now the collector's clock, used when the client sent no {@code ts}
     * @param visitor the visitor hash, or {@code null}
     */
    public byte[] toEvent(long now, String visitor) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128 + path.length());
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
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
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory cannot fail", e);
        }
        return out.toByteArray();
    }

    /** The path of an absolute or relative URL; the query and the fragment are not part of it. */
    static String pathOf(String url) throws InvalidBeaconException {
        if (url == null) {
            return null;
        }
        String u = url.trim();
        int cut = indexOfAny(u, '?', '#');
        String head = cut < 0 ? u : u.substring(0, cut);
        if (head.startsWith("/") && !head.startsWith("//")) {
            return head;
        }
        try {
            URI uri = new URI(head.replace(" ", "%20"));
            if (!uri.isAbsolute() || uri.getRawPath() == null) {
                throw new InvalidBeaconException("url must be an absolute http(s) URL or begin with /");
            }
            String raw = uri.getRawPath();
            return raw.isEmpty() ? "/" : raw;
        } catch (URISyntaxException e) {
            throw new InvalidBeaconException("url is not a valid URL: " + e.getReason());
        }
    }

    /** A referrer on the page's own host is a navigation inside the site, not a source of readers. */
    private static boolean sameHost(String url, String referrer) {
        String page = host(url);
        return page != null && page.equalsIgnoreCase(host(referrer));
    }

    private static String host(String url) {
        if (url == null) {
            return null;
        }
        try {
            return URI.create(url.trim().replace(" ", "%20")).getHost();
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static int indexOfAny(String s, char a, char b) {
        int i = s.indexOf(a);
        int j = s.indexOf(b);
        return i < 0 ? j : j < 0 ? i : Math.min(i, j);
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

    /** Cuts at a character boundary, never inside a surrogate pair. */
    static String cut(String s, int max) {
        if (s.length() <= max) {
            return s;
        }
        int end = Character.isHighSurrogate(s.charAt(max - 1)) ? max - 1 : max;
        return s.substring(0, end);
    }

    /** Jackson would replace malformed bytes silently in some paths; a beacon must be valid UTF-8. */
    private static void requireUtf8(byte[] body) throws InvalidBeaconException {
        try {
            UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body));
        } catch (CharacterCodingException e) {
            throw new InvalidBeaconException("the body is not valid UTF-8");
        }
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "malformed";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
