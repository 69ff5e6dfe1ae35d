package dev.tally.app.aggregate;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A generation of the aggregate tables: one complete set of counts. Generation 1 is the tables
 * the migrations create ({@code page_hours}, …); generation {@code N > 1} is the same tables with
 * the suffix {@code _gN}, created by {@code bin/tally replay} with the structure of generation
 * 1's. The {@code pages} dictionary is shared by every generation (an id names the same page in
 * each). One row, {@code tally_current_generation}, names the generation that the aggregator
 * writes and the API reads; a replay fills another one and then switches that row in one
 * transaction.
 *
 * <p>{@link #AGGREGATES} is the one list of per-generation tables: a new aggregate table joins
 * generations by one entry there (and its {@code CREATE TABLE} in a migration, for generation 1).
 * A later migration that creates or alters an aggregate table must do so for every generation
 * of {@code tally_generations} not in state {@code dropped} ({@link #table} gives the names):
 * after a replay the current one may be generation 2 or later. MySQL and MariaDB have their own
 * migrations ({@code db/mysql}, same version numbers; see {@link Store}): there a replay makes a
 * generation's tables with {@code CREATE TABLE … LIKE} generation 1's.
 *
 * @param number 1, 2, …
 */
public record Generation(int number) {

    /**
     * The SQL that fills table {@code to} of a range replay from {@code from}'s rows before
     * {@code fromTime} (a UTC midnight, epoch ms), run after the tables listed before it.
     */
    @FunctionalInterface
    public interface KeepBefore {
        String sql(Generation from, Generation to, long fromTime);
    }

    /**
     * A per-generation aggregate table.
     *
     * @param name its name in generation 1
     * @param keepBefore how a range replay carries its rows before the replayed range over
     */
    public record AggregateTable(String name, KeepBefore keepBefore) {}

    private static final long HOUR = 3_600_000L;
    private static final long DAY = 24 * HOUR;

    /** Every per-generation table, in the order a range replay fills them. */
    public static final List<AggregateTable> AGGREGATES = List.of(
            new AggregateTable("page_hours", (a, b, t) -> "INSERT INTO " + b.table("page_hours")
                    + " (page, hour, views) SELECT page, hour, views FROM " + a.table("page_hours") + " WHERE hour < " + t / HOUR),
            new AggregateTable("page_visitors", (a, b, t) -> "INSERT INTO " + b.table("page_visitors")
                    + " (page, day, visitor, segment) SELECT page, day, visitor, segment FROM " + a.table("page_visitors") + " WHERE day < " + t / DAY),
            new AggregateTable("referrers_daily", (a, b, t) -> "INSERT INTO " + b.table("referrers_daily")
                    + " (site, host, day, views) SELECT site, host, day, views FROM " + a.table("referrers_daily") + " WHERE day < " + t),
            // A total is the sum of the page's hours: those kept, then the replay adds its own.
            new AggregateTable("page_totals", (a, b, t) -> "INSERT INTO " + b.table("page_totals")
                    + " (page, views) SELECT page, SUM(views) FROM " + b.table("page_hours") + " GROUP BY page"),
            // Migration 6: event format v2's dimensions, by day.
            new AggregateTable("page_days", (a, b, t) -> "INSERT INTO " + b.table("page_days")
                    + " (page, day, views, visitors) SELECT page, day, views, visitors FROM " + a.table("page_days") + " WHERE day < " + t / DAY),
            new AggregateTable("segment_days", (a, b, t) -> "INSERT INTO " + b.table("segment_days")
                    + " (page, day, segment, views, visitors) SELECT page, day, segment, views, visitors FROM " + a.table("segment_days")
                    + " WHERE day < " + t / DAY),
            new AggregateTable("segment_visitors", (a, b, t) -> "INSERT INTO " + b.table("segment_visitors")
                    + " (day, visitor, segment) SELECT day, visitor, segment FROM " + a.table("segment_visitors") + " WHERE day < " + t / DAY),
            new AggregateTable("site_days", (a, b, t) -> "INSERT INTO " + b.table("site_days")
                    + " (site, day, partition_id, views, visitors) SELECT site, day, partition_id, views, visitors FROM "
                    + a.table("site_days") + " WHERE day < " + t / DAY),
            new AggregateTable("site_visitors", (a, b, t) -> "INSERT INTO " + b.table("site_visitors")
                    + " (site, day, visitor, page, segment) SELECT site, day, visitor, page, segment FROM " + a.table("site_visitors")
                    + " WHERE day < " + t / DAY),
            // Migration 7: custom events.
            new AggregateTable("event_days", (a, b, t) -> "INSERT INTO " + b.table("event_days")
                    + " (page, day, segment, name, events) SELECT page, day, segment, name, events FROM " + a.table("event_days")
                    + " WHERE day < " + t / DAY),
            new AggregateTable("event_props", (a, b, t) -> "INSERT INTO " + b.table("event_props")
                    + " (site, day, partition_id, name, prop, value, events) SELECT site, day, partition_id, name, prop, value, events FROM "
                    + a.table("event_props") + " WHERE day < " + t / DAY),
            new AggregateTable("event_visitors", (a, b, t) -> "INSERT INTO " + b.table("event_visitors")
                    + " (site, day, name, visitor) SELECT site, day, name, visitor FROM " + a.table("event_visitors") + " WHERE day < " + t / DAY),
            // Migration 8: filtered visitors as sums of counters.
            new AggregateTable("site_segment_days", (a, b, t) -> "INSERT INTO " + b.table("site_segment_days")
                    + " (day, segment, partition_id, views, visitors, first_visitors, repeat_referrer, repeat_source, repeat_medium,"
                    + " repeat_campaign) SELECT day, segment, partition_id, views, visitors, first_visitors, repeat_referrer, repeat_source,"
                    + " repeat_medium, repeat_campaign FROM "
                    + a.table("site_segment_days")
                    + " WHERE day < " + t / DAY),
            new AggregateTable("multi_segment_visitors", (a, b, t) -> "INSERT INTO " + b.table("multi_segment_visitors")
                    + " (day, visitor, segment) SELECT day, visitor, segment FROM " + a.table("multi_segment_visitors") + " WHERE day < " + t / DAY),
            // Migration 9: page goals.
            new AggregateTable("goal_visitors", (a, b, t) -> "INSERT INTO " + b.table("goal_visitors")
                    + " (goal, site, day, visitor) SELECT goal, site, day, visitor FROM " + a.table("goal_visitors") + " WHERE day < " + t / DAY),
            new AggregateTable("goal_days", (a, b, t) -> "INSERT INTO " + b.table("goal_days")
                    + " (goal, site, day, partition_id, visitors) SELECT goal, site, day, partition_id, visitors FROM " + a.table("goal_days")
                    + " WHERE day < " + t / DAY),
            // Migration 13: page_days per seven days, from the days kept (the week of the replay's first day only partly).
            new AggregateTable("page_weeks", (a, b, t) -> db.migration.V13__Page_weeks.fill(b.table("page_days"), b.table("page_weeks"))));

    /** The first generation: the tables as the migrations made them. */
    public static final Generation FIRST = new Generation(1);

    public Generation {
        if (number < 1) {
            throw new IllegalArgumentException("a generation is numbered from 1: " + number);
        }
    }

    /** The name of aggregate table {@code name} (its generation-1 name) in this generation. */
    public String table(String name) {
        return number == 1 ? name : name + "_g" + number;
    }

    /** {@code template} with each {@code {table}} of {@link #AGGREGATES} replaced by its name in this generation. */
    public String sql(String template) {
        String s = template;
        for (AggregateTable t : AGGREGATES) {
            s = s.replace("{" + t.name() + "}", table(t.name()));
        }
        return s;
    }

    /**
     * The read-only views of schema version 2 ({@code views_hourly}, {@code views_total},
     * {@code visitors_daily}: see {@code V3__Narrow_keys}) over this generation's tables, by
     * name; a switch points them at the new generation.
     */
    public Map<String, String> legacyViews() {
        Map<String, String> views = new LinkedHashMap<>();
        views.put("views_hourly", sql("SELECT p.site AS site, p.path AS path, CAST(h.hour AS BIGINT) * 3600000 AS hour, h.views AS views"
                + " FROM {page_hours} h JOIN pages p ON p.id = h.page"));
        views.put("views_total", sql("SELECT p.site AS site, p.path AS path, t.views AS views FROM {page_totals} t JOIN pages p ON p.id = t.page"));
        // A visitor's first page of the day is in its site row (migration 12), the others in page_visitors.
        views.put("visitors_daily", sql("SELECT p.site AS site, p.path AS path, CAST(v.day AS BIGINT) * 86400000 AS day, v.visitor AS visitor"
                + " FROM {page_visitors} v JOIN pages p ON p.id = v.page"
                + " UNION ALL SELECT p.site AS site, p.path AS path, CAST(v.day AS BIGINT) * 86400000 AS day, v.visitor AS visitor"
                + " FROM {site_visitors} v JOIN pages p ON p.id = v.page"));
        return views;
    }

    /** The current generation, read without a lock (a reader's view). */
    public static Generation current(Connection c) throws SQLException {
        return read(c, "SELECT generation FROM tally_current_generation WHERE id = 1");
    }

    /**
     * The current generation, read first in a writer's transaction and locked until it ends, so
     * that a switch waits for the transaction and the transaction for a switch: on PostgreSQL
     * and MySQL a shared lock on the pointer row (the switch takes it {@code FOR UPDATE}); SQLite
     * runs one writing transaction at a time anyway.
     */
    public static Generation currentLocked(Connection c) throws SQLException {
        return read(c, "SELECT generation FROM tally_current_generation WHERE id = 1" + Store.of(c).forShare());
    }

    private static Generation read(Connection c, String sql) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                throw new SQLException("tally_current_generation has no row: the schema is damaged");
            }
            return new Generation(rs.getInt(1));
        }
    }
}
