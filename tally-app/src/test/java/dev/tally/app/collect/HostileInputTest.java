package dev.tally.app.collect;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.app.event.Dimensions;
import dev.tally.app.event.EventFields;
import dev.tally.app.event.InvalidFieldException;
import dev.tally.app.event.PagePath;
import dev.tally.app.event.PageView;
import dev.tally.app.event.PageViewDecoder;
import dev.tally.app.event.ReferrerHost;
import dev.tally.app.event.Text;
import java.text.Normalizer;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/**
 * Whatever arrives — random bytes, JSON built from the fragments that break parsers (NULs, lone
 * surrogates, bad escapes, dot segments, multibyte runs over the limits, huge numbers, deep
 * nesting) — ends in a refusal with a reason (a 400, a dead letter) or in an event every column of
 * the store can hold; never in another exception. And what the collector accepts, the decoder
 * accepts with the same values.
 */
class HostileInputTest {

    private static final long NOW = 1_780_000_000_000L;
    private final PageViewDecoder decoder = new PageViewDecoder();

    @Property(tries = 2000)
    void anyBytesAreADeadLetterOrAStorableEvent(@ForAll("bodies") byte[] value) throws Exception {
        try {
            assertStorable(decoder.decode(value, NOW));
            Statistics.collect("accepted");
        } catch (PageViewDecoder.InvalidEventException e) {
            assertThat(e.getMessage()).isNotBlank();
            Statistics.collect("dead letter");
        }
    }

    @Property(tries = 2000)
    void anyBytesAreA400OrABeaconTheDecoderTakesAsItIs(@ForAll("bodies") byte[] body) throws Exception {
        Beacon b;
        try {
            b = Beacon.parse(body, NOW);
        } catch (InvalidBeaconException e) {
            assertThat(e.getMessage()).isNotBlank();
            Statistics.collect("400");
            return;
        }
        Statistics.collect("accepted");
        PageView v = decoder.decode(b.toEvent(NOW, "AAAAAAAAAAAAAAAAAAAAAA"), 0);
        assertStorable(v);
        PageView v1 = new PageView(b.path(), b.ts() == null ? NOW : b.ts(), b.site(), b.referrer(), "AAAAAAAAAAAAAAAAAAAAAA", b.id());
        assertThat(v).isEqualTo(new PageView(v1.path(), v1.timestamp(), v1.site(), v1.referrer(), v1.referrerHost(), v1.visitor(),
                v1.id(), new Dimensions(b.campaign().source(), b.campaign().medium(), b.campaign().campaign(), null, null, null,
                null, null, null), b.event(), b.props()));
    }

    @Property(tries = 5000)
    void aCanonicalPathIsItsOwnCanonicalForm(@ForAll("paths") String raw) throws Exception {
        String canonical;
        try {
            canonical = PagePath.canonical(raw);
        } catch (InvalidFieldException e) {
            assertThat(e.getMessage()).startsWith("path");
            Statistics.collect("refused");
            return;
        }
        Statistics.collect(canonical.equals(raw) ? "already canonical" : "rewritten");
        assertPath(canonical);
        assertThat(PagePath.canonical(canonical)).isSameAs(canonical);
    }

    @Property(tries = 3000)
    void aReferrerHostIsNullOrFitsItsColumn(@ForAll("text") String referrer) {
        String host = ReferrerHost.of(referrer);
        if (host != null) {
            assertThat(host).hasSizeLessThanOrEqualTo(ReferrerHost.MAX_LENGTH).matches("[a-z0-9.-]+|\\[[0-9a-f:.]+\\]");
        }
    }

    private static void assertStorable(PageView v) throws Exception {
        assertPath(v.path());
        assertThat(EventFields.isSite(v.site())).as("site %s", v.site()).isTrue();
        assertThat(v.timestamp()).isBetween(0L, EventFields.MAX_TIMESTAMP);
        if (v.referrer() != null) {
            assertThat(Text.problem(v.referrer())).isNull();
            assertThat(v.referrer()).hasSizeLessThanOrEqualTo(EventFields.MAX_REFERRER);
            String host = ReferrerHost.of(v.referrer());
            assertThat(host == null || host.length() <= ReferrerHost.MAX_LENGTH).isTrue();
        }
        Dimensions d = v.dimensions();
        for (String s : new String[] {d.source(), d.medium(), d.campaign(), d.browser(), d.os(), v.event()}) {
            if (s != null) {
                assertThat(Text.problem(s)).isNull();
                assertThat(s).isNotEmpty().hasSizeLessThanOrEqualTo(EventFields.MAX_CAMPAIGN);
            }
        }
        for (String s : new String[] {d.browserVersion(), d.osVersion()}) {
            assertThat(s == null || s.matches("[0-9]{1,8}")).as(s).isTrue();
        }
        assertThat(d.device() == null || EventFields.DEVICES.contains(d.device())).isTrue();
        assertThat(d.country() == null || d.country().matches("[A-Z]{2}")).isTrue();
        assertThat(v.props()).hasSizeLessThanOrEqualTo(EventFields.MAX_PROPS);
        v.props().forEach((k, val) -> {
            assertThat(Text.problem(k)).isNull();
            assertThat(Text.problem(val)).isNull();
            assertThat(val.getBytes(UTF_8).length).isLessThanOrEqualTo(EventFields.MAX_PROP_VALUE_BYTES);
        });
        for (String s : new String[] {v.visitor(), v.id()}) {
            if (s != null) {
                assertThat(Text.problem(s)).isNull();
                assertThat(s.getBytes(UTF_8).length).isLessThanOrEqualTo(256);
            }
        }
    }

    private static void assertPath(String path) throws Exception {
        assertThat(path).startsWith("/");
        assertThat(Text.problem(path)).isNull();
        assertThat(path.getBytes(UTF_8).length).isLessThanOrEqualTo(PagePath.MAX_BYTES);
        assertThat(Normalizer.isNormalized(path, Normalizer.Form.NFC)).isTrue();
        assertThat(path).doesNotContain("//").doesNotContain("?").doesNotContain("#").doesNotContain("/./").doesNotEndWith("/.");
        if (path.length() > 1) {
            assertThat(path).doesNotEndWith("/");
        }
        assertThat(PagePath.canonical(path)).isEqualTo(path);
    }

    /** Pieces that have broken, or could break, a parser, a normaliser or a database. */
    private static final List<String> FRAGMENTS = List.of("/", "//", ".", "..", "/./", "/../", "%", "%2F", "%2f", "%2E", "%25",
        "%00", "%7F", "%C3%A9", "%C3", "%FF", "%zz", "%E2%82%AC", "%ED%A0%80", "%C0%AF", "?", "#", ";", "a", "Z", "0", " ",
        "\u0000", "\u0001", "\u001f", "\u007f", "\u0085", "\u00e9", "e\u0301", "\u0301", "\u212b", "\u20ac", "\uD83D\uDE00",
        "\uD800", "\uDFFF", "\uFFFF", "\uFEFF", "\u202E", "\\", "\"", "https://", "http://", "//", "@", ":", "[", "]",
        "xn--", "b\u00fccher", "news.example", "::1", "127.0.0.1", "-", "_");

    @Provide
    Arbitrary<String> text() {
        Arbitrary<String> fragments = Arbitraries.of(FRAGMENTS).list().ofMaxSize(12).map(l -> String.join("", l));
        Arbitrary<String> repeated = Combinators.combine(Arbitraries.of(FRAGMENTS), Arbitraries.integers().between(1, 3000))
                .as((f, n) -> f.repeat(n));
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, fragments),
                net.jqwik.api.Tuple.of(2, repeated),
                net.jqwik.api.Tuple.of(2, Arbitraries.strings().all().ofMaxLength(40)));
    }

    @Provide
    Arbitrary<String> paths() {
        return text().map(s -> s.startsWith("/") ? s : "/" + s);
    }

    @Provide
    Arbitrary<byte[]> bodies() {
        Arbitrary<String> field = Arbitraries.of("path", "url", "site", "referrer", "visitor", "id", "ts", "x", "v", "source",
                "medium", "campaign", "browser", "browser_version", "os", "os_version", "device", "country", "event", "props");
        Arbitrary<String> value = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, text().map(HostileInputTest::jsonString)),
                net.jqwik.api.Tuple.of(2, paths().map(HostileInputTest::jsonString)),
                net.jqwik.api.Tuple.of(2, Arbitraries.of("0", "-1", "1780000000000", "1779999000000", "253402300799999",
                        "253402300800000", "9223372036854775807", "99999999999999999999999", "1.5", "1e400", "null", "true",
                        "\"1780000000000\"", "[]", "{}", "[".repeat(40) + "]".repeat(40), "\"site\"", "\"blog\"",
                        "\"desktop\"", "\"DE\"", "\"de\"", "\"131\"", "{\"plan\":\"pro\"}", "{\"n\":1,\"b\":true}",
                        "{\"a\":{\"b\":\"c\"}}", "{\"\":\"x\"}", "{\"a\":\"\\u0000\"}")),
                net.jqwik.api.Tuple.of(1, paths().map(p -> jsonString("https://blog.example" + p + "?utm_source=" + p))));
        Arbitrary<String> member = Combinators.combine(field, value).as((f, v) -> "\"" + f + "\":" + v);
        // A plausible page first, most of the time, so that many events get past the first refusal.
        Arbitrary<String> page = Arbitraries.of("/", "a", "\u00e9", "e\u0301", "%C3%A9", "%2F", "..", ".", ";", "\u20ac", "?q", "%41")
                .list().ofMaxSize(8).map(l -> "\"path\":" + jsonString("/" + String.join("/", l)));
        Arbitrary<String> first = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(3, page), net.jqwik.api.Tuple.of(1, member));
        Arbitrary<String> object = Combinators.combine(first, member.list().ofMaxSize(4))
                .as((f, m) -> "{" + f + (m.isEmpty() ? "" : "," + String.join(",", m)) + "}");
        Arbitrary<byte[]> json = object.map(s -> s.getBytes(UTF_8));
        Arbitrary<byte[]> mutated = Combinators.combine(json, Arbitraries.integers().between(0, 1000), Arbitraries.bytes())
                .as((b, at, x) -> {
                    if (b.length > 0) {
                        b[at % b.length] = x;
                    }
                    return b;
                });
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, json),
                net.jqwik.api.Tuple.of(2, mutated),
                net.jqwik.api.Tuple.of(1, Arbitraries.bytes().array(byte[].class).ofMaxSize(200)));
    }

    /** A JSON string literal; control characters, quotes and lone surrogates escaped as a hostile producer may. */
    private static String jsonString(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\' || c < 0x20 || Character.isSurrogate(c) && c % 2 == 0) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
