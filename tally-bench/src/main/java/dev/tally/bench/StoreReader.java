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
        }
        return a;
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
