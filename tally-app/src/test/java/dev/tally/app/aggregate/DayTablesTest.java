package dev.tally.app.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class DayTablesTest {

    /** Page 1 and 2 on days 10 and 11; segments 5 and 6 share a site and host (other dimensions), 7 has no host, 8 is another site's. */
    private static DayTables views() {
        DayTables days = new DayTables();
        days.view(1, 10, 5, "blog", "a.example", 0, null);
        days.view(1, 10, 5, "blog", "a.example", 1, null);
        days.view(1, 10, 6, "blog", "a.example", 0, null);
        days.view(2, 10, 7, "blog", null, 0, null);
        days.view(2, 10, 8, "docs", "a.example", 2, null);
        days.view(1, 11, 5, "blog", "a.example", 0, null);
        return days;
    }

    @Test
    void referrersAreTheViewsOfTheSegmentsWithAHostBySiteHostAndDay() {
        Map<String, Long> referrers = new TreeMap<>();
        views().referrers().forEach((k, v) -> referrers.put(k.site() + "|" + k.host() + "|" + k.day(), v[0]));
        assertThat(referrers).containsExactly(
                Map.entry("blog|a.example|10", 3L), Map.entry("blog|a.example|11", 1L), Map.entry("docs|a.example|10", 1L));
    }

    @Test
    void pageDaysAreTheSegmentViewsSummedOverTheSegments() {
        LongCounts pageDays = views().pageDays();
        assertThat(pageDays.size()).isEqualTo(3);
        assertThat(pageDays.get(1L << 32 | 10)).isEqualTo(3);
        assertThat(pageDays.get(2L << 32 | 10)).isEqualTo(2);
        assertThat(pageDays.get(1L << 32 | 11)).isEqualTo(1);
    }
}
