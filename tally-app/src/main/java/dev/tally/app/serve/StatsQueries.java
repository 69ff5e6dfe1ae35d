package dev.tally.app.serve;

import dev.tally.app.aggregate.Generation;
import dev.tally.app.aggregate.Store;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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

    // Pages are integers from the pages dictionary; hours and days are counted since the epoch
    // (see V3__Narrow_keys). Bucket starts are turned back into epoch milliseconds here. Each
    // {table} is that table of the current generation (a replay may switch it at any moment).
    private static final String VIEWS =
            "SELECT (SELECT t.views FROM {page_totals} t JOIN pages p ON p.id = t.page WHERE p.site = ? AND p.path = ?),"
                    + " (SELECT COUNT(*) FROM {page_visitors} v JOIN pages p ON p.id = v.page WHERE p.site = ? AND p.path = ?)";

    private static final String TOP_ALL_TIME =
            "SELECT p.path, t.views FROM {page_totals} t JOIN pages p ON p.id = t.page"
                    + " WHERE p.site = ? ORDER BY t.views DESC, p.path LIMIT ?";

    private static final String TOP_IN_RANGE =
            "SELECT p.path, CAST(SUM(h.views) AS BIGINT) AS total FROM {page_hours} h JOIN pages p ON p.id = h.page"
                    + " WHERE p.site = ? AND h.hour >= ? AND h.hour < ? GROUP BY p.path ORDER BY total DESC, p.path LIMIT ?";

    private static final String HOURS_OF_PAGE =
            "SELECT CAST(h.hour AS BIGINT) * 3600000, h.views FROM {page_hours} h JOIN pages p ON p.id = h.page"
                    + " WHERE p.site = ? AND p.path = ? AND h.hour >= ? AND h.hour < ?";

    private static final String HOURS_OF_SITE =
            "SELECT CAST(h.hour AS BIGINT) * 3600000, CAST(SUM(h.views) AS BIGINT) FROM {page_hours} h JOIN pages p ON p.id = h.page"
                    + " WHERE p.site = ? AND h.hour >= ? AND h.hour < ? GROUP BY h.hour";

    // Days are summed in the database (one row per day, not 24); hours are never negative, so
    // taking off the remainder is a floor (and needs no integer division, which MySQL spells DIV).
    private static final String DAYS_OF_PAGE =
            "SELECT CAST(h.hour - h.hour % 24 AS BIGINT) * 3600000, CAST(SUM(h.views) AS BIGINT) FROM {page_hours} h JOIN pages p ON p.id = h.page"
                    + " WHERE p.site = ? AND p.path = ? AND h.hour >= ? AND h.hour < ? GROUP BY 1";

    private static final String DAYS_OF_SITE =
            "SELECT CAST(h.hour - h.hour % 24 AS BIGINT) * 3600000, CAST(SUM(h.views) AS BIGINT) FROM {page_hours} h JOIN pages p ON p.id = h.page"
                    + " WHERE p.site = ? AND h.hour >= ? AND h.hour < ? GROUP BY 1";

    private static final String REFERRERS_ALL_TIME =
            "SELECT host, CAST(SUM(views) AS BIGINT) AS total FROM {referrers_daily}"
                    + " WHERE site = ? GROUP BY host ORDER BY total DESC, host LIMIT ?";

    private static final String REFERRERS_IN_RANGE =
            "SELECT host, CAST(SUM(views) AS BIGINT) AS total FROM {referrers_daily}"
                    + " WHERE site = ? AND day >= ? AND day < ? GROUP BY host ORDER BY total DESC, host LIMIT ?";

    private final DataSource store;

    StatsQueries(DataSource store) {
        this.store = store;
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
                : ranking(TOP_IN_RANGE, site, firstHourFrom(range.from()), firstHourFrom(range.to()), limit);
    }

    /** The referrer hosts with most views, all time ({@code range} {@code null}) or over the days in {@code range}. */
    List<Ranked> referrers(String site, TimeRange range, int limit) throws SQLException {
        return range == null
                ? ranking(REFERRERS_ALL_TIME, site, limit)
                : ranking(REFERRERS_IN_RANGE, site, range.from(), range.to(), limit);
    }

    /**
     * The views of one page ({@code path}) or of the whole site ({@code path} {@code null}) per
     * bucket of {@code series}, indexed by bucket start; buckets without views are absent.
     */
    Map<Long, Long> series(String site, String path, SeriesRange series) throws SQLException {
        boolean days = series.bucket() == Bucket.DAY;
        TimeRange hours = series.hours();
        Map<Long, Long> views = new HashMap<>();
        try (Connection c = store.getConnection();
                PreparedStatement ps = path == null
                        ? prepare(c, days ? DAYS_OF_SITE : HOURS_OF_SITE, site, firstHourFrom(hours.from()), firstHourFrom(hours.to()))
                        : prepare(c, days ? DAYS_OF_PAGE : HOURS_OF_PAGE, site, path, firstHourFrom(hours.from()), firstHourFrom(hours.to()));
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                views.merge(rs.getLong(1), rs.getLong(2), Long::sum);
            }
        }
        return views;
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
