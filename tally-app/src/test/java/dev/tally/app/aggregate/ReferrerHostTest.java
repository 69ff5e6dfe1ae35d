package dev.tally.app.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ReferrerHostTest {

    @Test
    void theHostOfAnAbsoluteUrlLowerCased() {
        assertThat(PageViewAggregator.host("https://News.Example.com/item?id=1")).isEqualTo("news.example.com");
        assertThat(PageViewAggregator.host("http://example.com")).isEqualTo("example.com");
        assertThat(PageViewAggregator.host("  https://a.b:8443/x  ")).isEqualTo("a.b");
        assertThat(PageViewAggregator.host("https://user:pw@a.b/x@y")).isEqualTo("a.b");
        assertThat(PageViewAggregator.host("https://a.b?q=1")).isEqualTo("a.b");
        assertThat(PageViewAggregator.host("https://a.b#top")).isEqualTo("a.b");
        assertThat(PageViewAggregator.host("http://[::1]:8080/")).isEqualTo("[::1]");
        assertThat(PageViewAggregator.host("android-app://com.google.android.gm/")).isEqualTo("com.google.android.gm");
    }

    @Test
    void noHostWhenThereIsNoneOrItIsNotAPlainName() {
        assertThat(PageViewAggregator.host(null)).isNull();
        assertThat(PageViewAggregator.host("")).isNull();
        assertThat(PageViewAggregator.host("   ")).isNull();
        assertThat(PageViewAggregator.host("not a url")).isNull();
        assertThat(PageViewAggregator.host("/relative/path")).isNull();
        assertThat(PageViewAggregator.host("file:///etc/passwd")).isNull();
        assertThat(PageViewAggregator.host("https://")).isNull();
        assertThat(PageViewAggregator.host("https://exa mple.com/")).isNull();
        assertThat(PageViewAggregator.host("https://a'b.com/")).isNull();
        assertThat(PageViewAggregator.host("https://" + "a".repeat(256) + "/")).isNull();
        assertThat(PageViewAggregator.host("1https://a.b/")).isNull();
    }
}
