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
        assertThatThrownBy(() -> decoder.decode(bad, 0)).hasMessageContaining("invalid JSON");
    }
}
