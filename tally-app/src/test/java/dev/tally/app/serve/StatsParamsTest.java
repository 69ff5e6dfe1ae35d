package dev.tally.app.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every rule of the stats API's query parameters, and the 400 each broken one gets. */
class StatsParamsTest {

    private static final long HOUR = 3_600_000L;
    private static final long DAY = 24 * HOUR;
    /** 2026-11-25T10:30:00Z: not on a bucket boundary. */
    private static final long NOW = Instant.parse("2026-11-25T10:30:00Z").toEpochMilli();
    private static final long MIDNIGHT = Instant.parse("2026-11-25T00:00:00Z").toEpochMilli();

    private static StatsParams params(String... pairs) {
        Map<String, String> query = new HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            query.put(pairs[i], pairs[i + 1]);
        }
        return new StatsParams(query::get, NOW);
    }

    private static void bad(Runnable parse, String parameter) {
        assertThatThrownBy(parse::run).isInstanceOf(BadParameterException.class).hasMessageContaining(parameter);
    }

    @Test
    void instantsAreEpochMillisIsoInstantsOrDates() {
        assertThat(StatsParams.instant("from", "1764066600000")).isEqualTo(1_764_066_600_000L);
        assertThat(StatsParams.instant("from", "0")).isZero();
        assertThat(StatsParams.instant("from", "2026-11-25T10:30:00Z")).isEqualTo(NOW);
        assertThat(StatsParams.instant("from", "2026-11-25T10:30:00.000Z")).isEqualTo(NOW);
        assertThat(StatsParams.instant("from", "2026-11-25T11:30:00+01:00")).isEqualTo(NOW);
        assertThat(StatsParams.instant("from", "2026-11-25t10:30:00z")).isEqualTo(NOW);
        assertThat(StatsParams.instant("from", "2026-11-25")).isEqualTo(MIDNIGHT);
        assertThat(StatsParams.instant("to", "9999-12-31T23:59:59.999Z")).isEqualTo(dev.tally.app.TimeArgument.LATEST);
    }

    @Test
    void anythingElseIsNotAnInstant() {
        for (String v : new String[] {"yesterday", "-1", "1.5", "2026-11-25T10:30:00", "2026-13-01", "2026-02-30",
                "99999999999999999999", "1e12", " 1", "2026-11-25 10:30", "10000-01-01"}) {
            bad(() -> StatsParams.instant("from", v), "from must be epoch milliseconds");
        }
        bad(() -> params("to", "soon").ranking(Bucket.HOUR), "to must be");
    }

    @Test
    void aRankingIsAllTimeUnlessARangeIsGiven() {
        assertThat(params().ranking(Bucket.HOUR)).isNull();
        assertThat(params("from", "", "to", "").ranking(Bucket.HOUR)).as("empty means absent").isNull();
        assertThat(params("from", "2026-11-24").ranking(Bucket.HOUR)).isEqualTo(new TimeRange(MIDNIGHT - DAY, NOW + HOUR));
        assertThat(params("to", "2026-11-25").ranking(Bucket.HOUR)).isEqualTo(new TimeRange(0, MIDNIGHT));
        assertThat(params("from", "2026-11-24").ranking(Bucket.DAY)).isEqualTo(new TimeRange(MIDNIGHT - DAY, NOW + DAY));
        assertThat(params("from", "5", "to", "5").ranking(Bucket.HOUR)).isEqualTo(new TimeRange(5, 5));
        bad(() -> params("from", "2026-11-26", "to", "2026-11-25").ranking(Bucket.HOUR), "from must not be after to");
        bad(() -> params("from", "2026-11-26").ranking(Bucket.HOUR), "from must not be after to");
    }

    @Test
    void aSeriesHoldsEveryBucketStartingInTheRange() {
        // Defaults: the 48 hours up to now, the hour in progress last.
        SeriesRange hours = params().series(Bucket.HOUR);
        assertThat(hours.count()).isEqualTo(48);
        assertThat(hours.start(47)).isEqualTo(NOW - 30 * 60_000L);
        assertThat(hours.end()).isEqualTo(NOW + 30 * 60_000L);

        SeriesRange days = params().series(Bucket.DAY);
        assertThat(days.count()).isEqualTo(30);
        assertThat(days.start(29)).isEqualTo(MIDNIGHT);
        assertThat(days.hours()).isEqualTo(new TimeRange(MIDNIGHT - 29 * DAY, MIDNIGHT + DAY));

        assertThat(params("from", "2026-11-24", "to", "2026-11-26").series(Bucket.DAY))
                .isEqualTo(new SeriesRange(Bucket.DAY, MIDNIGHT - DAY, 2));
        assertThat(params("from", "2026-11-25T09:00:00Z", "to", "2026-11-25T13:00:00Z").series(Bucket.HOUR))
                .isEqualTo(new SeriesRange(Bucket.HOUR, MIDNIGHT + 9 * HOUR, 4));
        // Bucket starts in [from, to): 09:30 to 11:00 holds only the 10:00 bucket.
        assertThat(params("from", "2026-11-25T09:30:00Z", "to", "2026-11-25T11:00:00Z").series(Bucket.HOUR))
                .isEqualTo(new SeriesRange(Bucket.HOUR, MIDNIGHT + 10 * HOUR, 1));
        assertThat(params("from", "2026-11-25T09:30:00Z", "to", "2026-11-25T11:00:01Z").series(Bucket.HOUR).count())
                .isEqualTo(2);
        assertThat(params("from", "2026-11-25", "to", "2026-11-25").series(Bucket.HOUR).count()).isZero();
        assertThat(params("to", "2026-11-25").series(Bucket.HOUR))
                .isEqualTo(new SeriesRange(Bucket.HOUR, MIDNIGHT - 48 * HOUR, 48));
        assertThat(params("to", "1000").series(Bucket.DAY)).as("never before the epoch")
                .isEqualTo(new SeriesRange(Bucket.DAY, 0, 1));
    }

    @Test
    void aSeriesHoldsAtMost5000Buckets() {
        long from = MIDNIGHT - 5000 * HOUR;
        assertThat(params("from", String.valueOf(from), "to", "2026-11-25").series(Bucket.HOUR).count()).isEqualTo(5000);
        bad(() -> params("from", String.valueOf(from - HOUR), "to", "2026-11-25").series(Bucket.HOUR), "5001 hour buckets");
        bad(() -> params("from", "0").series(Bucket.HOUR), "use bucket=day");
        bad(() -> params("from", "0").series(Bucket.DAY), "bucket");
        bad(() -> params("from", "2026-11-26").series(Bucket.DAY), "from must not be after to");
    }

    @Test
    void limitIsAnIntegerFrom1To1000() {
        assertThat(params().limit()).isEqualTo(10);
        assertThat(params("limit", "").limit()).isEqualTo(10);
        assertThat(params("limit", "1").limit()).isEqualTo(1);
        assertThat(params("limit", "1000").limit()).isEqualTo(1000);
        for (String v : new String[] {"0", "1001", "-1", "ten", "2.5", "99999999999", " 5"}) {
            bad(() -> params("limit", v).limit(), "limit must be an integer from 1 to 1000");
        }
    }

    @Test
    void bucketAndFormatAreFromTheirLists() {
        assertThat(params().bucket()).isEqualTo(Bucket.HOUR);
        assertThat(params("bucket", "hour").bucket()).isEqualTo(Bucket.HOUR);
        assertThat(params("bucket", "day").bucket()).isEqualTo(Bucket.DAY);
        bad(() -> params("bucket", "week").bucket(), "bucket must be hour or day");
        bad(() -> params("bucket", "HOUR").bucket(), "bucket must be hour or day");
        assertThat(params().csv()).isFalse();
        assertThat(params("format", "json").csv()).isFalse();
        assertThat(params("format", "csv").csv()).isTrue();
        bad(() -> params("format", "xml").csv(), "format must be json or csv");
    }

    @Test
    void pathAndSite() {
        assertThat(params("path", "/a b,\"c\"").path(true)).isEqualTo("/a b,\"c\"");
        assertThat(params().path(false)).isNull();
        assertThat(params("path", "").path(false)).isNull();
        bad(() -> params().path(true), "path is required");
        bad(() -> params("path", "").path(true), "path is required");
        bad(() -> params("path", "posts/1").path(false), "path must begin with /");
        assertThat(params("path", "/" + "x".repeat(2047)).path(true)).hasSize(2048);
        bad(() -> params("path", "/" + "x".repeat(2048)).path(true), "path is longer than 2048 bytes");
        assertThat(params().site()).isEqualTo("default");
        assertThat(params("site", "").site()).isEqualTo("default");
        assertThat(params("site", "blog").site()).isEqualTo("blog");
        assertThat(params("site", "s".repeat(64)).site()).hasSize(64);
        bad(() -> params("site", "s".repeat(65)).site(), "site must be 1 to 64");
        bad(() -> params("site", "my blog").site(), "site must be 1 to 64");
        // The page the aggregator counted: one canonical form, whatever the widget asks with.
        assertThat(params("path", "/caf%C3%A9").path(true)).isEqualTo("/caf\u00e9");
        assertThat(params("path", "/cafe\u0301/").path(true)).isEqualTo("/caf\u00e9");
        assertThat(params("path", "/a//b/./c?utm=x#top").path(true)).isEqualTo("/a/b/c");
        bad(() -> params("path", "/caf%E9").path(true), "path has percent-escapes that are not UTF-8");
    }

    @Test
    void filtersAreExactValuesBoundedByTheirColumnsAndNoneIsUnknown() {
        assertThat(params().filters()).isEqualTo(Filters.NONE);
        assertThat(params("browser", "", "page", "", "event", "").filters()).as("empty means absent").isEqualTo(Filters.NONE);
        Filters f = params("page", "/caf%C3%A9/", "referrer", "news.example", "source", "newsletter", "medium", "email",
                "campaign", "launch, \"day\"", "browser", "Firefox", "os", "(none)", "device", "mobile", "country", "DE",
                "event", "signup").filters();
        assertThat(f.page()).isEqualTo("/caf\u00e9");
        assertThat(f.segment()).containsExactly(Map.entry(Dimension.REFERRER, "news.example"), Map.entry(Dimension.SOURCE, "newsletter"),
                Map.entry(Dimension.MEDIUM, "email"), Map.entry(Dimension.CAMPAIGN, "launch, \"day\""),
                Map.entry(Dimension.BROWSER, "Firefox"), Map.entry(Dimension.OS, ""), Map.entry(Dimension.DEVICE, "mobile"),
                Map.entry(Dimension.COUNTRY, "DE"));
        assertThat(f.event()).isEqualTo("signup");
        assertThat(f.bySegment()).isTrue();
        assertThat(params("country", "(none)").filters().segment()).containsExactly(Map.entry(Dimension.COUNTRY, ""));
        assertThat(params("path", "/a").filters()).isEqualTo(new Filters("/a", Map.of(), null));
        assertThat(params("path", "/a", "page", "/a/").filters().page()).as("the same page").isEqualTo("/a");
        assertThat(params("page", "/a").filters().bySegment()).isFalse();

        // Each column's width: a longer value could never match.
        assertThat(params("referrer", "r".repeat(255)).filters().segment()).hasSize(1);
        bad(() -> params("referrer", "r".repeat(256)).filters(), "referrer must be at most 255 characters");
        assertThat(params("source", "\u00e9".repeat(128)).filters().segment()).as("characters, not bytes").hasSize(1);
        for (String d : new String[] {"source", "medium", "campaign"}) {
            bad(() -> params(d, "x".repeat(129)).filters(), d + " must be at most 128 characters");
        }
        for (String d : new String[] {"browser", "os"}) {
            bad(() -> params(d, "x".repeat(65)).filters(), d + " must be at most 64 characters");
        }
        bad(() -> params("device", "phone").filters(), "device must be desktop, mobile, tablet, other or (none)");
        bad(() -> params("device", "x".repeat(9)).filters(), "device must be at most 8");
        bad(() -> params("country", "de").filters(), "country must be an ISO 3166-1 alpha-2 code");
        bad(() -> params("country", "ZZ").filters(), "country must be");
        bad(() -> params("country", "DEU").filters(), "country must be at most 2");
        assertThat(params("event", "e".repeat(64)).filters().event()).hasSize(64);
        bad(() -> params("event", "\u00e9".repeat(33)).filters(), "event must be at most 64 bytes");
        bad(() -> params("page", "posts").filters(), "page must begin with /");
        bad(() -> params("page", "/" + "x".repeat(2048)).filters(), "page is longer than 2048 bytes");
        bad(() -> params("page", "/a", "path", "/b").filters(), "page and path name the same filter");
        bad(() -> params("path", "nope").filters(), "path must begin with /");
    }

    @Test
    void eventPropertiesNeedTheEventAndRefuseFiltersTheyCannotHonour() {
        assertThat(params("event", "signup").event()).isEqualTo("signup");
        assertThat(params("event", "\u00e9".repeat(32)).event()).as("64 bytes").hasSize(32);
        bad(() -> params().event(), "event is required");
        bad(() -> params("event", "").event(), "event is required");
        bad(() -> params("event", "\u00e9".repeat(33)).event(), "event must be at most 64 bytes");
        assertThat(params().prop()).isNull();
        assertThat(params("prop", "").prop()).isNull();
        assertThat(params("prop", "p".repeat(64)).prop()).hasSize(64);
        bad(() -> params("prop", "p".repeat(65)).prop(), "prop must be at most 64 bytes");

        params("event", "signup", "prop", "plan", "site", "blog", "browser", "", "page", "").unfiltered("event properties");
        bad(() -> params("page", "/a").unfiltered("event properties"), "page cannot filter event properties");
        bad(() -> params("path", "/a").unfiltered("event properties"), "path cannot filter event properties");
        for (Dimension d : Dimension.values()) {
            if (d.inSegment()) {
                bad(() -> params(d.label(), "(none)").unfiltered("event properties"), d.label() + " cannot filter event properties");
            }
        }
    }

    @Test
    void aDimensionIsOneOfTheList() {
        for (Dimension d : Dimension.values()) {
            assertThat(params("dimension", d.label()).dimension()).isEqualTo(d);
        }
        bad(() -> params().dimension(), "dimension must be one of page, referrer");
        bad(() -> params("dimension", "Browser").dimension(), "dimension must be one of");
        bad(() -> params("dimension", "segment").dimension(), "not \"segment\"");
    }

    @Test
    void aPeriodIsTheWholeUtcDaysItTouchesAndThePreviousOneAsLong() {
        long today = MIDNIGHT / DAY;
        // Default: the 30 days up to now, today included.
        assertThat(params().days()).isEqualTo(new DayRange(today - 29, today + 1));
        assertThat(params("to", "2026-11-20").days()).isEqualTo(new DayRange(today - 35, today - 5));
        assertThat(params("from", "2026-11-19", "to", "2026-11-26").days()).isEqualTo(new DayRange(today - 6, today + 1));
        assertThat(params("from", "2026-11-19", "to", "2026-11-26").days().previous()).isEqualTo(new DayRange(today - 13, today - 6));
        assertThat(params("from", "2026-11-25T10:00:00Z", "to", "2026-11-25T11:00:00Z").days()).isEqualTo(new DayRange(today, today + 1));
        assertThat(params("from", "2026-11-25", "to", "2026-11-25").days()).as("never empty").isEqualTo(new DayRange(today, today + 1));
        assertThat(params("from", "1970-01-02", "to", "1970-01-04").days().previous()).as("cut at the epoch").isEqualTo(new DayRange(0, 1));
        assertThat(new DayRange(today, today + 1).fromMillis()).isEqualTo(MIDNIGHT);
        bad(() -> params("from", "2026-11-26", "to", "2026-11-25").days(), "from must not be after to");
        bad(() -> params("from", "2000-01-01").days(), "more than 5000; narrow the range");
        bad(() -> params("from", "later").days(), "from must be epoch milliseconds");
    }

    @Test
    void goalsAreAnEventOrAPagePattern() {
        assertThat(Goal.parse("Signup=event:signup")).isEqualTo(new Goal("Signup", "event", "signup"));
        assertThat(Goal.parse("Read docs=page:/docs/*")).isEqualTo(new Goal("Read docs", "page", "/docs/*"));
        for (String bad : new String[] {"signup", "=event:x", "X=event:", "X=page:docs", "X=click:a", "X=page:/a\u0001",
                "a<b>=event:x", "X=event:" + "e".repeat(65)}) {
            assertThatThrownBy(() -> Goal.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--goal");
        }
    }

    @Test
    void errorsQuoteOnlyAShortPieceOfTheInput() {
        assertThatThrownBy(() -> params("limit", "x".repeat(5000)).limit()).hasMessageContaining("xxx…")
                .message().hasSizeLessThan(120);
    }
}
