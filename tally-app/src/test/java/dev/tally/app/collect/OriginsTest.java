package dev.tally.app.collect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class OriginsTest {

    private final Origins origins = Origins.of(List.of("https://myblog.example", "HTTP://Localhost:8080/"));

    @Test
    void aBeaconFromAnAllowedPageIsAllowed() {
        assertThat(origins.refusal("https://myblog.example", "https://myblog.example")).isNull();
        assertThat(origins.refusal(null, "https://myblog.example")).isNull();
        assertThat(origins.refusal("https://myblog.example:443", null)).isNull();
        assertThat(origins.refusal("http://localhost:8080", "http://localhost:8080")).isNull();
    }

    @Test
    void anyOtherOriginOrNoneIsRefused() {
        assertThat(origins.refusal("https://evil.example", "https://myblog.example")).contains("https://evil.example");
        assertThat(origins.refusal("https://myblog.example", "https://evil.example")).contains("https://evil.example");
        assertThat(origins.refusal("null", null)).isNotNull();
        assertThat(origins.refusal(null, null)).isNotNull();
        assertThat(origins.refusal("http://myblog.example", null)).isNotNull();
        assertThat(origins.refusal("https://myblog.example.evil.example", null)).isNotNull();
    }

    @Test
    void withoutTheOptionEveryOriginIsAllowed() {
        assertThat(Origins.of(List.of()).refusal("https://any.example", null)).isNull();
        assertThat(Origins.of(List.of()).refusal(null, null)).isNull();
    }

    @Test
    void anAllowedOriginMustBeAnOrigin() {
        assertThatThrownBy(() -> Origins.of(List.of("myblog.example"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Origins.of(List.of("https://myblog.example/posts"))).isInstanceOf(IllegalArgumentException.class);
    }
}
