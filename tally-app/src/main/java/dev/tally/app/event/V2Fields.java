package dev.tally.app.event;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.tally.app.event.PageViewDecoder.InvalidEventException;
import java.io.IOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The fields event format v2 adds to v1, as one record is read: created only when a record has
 * one of them, so that a v1 record costs nothing more. Each value obeys its {@link EventFields}
 * rule, or the record is invalid.
 */
final class V2Fields {

    /**
     * One decoder's checked values of the dimensions, kept across records. A batch keeps its
     * decoded records until it commits; shared values make each one's dimensions a reference,
     * where a string per field and record would be most of a beacon's memory.
     */
    static final class Caches {
        private final FieldCache<String> source = new FieldCache<>(256, EventFields.MAX_CAMPAIGN, v -> EventFields.campaign("source", v));
        private final FieldCache<String> medium = new FieldCache<>(64, EventFields.MAX_CAMPAIGN, v -> EventFields.campaign("medium", v));
        private final FieldCache<String> campaign = new FieldCache<>(256, EventFields.MAX_CAMPAIGN, v -> EventFields.campaign("campaign", v));
        private final FieldCache<String> browser = new FieldCache<>(128, EventFields.MAX_SOFTWARE, v -> EventFields.software("browser", v));
        private final FieldCache<String> browserVersion = new FieldCache<>(256, EventFields.MAX_VERSION,
                v -> EventFields.version("browser_version", v));
        private final FieldCache<String> os = new FieldCache<>(128, EventFields.MAX_SOFTWARE, v -> EventFields.software("os", v));
        private final FieldCache<String> osVersion = new FieldCache<>(128, EventFields.MAX_VERSION, v -> EventFields.version("os_version", v));
        private final FieldCache<String> device = new FieldCache<>(8, 16, EventFields::device);
        private final FieldCache<String> country = new FieldCache<>(512, 2, EventFields::country);
        private final Interner<Dimensions> dimensions = new Interner<>(1024);
    }

    private final Caches caches;

    private String source;
    private String medium;
    private String campaign;
    private String browser;
    private String browserVersion;
    private String os;
    private String osVersion;
    private String device;
    private String country;
    private String event;
    private Map<String, String> props = Map.of();

    V2Fields(Caches caches) {
        this.caches = caches;
    }

    /** Whether {@code field} is one of v2's own. */
    static boolean isField(String field) {
        return switch (field) {
            case "source", "medium", "campaign", "browser", "browser_version", "os", "os_version", "device", "country",
                    "event", "props" -> true;
            default -> false;
        };
    }

    /** Reads the value of {@code field}, one of {@link #isField}'s; a dimension is checked as it is read. */
    void read(String field, JsonParser p, JsonToken value) throws IOException, InvalidEventException {
        switch (field) {
            case "source" -> source = PageViewDecoder.checked(p, value, field, caches.source);
            case "medium" -> medium = PageViewDecoder.checked(p, value, field, caches.medium);
            case "campaign" -> campaign = PageViewDecoder.checked(p, value, field, caches.campaign);
            case "browser" -> browser = PageViewDecoder.checked(p, value, field, caches.browser);
            case "browser_version" -> browserVersion = PageViewDecoder.checked(p, value, field, caches.browserVersion);
            case "os" -> os = PageViewDecoder.checked(p, value, field, caches.os);
            case "os_version" -> osVersion = PageViewDecoder.checked(p, value, field, caches.osVersion);
            case "device" -> device = PageViewDecoder.checked(p, value, field, caches.device);
            case "country" -> country = PageViewDecoder.checked(p, value, field, caches.country);
            case "event" -> event = PageViewDecoder.string(p, value, field);
            case "props" -> props = props(p, value);
            default -> throw new IllegalArgumentException(field + " is not a field of v2");
        }
    }

    /** {@code v1} with these fields, each checked. */
    PageView addTo(PageView v1) throws InvalidFieldException {
        if (event == null && !props.isEmpty()) {
            throw new InvalidFieldException("props belong to a custom event: name it in event");
        }
        Dimensions dimensions = caches.dimensions.intern(new Dimensions(source, medium, campaign, browser, browserVersion, os, osVersion, device, country));
        return new PageView(v1.path(), v1.timestamp(), v1.site(), v1.referrer(), v1.referrerHost(), v1.visitor(), v1.id(), dimensions,
                event == null ? null : EventFields.event(event), EventFields.props(props));
    }

    /** An object of strings; reading stops at the first property beyond {@link EventFields#MAX_PROPS}. */
    private static Map<String, String> props(JsonParser p, JsonToken value) throws IOException, InvalidEventException {
        if (value == JsonToken.VALUE_NULL) {
            return Map.of();
        }
        if (value != JsonToken.START_OBJECT) {
            throw new InvalidEventException("props must be an object of strings");
        }
        Map<String, String> props = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            if (p.nextToken() != JsonToken.VALUE_STRING) {
                throw new InvalidEventException("props must be an object of strings");
            }
            if (props.put(name, p.getText()) != null) {
                throw new InvalidEventException("props names a property twice");
            }
            if (props.size() > EventFields.MAX_PROPS) {
                throw new InvalidEventException("props has more than " + EventFields.MAX_PROPS + " properties");
            }
        }
        return Collections.unmodifiableMap(props);
    }
}
