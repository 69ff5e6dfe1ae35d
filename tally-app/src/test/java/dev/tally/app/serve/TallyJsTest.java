package dev.tally.app.serve;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import org.junit.jupiter.api.Test;

/** The snippet every page of a blog loads stays small and keeps its promises. */
class TallyJsTest {

    @Test
    void isAtMostOneKilobyteAndDoesWhatTheReadmeSays() throws Exception {
        byte[] js;
        try (InputStream in = TallyJsTest.class.getResourceAsStream("/web/tally.js")) {
            assertThat(in).as("/web/tally.js on the classpath").isNotNull();
            js = in.readAllBytes();
        }
        assertThat(js.length).as("bytes served").isLessThanOrEqualTo(1024);
        String text = new String(js, UTF_8);
        assertThat(text).contains("sendBeacon", "keepalive", "pushState", "replaceState", "popstate", "tally_ignore",
                "data-tally-views", "text/plain", "/api/event", "/api/views", "currentScript");
        assertThat(text).doesNotContain("innerHTML", "document.write", "eval(");
    }
}
