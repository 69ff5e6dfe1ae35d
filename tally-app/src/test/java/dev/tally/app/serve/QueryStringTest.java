package dev.tally.app.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The strict decoding of a query string: what it turns into text, and what it refuses, naming whom. */
class QueryStringTest {

    private static void bad(String raw, String message) {
        assertThatThrownBy(() -> QueryString.parse(raw)).as(raw).isInstanceOf(BadParameterException.class)
                .hasMessageContaining(message);
    }

    @Test
    void decodesPercentEscapesAndPlusAsUtf8() {
        QueryString q = QueryString.parse("path=/caf%C3%a9+x%2B%20y&site=a%3Db%26c&empty=&flag");
        assertThat(q.get("path")).isEqualTo("/café x+ y");
        assertThat(q.get("site")).isEqualTo("a=b&c");
        assertThat(q.get("empty")).isEmpty();
        assertThat(q.get("flag")).isEmpty();
        assertThat(q.get("absent")).isNull();
        assertThat(QueryString.parse("p%61th=%F0%9F%98%80").get("path")).isEqualTo("😀");
        assertThat(QueryString.parse("&&a=1&").get("a")).isEqualTo("1");
        assertThat(QueryString.parse("a==").get("a")).isEqualTo("=");
        assertThat(QueryString.parse(null).get("a")).isNull();
        assertThat(QueryString.parse("").get("a")).isNull();
    }

    @Test
    void refusesInvalidEscapesNamingTheParameter() {
        for (String v : new String[] {"%", "%4", "%zz", "%g1", "a%", "%%41", "%٣٣", "%²²"}) {
            bad("limit=" + v, "limit holds an invalid percent-escape");
        }
        bad("%zz=1", "a parameter name holds an invalid percent-escape");
    }

    @Test
    void refusesWhatIsNotUtf8OnceDecoded() {
        // A lone continuation byte, a cut sequence, an over-long '/', an encoded surrogate,
        // beyond U+10FFFF, Latin-1 sent as is.
        for (String v : new String[] {"%80", "%C3", "%E2%82", "%C0%AF", "%ED%A0%80", "%F4%90%80%80", "%ff", "caf\u00e9"}) {
            bad("site=" + v, "site is not UTF-8 once percent-decoded");
        }
        bad("x%ff=1", "a parameter name is not UTF-8");
    }

    @Test
    void refusesControlCharacters() {
        for (String v : new String[] {"%00", "a%00b", "%01", "%09", "%0A", "%0d", "%1F", "%7F", "%C2%80", "%C2%9F"}) {
            bad("path=/" + v, "path must not hold control characters");
        }
        assertThat(QueryString.parse("path=%C2%A0%E2%80%A8").get("path")).as("not control characters").hasSize(2);
        bad("pa%00th=1", "a parameter name must not hold control characters");
    }

    @Test
    void refusesAParameterGivenTwice() {
        bad("path=/a&path=/a", "path is given more than once");
        bad("path=/a&site=x&p%61th=/b", "path is given more than once");
        bad("flag&flag", "flag is given more than once");
    }

    @Test
    void namesAreCutInMessages() {
        assertThatThrownBy(() -> QueryString.parse("n".repeat(5000) + "=%zz")).message().hasSizeLessThan(200);
    }
}
