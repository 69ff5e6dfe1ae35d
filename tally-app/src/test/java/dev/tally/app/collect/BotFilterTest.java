package dev.tally.app.collect;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BotFilterTest {

    private final BotFilter bots = new BotFilter();

    @ParameterizedTest
    @ValueSource(strings = {
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
            "curl/8.5.0",
            "python-requests/2.31.0",
            "Java-http-client/17.0.15",
            "wrk/4.2.0",
            ""})
    void robotsAreRecognised(String ua) {
        assertThat(bots.isBot(ua)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"})
    void readersAreNot(String ua) {
        assertThat(bots.isBot(ua)).isFalse();
    }

    @Test
    void aMissingUserAgentIsARobot() {
        assertThat(bots.isBot(null)).isTrue();
    }

    @Test
    void onlyTheFirst512CharactersAreLookedAtAndCachedSoHugeAgentsCostNoMore() {
        String reader = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0 ";
        String padded = reader + "x".repeat(512 - reader.length());
        assertThat(bots.isBot(padded + " Googlebot/2.1")).isEqualTo(bots.isBot(padded)).isFalse();
        BotFilter small = new BotFilter(64 * 1024);
        for (int i = 0; i < 2_000; i++) {
            small.isBot(i + padded + "y".repeat(100_000));
        }
        assertThat(small.weightedBytes()).isLessThanOrEqualTo(64 * 1024);
    }
}
