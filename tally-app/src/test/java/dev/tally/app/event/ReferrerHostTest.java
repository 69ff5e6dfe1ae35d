package dev.tally.app.event;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ReferrerHostTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "https://news.example/item?id=1 | news.example",
        "HTTPS://News.Example:443/x | news.example",
        "http://user:pw@host.example:8080/ | host.example",
        "https://host.example. | host.example",
        "https://host.example?q | host.example",
        "https://host.example#f | host.example",
        "//cdn.example/x | cdn.example",
        "android-app://com.google.android.gm/ | com.google.android.gm",
        "https://bücher.example/ | xn--bcher-kva.example",
        "https://B\u00dcCHER.example/ | xn--bcher-kva.example",
        "https://192.0.2.1:8443/ | 192.0.2.1",
        "https://[2001:DB8::1]:443/ | [2001:db8::1]"})
    void theHostLowerCasedAndInAscii(String referrer, String host) {
        assertThat(ReferrerHost.of(referrer)).isEqualTo(host);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "not a url", "about:blank", "mailto:a@b.example", "https://", "https:///x", "https://:80/",
        "https://a..b/", "https://-a.example/", "https://a_b.example/", "https://a b.example/", "https://a\u0000b.example/",
        "https://host.example:port/", "https://[not-ipv6]/", "https://[::1/", "https://a%2eb/", "1https://x.example/"})
    void noHostOrAnInvalidOneIsNull(String referrer) {
        assertThat(ReferrerHost.of(referrer)).isNull();
    }

    @org.junit.jupiter.api.Test
    void hostsLongerThanDnsAllowsAreNull() {
        String label = "a".repeat(63);
        String fits = String.join(".", label, label, label, "a".repeat(61)); // 253 characters
        assertThat(ReferrerHost.of("https://" + fits + "/")).hasSize(253);
        assertThat(ReferrerHost.of("https://" + fits + "a/")).isNull();
        assertThat(ReferrerHost.of("https://" + "a".repeat(64) + ".example/")).isNull();
        assertThat(ReferrerHost.of("https://" + "a".repeat(300) + "/")).isNull();
        assertThat(ReferrerHost.of(null)).isNull();
    }
}
