package dev.tally.app.serve;

import dev.tally.app.aggregate.Generation;
import dev.tally.app.aggregate.PageGoals;
import dev.tally.app.aggregate.Store;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;

/**
 * Every read of the stats API, in one place. The statements are fixed text with parameters (no
 * input is ever concatenated into SQL) and run unchanged on SQLite and PostgreSQL, and on MySQL
 * with its spelling of a cast ({@link Store#sql}): sums are cast back to {@code BIGINT} because
 * PostgreSQL and MySQL widen a sum of {@code BIGINT} to a decimal.
 * Methods block; call them from a worker thread.
 */
final class StatsQueries {

    /** A page's counter: its views and its daily-unique visitors summed over days. */
    record PageStats(long views, long visitors) {}

    /** One row of a ranking: a page's path or a referrer's host, and its views. */
    record Ranked(String key, long views) {}

    private static final int TIMEOUT_SECONDS = 10;

    /** The segment columns a visitor may have several values of in a day, each with a repeat counter in {@code site_segment_days}. */
    private static final List<String> REPEATED = db.migration.V10__Repeat_visitors.COLUMNS;

    /** The segment columns the visitor hash fixes (it is made of the address and the user agent): one value per visitor and day. */
    private static final Set<String> FIXED = Set.of(Dimension.BROWSER.column, Dimension.OS.column, Dimension.DEVICE.column,
            Dimension.COUNTRY.column);

    // Pages are integers from the pages dictionary; hours and days are counted since the epoch
    // (see V3__Narrow_keys). Bucket starts are turned back into epoch milliseconds here. Each
    // {table} is that table of the current generation (a replay may switch it at any moment).
    private static final String VIEWS =
            "SELECT (SELECT t.views FROM {page_totals} t JOIN pages p ON p.id = t.page WHERE p.site = ? AND p.path = ?),"
                    + " (SELECT CAST(SUM(d.visitors) AS BIGINT) FROM {page_days} d JOIN pages p ON p.id = d.page WHERE p.site = ? AND p.path = ?)";

    private static final String TOP_ALL_TIME =
            "SELECT p.path, t.views FROM {page_totals} t JOIN pages p ON p.id = t.page"
                    + " WHERE p.site = ? ORDER BY t.views DESC, p.path LIMIT ?";

    /**
     * Every page's views and visitors over whole days: the whole weeks from {@code page_weeks},
     * the days before the first and after the last from {@code page_days} (a month of a busy site
     * is a fifth to two fifths as many rows as its days); the parameters of {@link #weeksAndDays}.
     */
    private static final String PAGE_SUMS = "SELECT page, views, visitors FROM {page_weeks} WHERE week >= ? AND week < ?"
            + " UNION ALL SELECT page, views, visitors FROM {page_days} WHERE (day >= ? AND day < ?) OR (day >= ? AND day < ?)";

    // The whole days of the range from PAGE_SUMS (a month of a busy site is 24 times fewer rows
    // than its hours), the hours before the first and after the last from page_hours. Summed by
    // page id, the paths joined to the sums only: grouping a month's rows by text costs twice as much.
    private static final String TOP_IN_RANGE =
            "SELECT p.path, t.total FROM (SELECT x.page, CAST(SUM(x.views) AS BIGINT) AS total FROM (" + PAGE_SUMS
                    + " UNION ALL SELECT page, views, 0 FROM {page_hours}"
                    + " WHERE (hour >= ? AND hour < ?) OR (hour >= ? AND hour < ?)) x"
                    + " WHERE x.page IN (SELECT id FROM pages WHERE site = ?) GROUP BY x.page) t"
                    + " JOIN pages p ON p.id = t.page ORDER BY t.total DESC, p.path LIMIT ?";

    private static final String HOURS_OF_PAGE =
            "SELECT CAST(h.hour AS BIGINT) * 3600000, h.views FROM {page_hours} h JOIN pages p ON p.id = h.page"
                    + " WHERE p.site = ? AND p.path = ? AND h.hour >= ? AND h.hour < ?";

    private static final String HOURS_OF_SITE =
            "SELECT CAST(h.hour AS BIGINT) * 3600000, CAST(SUM(h.views) AS BIGINT) FROM {page_hours} h JOIN pages p ON p.id = h.page"
                    + " WHERE p.site = ? AND h.hour >= ? AND h.hour < ? GROUP BY h.hour";

    private static final String REFERRERS_ALL_TIME =
            "SELECT host, CAST(SUM(views) AS BIGINT) AS total FROM {referrers_daily}"
                    + " WHERE site = ? GROUP BY host ORDER BY total DESC, host LIMIT ?";

    private static final String REFERRERS_IN_RANGE =
            "SELECT host, CAST(SUM(views) AS BIGINT) AS total FROM {referrers_daily}"
                    + " WHERE site = ? AND day >= ? AND day < ? GROUP BY host ORDER BY total DESC, host LIMIT ?";

    /** The id of a page of a site: {@code NULL} (nothing matches) for a page never seen. */
    private static final String PAGE_ID = "(SELECT id FROM pages WHERE site = ? AND path = ?)";

    /**
     * The largest share of a range's site visitors for which a goal's (or events') visitor rows
     * are each looked up among the filtered visitors by key, instead of both sets being read whole
     * and matched: a lookup costs about ten rows of a scan (a month of a busy site on PostgreSQL:
     * 100 000 event visitors by key in 1.7–2.0 s, against 9–11 s for the month's 10 M visitor rows).
     */
    static final double BY_KEY_SHARE = 0.1;

    private final DataSource store;
    /** The ids of the page goals' patterns ({@link dev.tally.app.aggregate.PageGoals}). */
    private final Map<String, Integer> pageGoals;
    private final double byKeyShare;

    StatsQueries(DataSource store, Map<String, Integer> pageGoals) {
        this(store, pageGoals, BY_KEY_SHARE);
    }

    /** With {@code byKeyShare} in place of {@link #BY_KEY_SHARE}: 0 never looks rows up by key, 1 always does. */
    StatsQueries(DataSource store, Map<String, Integer> pageGoals, double byKeyShare) {
        this.store = store;
        this.pageGoals = Map.copyOf(pageGoals);
        this.byKeyShare = byKeyShare;
    }

    PageStats page(String site, String path) throws SQLException {
        try (Connection c = store.getConnection(); PreparedStatement ps = prepare(c, VIEWS, site, path, site, path);
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return new PageStats(rs.getLong(1), rs.getLong(2));
        }
    }

    /** The most viewed pages, all time ({@code range} {@code null}) or summed over the hours in {@code range}. */
    List<Ranked> top(String site, TimeRange range, int limit) throws SQLException {
        return range == null
                ? ranking(TOP_ALL_TIME, site, limit)
                : ranking(TOP_IN_RANGE, rangeInDaysAndHours(firstHourFrom(range.from()), firstHourFrom(range.to()), site, limit));
    }

    /**
     * The hours {@code [from, to)} as whole days ({@link #weeksAndDays}) and the hours around them:
     * {@code from, firstDay * 24, endDay * 24, to} (the days empty when no whole day is inside),
     * then {@code more}.
     */
    private static Object[] rangeInDaysAndHours(long from, long to, Object... more) {
        long firstDay = -Math.floorDiv(-from, 24);
        long endDay = Math.floorDiv(to, 24);
        Object[] days = firstDay < endDay ? weeksAndDays(new DayRange(firstDay, endDay)) : weeksAndDays(new DayRange(0, 0));
        Object[] hours = firstDay < endDay ? new Object[] {from, firstDay * 24, endDay * 24, to} : new Object[] {from, to, 0L, 0L};
        Object[] parameters = Arrays.copyOf(days, days.length + hours.length + more.length);
        System.arraycopy(hours, 0, parameters, days.length, hours.length);
        System.arraycopy(more, 0, parameters, days.length + hours.length, more.length);
        return parameters;
    }

    /**
     * {@link #PAGE_SUMS}' parameters for {@code days}: the first days of its first whole week and
     * of the week after its last ({@code page_weeks.week} counts weeks from the epoch's day 0), then
     * the days before and after them; no weeks when none is whole inside.
     */
    static Object[] weeksAndDays(DayRange days) {
        long firstWeek = -Math.floorDiv(-days.first(), 7) * 7;
        long endWeek = Math.floorDiv(days.end(), 7) * 7;
        return firstWeek < endWeek
                ? new Object[] {firstWeek, endWeek, days.first(), firstWeek, endWeek, days.end()}
                : new Object[] {0L, 0L, days.first(), days.end(), 0L, 0L};
    }

    /** The referrer hosts with most views, all time ({@code range} {@code null}) or over the days in {@code range}. */
    List<Ranked> referrers(String site, TimeRange range, int limit) throws SQLException {
        return range == null
                ? ranking(REFERRERS_ALL_TIME, site, limit)
                : ranking(REFERRERS_IN_RANGE, site, range.from(), range.to(), limit);
    }

    /**
     * The views of one page ({@code path}) or of the whole site ({@code path} {@code null}) per
     * hour of {@code series}, indexed by the hour's start; hours without views are absent. (Days
     * come from {@link #daily}.)
     */
    Map<Long, Long> series(String site, String path, SeriesRange series) throws SQLException {
        TimeRange hours = series.hours();
        Map<Long, Long> views = new HashMap<>();
        try (Connection c = store.getConnection();
                PreparedStatement ps = path == null
                        ? prepare(c, HOURS_OF_SITE, site, firstHourFrom(hours.from()), firstHourFrom(hours.to()))
                        : prepare(c, HOURS_OF_PAGE, site, path, firstHourFrom(hours.from()), firstHourFrom(hours.to()));
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                views.merge(rs.getLong(1), rs.getLong(2), Long::sum);
            }
        }
        return views;
    }

    /** One period's figures: views, visitors (unique per day, summed over days) and custom events. */
    record Totals(long views, long visitors, long events) {}

    /** One row of a breakdown: the value ({@code ''} for unknown), its views (or events) and its visitors. */
    record Row(String value, long count, long visitors) {}

    /** A goal's visitors in a period, and the period's visitors it is a share of. */
    record Conversions(Goal goal, long visitors, long of) {}

    /**
     * SQL text and its parameters, built from fixed pieces: only the parameters come from the
     * request, never the text.
     */
    private static final class Sql {
        final StringBuilder text = new StringBuilder();
        final List<Object> parameters = new ArrayList<>();

        Sql add(String piece, Object... values) {
            text.append(piece);
            parameters.addAll(List.of(values));
            return this;
        }

        Sql add(Sql other) {
            text.append(other.text);
            parameters.addAll(other.parameters);
            return this;
        }
    }

    /** {@code AND s.col = ?} for every segment filter, {@code s} being {@code segments}. */
    private static Sql segmentMatch(Filters f) {
        Sql sql = new Sql();
        f.segment().forEach((d, v) -> sql.add(" AND s." + d.column + " = ?", v));
        return sql;
    }

    /**
     * {@code AND (t.day, t.visitor) IN (…)}: the (day, visitor) pairs that the filters let through
     * — every visitor of the site without filters, the page's with only a page, those that came
     * with a matching segment with only segment filters, and with both the page's visitors whose
     * first view of it that day came with a matching segment (the segment {@code page_visitors}
     * or, for the first page, {@code site_visitors} holds), as {@link #visitorCounts} counts them. A semi-join, not a join to the distinct
     * pairs: on a month of a busy site (6 M goal visitors, 0.8 M of a campaign's) PostgreSQL
     * then hashes the pairs once instead of sorting them to drop duplicates first, in half the time.
     */
    private static Sql amongVisitors(String t, String site, DayRange days, Filters f) {
        return new Sql().add(" AND (" + t + ".day, " + t + ".visitor) IN (").add(visitorsOf(site, days, f)).add(")");
    }

    /**
     * {@link #amongVisitors} for {@code rows} rows of alias {@code t}, a goal's or events' visitors:
     * when they are few against the range's {@code siteVisitors}, each is looked up by key in the
     * visitor tables ({@link #isFilteredVisitor}) instead of every filtered visitor being read.
     */
    private Sql amongVisitors(String t, long rows, long siteVisitors, String site, DayRange days, Filters f) {
        if (rows <= byKeyShare * siteVisitors) {
            return new Sql().add(" AND (").add(isFilteredVisitor(t, site, f)).add(")");
        }
        return amongVisitors(t, site, days, f);
    }

    /**
     * Whether the visitor of row {@code t} ({@code t.day}, {@code t.visitor}) is one that the
     * filters let through that day, as {@link #visitorsOf} reads them: each test a lookup by the
     * primary key of a visitor table, each {@link Store#BY_KEY} so that no store turns it into a
     * join or a hash of every filtered visitor.
     */
    private static Sql isFilteredVisitor(String t, String site, Filters f) {
        String same = ".day = " + t + ".day AND %1$s.visitor = " + t + ".visitor";
        if (f.bySegment() && f.page() != null) {
            return new Sql().add("EXISTS (SELECT 1 FROM {page_visitors} pv JOIN segments s ON s.id = pv.segment WHERE pv.page = " + PAGE_ID
                    + " AND pv" + same.formatted("pv"), site, f.page()).add(segmentMatch(f))
                    .add(Store.BY_KEY + ") OR EXISTS (SELECT 1 FROM {site_visitors} sv JOIN segments s ON s.id = sv.segment WHERE sv.site = ? AND sv"
                            + same.formatted("sv") + " AND sv.page = " + PAGE_ID, site, site, f.page()).add(segmentMatch(f)).add(Store.BY_KEY + ")");
        }
        if (f.bySegment()) {
            return new Sql().add("EXISTS (SELECT 1 FROM {segment_visitors} sv JOIN segments s ON s.id = sv.segment WHERE sv"
                    + same.formatted("sv") + " AND s.site = ?", site).add(segmentMatch(f))
                    .add(Store.BY_KEY + ") OR EXISTS (SELECT 1 FROM {site_visitors} f JOIN segments s ON s.id = f.segment WHERE f.site = ? AND f"
                            + same.formatted("f"), site).add(segmentMatch(f)).add(Store.BY_KEY + ")");
        }
        if (f.page() != null) {
            return new Sql().add("EXISTS (SELECT 1 FROM {page_visitors} pv WHERE pv.page = " + PAGE_ID + " AND pv" + same.formatted("pv")
                    + Store.BY_KEY + ") OR EXISTS (SELECT 1 FROM {site_visitors} sv WHERE sv.site = ? AND sv" + same.formatted("sv") + " AND sv.page = "
                    + PAGE_ID + Store.BY_KEY + ")", site, f.page(), site, site, f.page());
        }
        return new Sql().add("EXISTS (SELECT 1 FROM {site_visitors} sv WHERE sv.site = ? AND sv" + same.formatted("sv") + Store.BY_KEY + ")", site);
    }

    private static Sql visitorsOf(String site, DayRange days, Filters f) {
        // A visitor's first page and segment of the day are held by its site_visitors row
        // (migration 12), the others by page_visitors and segment_visitors.
        if (f.bySegment() && f.page() != null) {
            return new Sql().add("SELECT pv.day, pv.visitor FROM {page_visitors} pv JOIN segments s ON s.id = pv.segment"
                    + " WHERE pv.page = " + PAGE_ID + " AND s.site = ? AND pv.day >= ? AND pv.day < ?",
                    site, f.page(), site, days.first(), days.end()).add(segmentMatch(f))
                    .add(" UNION ALL SELECT sv.day, sv.visitor FROM {site_visitors} sv JOIN segments s ON s.id = sv.segment"
                            + " WHERE sv.site = ? AND sv.day >= ? AND sv.day < ? AND sv.page = " + PAGE_ID,
                            site, days.first(), days.end(), site, f.page()).add(segmentMatch(f));
        }
        if (f.bySegment()) {
            return new Sql().add("SELECT sv.day, sv.visitor FROM {segment_visitors} sv"
                    + " JOIN segments s ON s.id = sv.segment WHERE s.site = ? AND sv.day >= ? AND sv.day < ?",
                    site, days.first(), days.end()).add(segmentMatch(f))
                    .add(" UNION ALL SELECT f.day, f.visitor FROM {site_visitors} f JOIN segments s ON s.id = f.segment"
                            + " WHERE f.site = ? AND f.day >= ? AND f.day < ?", site, days.first(), days.end()).add(segmentMatch(f));
        }
        if (f.page() != null) {
            return new Sql().add("SELECT pv.day, pv.visitor FROM {page_visitors} pv WHERE pv.page = "
                    + PAGE_ID + " AND pv.day >= ? AND pv.day < ?", site, f.page(), days.first(), days.end())
                    .add(" UNION ALL SELECT sv.day, sv.visitor FROM {site_visitors} sv WHERE sv.site = ? AND sv.day >= ? AND sv.day < ?"
                            + " AND sv.page = " + PAGE_ID, site, days.first(), days.end(), site, f.page());
        }
        return new Sql().add("SELECT sv.day, sv.visitor FROM {site_visitors} sv"
                + " WHERE sv.site = ? AND sv.day >= ? AND sv.day < ?", site, days.first(), days.end());
    }

    /** The views of the period, per day ({@code grouped}) or in all: {@code SELECT [day,] views}. */
    private static Sql views(String site, DayRange days, Filters f, boolean grouped) {
        String day = grouped ? "CAST(x.day AS BIGINT), " : "";
        String group = grouped ? " GROUP BY x.day" : "";
        if (f.bySegment()) {
            // Site-wide, the per-segment counters without the page: a few thousand rows a day, not a page's worth each.
            Sql sql = new Sql().add("SELECT " + day + "CAST(SUM(x.views) AS BIGINT) FROM "
                    + (f.page() == null ? "{site_segment_days}" : "{segment_days}") + " x"
                    + " JOIN segments s ON s.id = x.segment WHERE s.site = ? AND x.day >= ? AND x.day < ?",
                    site, days.first(), days.end()).add(segmentMatch(f));
            if (f.page() != null) {
                sql.add(" AND x.page = " + PAGE_ID, site, f.page());
            }
            return sql.add(group);
        }
        if (f.page() != null) {
            return new Sql().add("SELECT " + day + "CAST(SUM(x.views) AS BIGINT) FROM {page_days} x WHERE x.page = " + PAGE_ID
                    + " AND x.day >= ? AND x.day < ?" + group, site, f.page(), days.first(), days.end());
        }
        return new Sql().add("SELECT " + day + "CAST(SUM(x.views) AS BIGINT) FROM {site_days} x WHERE x.site = ?"
                + " AND x.day >= ? AND x.day < ?" + group, site, days.first(), days.end());
    }

    /**
     * The visitors of the period that pass the filters, unique per day and summed over the days:
     * in all ({@code by} {@code null}, key {@code ""}), per day ({@code "day"}, key the day since
     * the epoch) or per value of a segment column ({@code by} a {@link Dimension}'s column), then
     * only for {@code values}. Every figure is a sum of counters
     * written in the transaction that stored the events:
     * <ul>
     *   <li>no filter: {@code site_days}; a page alone: {@code page_days};</li>
     *   <li>segment filters on the whole site: {@code site_segment_days}, where each visitor is
     *       counted once in the segment of their first view that day ({@code first_visitors}) and
     *       once in each segment they came with ({@code visitors}). By browser, system, device and
     *       country alone the first; otherwise the second, less the visitors it counts more than
     *       once: with one kind of referrer or campaign column among them, that column's repeat
     *       counter; with several, found among the few of {@code multi_segment_visitors};</li>
     *   <li>segment filters with a page: {@code segment_days}, where each visitor of a page is in
     *       the segment of their first view of it that day (a breakdown by page reads the same
     *       counters, in {@link #breakdown}'s own scan).</li>
     * </ul>
     */
    private static Map<String, Long> visitorCounts(Connection c, String site, DayRange days, Filters f, String by, List<String> values)
            throws SQLException {
        if (!f.bySegment() && (by == null || by.equals("day"))) {
            Sql sql = f.page() != null
                    ? new Sql().add("SELECT " + keyOf(by, "x") + ", CAST(SUM(x.visitors) AS BIGINT) FROM {page_days} x WHERE x.page = " + PAGE_ID
                            + " AND x.day >= ? AND x.day < ?", site, f.page(), days.first(), days.end())
                    : new Sql().add("SELECT " + keyOf(by, "x") + ", CAST(SUM(x.visitors) AS BIGINT) FROM {site_days} x WHERE x.site = ?"
                            + " AND x.day >= ? AND x.day < ?", site, days.first(), days.end());
            return counts(c, sql.add(groupBy(by, "x")));
        }
        if (f.page() != null) {
            Sql sql = new Sql().add("SELECT " + keyOf(by, "sd") + ", CAST(SUM(sd.visitors) AS BIGINT) FROM {segment_days} sd"
                    + " JOIN segments s ON s.id = sd.segment WHERE s.site = ? AND sd.day >= ? AND sd.day < ?",
                    site, days.first(), days.end()).add(segmentMatch(f)).add(" AND sd.page = " + PAGE_ID, site, f.page());
            return counts(c, sql.add(in(by, values)).add(groupBy(by, "sd")));
        }
        // What the visitor hash fixes is the same in all of a visitor's segments: counted once, in their first.
        boolean fixed = fixed(by, f);
        String repeated = fixed ? null : repeated(by, f);
        Sql sum = new Sql().add("SELECT " + keyOf(by, "x") + ", CAST(SUM(" + siteVisitors(fixed, repeated, "x") + ") AS BIGINT)"
                + " FROM {site_segment_days} x JOIN segments s ON s.id = x.segment WHERE s.site = ? AND x.day >= ? AND x.day < ?",
                site, days.first(), days.end()).add(segmentMatch(f)).add(in(by, values)).add(groupBy(by, "x"));
        Map<String, Long> visitors = counts(c, sum);
        if (!fixed && repeated == null) {
            countedTwice(c, site, days, f, by, values).forEach((k, n) -> visitors.merge(k, -n, Long::sum));
        }
        return visitors;
    }

    /**
     * By the key of {@link #visitorCounts}, how many times {@code site_segment_days}' visitors
     * count a visitor more than once under {@code f}: a visitor with n matching segments of one key
     * (day, value) that day is in n counters.
     */
    private static Map<String, Long> countedTwice(Connection c, String site, DayRange days, Filters f, String by, List<String> values)
            throws SQLException {
        String key = by == null ? "" : keyOf(by, "m") + " AS k, ";
        return counts(c, new Sql().add("SELECT " + (by == null ? "''" : "y.k") + ", CAST(SUM(y.n - 1) AS BIGINT) FROM (SELECT " + key
                + "m.day, m.visitor, COUNT(*) AS n FROM {multi_segment_visitors} m JOIN segments s ON s.id = m.segment"
                + " WHERE m.day >= ? AND m.day < ? AND s.site = ?", days.first(), days.end(), site).add(segmentMatch(f)).add(in(by, values))
                .add(" GROUP BY " + (by == null ? "" : keyOf(by, "m") + ", ") + "m.day, m.visitor) y WHERE y.n > 1"
                        + (by == null ? "" : " GROUP BY y.k")));
    }

    /**
     * Whether the visitors by {@code by} (a segment column, {@code "day"} or {@code null}) under
     * {@code f}'s segment filters are the first visitors' counter: the visitor hash fixes each of
     * them, so a visitor's segments agree on all of them.
     */
    private static boolean fixed(String by, Filters f) {
        return (by == null || by.equals("day") || FIXED.contains(by)) && f.segment().keySet().stream().allMatch(d -> FIXED.contains(d.column));
    }

    /**
     * The one column with a repeat counter ({@code repeat_referrer}, …) among {@code by} and
     * {@code f}'s segment filters, when there is one kind only: a visitor counted twice by it is
     * counted twice by each of its values, which the counter takes off. {@code null} otherwise.
     */
    private static String repeated(String by, Filters f) {
        Set<String> columns = new HashSet<>();
        if (by != null && REPEATED.contains(by)) {
            columns.add(by);
        }
        f.segment().keySet().stream().map(d -> d.column).filter(REPEATED::contains).forEach(columns::add);
        return columns.size() == 1 ? columns.iterator().next() : null;
    }

    /**
     * The visitors' counter of {@code site_segment_days} alias {@code t}: first visitors when
     * {@code fixed}, visitors less the column's repeats for a {@code repeated} column, else
     * visitors (less {@link #countedTwice}).
     */
    private static String siteVisitors(boolean fixed, String repeated, String t) {
        return fixed ? t + ".first_visitors" : repeated != null ? t + ".visitors - " + t + ".repeat_" + repeated : t + ".visitors";
    }

    /** The key column of {@link #visitorCounts}' {@code by} in table alias {@code t} ({@code ''} for all). */
    private static String keyOf(String by, String t) {
        if (by == null) {
            return "''";
        }
        return switch (by) {
            case "day" -> t + ".day";
            default -> "s." + by;
        };
    }

    private static String groupBy(String by, String t) {
        return by == null ? "" : " GROUP BY " + keyOf(by, t);
    }

    private static Sql in(String by, List<String> values) {
        if (values == null) {
            return new Sql();
        }
        return new Sql().add(" AND " + keyOf(by, "") + " IN (" + "?,".repeat(values.size() - 1) + "?)", values.toArray());
    }

    /** Each row's first column (as text) to its second; the sum of no rows (NULL) is absent. */
    private static Map<String, Long> counts(Connection c, Sql sql) throws SQLException {
        Map<String, Long> counts = new HashMap<>();
        try (PreparedStatement ps = prepare(c, sql.text.toString(), sql.parameters.toArray()); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                long n = rs.getLong(2);
                if (!rs.wasNull()) {
                    counts.merge(rs.getString(1), n, Long::sum);
                }
            }
        }
        return counts;
    }

    private static long visitorTotal(Connection c, String site, DayRange days, Filters f) throws SQLException {
        return visitorCounts(c, site, days, f, null, null).getOrDefault("", 0L);
    }

    /**
     * {@code FROM event_days … WHERE} the site and the days, and the segment filters: the site
     * comes from the page, so that events are found by site whatever their segment.
     */
    private static Sql eventsOf(String site, DayRange days, Filters f) {
        return new Sql().add(" FROM {event_days} ed JOIN pages p ON p.id = ed.page"
                + (f.bySegment() ? " JOIN segments s ON s.id = ed.segment" : "")
                + " WHERE p.site = ? AND ed.day >= ? AND ed.day < ?", site, days.first(), days.end()).add(segmentMatch(f));
    }

    /** The custom events of the period, narrowed by every filter, the event's name included. */
    private static Sql events(String site, DayRange days, Filters f) {
        Sql sql = new Sql().add("SELECT CAST(SUM(ed.events) AS BIGINT)").add(eventsOf(site, days, f));
        if (f.page() != null) {
            sql.add(" AND ed.page = " + PAGE_ID, site, f.page());
        }
        if (f.event() != null) {
            sql.add(" AND ed.name = ?", f.event());
        }
        return sql;
    }

    /** The views, visitors and events of {@code days} that pass the filters. */
    Totals totals(String site, DayRange days, Filters f) throws SQLException {
        try (Connection c = store.getConnection()) {
            return new Totals(one(c, views(site, days, f, false)), visitorTotal(c, site, days, f), one(c, events(site, days, f)));
        }
    }

    /**
     * Views and visitors per day (by day since the epoch) of the filtered period; without
     * {@code withViews} only the visitors (the views are then 0).
     */
    Map<Long, long[]> daily(String site, DayRange days, Filters f, boolean withViews) throws SQLException {
        Map<Long, long[]> byDay = new HashMap<>();
        try (Connection c = store.getConnection()) {
            if (withViews) {
                Sql sql = views(site, days, f, true);
                try (PreparedStatement ps = prepare(c, sql.text.toString(), sql.parameters.toArray());
                        ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        byDay.computeIfAbsent(rs.getLong(1), d -> new long[2])[0] += rs.getLong(2);
                    }
                }
            }
            visitorCounts(c, site, days, f, "day", null).forEach((day, n) -> byDay.computeIfAbsent(Long.parseLong(day), d -> new long[2])[1] += n);
        }
        return byDay;
    }

    /**
     * The values of {@code d} with most views (most events for {@link Dimension#EVENT}) in the
     * filtered period, and the visitors of each; the event filter narrows only the events.
     */
    List<Row> breakdown(String site, DayRange days, Filters f, Dimension d, int limit) throws SQLException {
        Sql top;
        boolean twice = false;
        if (d == Dimension.EVENT) {
            top = new Sql().add("SELECT ed.name, CAST(SUM(ed.events) AS BIGINT) AS n").add(eventsOf(site, days, f));
            if (f.page() != null) {
                top.add(" AND ed.page = " + PAGE_ID, site, f.page());
            }
            if (f.event() != null) {
                top.add(" AND ed.name = ?", f.event());
            }
            top.add(" GROUP BY ed.name ORDER BY n DESC, ed.name LIMIT ?", limit);
        } else if (d == Dimension.PAGE) {
            // Summed by page id, the paths joined to the sums only (as TOP_IN_RANGE). Both
            // tables hold the page's visitors beside its views: one scan for both.
            Sql sums;
            if (f.bySegment()) {
                sums = new Sql().add("SELECT x.page, CAST(SUM(x.views) AS BIGINT) AS n, CAST(SUM(x.visitors) AS BIGINT) AS v"
                        + " FROM {segment_days} x JOIN segments s ON s.id = x.segment"
                        + " WHERE s.site = ? AND x.day >= ? AND x.day < ?", site, days.first(), days.end()).add(segmentMatch(f));
                if (f.page() != null) {
                    sums.add(" AND x.page = " + PAGE_ID, site, f.page());
                }
            } else {
                sums = new Sql().add("SELECT x.page, CAST(SUM(x.views) AS BIGINT) AS n, CAST(SUM(x.visitors) AS BIGINT) AS v"
                        + " FROM (" + PAGE_SUMS + ") x", weeksAndDays(days));
                sums = f.page() != null ? sums.add(" WHERE x.page = " + PAGE_ID, site, f.page())
                        : sums.add(" WHERE x.page IN (SELECT id FROM pages WHERE site = ?)", site);
            }
            top = new Sql().add("SELECT p.path, t.n, t.v FROM (").add(sums)
                    .add(" GROUP BY x.page) t JOIN pages p ON p.id = t.page ORDER BY t.n DESC, p.path LIMIT ?", limit);
        } else {
            String key = "s." + d.column;
            String table = f.page() != null ? "{segment_days}" : "{site_segment_days}";
            // The counter visitorCounts would sum, in the same scan: with a page its visitors;
            // what the visitor hash fixes, under filters of the same kind, its first visitors;
            // one column with repeats, its visitors less them; otherwise its visitors, less those
            // counted twice (below).
            boolean fixed = fixed(d.column, f);
            String repeated = fixed ? null : repeated(d.column, f);
            twice = f.page() == null && !fixed && repeated == null;
            String visitors = ", CAST(SUM(" + (f.page() == null ? siteVisitors(fixed, repeated, "sd") : "sd.visitors") + ") AS BIGINT)";
            top = new Sql().add("SELECT " + key + ", CAST(SUM(sd.views) AS BIGINT) AS n" + visitors + " FROM " + table + " sd"
                    + " JOIN segments s ON s.id = sd.segment"
                    + " WHERE s.site = ? AND sd.day >= ? AND sd.day < ?", site, days.first(), days.end()).add(segmentMatch(f));
            if (f.page() != null) {
                top.add(" AND sd.page = " + PAGE_ID, site, f.page());
            }
            top.add(" GROUP BY " + key + " ORDER BY n DESC, " + key + " LIMIT ?", limit);
        }
        List<Row> rows = new ArrayList<>();
        try (Connection c = store.getConnection()) {
            List<String> values = new ArrayList<>();
            Map<String, Long> counts = new HashMap<>();
            Map<String, Long> visitors = new HashMap<>();
            try (PreparedStatement ps = prepare(c, top.text.toString(), top.parameters.toArray()); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    values.add(rs.getString(1));
                    counts.put(rs.getString(1), rs.getLong(2));
                    if (d != Dimension.EVENT) {
                        visitors.put(rs.getString(1), rs.getLong(3));
                    }
                }
            }
            if (d == Dimension.EVENT && !values.isEmpty()) {
                visitors = eventVisitors(c, site, days, f, values);
            }
            if (twice && !values.isEmpty()) {
                for (Map.Entry<String, Long> e : countedTwice(c, site, days, f, d.column, values).entrySet()) {
                    visitors.merge(e.getKey(), -e.getValue(), Long::sum);
                }
            }
            for (String v : values) {
                rows.add(new Row(v, counts.get(v), visitors.getOrDefault(v, 0L)));
            }
        }
        return rows;
    }

    /** The visitors who sent each of the custom events {@code names} under {@code f}: unique per day, summed over the days. */
    private Map<String, Long> eventVisitors(Connection c, String site, DayRange days, Filters f, List<String> names)
            throws SQLException {
        Sql rows = new Sql().add(" FROM {event_visitors} ev"
                + " WHERE ev.site = ? AND ev.day >= ? AND ev.day < ? AND ev.name IN (" + "?,".repeat(names.size() - 1) + "?)",
                site, days.first(), days.end()).add("", names.toArray());
        Sql sql = new Sql().add("SELECT ev.name, COUNT(*)").add(rows);
        if (!f.none()) {
            long all = one(c, new Sql().add("SELECT COUNT(*)").add(rows));
            sql.add(amongVisitors("ev", all, visitorTotal(c, site, days, Filters.NONE), site, days, f));
        }
        return counts(c, sql.add(" GROUP BY ev.name"));
    }

    /** How many visitors of the filtered period reached each goal, and how many visitors it had. */
    List<Conversions> goals(String site, DayRange days, Filters f, List<Goal> goals) throws SQLException {
        List<Conversions> answer = new ArrayList<>();
        if (goals.isEmpty()) {
            return answer;
        }
        try (Connection c = store.getConnection()) {
            long of = visitorTotal(c, site, days, f);
            long siteVisitors = f.none() ? of : visitorTotal(c, site, days, Filters.NONE);
            for (Goal goal : goals) {
                Sql sql;
                if (goal.kind().equals("event")) {
                    sql = new Sql().add("SELECT COUNT(*) FROM {event_visitors} ev WHERE ev.site = ? AND ev.name = ? AND ev.day >= ? AND ev.day < ?",
                            site, goal.match(), days.first(), days.end());
                    if (!f.none()) {
                        long reached = one(c, sql); // unfiltered, which decides how the filters are applied
                        sql.add(amongVisitors("ev", reached, siteVisitors, site, days, f));
                    }
                } else if (f.page() != null && PageGoals.matches(goal.match(), f.page())) {
                    // Every visitor the filters let through viewed the page, a page of the goal,
                    // that day: all of them reached it. No read of millions of visitor rows, and
                    // days whose visitor rows --retain deleted keep their conversions.
                    answer.add(new Conversions(goal, of, of));
                    continue;
                } else {
                    // Without filters counted as the views were: a sum of a few counters.
                    Sql reached = new Sql().add("SELECT CAST(SUM(gd.visitors) AS BIGINT) FROM {goal_days} gd WHERE gd.goal = ? AND gd.site = ?"
                            + " AND gd.day >= ? AND gd.day < ?", pageGoals.get(goal.match()), site, days.first(), days.end());
                    sql = f.none() ? reached : new Sql().add("SELECT COUNT(*) FROM {goal_visitors} gv WHERE gv.goal = ? AND gv.site = ?"
                            + " AND gv.day >= ? AND gv.day < ?", pageGoals.get(goal.match()), site, days.first(), days.end())
                            .add(amongVisitors("gv", one(c, reached), siteVisitors, site, days, f));
                }
                answer.add(new Conversions(goal, one(c, sql), of));
            }
        }
        return answer;
    }

    /** One value of a custom event's property: its events, and all the events of the property. */
    record PropValue(String prop, String value, long events, long propEvents) {}

    /**
     * The values of each property of {@code event} (of {@code prop} only, unless {@code null})
     * with most events in {@code days}, at most {@code limit} per property, at most
     * {@code maxRows} in all; ordered by property, then most events first. Summed over the
     * partitions' rows and the days.
     */
    List<PropValue> props(String site, DayRange days, String event, String prop, int limit, int maxRows) throws SQLException {
        Sql sql = new Sql().add("SELECT prop, value, n, total FROM (SELECT prop, value, n,"
                + " ROW_NUMBER() OVER (PARTITION BY prop ORDER BY n DESC, value) AS r,"
                + " CAST(SUM(n) OVER (PARTITION BY prop) AS BIGINT) AS total"
                + " FROM (SELECT prop, value, CAST(SUM(events) AS BIGINT) AS n FROM {event_props}"
                + " WHERE site = ? AND name = ? AND day >= ? AND day < ?", site, event, days.first(), days.end());
        if (prop != null) {
            sql.add(" AND prop = ?", prop);
        }
        sql.add(" GROUP BY prop, value) v) ranked WHERE r <= ? ORDER BY prop, r LIMIT ?", limit, maxRows);
        List<PropValue> rows = new ArrayList<>();
        try (Connection c = store.getConnection(); PreparedStatement ps = prepare(c, sql.text.toString(), sql.parameters.toArray());
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                rows.add(new PropValue(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4)));
            }
        }
        return rows;
    }

    /**
     * The sites with data, sorted: those of the current generation's {@code site_days} and those
     * of the pages dictionary; at most {@code max}.
     */
    List<String> sites(int max) throws SQLException {
        List<String> sites = new ArrayList<>();
        try (Connection c = store.getConnection();
                PreparedStatement ps = prepare(c, "SELECT site FROM {site_days} UNION SELECT site FROM pages ORDER BY 1 LIMIT ?", max);
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                sites.add(rs.getString(1));
            }
        }
        sites.sort(null); // the same order whatever the database's collation
        return sites;
    }

    /** The distinct visitors of the site in the minutes {@code [fromMinute, toMinute]} since the epoch. */
    long recentVisitors(String site, long fromMinute, long toMinute) throws SQLException {
        try (Connection c = store.getConnection()) {
            return one(c, new Sql().add("SELECT COUNT(DISTINCT visitor) FROM recent_visitors WHERE site = ? AND minute >= ?"
                    + " AND minute <= ?", site, fromMinute, toMinute));
        }
    }

    /** The one number {@code sql} answers, 0 for {@code NULL} (a sum over no rows). */
    private static long one(Connection c, Sql sql) throws SQLException {
        try (PreparedStatement ps = prepare(c, sql.text.toString(), sql.parameters.toArray()); ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    /**
     * The first hour (since the epoch) whose start is at or after {@code millis}: an hour is in
     * [from, to) exactly when its start is, as when hours were stored as epoch milliseconds.
     */
    private static long firstHourFrom(long millis) {
        return -Math.floorDiv(-millis, 3_600_000L);
    }

    private List<Ranked> ranking(String sql, Object... parameters) throws SQLException {
        List<Ranked> rows = new ArrayList<>();
        try (Connection c = store.getConnection(); PreparedStatement ps = prepare(c, sql, parameters);
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                rows.add(new Ranked(rs.getString(1), rs.getLong(2)));
            }
        }
        return rows;
    }

    private static PreparedStatement prepare(Connection c, String sql, Object... parameters) throws SQLException {
        PreparedStatement ps = c.prepareStatement(Store.of(c).sql(Generation.current(c).sql(sql)));
        try {
            ps.setQueryTimeout(TIMEOUT_SECONDS);
            for (int i = 0; i < parameters.length; i++) {
                Object p = parameters[i];
                if (p instanceof String s) {
                    ps.setString(i + 1, s);
                } else if (p instanceof Integer n) {
                    ps.setInt(i + 1, n);
                } else {
                    ps.setLong(i + 1, (Long) p);
                }
            }
            return ps;
        } catch (SQLException | RuntimeException e) {
            ps.close();
            throw e;
        }
    }
}
