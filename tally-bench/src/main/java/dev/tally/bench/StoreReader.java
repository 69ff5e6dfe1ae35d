package dev.tally.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** Reads a store's aggregate tables back into {@link Aggregates}, to compare them with the reference. */
final class StoreReader {

    private StoreReader() {}

    static Aggregates read(String jdbcUrl) throws SQLException {
        Aggregates a = new Aggregates();
        try (Connection c = DriverManager.getConnection(jdbcUrl); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT site, path, hour, views FROM views_hourly")) {
                while (rs.next()) {
                    Aggregates.add(a.hourly, new Aggregates.PageHour(rs.getString(1), rs.getString(2), rs.getLong(3)), rs.getLong(4));
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT site, path, views FROM views_total")) {
                while (rs.next()) {
                    Aggregates.add(a.totals, new Aggregates.Page(rs.getString(1), rs.getString(2)), rs.getLong(3));
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT site, host, day, views FROM referrers_daily")) {
                while (rs.next()) {
                    Aggregates.add(a.referrers, new Aggregates.HostDay(rs.getString(1), rs.getString(2), rs.getLong(3)), rs.getLong(4));
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT site, path, day, COUNT(*) FROM visitors_daily GROUP BY site, path, day")) {
                while (rs.next()) {
                    Aggregates.add(a.visitorCounts, new Aggregates.PageDay(rs.getString(1), rs.getString(2), rs.getLong(3)), rs.getLong(4));
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT p.site, p.path, d.day, d.views, d.visitors FROM page_days d JOIN pages p ON p.id = d.page")) {
                while (rs.next()) {
                    Aggregates.PageDay k = new Aggregates.PageDay(rs.getString(1), rs.getString(2), rs.getLong(3) * Workload.DAY);
                    Aggregates.add(a.daily, k, rs.getLong(4));
                    if (rs.getLong(5) != 0) {
                        Aggregates.add(a.dailyVisitors, k, rs.getLong(5));
                    }
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT p.path, d.day, d.views, " + SEGMENT + " FROM segment_days d"
                    + " JOIN pages p ON p.id = d.page JOIN segments g ON g.id = d.segment")) {
                while (rs.next()) {
                    Aggregates.Segment g = segment(rs, 4);
                    Aggregates.add(a.segments, new Aggregates.SegmentView(g.site(), rs.getString(1), rs.getLong(2) * Workload.DAY, g), rs.getLong(3));
                }
            }
            // A visitor's first segment of a site's day is held by their site row (migration 12).
            try (ResultSet rs = s.executeQuery("SELECT v.day, COUNT(*), " + SEGMENT + " FROM (SELECT day, segment FROM segment_visitors"
                    + " UNION ALL SELECT day, segment FROM site_visitors WHERE segment IS NOT NULL) v"
                    + " JOIN segments g ON g.id = v.segment GROUP BY v.day, g.id, " + SEGMENT)) {
                while (rs.next()) {
                    Aggregates.add(a.segmentVisitorCounts, new Aggregates.SegmentDay(segment(rs, 3), rs.getLong(1) * Workload.DAY), rs.getLong(2));
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT site, day, SUM(views), SUM(visitors) FROM site_days GROUP BY site, day")) {
                while (rs.next()) {
                    Aggregates.SiteDay k = new Aggregates.SiteDay(rs.getString(1), rs.getLong(2) * Workload.DAY);
                    Aggregates.add(a.sites, k, rs.getLong(3));
                    if (rs.getLong(4) != 0) {
                        Aggregates.add(a.siteVisitorCounts, k, rs.getLong(4));
                    }
                }
            }
        }
        a.fromStore = true;
        return a;
    }

    private static final String SEGMENT = "g.site, g.referrer, g.source, g.medium, g.campaign, g.browser, g.browser_version,"
            + " g.os, g.os_version, g.device, g.country";

    private static Aggregates.Segment segment(ResultSet rs, int from) throws SQLException {
        String[] f = new String[Aggregates.Segment.FIELDS];
        for (int i = 0; i < f.length; i++) {
            f[i] = rs.getString(from + i);
        }
        return Aggregates.Segment.parse(f, 0);
    }

    /** The views of every page, summed. */
    static long totalViews(String jdbcUrl) throws SQLException {
        try (Connection c = DriverManager.getConnection(jdbcUrl); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT CAST(SUM(views) AS BIGINT) FROM views_total")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
