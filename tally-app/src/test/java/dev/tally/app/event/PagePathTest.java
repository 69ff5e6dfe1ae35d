package dev.tally.app.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PagePathTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "/ | /",
        "/posts/hello | /posts/hello",
        "/posts/hello/ | /posts/hello",
        "/posts//hello/// | /posts/hello",
        "//x | /x",
        "/a/./b | /a/b",
        "/a/../b | /b",
        "/../../b | /b",
        "/a/.. | /",
        "/a/%2e%2E/b | /b",
        "/.well-known/x | /.well-known/x",
        "/a..b/...c | /a..b/...c",
        "/x?utm=y#z | /x",
        "/x#frag?no | /x",
        "/? | /",
        "/caf%C3%A9 | /café",
        "/caf%c3%a9 | /café",
        "/cafe\u0301 | /café",
        "/cafe%CC%81 | /café",
        "/a%20b | /a b",
        "/a%2fb | /a%2Fb",
        "/a%2Fb | /a%2Fb",
        "/a%3Fb%23c%25d | /a%3Fb%23c%25d",
        "/a;jsessionid=1;v=2 | /a;jsessionid=1;v=2",
        "/%F0%9F%98%80 | /\uD83D\uDE00",
        "/A/B | /A/B",
        "/\u212Bngstr\u00F6m | /\u00C5ngstr\u00F6m"})
    void canonicalForms(String raw, String canonical) throws Exception {
        assertThat(PagePath.canonical(raw)).isEqualTo(canonical);
        assertThat(PagePath.canonical(canonical)).as("idempotent").isEqualTo(canonical);
    }

    @Test
    void anAlreadyCanonicalPathIsReturnedAsItIs() throws Exception {
        for (String p : new String[] {"/posts/hello", "/caf\u00e9", "/a%2Fb", "/\u65e5\u672c", "/"}) {
            assertThat(PagePath.canonical(p)).isSameAs(p);
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "'' | must begin with /",
        "x | must begin with /",
        "?/x | must begin with /",
        "/a%zz | invalid percent-escape",
        "/a% | invalid percent-escape",
        "/a%4 | invalid percent-escape",
        "/a%FF | not UTF-8",
        "/a%C3 | not UTF-8",
        "/a%C0%AF | not UTF-8",
        "/a%ED%A0%80 | not UTF-8",
        "/a%00 | control character",
        "/a%7F | control character",
        "/a%C2%85 | control character"})
    void refusals(String raw, String reason) {
        assertThatThrownBy(() -> PagePath.canonical(raw)).isInstanceOf(InvalidFieldException.class).hasMessageContaining(reason);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/a\u0000b", "/a\nb", "/a\u001fb", "/a\u007fb", "/a\u0085b", "/a\uD800b", "/a\uDC00", "/\uD83D"})
    void controlCharactersAndLoneSurrogatesAreRefused(String raw) {
        assertThatThrownBy(() -> PagePath.canonical(raw)).isInstanceOf(InvalidFieldException.class)
                .hasMessageMatching(".*(control character|lone surrogate).*");
    }

    @Test
    void theLimitIs2048BytesOfUtf8() throws Exception {
        assertThat(PagePath.canonical("/" + "a".repeat(2047))).hasSize(2048);
        assertThatThrownBy(() -> PagePath.canonical("/" + "a".repeat(2048))).hasMessageContaining("2048 bytes");
        // 2048 characters but 3 bytes each: fits VARCHAR(2048), not PostgreSQL's index entries.
        assertThatThrownBy(() -> PagePath.canonical("/" + "\u20ac".repeat(2047))).hasMessageContaining("2048 bytes");
        assertThat(PagePath.canonical("/" + "\u20ac".repeat(682))).hasSize(683);
        assertThatThrownBy(() -> PagePath.canonical("/" + "%E2%82%AC".repeat(683))).hasMessageContaining("2048 bytes");
        // A long query does not count: it is dropped.
        assertThat(PagePath.canonical("/x?" + "q".repeat(10_000))).isEqualTo("/x");
    }

    @Test
    void aBeaconUrlAndAKcatRecordNameTheSamePage() throws Exception {
        assertThat(PagePath.canonical("/caf%C3%A9")).isEqualTo(PagePath.canonical("/café"))
                .isEqualTo(PagePath.canonical("/cafe\u0301"));
    }
}
