package dev.tally.app.aggregate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class GenerationTest {

    @Test
    void generationOneIsTheTablesAsTheyAreAndLaterOnesHaveASuffix() {
        assertThat(Generation.FIRST.table("page_hours")).isEqualTo("page_hours");
        assertThat(new Generation(3).table("page_hours")).isEqualTo("page_hours_g3");
        assertThatThrownBy(() -> new Generation(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void everyAggregateTableOfATemplateIsNamedForTheGeneration() {
        Generation g = new Generation(2);
        assertThat(g.sql("SELECT * FROM {page_hours} h, {page_totals} t, {page_visitors} v, {referrers_daily} r, pages p"))
                .isEqualTo("SELECT * FROM page_hours_g2 h, page_totals_g2 t, page_visitors_g2 v, referrers_daily_g2 r, pages p");
        g.legacyViews().values().forEach(sql -> assertThat(sql).doesNotContain("{").contains("_g2 "));
    }

    @Test
    void aRangeReplayKeepsTheRowsBeforeItsDayAndSumsTheTotalsFromTheKeptHours() {
        Generation a = Generation.FIRST;
        Generation b = new Generation(2);
        long day = 20_412L * 86_400_000L;
        assertThat(Generation.AGGREGATES).extracting(Generation.AggregateTable::name)
                .containsExactly("page_hours", "page_visitors", "referrers_daily", "page_totals",
                        "page_days", "segment_days", "segment_visitors", "site_days", "site_visitors",
                        "event_days", "event_props", "event_visitors", "site_segment_days", "multi_segment_visitors",
                        "goal_visitors", "goal_days", "page_weeks");
        assertThat(Generation.AGGREGATES.get(0).keepBefore().sql(a, b, day)).contains("FROM page_hours WHERE hour < " + 20_412 * 24);
        assertThat(Generation.AGGREGATES.get(1).keepBefore().sql(a, b, day)).contains("FROM page_visitors WHERE day < 20412");
        assertThat(Generation.AGGREGATES.get(2).keepBefore().sql(a, b, day)).contains("FROM referrers_daily WHERE day < " + day);
        assertThat(Generation.AGGREGATES.get(3).keepBefore().sql(a, b, day))
                .isEqualTo("INSERT INTO page_totals_g2 (page, views) SELECT page, SUM(views) FROM page_hours_g2 GROUP BY page");
        assertThat(Generation.AGGREGATES.get(4).keepBefore().sql(a, b, day))
                .isEqualTo("INSERT INTO page_days_g2 (page, day, views, visitors) SELECT page, day, views, visitors FROM page_days WHERE day < 20412");
        assertThat(Generation.AGGREGATES.get(5).keepBefore().sql(a, b, day))
                .isEqualTo("INSERT INTO segment_days_g2 (page, day, segment, views, visitors)"
                        + " SELECT page, day, segment, views, visitors FROM segment_days WHERE day < 20412");
        assertThat(Generation.AGGREGATES.get(6).keepBefore().sql(a, b, day))
                .isEqualTo("INSERT INTO segment_visitors_g2 (day, visitor, segment) SELECT day, visitor, segment FROM segment_visitors WHERE day < 20412");
        assertThat(Generation.AGGREGATES.get(7).keepBefore().sql(a, b, day)).isEqualTo("INSERT INTO site_days_g2"
                + " (site, day, partition_id, views, visitors) SELECT site, day, partition_id, views, visitors FROM site_days WHERE day < 20412");
        assertThat(Generation.AGGREGATES.get(8).keepBefore().sql(a, b, day))
                .isEqualTo("INSERT INTO site_visitors_g2 (site, day, visitor, page, segment) SELECT site, day, visitor, page, segment FROM site_visitors"
                        + " WHERE day < 20412");
        assertThat(Generation.AGGREGATES.get(16).keepBefore().sql(a, b, day)).isEqualTo("INSERT INTO page_weeks_g2 (page, week, views, visitors)"
                + " SELECT page, day - day % 7, SUM(views), SUM(visitors) FROM page_days_g2 GROUP BY page, day - day % 7");
    }

    @Test
    void aRangeReplayKeepsTheSegmentAndGoalVisitorsOfTheDaysBeforeIt() {
        Generation a = Generation.FIRST;
        Generation b = new Generation(2);
        long day = 20_412L * 86_400_000L;
        for (String table : new String[] {"site_segment_days", "multi_segment_visitors", "goal_visitors", "goal_days"}) {
            Generation.AggregateTable t = Generation.AGGREGATES.stream().filter(x -> x.name().equals(table)).findFirst().orElseThrow();
            assertThat(t.keepBefore().sql(a, b, day))
                    .startsWith("INSERT INTO " + table + "_g2 (")
                    .endsWith(" FROM " + table + " WHERE day < 20412");
        }
    }

    @Test
    void aRangeReplayKeepsTheEventsOfTheDaysBeforeIt() {
        Generation a = Generation.FIRST;
        Generation b = new Generation(2);
        long day = 20_412L * 86_400_000L;
        for (String table : new String[] {"event_days", "event_props", "event_visitors"}) {
            Generation.AggregateTable t = Generation.AGGREGATES.stream().filter(x -> x.name().equals(table)).findFirst().orElseThrow();
            assertThat(t.keepBefore().sql(a, b, day))
                    .startsWith("INSERT INTO " + table + "_g2 (")
                    .endsWith(" FROM " + table + " WHERE day < 20412");
        }
        assertThat(b.sql("SELECT * FROM {event_days}, {event_props}, {event_visitors}, recent_visitors"))
                .isEqualTo("SELECT * FROM event_days_g2, event_props_g2, event_visitors_g2, recent_visitors");
    }
}
