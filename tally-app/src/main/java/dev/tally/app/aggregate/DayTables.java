package dev.tally.app.aggregate;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One batch's share of the day tables of migration 6, reduced in memory, then written in key
 * order in the batch's transaction: {@code page_days} (views, and visitors = the rows
 * {@code page_visitors} gained), {@code segment_days} (views per page, day and segment),
 * {@code segment_visitors}, {@code site_visitors} and {@code site_days} (views, and visitors =
 * the rows {@code site_visitors} gained, per site, day and Kafka partition of the records: two
 * consumers never update one counter row). On PostgreSQL the rows go by COPY into temporary
 * tables and one {@code INSERT ... SELECT} per table; the visitors gained are counted by the
 * same statement that inserts them ({@code RETURNING}), so they are exact whoever else inserts
 * the same visitor at the same time. On SQLite, MySQL and MariaDB one statement per row in a
 * batch ({@link Store}'s upserts), the visitors gained being the inserts whose update count is 1.
 */
final class DayTables {

    private record SegmentVisit(int day, VisitorId visitor, int segment) implements Comparable<SegmentVisit> {
        @Override
        public int compareTo(SegmentVisit o) {
            int c = Integer.compare(day, o.day);
            if (c == 0) {
                c = visitor.compareTo(o.visitor);
            }
            return c != 0 ? c : Integer.compare(segment, o.segment);
        }
    }

    private record SiteVisit(String site, int day, VisitorId visitor) implements Comparable<SiteVisit> {
        @Override
        public int compareTo(SiteVisit o) {
            int c = site.compareTo(o.site);
            if (c == 0) {
                c = Integer.compare(day, o.day);
            }
            return c != 0 ? c : visitor.compareTo(o.visitor);
        }
    }

    private record SiteDay(String site, int day, int partition) implements Comparable<SiteDay> {
        @Override
        public int compareTo(SiteDay o) {
            int c = site.compareTo(o.site);
            if (c == 0) {
                c = Integer.compare(day, o.day);
            }
            return c != 0 ? c : Integer.compare(partition, o.partition);
        }
    }

    private final LongCounts pageDays = new LongCounts();
    private final LongCounts pageVisitorsAdded = new LongCounts();
    /** (day, segment) to a dense index from 1, so that (page, index) fits a {@code long} key. */
    private final LongCounts pairIndex = new LongCounts();
    private long[] pairs = new long[64];
    private int pairCount;
    private final LongCounts segmentViews = new LongCounts();
    private final Set<SegmentVisit> segmentVisits = new HashSet<>();
    /** Each site visit with the partition of its first record: the partition whose row counts it. */
    private final Map<SiteVisit, Integer> siteVisits = new HashMap<>();
    /** Views and visitors gained. */
    private final Map<SiteDay, long[]> siteDays = new HashMap<>();
    private SiteDay lastSiteDay;
    private long[] lastSiteCounts;

    /** Adds one view; {@code visitor} may be {@code null}. */
    void view(int page, int day, int segment, String site, int partition, VisitorId visitor) {
        pageDays.add((long) page << 32 | day, 1);
        long pair = (long) day << 32 | segment;
        int index = (int) pairIndex.get(pair);
        if (index == 0) {
            index = ++pairCount;
            if (index == pairs.length) {
                pairs = Arrays.copyOf(pairs, index * 2);
            }
            pairs[index] = pair;
            pairIndex.add(pair, index);
        }
        segmentViews.add((long) page << 32 | index, 1);
        long[] counts;
        SiteDay last = lastSiteDay;
        if (last != null && last.site() == site && last.day() == day && last.partition() == partition) {
            counts = lastSiteCounts;
        } else {
            lastSiteDay = new SiteDay(site, day, partition);
            counts = siteDays.computeIfAbsent(lastSiteDay, k -> new long[2]);
            lastSiteCounts = counts;
        }
        counts[0]++;
        if (visitor != null) {
            segmentVisits.add(new SegmentVisit(day, visitor, segment));
            siteVisits.putIfAbsent(new SiteVisit(site, day, visitor), partition);
        }
    }

    /** On SQLite, MySQL and MariaDB: one row that {@code page_visitors} gained in this batch. */
    void pageVisitorAdded(int page, int day) {
        pageVisitorsAdded.add((long) page << 32 | day, 1);
    }

    /**
     * Writes the day tables of {@code g}. On PostgreSQL the batch's {@code page_visitors} rows
     * must be in {@code staged_visitors}: they are inserted here, counted into {@code page_days}.
     */
    void write(Connection c, Generation g, Store store) throws SQLException {
        if (store == Store.POSTGRESQL) {
            writePostgres(c, g);
        } else {
            writeRows(c, g, store);
        }
    }

    /** The (page, segment-pair rank) keys of {@code segment_days} in (page, day, segment) order, with their views. */
    private long[][] segmentRows(long[] sortedPairs) {
        int[] rank = new int[pairCount + 1];
        for (int r = 0; r < sortedPairs.length; r++) {
            rank[(int) pairIndex.get(sortedPairs[r])] = r;
        }
        LongCounts ranked = new LongCounts();
        for (long k : segmentViews.sortedKeys()) {
            ranked.add(k & 0xFFFF_FFFF_0000_0000L | rank[(int) k], segmentViews.get(k));
        }
        long[] keys = ranked.sortedKeys();
        long[] views = new long[keys.length];
        for (int i = 0; i < keys.length; i++) {
            views[i] = ranked.get(keys[i]);
        }
        return new long[][] {keys, views};
    }

    private void writePostgres(Connection c, Generation g) throws SQLException {
        try (Statement st = c.createStatement()) {
            // One round trip for the five.
            st.execute("CREATE TEMP TABLE IF NOT EXISTS staged_days (page INTEGER, day INTEGER, views BIGINT) ON COMMIT DELETE ROWS;"
                    + " CREATE TEMP TABLE IF NOT EXISTS staged_segment_days (page INTEGER, day INTEGER, segment INTEGER, views BIGINT) ON COMMIT DELETE ROWS;"
                    + " CREATE TEMP TABLE IF NOT EXISTS staged_segment_visitors (day INTEGER, visitor BYTEA, segment INTEGER) ON COMMIT DELETE ROWS;"
                    + " CREATE TEMP TABLE IF NOT EXISTS staged_site_visitors (site VARCHAR(64), day INTEGER, visitor BYTEA, partition_id INTEGER)"
                    + " ON COMMIT DELETE ROWS;"
                    + " CREATE TEMP TABLE IF NOT EXISTS staged_site_days (site VARCHAR(64), day INTEGER, partition_id INTEGER, views BIGINT)"
                    + " ON COMMIT DELETE ROWS");
        }
        StringBuilder rows = new StringBuilder(pageDays.size() * 20);
        for (long k : pageDays.sortedKeys()) {
            rows.append(k >>> 32).append('\t').append((int) k).append('\t').append(pageDays.get(k)).append('\n');
        }
        PageViewAggregator.copyIn(c, "COPY staged_days (page, day, views) FROM STDIN", rows);

        long[] sortedPairs = pairIndex.sortedKeys();
        long[][] segmentRows = segmentRows(sortedPairs);
        rows = new StringBuilder(segmentRows[0].length * 28);
        for (int i = 0; i < segmentRows[0].length; i++) {
            long k = segmentRows[0][i];
            long pair = sortedPairs[(int) k];
            rows.append(k >>> 32).append('\t').append(pair >>> 32).append('\t').append((int) pair).append('\t').append(segmentRows[1][i]).append('\n');
        }
        PageViewAggregator.copyIn(c, "COPY staged_segment_days (page, day, segment, views) FROM STDIN", rows);

        if (!segmentVisits.isEmpty()) {
            SegmentVisit[] sorted = segmentVisits.toArray(SegmentVisit[]::new);
            Arrays.sort(sorted);
            rows = new StringBuilder(sorted.length * 52);
            for (SegmentVisit v : sorted) {
                rows.append(v.day()).append("\t\\\\x");
                PageViewAggregator.hex(rows, v.visitor().high());
                PageViewAggregator.hex(rows, v.visitor().low());
                rows.append('\t').append(v.segment()).append('\n');
            }
            PageViewAggregator.copyIn(c, "COPY staged_segment_visitors (day, visitor, segment) FROM STDIN", rows);
        }
        if (!siteVisits.isEmpty()) {
            SiteVisit[] sorted = siteVisits.keySet().toArray(SiteVisit[]::new);
            Arrays.sort(sorted);
            rows = new StringBuilder(sorted.length * 60);
            for (SiteVisit v : sorted) {
                text(rows, v.site()).append('\t').append(v.day()).append("\t\\\\x");
                PageViewAggregator.hex(rows, v.visitor().high());
                PageViewAggregator.hex(rows, v.visitor().low());
                rows.append('\t').append(siteVisits.get(v)).append('\n');
            }
            PageViewAggregator.copyIn(c, "COPY staged_site_visitors (site, day, visitor, partition_id) FROM STDIN", rows);
        }
        SiteDay[] sites = siteDays.keySet().toArray(SiteDay[]::new);
        Arrays.sort(sites);
        rows = new StringBuilder(sites.length * 32);
        for (SiteDay s : sites) {
            text(rows, s.site()).append('\t').append(s.day()).append('\t').append(s.partition()).append('\t').append(siteDays.get(s)[0]).append('\n');
        }
        PageViewAggregator.copyIn(c, "COPY staged_site_days (site, day, partition_id, views) FROM STDIN", rows);

        // The staged rows were copied in key order, and a scan of a fresh temporary table returns
        // them so: no sort of the big ones.
        String pd = g.table("page_days");
        String sd = g.table("site_days");
        try (Statement st = c.createStatement()) {
            st.executeUpdate("WITH ins AS (INSERT INTO " + g.table("page_visitors") + " (page, day, visitor)"
                    + " SELECT page, day, visitor FROM staged_visitors ON CONFLICT DO NOTHING RETURNING page, day),"
                    + " n AS (SELECT page, day, COUNT(*) AS visitors FROM ins GROUP BY page, day)"
                    + " INSERT INTO " + pd + " (page, day, views, visitors) SELECT d.page, d.day, d.views, COALESCE(n.visitors, 0)"
                    + " FROM staged_days d LEFT JOIN n ON n.page = d.page AND n.day = d.day ORDER BY d.page, d.day"
                    + " ON CONFLICT (page, day) DO UPDATE SET views = " + pd + ".views + excluded.views, visitors = " + pd + ".visitors + excluded.visitors");
            st.executeUpdate("INSERT INTO " + g.table("segment_days") + " (page, day, segment, views)"
                    + " SELECT page, day, segment, views FROM staged_segment_days"
                    + " ON CONFLICT (page, day, segment) DO UPDATE SET views = " + g.table("segment_days") + ".views + excluded.views");
            if (!segmentVisits.isEmpty()) {
                st.executeUpdate("INSERT INTO " + g.table("segment_visitors") + " (day, visitor, segment)"
                        + " SELECT day, visitor, segment FROM staged_segment_visitors ON CONFLICT DO NOTHING");
            }
            st.executeUpdate("WITH ins AS (INSERT INTO " + g.table("site_visitors") + " (site, day, visitor)"
                    + " SELECT site, day, visitor FROM staged_site_visitors ON CONFLICT DO NOTHING RETURNING site, day, visitor),"
                    + " n AS (SELECT s.site, s.day, s.partition_id, COUNT(*) AS visitors FROM ins"
                    + " JOIN staged_site_visitors s ON s.site = ins.site AND s.day = ins.day AND s.visitor = ins.visitor"
                    + " GROUP BY s.site, s.day, s.partition_id)"
                    + " INSERT INTO " + sd + " (site, day, partition_id, views, visitors) SELECT d.site, d.day, d.partition_id, d.views, COALESCE(n.visitors, 0)"
                    + " FROM staged_site_days d LEFT JOIN n ON n.site = d.site AND n.day = d.day AND n.partition_id = d.partition_id"
                    + " ORDER BY d.site, d.day, d.partition_id"
                    + " ON CONFLICT (site, day, partition_id) DO UPDATE SET views = " + sd + ".views + excluded.views, visitors = " + sd + ".visitors + excluded.visitors");
        }
    }

    /**
     * One statement per row, batched (SQLite, MySQL and MariaDB): the visitors gained are the
     * inserts whose update count is 1 (see {@link Store#url}).
     */
    private void writeRows(Connection c, Generation g, Store store) throws SQLException {
        if (!siteVisits.isEmpty()) {
            SiteVisit[] sorted = siteVisits.keySet().toArray(SiteVisit[]::new);
            Arrays.sort(sorted);
            try (PreparedStatement ps = c.prepareStatement(
                    store.insertIfAbsent(g.table("site_visitors"), "site", "day", "visitor"))) {
                for (SiteVisit v : sorted) {
                    ps.setString(1, v.site());
                    ps.setInt(2, v.day());
                    ps.setBytes(3, v.visitor().bytes());
                    ps.addBatch();
                }
                int[] added = ps.executeBatch();
                for (int i = 0; i < sorted.length; i++) {
                    if (added[i] > 0) {
                        siteDays.get(new SiteDay(sorted[i].site(), sorted[i].day(), siteVisits.get(sorted[i])))[1]++;
                    }
                }
            }
        }
        String pd = g.table("page_days");
        try (PreparedStatement ps = c.prepareStatement(store.upsertAdd(pd, List.of("views", "visitors"), "page", "day"))) {
            for (long k : pageDays.sortedKeys()) {
                ps.setInt(1, (int) (k >>> 32));
                ps.setInt(2, (int) k);
                ps.setLong(3, pageDays.get(k));
                ps.setLong(4, pageVisitorsAdded.get(k));
                ps.addBatch();
            }
            ps.executeBatch();
        }
        long[] sortedPairs = pairIndex.sortedKeys();
        long[][] segmentRows = segmentRows(sortedPairs);
        String sgd = g.table("segment_days");
        try (PreparedStatement ps = c.prepareStatement(store.upsertAdd(sgd, "views", "page", "day", "segment"))) {
            for (int i = 0; i < segmentRows[0].length; i++) {
                long k = segmentRows[0][i];
                long pair = sortedPairs[(int) k];
                ps.setInt(1, (int) (k >>> 32));
                ps.setInt(2, (int) (pair >>> 32));
                ps.setInt(3, (int) pair);
                ps.setLong(4, segmentRows[1][i]);
                ps.addBatch();
            }
            ps.executeBatch();
        }
        if (!segmentVisits.isEmpty()) {
            SegmentVisit[] sorted = segmentVisits.toArray(SegmentVisit[]::new);
            Arrays.sort(sorted);
            try (PreparedStatement ps = c.prepareStatement(
                    store.insertIfAbsent(g.table("segment_visitors"), "day", "visitor", "segment"))) {
                for (SegmentVisit v : sorted) {
                    ps.setInt(1, v.day());
                    ps.setBytes(2, v.visitor().bytes());
                    ps.setInt(3, v.segment());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
        SiteDay[] sites = siteDays.keySet().toArray(SiteDay[]::new);
        Arrays.sort(sites);
        String sd = g.table("site_days");
        try (PreparedStatement ps = c.prepareStatement(store.upsertAdd(sd, List.of("views", "visitors"), "site", "day", "partition_id"))) {
            for (SiteDay s : sites) {
                long[] counts = siteDays.get(s);
                ps.setString(1, s.site());
                ps.setInt(2, s.day());
                ps.setInt(3, s.partition());
                ps.setLong(4, counts[0]);
                ps.setLong(5, counts[1]);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** {@code s} in COPY's text format (a site is a label, but nothing from outside is trusted). */
    private static StringBuilder text(StringBuilder out, String s) {
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '\\' -> out.append("\\\\");
                case '\t' -> out.append("\\t");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                default -> out.append(ch);
            }
        }
        return out;
    }
}
