package dev.tally.app.aggregate;

import dev.tally.app.event.PageView;
import dev.tally.consumer.Batch;
import dev.tally.consumer.BatchHandler;
import dev.tally.consumer.Message;
import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Turns a batch of page views into the aggregate tables: views per page and hour, total views per
 * page, referrer hosts per day, and exact unique visitors per page and day. The batch is reduced
 * in memory first, so the database sees one upsert per distinct key, not per event.
 */
public final class PageViewAggregator implements BatchHandler<PageView> {

    static final long HOUR = 3_600_000L;
    static final long DAY = 24 * HOUR;

    private record PageHour(String site, String path, long hour) {}

    private record Page(String site, String path) {}

    private record HostDay(String site, String host, long day) {}

    private record Visit(String site, String path, long day, String visitor) {}

    @Override
    public void handle(Batch<PageView> batch, Connection connection) throws SQLException {
        Map<PageHour, Long> hourly = new HashMap<>();
        Map<Page, Long> totals = new HashMap<>();
        Map<HostDay, Long> referrers = new HashMap<>();
        Set<Visit> visits = new HashSet<>();
        for (Message<PageView> m : batch) {
            PageView v = m.value();
            hourly.merge(new PageHour(v.site(), v.path(), v.timestamp() / HOUR * HOUR), 1L, Long::sum);
            totals.merge(new Page(v.site(), v.path()), 1L, Long::sum);
            long day = v.timestamp() / DAY * DAY;
            String host = host(v.referrer());
            if (host != null) {
                referrers.merge(new HostDay(v.site(), host, day), 1L, Long::sum);
            }
            if (v.visitor() != null && !v.visitor().isEmpty()) {
                visits.add(new Visit(v.site(), v.path(), day, v.visitor()));
            }
        }
        try (PreparedStatement ps = connection.prepareStatement(
                "INSERT INTO views_hourly (site, path, hour, views) VALUES (?, ?, ?, ?) "
                        + "ON CONFLICT (site, path, hour) DO UPDATE SET views = views_hourly.views + excluded.views")) {
            for (Map.Entry<PageHour, Long> e : hourly.entrySet()) {
                ps.setString(1, e.getKey().site());
                ps.setString(2, e.getKey().path());
                ps.setLong(3, e.getKey().hour());
                ps.setLong(4, e.getValue());
                ps.addBatch();
            }
            ps.executeBatch();
        }
        try (PreparedStatement ps = connection.prepareStatement(
                "INSERT INTO views_total (site, path, views) VALUES (?, ?, ?) "
                        + "ON CONFLICT (site, path) DO UPDATE SET views = views_total.views + excluded.views")) {
            for (Map.Entry<Page, Long> e : totals.entrySet()) {
                ps.setString(1, e.getKey().site());
                ps.setString(2, e.getKey().path());
                ps.setLong(3, e.getValue());
                ps.addBatch();
            }
            ps.executeBatch();
        }
        if (!referrers.isEmpty()) {
            try (PreparedStatement ps = connection.prepareStatement(
                    "INSERT INTO referrers_daily (site, host, day, views) VALUES (?, ?, ?, ?) "
                            + "ON CONFLICT (site, host, day) DO UPDATE SET views = referrers_daily.views + excluded.views")) {
                for (Map.Entry<HostDay, Long> e : referrers.entrySet()) {
                    ps.setString(1, e.getKey().site());
                    ps.setString(2, e.getKey().host());
                    ps.setLong(3, e.getKey().day());
                    ps.setLong(4, e.getValue());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
        if (!visits.isEmpty()) {
            try (PreparedStatement ps = connection.prepareStatement(
                    "INSERT INTO visitors_daily (site, path, day, visitor) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
                for (Visit v : visits) {
                    ps.setString(1, v.site());
                    ps.setString(2, v.path());
                    ps.setLong(3, v.day());
                    ps.setString(4, v.visitor());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
    }

    /** The lower-cased host of a referrer URL, or {@code null} when there is none or it is not a URL. */
    public static String host(String referrer) {
        if (referrer == null || referrer.isBlank()) {
            return null;
        }
        try {
            String host = URI.create(referrer.trim()).getHost();
            return host == null || host.isEmpty() ? null : host.toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
