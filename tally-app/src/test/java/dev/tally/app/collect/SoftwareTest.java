package dev.tally.app.collect;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A user agent reduced to names, major versions and a class of device. */
class SoftwareTest {

    private final BotFilter bots = new BotFilter();

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
                    + " | Chrome | 131 | Windows | 10 | desktop",
            "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0 | Firefox | 132 | Linux | | desktop",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"
                    + " | Safari | 18 | Mac OS X | 10 | desktop",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
                    + " | Mobile Safari | 18 | iOS | 18 | mobile",
            "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1"
                    + " | Mobile Safari | 17 | iOS | 17 | tablet",
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
                    + " | Chrome Mobile | 131 | Android | 10 | mobile",
            "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
                    + " | Chrome | 131 | Android | 13 | tablet"})
    void aBrowsersAgentIsReducedToNamesMajorVersionsAndADeviceClass(String ua, String browser, String browserVersion,
            String os, String osVersion, String device) {
        assertThat(bots.software(ua)).isEqualTo(new Software(browser, browserVersion, os, osVersion, device));
    }

    @Test
    void robotsAndNonsenseReduceToWhatCanBeKnown() {
        assertThat(bots.software("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")).isSameAs(Software.ROBOT);
        assertThat(bots.software(null)).isSameAs(Software.ROBOT);
        Software nonsense = bots.software("x".repeat(5000));
        assertThat(nonsense.browser()).isNull();
        assertThat(nonsense.device()).isEqualTo("other");
        Software versions = bots.software("Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/99999999999.0");
        assertThat(versions.browser()).isEqualTo("Firefox");
        assertThat(versions.browserVersion()).as("not a plausible major version").isNull();
    }
}
