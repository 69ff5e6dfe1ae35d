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

    /** Whether {@code field} is one of v2's own. */
    static boolean isField(String field) {
        return switch (field) {
            case "source", "medium", "campaign", "browser", "browser_version", "os", "os_version", "device", "country",
                    "event", "props" -> true;
            default -> false;
        };
    }

    /** Reads the value of {@code field}, one of {@link #isField}'s. */
    void read(String field, JsonParser p, JsonToken value) throws IOException, InvalidEventException {
        switch (field) {
            case "source" -> source = PageViewDecoder.string(p, value, field);
            case "medium" -> medium = PageViewDecoder.string(p, value, field);
            case "campaign" -> campaign = PageViewDecoder.string(p, value, field);
            case "browser" -> browser = PageViewDecoder.string(p, value, field);
            case "browser_version" -> browserVersion = PageViewDecoder.string(p, value, field);
            case "os" -> os = PageViewDecoder.string(p, value, field);
            case "os_version" -> osVersion = PageViewDecoder.string(p, value, field);
            case "device" -> device = PageViewDecoder.string(p, value, field);
            case "country" -> country = PageViewDecoder.string(p, value, field);
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
        Dimensions dimensions = new Dimensions(
                source == null ? null : EventFields.campaign("source", source),
                medium == null ? null : EventFields.campaign("medium", medium),
                campaign == null ? null : EventFields.campaign("campaign", campaign),
                browser == null ? null : EventFields.software("browser", browser),
                browserVersion == null ? null : EventFields.version("browser_version", browserVersion),
                os == null ? null : EventFields.software("os", os),
                osVersion == null ? null : EventFields.version("os_version", osVersion),
                device == null ? null : EventFields.device(device),
                country == null ? null : EventFields.country(country));
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
