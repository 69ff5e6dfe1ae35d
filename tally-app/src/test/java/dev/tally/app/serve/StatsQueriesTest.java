package dev.tally.app.serve;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** How a range of days is split into the whole weeks of {@code page_weeks} and the days of {@code page_days} around them. */
class StatsQueriesTest {

    @Test
    void aRangeWithoutAWholeWeekIsReadByDay() {
        assertThat(StatsQueries.weeksAndDays(new DayRange(0, 0))).containsExactly(0L, 0L, 0L, 0L, 0L, 0L);
        assertThat(StatsQueries.weeksAndDays(new DayRange(3, 10))).containsExactly(0L, 0L, 3L, 10L, 0L, 0L);
        assertThat(StatsQueries.weeksAndDays(new DayRange(8, 14))).containsExactly(0L, 0L, 8L, 14L, 0L, 0L);
    }

    @Test
    void wholeWeeksAreReadByWeekAndTheDaysAroundThemByDay() {
        assertThat(StatsQueries.weeksAndDays(new DayRange(7, 14))).containsExactly(7L, 14L, 7L, 7L, 14L, 14L);
        assertThat(StatsQueries.weeksAndDays(new DayRange(5, 40))).containsExactly(7L, 35L, 5L, 7L, 35L, 40L);
        // A month of 2026: days 20757 to 20787, weeks from 20762 (a multiple of 7) to 20783.
        assertThat(StatsQueries.weeksAndDays(new DayRange(20757, 20787))).containsExactly(20762L, 20783L, 20757L, 20762L, 20783L, 20787L);
    }
}
