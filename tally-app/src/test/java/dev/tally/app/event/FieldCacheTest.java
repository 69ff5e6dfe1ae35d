package dev.tally.app.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class FieldCacheTest {

    private final AtomicInteger checks = new AtomicInteger();
    private final FieldCache<String> cache = new FieldCache<>(4, 16, raw -> {
        checks.incrementAndGet();
        return PagePath.canonical(raw);
    });

    private String get(String raw) throws InvalidFieldException {
        char[] buffer = ("xx" + raw + "yy").toCharArray();
        return cache.get(buffer, 2, raw.length());
    }

    @Test
    void aRepeatedValueIsCheckedOnceAndIsTheSameInstance() throws Exception {
        String first = get("/posts/a/");
        assertThat(first).isEqualTo("/posts/a");
        assertThat(get("/posts/a/")).isSameAs(first);
        assertThat(checks).hasValue(1);
    }

    @Test
    void rawTextThatCollidesNeverGetsAnotherValue() throws Exception {
        // "/Aa" and "/BB" have the same String hash, so they share a slot.
        assertThat("/Aa".hashCode()).isEqualTo("/BB".hashCode());
        assertThat(get("/Aa")).isEqualTo("/Aa");
        assertThat(get("/BB")).isEqualTo("/BB");
        assertThat(get("/Aa")).isEqualTo("/Aa");
        assertThat(get("/Ab")).isEqualTo("/Ab");
        assertThat(get("/A")).isEqualTo("/A");
    }

    @Test
    void twoValuesOfOneSlotAreBothKeptAndALaterOneEvictsTheLeastRecentlyUsed() throws Exception {
        // "/Aa" and "/BB" have the same String hash: the same set whatever the size.
        get("/Aa");
        get("/BB");
        get("/Aa");
        get("/BB");
        assertThat(checks).hasValue(2);
        get("/Aa"); // now the more recent of the two
        assertThat("/C#".hashCode()).isEqualTo("/Aa".hashCode());
        get("/C#");
        assertThat(checks).hasValue(3);
        get("/Aa");
        assertThat(checks).hasValue(3);
        get("/BB");
        assertThat(checks).hasValue(4);
    }

    @Test
    void rawTextAndItsCanonicalFormAreSeparateEntries() throws Exception {
        assertThat(get("/a%2f")).isEqualTo("/a%2F");
        assertThat(get("/a%2F")).isEqualTo("/a%2F");
    }

    @Test
    void refusedTextIsRefusedEveryTime() {
        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(() -> get("/a%zz")).isInstanceOf(InvalidFieldException.class);
        }
        assertThat(checks).hasValue(2);
    }

    @Test
    void textLongerThanTheLimitIsCheckedEveryTimeAndStillRight() throws Exception {
        String raw = "/" + "p".repeat(40) + "/";
        assertThat(get(raw)).isEqualTo(raw.substring(0, raw.length() - 1));
        assertThat(get(raw)).isEqualTo(raw.substring(0, raw.length() - 1));
        assertThat(checks).hasValue(2);
    }
}
