package dev.tally.app.serve;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import org.junit.jupiter.api.Test;

/** The snippet every page of a blog loads stays small and keeps its promises. */
class TallyJsTest {

    @Test
    void isAtMostOneAndAHalfKilobytesAndDoesWhatTheReadmeSays() throws Exception {
        byte[] js;
        try (InputStream in = TallyJsTest.class.getResourceAsStream("/web/tally.js")) {
            assertThat(in).as("/web/tally.js on the classpath").isNotNull();
            js = in.readAllBytes();
        }
        assertThat(js.length).as("bytes served").isLessThanOrEqualTo(1536);
        String text = new String(js, UTF_8);
        assertThat(text).contains("sendBeacon", "keepalive", "pushState", "replaceState", "popstate", "tally_ignore",
                "data-tally-views", "/api/event", "/api/views", "currentScript");
        // Events: the page's own (tally.event, data-tally-event), outbound links and downloads when asked, 404 pages.
        assertThat(text).contains("tally={event:", "[data-tally-event]", "tallyProps", "\"outbound\"in D", "\"downloads\"in D",
                "[data-tally-404]");
        // Privacy signals, when the script tag asks for it.
        assertThat(text).contains("\"respectDnt\"in D", "globalPrivacyControl", "doNotTrack");
        // No Blob and no Content-Type: a string body is sent as text/plain;charset=UTF-8, which needs no CORS preflight.
        assertThat(text).doesNotContain("Content-Type", "application/json", "cookie", "sessionStorage");
        assertThat(text).doesNotContain("innerHTML", "document.write", "eval(");
    }
}
