package dev.tally.app.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PageGoalsTest {

    @Test
    void aPatternMatchesAWholePathWithStarForAnyCharacters() {
        assertThat(PageGoals.matches("/docs/*", "/docs/")).isTrue();
        assertThat(PageGoals.matches("/docs/*", "/docs/a/b")).isTrue();
        assertThat(PageGoals.matches("/docs/*", "/docs")).isFalse();
        assertThat(PageGoals.matches("/docs/*", "/blog/docs/a")).as("anchored at the start").isFalse();
        assertThat(PageGoals.matches("/thanks", "/thanks/")).as("anchored at the end").isFalse();
        assertThat(PageGoals.matches("/*/thanks", "/a/b/thanks")).isTrue();
        assertThat(PageGoals.matches("/Docs/*", "/docs/a")).as("case counts").isFalse();
        assertThat(PageGoals.matches("/a.b", "/aXb")).as("no regular expression").isFalse();
        assertThat(PageGoals.matches("/50%_off", "/50%_off")).isTrue();
        assertThat(PageGoals.matches("/50%_off", "/50xyoff")).as("no LIKE wildcards").isFalse();
        assertThat(PageGoals.matches("/a*", "/a\nb")).as("any characters, line breaks too").isTrue();
    }

    @Test
    void likePatternsEscapeWhatLikeWouldReadAsWildcards() {
        assertThat(PageGoals.likePattern("/docs/*")).isEqualTo("/docs/%");
        assertThat(PageGoals.likePattern("/50%_off\\*")).isEqualTo("/50\\%\\_off\\\\%");
    }
}
