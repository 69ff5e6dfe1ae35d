package dev.tally.app.event;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PageViewDecoderTest {

    private final PageViewDecoder decoder = new PageViewDecoder();

    private PageView decode(String json) throws Exception {
        return decoder.decode(json.getBytes(UTF_8), 1_000L);
    }

    @Test
    void aFullEventKeepsEveryField() throws Exception {
        assertThat(decode("{\"path\":\"/x\",\"ts\":42,\"site\":\"blog\",\"referrer\":\"https://a/b\",\"visitor\":\"v1\",\"id\":\"e1\"}"))
                .isEqualTo(new PageView("/x", 42, "blog", "https://a/b", "v1", "e1"));
    }

    @Test
    void absentFieldsTakeTheirDefaultsAndUnknownOnesAreIgnored() throws Exception {
        assertThat(decode("{\"path\":\"/x\",\"extra\":{\"a\":[1,2]},\"n\":null}"))
                .isEqualTo(new PageView("/x", 1_000L, "default", null, null, null));
    }

    @Test
    void aV2RecordKeepsItsDimensionsAndAV1RecordHasNone() throws Exception {
        PageView v = decode("{\"v\":2,\"path\":\"/x\",\"ts\":42,\"site\":\"blog\",\"source\":\"news\",\"medium\":\"email\","
                + "\"campaign\":\"Winter Sale\",\"browser\":\"Chrome Mobile\",\"browser_version\":\"131\",\"os\":\"Android\","
                + "\"os_version\":\"10\",\"device\":\"mobile\",\"country\":\"DE\"}");
        assertThat(v).isEqualTo(new PageView("/x", 42, "blog", null, null, null, null, new Dimensions("news", "email",
                "Winter Sale", "Chrome Mobile", "131", "Android", "10", "mobile", "DE"), null, java.util.Map.of()));
        assertThat(decode("{\"path\":\"/x\"}").dimensions()).isSameAs(Dimensions.NONE);
        PageView e = decode("{\"v\":2,\"path\":\"/pricing\",\"event\":\"signup\",\"props\":{\"plan\":\"pro\",\"seats\":\"3\"},\"country\":\"XK\"}");
        assertThat(e.event()).isEqualTo("signup");
        assertThat(e.props()).containsExactly(java.util.Map.entry("plan", "pro"), java.util.Map.entry("seats", "3"));
        assertThat(e.dimensions().country()).isEqualTo("XK");
    }

    @Test
    void recordsOfOneReaderAndReferrerHostShareTheirDimensionsAndHost() throws Exception {
        // A transaction keeps up to 400 000 decoded records: a copy of each per record would be most of its memory.
        String beacon = "{\"v\":2,\"path\":\"/%s\",\"referrer\":\"https://news.example/item?id=%s\",\"browser\":\"Firefox\","
                + "\"browser_version\":\"133\",\"os\":\"Linux\",\"device\":\"desktop\",\"country\":\"FR\"}";
        PageView a = decode(beacon.formatted("a", "1"));
        PageView b = decode(beacon.formatted("b", "2"));

        assertThat(b.dimensions()).isEqualTo(new Dimensions(null, null, null, "Firefox", "133", "Linux", null, "desktop", "FR"))
                .isSameAs(a.dimensions());
        assertThat(b.referrerHost()).isEqualTo("news.example").isSameAs(a.referrerHost());
        assertThat(b.referrer()).isEqualTo("https://news.example/item?id=2");
    }

    @Test
    void theCountingDecoderKeepsOnlyTheReferrersHostAndNoIdButChecksBoth() throws Exception {
        PageViewDecoder counting = PageViewDecoder.forCounting();
        PageView v = counting.decode(("{\"path\":\"/x\",\"ts\":42,\"referrer\":\"https://a.example/b?c=d\",\"visitor\":\"v1\","
                + "\"id\":\"e1\"}").getBytes(UTF_8), 1_000L);

        assertThat(v).isEqualTo(new PageView("/x", 42, "default", null, "a.example", "v1", null));
        assertThatThrownBy(() -> counting.decode("{\"path\":\"/x\",\"referrer\":\"https://a\\u0000b/\"}".getBytes(UTF_8), 1L))
                .hasMessageContaining("referrer contains a control character");
        assertThatThrownBy(() -> counting.decode(("{\"path\":\"/x\",\"id\":\"" + "i".repeat(EventFields.MAX_ID_BYTES + 1) + "\"}")
                .getBytes(UTF_8), 1L)).hasMessageContaining("id is longer than");
    }

    @Test
    void theCountingDecoderFindsEveryReferrersHostAndRefusalAsTheFullOneDoes() throws Exception {
        // The counting decoder reads the host where the parser holds the text, through a cache by
        // the text before the path: the same answer as parsing the kept referrer, twice over so
        // that the second reading comes from the cache.
        String longHost = "a".repeat(63) + "." + "b".repeat(63) + "." + "c".repeat(63) + "." + "d".repeat(61);
        String[] referrers = {"https://Example.COM./a?b#c", "http://user:pw@host.example:8080/x", "https://host.example:99999/",
            "https://host.example:12a/", "//cdn.example/x", "https:///x", "https://", "android-app://com.x/y", "free text",
            "https://[2001:DB8::1]:443/p", "https://[fe80::1%25eth0]/", "https://bücher.example/", "https://a_b.example/",
            "https://" + longHost + "/", "https://" + longHost + "e/", "https://x.example\\evil.example/",
            "https://a.example@b.example/", "https://x.example?q=a/b", "https://x.example#f/g", "mailto:a@b.example",
            "https://a.example/" + "p".repeat(EventFields.MAX_REFERRER), "https://" + "h".repeat(3000),
            "https://" + "h".repeat(EventFields.MAX_REFERRER - 9) + "\uD83D\uDE00/", "https://a.example/\u0007",
            "https://a.example/\uD800x", "https://a.\u0000example/", "https://a.example/\u009F", "",
            // A scheme so long that the referrer as kept, cut, names no host.
            "h".repeat(EventFields.MAX_REFERRER) + "://host.example/"};
        PageViewDecoder counting = PageViewDecoder.forCounting();
        for (int round = 0; round < 2; round++) {
            for (String referrer : referrers) {
                byte[] json = ("{\"path\":\"/x\",\"referrer\":\"" + referrer + "\"}").getBytes(UTF_8);
                String expected;
                try {
                    expected = "host " + decoder.decode(json, 1L).referrerHost();
                } catch (PageViewDecoder.InvalidEventException e) {
                    expected = "refused: " + e.getMessage();
                }
                String actual;
                try {
                    actual = "host " + counting.decode(json, 1L).referrerHost();
                } catch (PageViewDecoder.InvalidEventException e) {
                    actual = "refused: " + e.getMessage();
                }
                assertThat(actual).as(referrer).isEqualTo(expected);
            }
        }
        assertThat(counting.decode("{\"path\":\"/x\",\"referrer\":\"https://user@Host.Example:80/a\"}".getBytes(UTF_8), 1L)
                .referrerHost()).isEqualTo("host.example");
    }

    @Test
    void aSharedValueIsNeverAnotherRecordsValue() throws Exception {
        PageView a = decode("{\"path\":\"/a\",\"browser\":\"Firefox\",\"country\":\"FR\",\"referrer\":\"https://one.example/\"}");
        PageView b = decode("{\"path\":\"/a\",\"browser\":\"Firefox\",\"country\":\"DE\",\"referrer\":\"https://two.example/\"}");
        PageView c = decode("{\"path\":\"/a\",\"browser\":\"Firefox\",\"country\":\"FR\",\"referrer\":\"https://one.example/\"}");

        assertThat(b.dimensions().country()).isEqualTo("DE");
        assertThat(b.referrerHost()).isEqualTo("two.example");
        assertThat(c.dimensions()).isEqualTo(a.dimensions());
        assertThat(c.referrerHost()).isEqualTo("one.example");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "{\"path\":\"/x\",\"source\":\"\"}|source must be 1 to 128 characters",
        "{\"path\":\"/x\",\"medium\":7}|medium must be a string",
        "{\"path\":\"/x\",\"campaign\":\"a\\u0000b\"}|campaign contains a control character",
        "{\"path\":\"/x\",\"browser\":\"\\ud800\"}|browser contains a lone surrogate",
        "{\"path\":\"/x\",\"os\":\"\"}|os must be 1 to 64 characters",
        "{\"path\":\"/x\",\"browser_version\":\"12a\"}|browser_version must be a major version",
        "{\"path\":\"/x\",\"os_version\":\"123456789\"}|os_version must be a major version",
        "{\"path\":\"/x\",\"os_version\":\"\\u0661\"}|os_version must be a major version",
        "{\"path\":\"/x\",\"device\":\"phone\"}|device must be one of",
        "{\"path\":\"/x\",\"device\":\"Desktop\"}|device must be one of",
        "{\"path\":\"/x\",\"country\":\"de\"}|country must be an ISO 3166-1 alpha-2",
        "{\"path\":\"/x\",\"country\":\"ZZ\"}|country must be an ISO 3166-1 alpha-2",
        "{\"path\":\"/x\",\"country\":\"DEU\"}|country must be an ISO 3166-1 alpha-2",
        "{\"path\":\"/x\",\"event\":\"\"}|event must not be empty",
        "{\"path\":\"/x\",\"event\":[]}|event must be a string",
        "{\"path\":\"/x\",\"props\":{\"a\":\"b\"}}|props belong to a custom event",
        "{\"path\":\"/x\",\"event\":\"e\",\"props\":{\"a\":1}}|props must be an object of strings",
        "{\"path\":\"/x\",\"event\":\"e\",\"props\":[]}|props must be an object of strings",
        "{\"path\":\"/x\",\"event\":\"e\",\"props\":{\"a\":\"1\",\"a\":\"2\"}}|props names a property twice",
        "{\"path\":\"/x\",\"event\":\"e\",\"props\":{\"a\":\"\\u0085\"}}|props.a contains a control character"
    })
    void invalidV2FieldsAreDeadLettersWithTheReason(String json, String reason) {
        assertThatThrownBy(() -> decode(json)).isInstanceOf(PageViewDecoder.InvalidEventException.class).hasMessageContaining(reason);
    }

    @Test
    void v2ValuesAreBoundedLikeV1s() throws Exception {
        assertThat(decode("{\"path\":\"/x\",\"campaign\":\"" + "c".repeat(128) + "\"}").dimensions().campaign()).hasSize(128);
        assertThatThrownBy(() -> decode("{\"path\":\"/x\",\"campaign\":\"" + "c".repeat(129) + "\"}")).hasMessageContaining("campaign");
        assertThatThrownBy(() -> decode("{\"path\":\"/x\",\"browser\":\"" + "b".repeat(65) + "\"}")).hasMessageContaining("browser");
        assertThatThrownBy(() -> decode("{\"path\":\"/x\",\"event\":\"" + "\u20ac".repeat(22) + "\"}"))
                .hasMessageContaining("event is longer than 64 bytes");
        StringBuilder props = new StringBuilder("{\"path\":\"/x\",\"event\":\"e\",\"props\":{");
        for (int i = 0; i < 5000; i++) {
            props.append(i == 0 ? "" : ",").append("\"p").append(i).append("\":\"v\"");
        }
        assertThatThrownBy(() -> decode(props + "}}")).hasMessageContaining("more than 10 properties");
    }

    @Test
    void aRecordThatStopsTheParserHalfWayLeavesNothingForTheNext() throws Exception {
        // One parser is fed record after record: whatever a refused record leaves in it must not
        // reach the record after, and a valid one must not be refused for it.
        String[] broken = {"{\"path\":\"/x\"", "{\"path\":", "{\"path\"", "{", "{\"path\":\"/x\"} {}", "{\"path\":\"/x\"} x",
            "{\"path\":\"/x\",\"extra\":{\"a\":[1,", "{\"v\":2,\"path\":\"/x\",\"props\":{\"a\":", "[1]", "7", "\"s\"", "{\"path\":\"/x\",}",
            "{\"path\":\"/x\",\"ts\":12", "{\"path\":\"/x\"}}", "{\"path\":7}"};
        for (String json : broken) {
            assertThatThrownBy(() -> decode(json)).as(json).isInstanceOf(PageViewDecoder.InvalidEventException.class);
            assertThat(decode("{\"path\":\"/after\",\"ts\":5}")).as("after " + json)
                    .isEqualTo(new PageView("/after", 5, "default", null, null, null));
        }
        assertThatThrownBy(() -> decode("{\"path\":\"/x\",\"ts\":12")).hasMessage("invalid JSON: unexpected end of input");
        assertThatThrownBy(() -> decode("{\"path\":")).hasMessage("invalid JSON: unexpected end of input");
    }

    @Test
    void aByteOrderMarkIsSkippedAndWhitespaceAroundTheObjectIsNoTrailingData() throws Exception {
        byte[] json = "\uFEFF{\"path\":\"/x\",\"ts\":1}".getBytes(UTF_8);
        assertThat(json[0]).isEqualTo((byte) 0xEF);
        for (int i = 0; i < 2; i++) {
            assertThat(decoder.decode(json, 1L).path()).isEqualTo("/x");
            assertThat(decode(" \n{\"path\":\"/y\"} \r\n\t").path()).isEqualTo("/y");
        }
    }

    @Test
    void aValueInUtf16IsRefusedAsTheFormatIsUtf8() throws Exception {
        for (String charset : new String[] {"UTF-16LE", "UTF-16BE", "UTF-16"}) {
            assertThatThrownBy(() -> decoder.decode("{\"path\":\"/x\"}".getBytes(charset), 1L)).as(charset)
                    .isInstanceOf(PageViewDecoder.InvalidEventException.class);
        }
    }

    @Test
    void manyRecordsInARowAreEachTheirOwn() throws Exception {
        // Past the renewal of the thread's parser, and with a field name new to each record.
        for (int i = 0; i < 25_000; i++) {
            PageView v = decode("{\"path\":\"/p" + i % 100 + "\",\"ts\":" + i + ",\"f" + i + "\":{\"x\":[" + i + "]}}");
            assertThat(v.path()).isEqualTo("/p" + i % 100);
            assertThat(v.timestamp()).isEqualTo(i);
        }
    }

    @Test
    void threadsSharingADecoderEachDecodeTheirOwnRecords() throws Exception {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            java.util.List<java.util.concurrent.Future<Boolean>> results = new java.util.ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                results.add(pool.submit(() -> {
                    for (int i = 0; i < 20_000; i++) {
                        if (decode("{\"path\":\"/t" + thread + "\",\"ts\":" + i + "}").timestamp() != i) {
                            return false;
                        }
                    }
                    return true;
                }));
            }
            for (java.util.concurrent.Future<Boolean> r : results) {
                assertThat(r.get()).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aLongReferrerIsCutNotRejected() throws Exception {
        String longRef = "https://r/" + "a".repeat(5_000);
        assertThat(decode("{\"path\":\"/x\",\"referrer\":\"" + longRef + "\"}").referrer()).hasSize(PageViewDecoder.MAX_REFERRER);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "''|empty value",
        "[1]|not a JSON object",
        "{\"path\":\"/x\"|invalid JSON",
        "{\"path\":\"/x\"} {}|trailing data",
        "{}|path is required",
        "{\"path\":\"x\"}|must begin with /",
        "{\"path\":7}|path must be a string",
        "{\"path\":\"/x\",\"ts\":\"yesterday\"}|ts must be epoch milliseconds",
        "{\"path\":\"/x\",\"ts\":-5}|must not be negative",
        "{\"path\":\"/x\",\"site\":[]}|site must be a string"
    })
    void invalidEventsAreRejectedWithTheReason(String json, String reason) {
        assertThatThrownBy(() -> decode(json)).isInstanceOf(PageViewDecoder.InvalidEventException.class).hasMessageContaining(reason);
    }

    @Test
    void aPathOverTheLimitIsRejected() {
        assertThatThrownBy(() -> decode("{\"path\":\"/" + "p".repeat(PageViewDecoder.MAX_PATH) + "\"}"))
                .hasMessageContaining("longer than 2048");
    }

    @Test
    void invalidUtf8IsRejected() {
        byte[] bad = {'{', '"', 'p', 'a', 't', 'h', '"', ':', '"', '/', (byte) 0xC3, (byte) 0x28, '"', '}'};
        assertThatThrownBy(() -> decoder.decode(bad, 0)).hasMessageContaining("not valid UTF-8");
    }

    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"path", "site", "id", "referrer", "visitor"})
    void controlCharactersAndLoneSurrogatesInAnyTextFieldAreDeadLetters(String field) {
        for (String bad : new String[] {"\\u0000", "\\u0001", "\\n", "\\u001f", "\\u007f", "\\ud800", "\\udc00x"}) {
            String value = field.equals("path") ? "/a" + bad : field.equals("referrer") ? "https://r.example/" + bad : "a" + bad;
            String json = field.equals("path") ? "{\"path\":\"" + value + "\"}" : "{\"path\":\"/x\",\"" + field + "\":\"" + value + "\"}";
            assertThatThrownBy(() -> decode(json)).as(json).isInstanceOf(PageViewDecoder.InvalidEventException.class)
                    .hasMessageContaining(field).hasMessageMatching(".*(control character|lone surrogate).*");
        }
    }

    @Test
    void aSurrogateEncodedInTheBytesOrMalformedUtf8AnywhereIsADeadLetter() {
        byte[] surrogate = "{\"path\":\"/a???\"}".getBytes(UTF_8);
        surrogate[11] = (byte) 0xED;
        surrogate[12] = (byte) 0xA0;
        surrogate[13] = (byte) 0x80;
        assertThatThrownBy(() -> decoder.decode(surrogate, 0)).isInstanceOf(PageViewDecoder.InvalidEventException.class);
        byte[] inUnknownField = "{\"path\":\"/a\",\"x\":\"?\"}".getBytes(UTF_8);
        inUnknownField[18] = (byte) 0xFF;
        assertThatThrownBy(() -> decoder.decode(inUnknownField, 0)).hasMessageContaining("UTF-8");
    }

    @Test
    void pathsAreBoundedInBytesSoThatTheyFitPostgresqlIndexEntries() throws Exception {
        assertThatThrownBy(() -> decode("{\"path\":\"/" + "\u00e9".repeat(2047) + "\"}")).hasMessageContaining("2048 bytes");
        assertThat(decode("{\"path\":\"/" + "\u00e9".repeat(1023) + "\"}").path()).hasSize(1024);
    }

    @Test
    void pathsAreCanonicalSoThatEveryProducerNamesAPageTheSameWay() throws Exception {
        assertThat(decode("{\"path\":\"/caf%C3%A9\"}").path()).isEqualTo("/caf\u00e9");
        assertThat(decode("{\"path\":\"/cafe\u0301\"}").path()).isEqualTo("/caf\u00e9");
        assertThat(decode("{\"path\":\"/posts/hello/?utm=x\"}").path()).isEqualTo("/posts/hello");
        assertThatThrownBy(() -> decode("{\"path\":\"/a%zz\"}")).hasMessageContaining("percent-escape");
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"my blog", "", "blog/x", "bl\u00f6g", "a;b"})
    void aSiteIsAShortLabel(String site) throws Exception {
        if (site.isEmpty()) {
            assertThat(decode("{\"path\":\"/x\",\"site\":\"\"}").site()).isEqualTo("default");
            return;
        }
        assertThatThrownBy(() -> decode("{\"path\":\"/x\",\"site\":\"" + site + "\"}")).hasMessageContaining("site");
    }

    @Test
    void siteLabelsUpTo64CharactersAreKept() throws Exception {
        assertThat(decode("{\"path\":\"/x\",\"site\":\"Blog.example_1-x\"}").site()).isEqualTo("Blog.example_1-x");
        assertThat(decode("{\"path\":\"/x\",\"site\":\"" + "s".repeat(64) + "\"}").site()).hasSize(64);
        assertThatThrownBy(() -> decode("{\"path\":\"/x\",\"site\":\"" + "s".repeat(65) + "\"}")).hasMessageContaining("site");
    }

    @Test
    void visitorsAndIdsAreBoundedInBytes() throws Exception {
        assertThat(decode("{\"path\":\"/x\",\"visitor\":\"" + "v".repeat(256) + "\"}").visitor()).hasSize(256);
        assertThatThrownBy(() -> decode("{\"path\":\"/x\",\"visitor\":\"" + "\u00e9".repeat(129) + "\"}")).hasMessageContaining("visitor");
        assertThatThrownBy(() -> decode("{\"path\":\"/x\",\"id\":\"" + "\u00e9".repeat(129) + "\"}")).hasMessageContaining("id");
    }

    @Test
    void aReferrerWhoseHostCannotBeStoredIsADeadLetterOneWithoutAHostIsKept() throws Exception {
        assertThatThrownBy(() -> decode("{\"path\":\"/x\",\"referrer\":\"https://" + "h".repeat(300) + "/\"}"))
                .hasMessageContaining("referrer");
        assertThatThrownBy(() -> decode("{\"path\":\"/x\",\"referrer\":\"https://a b/\"}")).hasMessageContaining("referrer");
        assertThat(decode("{\"path\":\"/x\",\"referrer\":\"not a url\"}").referrer()).isEqualTo("not a url");
        assertThat(decode("{\"path\":\"/x\",\"referrer\":\"https://b\u00fccher.example/\"}").referrer()).isEqualTo("https://b\u00fccher.example/");
    }

    @Test
    void aLongReferrerIsNeverCutBetweenTheHalvesOfASurrogatePair() throws Exception {
        String referrer = "https://r.example/" + "a".repeat(PageViewDecoder.MAX_REFERRER - 19) + "\uD83D\uDE00";
        assertThat(decode("{\"path\":\"/x\",\"referrer\":\"" + referrer + "\"}").referrer()).endsWith("a");
    }

    @Test
    void anyTimeOfImportedHistoryIsKeptButNotBeforeEpochOrAfterYear9999() throws Exception {
        assertThat(decode("{\"path\":\"/x\",\"ts\":0}").timestamp()).isZero();
        assertThat(decode("{\"path\":\"/x\",\"ts\":978307200000}").timestamp()).isEqualTo(978_307_200_000L);
        assertThat(decode("{\"path\":\"/x\",\"ts\":253402300799999}").timestamp()).isEqualTo(253_402_300_799_999L);
        assertThatThrownBy(() -> decode("{\"path\":\"/x\",\"ts\":253402300800000}")).hasMessageContaining("9999");
        assertThatThrownBy(() -> decode("{\"path\":\"/x\",\"ts\":" + Long.MAX_VALUE + "}")).hasMessageContaining("9999");
        assertThatThrownBy(() -> decode("{\"path\":\"/x\",\"ts\":99999999999999999999999}")).hasMessageContaining("ts");
        assertThatThrownBy(() -> decode("{\"path\":\"/x\",\"ts\":1.5}")).hasMessageContaining("ts");
    }

    @Test
    void deepNestingAndNumbersAsStringsAreDeadLetters() {
        assertThatThrownBy(() -> decode("{\"path\":\"/x\",\"x\":" + "[".repeat(500) + "]".repeat(500) + "}"))
                .isInstanceOf(PageViewDecoder.InvalidEventException.class);
        assertThatThrownBy(() -> decode("{\"path\":\"/x\",\"ts\":\"1700000000000\"}")).hasMessageContaining("ts");
        assertThatThrownBy(() -> decode("{\"path\":[\"/x\"]}")).hasMessageContaining("path");
    }
}
