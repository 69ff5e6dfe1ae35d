package dev.tally.app.event;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import dev.tally.consumer.RecordDecoder;
import java.io.IOException;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Decodes event format v1 with a streaming JSON parser: no tree, no reflection, one pass over
 * the bytes. Any record that is not valid v1 throws {@link InvalidEventException}, which sends it
 * to the dead-letter topic with the reason. Unknown fields are ignored, so that producers can
 * add fields without breaking older aggregators.
 */
public final class PageViewDecoder implements RecordDecoder<PageView> {

    /** The longest path accepted, in characters. */
    public static final int MAX_PATH = 2048;
    /** The longest referrer kept; longer ones are cut. */
    public static final int MAX_REFERRER = 2048;
    private static final int MAX_SHORT_FIELD = 256;

    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(16).maxStringLength(64 * 1024).build())
            .build();

    @Override
    public PageView decode(ConsumerRecord<byte[], byte[]> record) throws InvalidEventException {
        return decode(record.value(), record.timestamp());
    }

    /**
     * Decodes one event.
     *
     * @param json the record value
     * @param recordTimestamp the timestamp used when the event has no {@code ts}
     */
    public PageView decode(byte[] json, long recordTimestamp) throws InvalidEventException {
        if (json == null || json.length == 0) {
            throw new InvalidEventException("empty value");
        }
        String path = null;
        String site = null;
        String referrer = null;
        String visitor = null;
        String id = null;
        long ts = recordTimestamp;
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new InvalidEventException("not a JSON object");
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                switch (field) {
                    case "path" -> path = string(p, value, field, MAX_PATH + 1);
                    case "site" -> site = string(p, value, field, MAX_SHORT_FIELD);
                    case "referrer" -> referrer = string(p, value, field, Integer.MAX_VALUE);
                    case "visitor" -> visitor = string(p, value, field, MAX_SHORT_FIELD);
                    case "id" -> id = string(p, value, field, MAX_SHORT_FIELD);
                    case "ts" -> {
                        if (value == JsonToken.VALUE_NULL) {
                            break;
                        }
                        if (value != JsonToken.VALUE_NUMBER_INT) {
                            throw new InvalidEventException("ts must be epoch milliseconds, an integer");
                        }
                        ts = p.getLongValue();
                    }
                    default -> p.skipChildren();
                }
            }
            if (t != JsonToken.END_OBJECT || p.nextToken() != null) {
                throw new InvalidEventException("trailing data after the JSON object");
            }
        } catch (InvalidEventException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new InvalidEventException("invalid JSON: " + firstLine(e.getMessage()));
        }
        if (path == null) {
            throw new InvalidEventException("path is required");
        }
        if (!path.startsWith("/")) {
            throw new InvalidEventException("path must begin with /");
        }
        if (path.length() > MAX_PATH) {
            throw new InvalidEventException("path is longer than " + MAX_PATH + " characters");
        }
        if (ts < 0) {
            throw new InvalidEventException("ts must not be negative");
        }
        if (referrer != null && referrer.length() > MAX_REFERRER) {
            referrer = referrer.substring(0, MAX_REFERRER);
        }
        return new PageView(path, ts, site == null || site.isEmpty() ? "default" : site, referrer, visitor, id);
    }

    private static String string(JsonParser p, JsonToken value, String field, int max) throws IOException, InvalidEventException {
        if (value == JsonToken.VALUE_NULL) {
            return null;
        }
        if (value != JsonToken.VALUE_STRING) {
            throw new InvalidEventException(field + " must be a string");
        }
        String s = p.getText();
        if (s.length() > max) {
            throw new InvalidEventException(field + " is too long");
        }
        return s;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unreadable";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** A record that is not valid event format v1; the message says why. */
    public static final class InvalidEventException extends Exception {
        public InvalidEventException(String reason) {
            super(reason, null, false, false);
        }
    }
}
