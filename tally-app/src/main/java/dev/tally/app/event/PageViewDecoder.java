package dev.tally.app.event;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;
import dev.tally.consumer.RecordDecoder;
import java.io.IOException;
import java.nio.CharBuffer;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Decodes event formats v1 and v2 with a streaming JSON parser: no tree, no reflection, one pass
 * over the bytes. Any record that is not valid throws {@link InvalidEventException}, which sends
 * it to the dead-letter topic with the reason. v2's own fields (campaign, software, country, a
 * custom event) are read only when a record has them. Unknown fields are ignored, so that
 * producers can add fields without breaking older aggregators.
 *
 * <p>The topic is open to any producer, so nothing is trusted: the value must be UTF-8, the path
 * is put in its {@linkplain PagePath canonical form} and every other field is checked by
 * {@link EventFields}, so that no value the database cannot store (a NUL, a path too long for an
 * index entry, a host too long for its column) ever reaches the aggregator. Any time from 1970 to
 * the year 9999 is kept: other producers may import history.
 */
public final class PageViewDecoder implements RecordDecoder<PageView> {

    /** The longest path accepted, in bytes of UTF-8 (and so in characters): {@link PagePath#MAX_BYTES}. */
    public static final int MAX_PATH = PagePath.MAX_BYTES;
    /** The longest referrer kept; longer ones are cut. */
    public static final int MAX_REFERRER = EventFields.MAX_REFERRER;

    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(16).maxStringLength(64 * 1024).build())
            .build();
    /** Pages and sites repeat: most records find theirs already checked (see {@link FieldCache}). */
    private static final int CACHED_PATHS = 16384;
    private static final int MAX_CACHED_PATH = 512;
    private static final int MAX_CACHED_AUTHORITY = 128;

    private final FieldCache<String> paths = new FieldCache<>(CACHED_PATHS, MAX_CACHED_PATH, PagePath::canonical);
    private final FieldCache<String> sites = new FieldCache<>(64, EventFields.MAX_SITE,
            site -> site.isEmpty() ? EventFields.DEFAULT_SITE : EventFields.site(site));
    private final V2Fields.Caches dimensions = new V2Fields.Caches();
    private final boolean keepsText;
    /** Decoders are shared by threads (Kafka Streams' in the bench): a parser each. */
    private final ThreadLocal<Feed> feeds = ThreadLocal.withInitial(Feed::new);
    /** Referrer hosts seen, so that records waiting for their transaction share one string per host. */
    private final Interner<String> hosts = new Interner<>(1024);
    /**
     * For counting: referrer hosts by the referrer's text up to its path ({@link ReferrerHost#authorityEnd}),
     * which decides the host. The referrer itself is then checked where the parser holds it and
     * never made a string: those were a fifth of the aggregator's allocations, and its young
     * collections copy what a transaction holds until it commits.
     */
    private final FieldCache<String> referrerHosts = new FieldCache<>(1024, MAX_CACHED_AUTHORITY,
            authority -> hosts.intern(ReferrerHost.checked(authority)));

    /** A decoder that keeps every field of an event. */
    public PageViewDecoder() {
        this(true);
    }

    private PageViewDecoder(boolean keepsText) {
        this.keepsText = keepsText;
    }

    /**
     * A decoder for the aggregator: it checks every field as any decoder does, but keeps of the
     * referrer only its {@linkplain PageView#referrerHost host}, and no event id ({@code null} in
     * the views it makes). The aggregates read neither, and a transaction keeps its events'
     * values until it commits, where every text kept is copied by each young collection.
     */
    public static PageViewDecoder forCounting() {
        return new PageViewDecoder(false);
    }

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
        // Jackson does not check the bytes of strings it skips; a record is UTF-8 throughout or refused.
        if (!Text.isUtf8(json)) {
            throw new InvalidEventException("the value is not valid UTF-8");
        }
        String path = null;
        String site = null;
        String referrer = null;
        String visitor = null;
        String id = null;
        String countedHost = null;
        InvalidFieldException referrerProblem = null;
        long ts = recordTimestamp;
        V2Fields v2 = null;
        Feed feed = feeds.get();
        JsonParser p = feed.next();
        boolean whole = false;
        try {
            // A UTF-8 byte order mark is not part of the object, as Jackson's own bootstrap skips it.
            int from = json.length >= 3 && json[0] == (byte) 0xEF && json[1] == (byte) 0xBB && json[2] == (byte) 0xBF ? 3 : 0;
            ((ByteArrayFeeder) p.getNonBlockingInputFeeder()).feedInput(json, from, json.length);
            JsonToken first = p.nextToken();
            if (first != JsonToken.START_OBJECT) {
                throw first == JsonToken.NOT_AVAILABLE ? truncated() : new InvalidEventException("not a JSON object");
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if (value == JsonToken.NOT_AVAILABLE) {
                    throw truncated();
                }
                switch (field) {
                    case "path" -> path = checked(p, value, field, paths);
                    case "site" -> site = checked(p, value, field, sites);
                    case "referrer" -> {
                        if (keepsText) {
                            referrer = string(p, value, field);
                        } else {
                            try {
                                countedHost = countedHost(p, value, field);
                            } catch (InvalidFieldException e) {
                                // Reported where a kept referrer's would be, after the checks that come first.
                                referrerProblem = e;
                            }
                        }
                    }
                    case "visitor" -> visitor = string(p, value, field);
                    case "id" -> id = string(p, value, field);
                    case "ts" -> {
                        if (value == JsonToken.VALUE_NULL) {
                            break;
                        }
                        if (value != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                            throw new InvalidEventException("ts must be epoch milliseconds, an integer");
                        }
                        ts = p.getLongValue();
                    }
                    default -> {
                        if (V2Fields.isField(field)) {
                            if (v2 == null) {
                                v2 = new V2Fields(dimensions);
                            }
                            v2.read(field, p, value);
                        } else {
                            p.skipChildren();
                        }
                    }
                }
            }
            if (t == JsonToken.NOT_AVAILABLE) {
                throw truncated();
            }
            // Fed the whole record, the parser has nothing more to give unless the record has.
            if (t != JsonToken.END_OBJECT || p.nextToken() != JsonToken.NOT_AVAILABLE) {
                throw new InvalidEventException("trailing data after the JSON object");
            }
            whole = true;
        } catch (InvalidEventException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new InvalidEventException("invalid JSON: " + firstLine(e.getMessage()));
        } finally {
            if (!whole) {
                // Stopped inside a record: its state is no start for the next.
                feed.discard();
            }
        }
        if (path == null) {
            throw new InvalidEventException("path is required");
        }
        try {
            // A kept referrer varies too much to cache (query strings): it is checked, and its host parsed, once.
            if (referrerProblem != null) {
                throw referrerProblem;
            }
            String kept = referrer == null ? null : EventFields.keptReferrer(referrer);
            String checkedId = id == null ? null : EventFields.id(id);
            PageView v1 = new PageView(
                    path,
                    EventFields.timestamp(ts),
                    site == null ? EventFields.DEFAULT_SITE : site,
                    keepsText ? kept : null,
                    keepsText ? hosts.intern(EventFields.referrerHost(kept)) : countedHost,
                    visitor == null ? null : EventFields.visitor(visitor),
                    keepsText ? checkedId : null);
            return v2 == null ? v1 : v2.addTo(v1);
        } catch (InvalidFieldException e) {
            throw new InvalidEventException(e.getMessage());
        }
    }

    /** A string field's value, {@code null} when the value is null; any other type is refused. */
    static String string(JsonParser p, JsonToken value, String field) throws IOException, InvalidEventException {
        if (value == JsonToken.VALUE_NULL) {
            return null;
        }
        if (value != JsonToken.VALUE_STRING) {
            throw new InvalidEventException(field + " must be a string");
        }
        return p.getText();
    }

    /**
     * The host a referrer counts for, checked as {@link EventFields#referrer} checks a kept one,
     * read where the parser holds the text.
     */
    private String countedHost(JsonParser p, JsonToken value, String field) throws IOException, InvalidEventException, InvalidFieldException {
        if (value == JsonToken.VALUE_NULL) {
            return null;
        }
        if (value != JsonToken.VALUE_STRING) {
            throw new InvalidEventException(field + " must be a string");
        }
        char[] chars = p.getTextCharacters();
        int offset = p.getTextOffset();
        CharSequence text = CharBuffer.wrap(chars, offset, p.getTextLength());
        String problem = Text.problem(text);
        if (problem != null) {
            throw new InvalidFieldException("referrer contains " + problem);
        }
        int end = ReferrerHost.authorityEnd(text.subSequence(0, Text.cutLength(text, MAX_REFERRER)));
        return end < 0 ? null : referrerHosts.get(chars, offset, end);
    }

    /** A string field in its checked form, through {@code cache}; {@code null} when the value is null. */
    static <V> V checked(JsonParser p, JsonToken value, String field, FieldCache<V> cache) throws IOException, InvalidEventException {
        if (value == JsonToken.VALUE_NULL) {
            return null;
        }
        if (value != JsonToken.VALUE_STRING) {
            throw new InvalidEventException(field + " must be a string");
        }
        try {
            return cache.get(p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
        } catch (InvalidFieldException e) {
            throw new InvalidEventException(e.getMessage());
        }
    }

    private static InvalidEventException truncated() {
        return new InvalidEventException("invalid JSON: unexpected end of input");
    }

    /**
     * A thread's parser, fed one record after another. Jackson's blocking parser is made for one
     * input: one per record was a third of the aggregator's allocation (parser, symbol table, read
     * contexts), and its young collections copy what a transaction holds until it commits. A
     * parser is renewed after {@link #RECORDS} records, so that its field-name table, which
     * any producer's field names fill, never grows for long.
     */
    private static final class Feed {
        static final int RECORDS = 10_000;
        private JsonParser parser;
        private int fed;

        JsonParser next() throws InvalidEventException {
            if (parser == null || ++fed > RECORDS) {
                try {
                    parser = JSON.createNonBlockingByteArrayParser();
                } catch (IOException e) {
                    throw new InvalidEventException("invalid JSON: " + firstLine(e.getMessage()));
                }
                fed = 1;
            }
            return parser;
        }

        void discard() {
            parser = null;
        }
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
