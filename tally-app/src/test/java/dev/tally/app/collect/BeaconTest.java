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
            "http://blog.example/a/b/ | /a/b/",
            "/relative?q=1 | /relative",
            "https://blog.example/caf%C3%A9 | /caf%C3%A9",
            "https://blog.example/a b | /a%20b"})
    void thePageIsThePathOfTheUrl(String url, String path) throws Exception {
        assertThat(parse("{\"url\":\"" + url + "\"}").path()).isEqualTo(path);
    }

    @Test
    void pathWinsOverUrlAndDefaultsAreFilled() throws Exception {
        Beacon b = parse("{\"url\":\"https://b/other\",\"path\":\"/x\",\"referrer\":\"https://news.example/\",\"extra\":[1,{\"a\":2}]}");
        assertThat(b).isEqualTo(new Beacon("/x", "https://news.example/", "default", null, null));
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
        assertThat(Beacon.cut("ab\uD83D\uDE00", 3)).isEqualTo("ab");
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
            "{\"path\":\"/x\",\"ts\":\"yesterday\"} | ts must be epoch milliseconds",
            "{\"path\":\"/x\",\"ts\":-1} | must not be negative",
            "{\"path\":\"/x\",\"site\":\"\"} | site must be",
            "{\"path\":\"/x\",\"referrer\":[]} | referrer must be a string"})
    void invalidBeaconsSayWhy(String json, String reason) {
        assertThatThrownBy(() -> parse(json)).isInstanceOf(InvalidBeaconException.class).hasMessageContaining(reason);
    }

    @Test
    void theFutureIsRefusedBeyondAFewSeconds() throws Exception {
        assertThat(parse("{\"path\":\"/x\",\"ts\":" + (NOW + 4_000) + "}").ts()).isEqualTo(NOW + 4_000);
        assertThatThrownBy(() -> parse("{\"path\":\"/x\",\"ts\":" + (NOW + 60_000) + "}"))
                .hasMessageContaining("60 s in the future");
    }

    @Test
    void pathsAreLimitedTo2048Characters() throws Exception {
        assertThat(parse("{\"path\":\"/" + "a".repeat(2047) + "\"}").path()).hasSize(2048);
        assertThatThrownBy(() -> parse("{\"path\":\"/" + "a".repeat(2048) + "\"}")).hasMessageContaining("longer than 2048");
    }

    @Test
    void invalidUtf8IsRefused() {
        byte[] body = "{\"path\":\"/x?\"}".getBytes(UTF_8);
        body[10] = (byte) 0xC3; // a lead byte followed by an ASCII quote: malformed
        assertThatThrownBy(() -> Beacon.parse(body, NOW)).hasMessageContaining("not valid UTF-8");
    }
}
