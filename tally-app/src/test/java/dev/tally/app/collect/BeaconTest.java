package dev.tally.app.collect;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.app.event.PageView;
import dev.tally.app.event.PageViewDecoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BeaconTest {

    private static final long NOW = 1_780_000_000_000L;

    private static Beacon parse(String json) throws InvalidBeaconException {
        return Beacon.parse(json.getBytes(UTF_8), NOW);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "https://blog.example/x?utm=y#z | /x",
            "https://blog.example | /",
            "https://blog.example/ | /",
            "http://blog.example/a/b/ | /a/b",
            "/relative?q=1 | /relative",
            "https://blog.example/caf%C3%A9 | /café",
            "https://blog.example/cafe%CC%81 | /café",
            "HTTPS://user@Blog.Example:8443/a/./b/../c?x | /a/c",
            "https://blog.example/a b | /a b",
            "https://blog.example/a%2Fb | /a%2Fb"})
    void thePageIsThePathOfTheUrl(String url, String path) throws Exception {
        assertThat(parse("{\"url\":\"" + url + "\"}").path()).isEqualTo(path);
    }

    @Test
    void pathWinsOverUrlAndDefaultsAreFilled() throws Exception {
        Beacon b = parse("{\"url\":\"https://b/other\",\"path\":\"/x\",\"referrer\":\"https://news.example/\",\"extra\":[1,{\"a\":2}]}");
        assertThat(b).isEqualTo(new Beacon("/x", "https://news.example/", "default", null, null, "https://b"));
    }

    @Test
    void theEventDecodesAsV1WithTheCollectorsClockAndTheVisitor() throws Exception {
        Beacon b = parse("{\"path\":\"/x\",\"site\":\"blog\",\"id\":\"e-1\"}");
        PageView v = new PageViewDecoder().decode(b.toEvent(NOW, "v123"), 0);
        assertThat(v).isEqualTo(new PageView("/x", NOW, "blog", null, "v123", "e-1"));
        assertThat(new PageViewDecoder().decode(parse("{\"path\":\"/y\",\"ts\":" + (NOW - 60_000) + "}").toEvent(NOW, null), 0)
                .timestamp()).isEqualTo(NOW - 60_000);
    }

    @Test
    void aReferrerOnThePagesOwnHostIsANavigationNotASource() throws Exception {
        assertThat(parse("{\"url\":\"https://Blog.example/b\",\"referrer\":\"https://blog.example/a\"}").referrer()).isNull();
        assertThat(parse("{\"url\":\"https://blog.example/b\",\"referrer\":\"https://news.example/a\"}").referrer())
                .isEqualTo("https://news.example/a");
        assertThat(parse("{\"path\":\"/b\",\"referrer\":\"https://blog.example/a\"}").referrer()).isEqualTo("https://blog.example/a");
    }

    @Test
    void longReferrersAreCutNotRefused() throws Exception {
        Beacon b = parse("{\"path\":\"/x\",\"referrer\":\"https://r/" + "a".repeat(5000) + "\"}");
        assertThat(b.referrer()).hasSize(PageViewDecoder.MAX_REFERRER);
        assertThat(dev.tally.app.event.Text.cut("ab\uD83D\uDE00", 3)).isEqualTo("ab");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "'' | empty body",
            "[1] | must be a JSON object",
            "{\"path\":\"/x\" | invalid JSON",
            "{\"path\":\"/x\"} {} | trailing data",
            "{} | url or path is required",
            "{\"path\":\"x\"} | must begin with /",
            "{\"path\":5} | path must be a string",
            "{\"url\":\"not a url\"} | url",
            "{\"url\":\"//evil\"} | url",
            "{\"url\":\"ftp://blog.example/x\"} | url",
            "{\"url\":\"https:///x\"} | url",
            "{\"url\":\"https://blog.example/a%zz\"} | percent-escape",
            "{\"path\":\"/x\",\"ts\":\"yesterday\"} | ts must be epoch milliseconds",
            "{\"path\":\"/x\",\"ts\":-1} | must not be negative",
            "{\"path\":\"/x\",\"site\":\"\"} | site must be",
            "{\"path\":\"/x\",\"site\":\"my blog\"} | site must be",
            "{\"path\":\"/x\",\"site\":\"\u00e9\"} | site must be",
            "{\"path\":\"/x\",\"referrer\":\"https://a b.example/\"} | referrer has a host",
            "{\"path\":\"/x\",\"referrer\":[]} | referrer must be a string",
            "{\"path\":\"/x\",\"event\":\"\"} | event must not be empty",
            "{\"path\":\"/x\",\"event\":5} | event must be a string",
            "{\"path\":\"/x\",\"event\":\"sign\\u0000up\"} | event contains a control character",
            "{\"path\":\"/x\",\"event\":\"\\ud800\"} | event contains a lone surrogate",
            "{\"path\":\"/x\",\"props\":{\"a\":\"b\"}} | props belong to a custom event",
            "{\"path\":\"/x\",\"event\":\"e\",\"props\":[\"a\"]} | props must be an object",
            "{\"path\":\"/x\",\"event\":\"e\",\"props\":\"a\"} | props must be an object",
            "{\"path\":\"/x\",\"event\":\"e\",\"props\":{\"a\":{\"b\":1}}} | props must be an object of strings",
            "{\"path\":\"/x\",\"event\":\"e\",\"props\":{\"a\":null}} | props must be an object of strings",
            "{\"path\":\"/x\",\"event\":\"e\",\"props\":{\"a\":\"1\",\"a\":\"2\"}} | props names a property twice",
            "{\"path\":\"/x\",\"event\":\"e\",\"props\":{\"\":\"1\"}} | props has a property without a name",
            "{\"path\":\"/x\",\"event\":\"e\",\"props\":{\"a\\u0007\":\"1\"}} | a name in props contains a control character",
            "{\"path\":\"/x\",\"event\":\"e\",\"props\":{\"a\":\"\\u0000\"}} | props.a contains a control character"})
    void invalidBeaconsSayWhy(String json, String reason) {
        assertThatThrownBy(() -> parse(json)).isInstanceOf(InvalidBeaconException.class).hasMessageContaining(reason);
    }

    @Test
    void theParsersLimitsAreSaidInTheBeaconsTermsNotItsOwn() {
        String deep = "{\"path\":\"/x\",\"zz\":" + "[".repeat(9) + "]".repeat(9) + "}";
        assertThatThrownBy(() -> parse(deep)).hasMessage("invalid JSON: nested deeper than 8 levels");
        String longNumber = "{\"path\":\"/x\",\"zz\":" + "1".repeat(1001) + "}";
        assertThatThrownBy(() -> parse(longNumber)).hasMessage("invalid JSON: a number longer than 1000 digits");
    }

    @Test
    void aCustomEventHasANameAndBoundedProperties() throws Exception {
        Beacon b = parse("{\"url\":\"https://blog.example/pricing?utm_source=news\",\"event\":\"signup\","
                + "\"props\":{\"plan\":\"pro\",\"seats\":3,\"trial\":true,\"price\":9.5}}");
        assertThat(b.event()).isEqualTo("signup");
        assertThat(b.props()).containsExactly(java.util.Map.entry("plan", "pro"), java.util.Map.entry("seats", "3"),
                java.util.Map.entry("trial", "true"), java.util.Map.entry("price", "9.5"));
        assertThat(b.campaign()).isEqualTo(new Campaign("news", null, null));
        assertThat(parse("{\"path\":\"/x\",\"event\":\"" + "e".repeat(64) + "\"}").event()).hasSize(64);
        assertThatThrownBy(() -> parse("{\"path\":\"/x\",\"event\":\"" + "\u00e9".repeat(33) + "\"}"))
                .hasMessageContaining("event is longer than 64 bytes");
        StringBuilder many = new StringBuilder("{\"path\":\"/x\",\"event\":\"e\",\"props\":{");
        for (int i = 0; i < 11; i++) {
            many.append(i == 0 ? "" : ",").append("\"p").append(i).append("\":\"v\"");
        }
        assertThatThrownBy(() -> parse(many + "}}")).hasMessageContaining("more than 10 properties");
        assertThat(parse(many.toString().replace(",\"p10\":\"v\"", "") + "}}").props()).hasSize(10);
        assertThatThrownBy(() -> parse("{\"path\":\"/x\",\"event\":\"e\",\"props\":{\"a\":\"" + "v".repeat(257) + "\"}}"))
                .hasMessageContaining("props.a is longer than 256 bytes");
        assertThatThrownBy(() -> parse("{\"path\":\"/x\",\"event\":\"e\",\"props\":{\"" + "n".repeat(65) + "\":\"v\"}}"))
                .hasMessageContaining("a name in props is longer than 64 bytes");
    }

    @Test
    void theFutureIsRefusedBeyondAFewSeconds() throws Exception {
        assertThat(parse("{\"path\":\"/x\",\"ts\":" + (NOW + 4_000) + "}").ts()).isEqualTo(NOW + 4_000);
        assertThatThrownBy(() -> parse("{\"path\":\"/x\",\"ts\":" + Long.MAX_VALUE + "}")).hasMessageContaining("in the future");
        assertThatThrownBy(() -> parse("{\"path\":\"/x\",\"ts\":" + (NOW + 60_000) + "}"))
                .hasMessageContaining("60 s in the future");
    }

    @Test
    void pathsAreLimitedTo2048BytesOfUtf8() throws Exception {
        assertThat(parse("{\"path\":\"/" + "a".repeat(2047) + "\"}").path()).hasSize(2048);
        assertThatThrownBy(() -> parse("{\"path\":\"/" + "a".repeat(2048) + "\"}")).hasMessageContaining("2048 bytes");
        assertThatThrownBy(() -> parse("{\"path\":\"/" + "\u20ac".repeat(2000) + "\"}")).hasMessageContaining("2048 bytes");
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"url", "path", "site", "id", "referrer"})
    void controlCharactersAndLoneSurrogatesAreRefusedInEveryField(String field) {
        for (String bad : new String[] {"\\u0000", "\\u0007", "\\r", "\\u001b", "\\u007f", "\\ud800", "\\udfff"}) {
            String value = switch (field) {
                case "url" -> "https://blog.example/a" + bad;
                case "path" -> "/a" + bad;
                case "referrer" -> "https://news.example/" + bad;
                default -> "a" + bad;
            };
            String json = field.equals("url") || field.equals("path") ? "{\"" + field + "\":\"" + value + "\"}"
                    : "{\"path\":\"/x\",\"" + field + "\":\"" + value + "\"}";
            assertThatThrownBy(() -> parse(json)).as(json).isInstanceOf(InvalidBeaconException.class)
                    .hasMessageMatching(".*(control character|lone surrogate).*");
        }
    }

    @Test
    void aBeaconOlderThanTheWindowCannotRewriteHistory() throws Exception {
        assertThat(Beacon.parse(("{\"path\":\"/x\",\"ts\":" + (NOW - 3_599_000) + "}").getBytes(UTF_8), NOW).ts())
                .isEqualTo(NOW - 3_599_000);
        assertThatThrownBy(() -> parse("{\"path\":\"/x\",\"ts\":" + (NOW - 3_601_000) + "}"))
                .hasMessageContaining("3601 s old").hasMessageContaining("3600 s");
        assertThatThrownBy(() -> parse("{\"path\":\"/x\",\"ts\":0}")).hasMessageContaining("old");
        assertThat(Beacon.parse(("{\"path\":\"/x\",\"ts\":" + (NOW - 86_000_000) + "}").getBytes(UTF_8), NOW, 86_400_000).ts())
                .isEqualTo(NOW - 86_000_000);
    }

    @Test
    void referrersLoseTheirQueryAndFragment() throws Exception {
        assertThat(parse("{\"path\":\"/x\",\"referrer\":\"https://news.example/item?id=1&token=secret#c\"}").referrer())
                .isEqualTo("https://news.example/item");
        assertThat(parse("{\"path\":\"/x\",\"referrer\":\"https://news.example#c\"}").referrer()).isEqualTo("https://news.example");
    }

    @Test
    void theOriginOfThePageIsKnownForTheOriginsCheck() throws Exception {
        assertThat(parse("{\"url\":\"HTTPS://Blog.Example:443/x\"}").origin()).isEqualTo("https://blog.example");
        assertThat(parse("{\"url\":\"http://blog.example:8080/x\"}").origin()).isEqualTo("http://blog.example:8080");
        assertThat(parse("{\"path\":\"/x\"}").origin()).isNull();
    }

    @Test
    void invalidUtf8IsRefused() {
        byte[] body = "{\"path\":\"/x?\"}".getBytes(UTF_8);
        body[10] = (byte) 0xC3; // a lead byte followed by an ASCII quote: malformed
        assertThatThrownBy(() -> Beacon.parse(body, NOW)).hasMessageContaining("not valid UTF-8");
    }
}
