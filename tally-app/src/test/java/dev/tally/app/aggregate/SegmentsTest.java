package dev.tally.app.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.app.event.Dimensions;
import dev.tally.app.event.PageView;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SegmentsTest {

    private static Segments.Segment segment(String site, String referrer, String source, String medium) {
        return new Segments.Segment(site, referrer, new Dimensions(source, medium, null, null, null, null, null, null, null));
    }

    @Test
    void theHashTellsEveryTupleApartWhereverItsCharactersFall() {
        assertThat(segment("ab", "c", null, null).hash()).isNotEqualTo(segment("a", "bc", null, null).hash());
        assertThat(segment("a", null, "b|c", null).hash()).isNotEqualTo(segment("a", null, "b", "c").hash());
        assertThat(segment("a", null, "b", null).hash()).isNotEqualTo(segment("a", null, null, "b").hash());
        assertThat(segment("a", null, null, null).hash()).hasSize(16);
    }

    @Test
    void unknownIsTheEmptyValueAndOneSegment() {
        Segments.Segment v1 = Segments.of(new PageView("/x", 0, "blog", null, null, null));
        assertThat(v1.dimensions()).isSameAs(Dimensions.NONE);
        assertThat(v1.values()).containsExactly("blog", "", "", "", "", "", "", "", "", "", "");
        Segments.Segment none = new Segments.Segment("blog", null, new Dimensions(null, null, null, null, null, null, null, null, null));
        assertThat(none).isEqualTo(v1).hasSameHashCodeAs(v1);
        assertThat(none.hash()).isEqualTo(v1.hash());
    }

    @Test
    void equalSegmentsOfDifferentInstancesAreOneKey() {
        Segments.Segment a = new Segments.Segment("blog", "news.example", new Dimensions("x", null, null, "Firefox", "132", null, null, "desktop", "DE"));
        Segments.Segment b = new Segments.Segment(new String("blog"), new String("news.example"),
                new Dimensions(new String("x"), null, null, "Firefox", "132", null, null, "desktop", "DE"));
        assertThat(Map.of(a, 1).get(b)).isEqualTo(1);
        assertThat(a.hash()).isEqualTo(b.hash());
        assertThat(a).isNotEqualTo(new Segments.Segment("blog", null, a.dimensions()));
    }
}
