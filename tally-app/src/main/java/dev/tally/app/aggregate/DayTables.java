package dev.tally.app.aggregate;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/**
 * One batch's share of the day tables of migration 6, reduced in memory, then written in key
 * order in the batch's transaction: {@code page_days} (views, and visitors = the rows
 * {@code page_visitors} gained) and the same sums per seven days in {@code page_weeks} (migration
 * 13), {@code segment_days} (views per page, day and segment, and
 * visitors = the rows {@code page_visitors} gained, each in the segment it holds: that of the
 * visitor's first view of the page that day),
 * {@code segment_visitors}, {@code site_segment_days} (views; visitors, the rows
 * {@code segment_visitors} gained; first visitors, the rows {@code site_visitors} gained, in the
 * segment of the visitor's first view of the site; and per column of {@link #REPEATED}, the rows
 * gained whose value of it the visitor had in another segment that day), {@code multi_segment_visitors} (the segment
 * rows of the visitors who came with more than one in a day), {@code site_visitors} and
 * {@code site_days} (views, and visitors = the rows {@code site_visitors} gained). Counters that are not per page are kept per Kafka partition of
 * the records, so two consumers never update one counter row.
 *
 * <p>Why these counters: a filtered visitor count is then a sum of counters, not a
 * {@code COUNT(DISTINCT)} over a month of visitor rows. A visitor with several segments in a day
 * (two referrers, say) is in the visitors of each and in the first visitors of one; the repeat
 * counters take off those counted twice under one column (both referrers of one source), and
 * {@code multi_segment_visitors} holds the few such visitors' segments for what involves several.
 *
 * <p>The visitors gained are counted here, the same way on every store, from what the inserts of
 * the visitor rows report: on PostgreSQL the rows go by COPY into temporary tables and one
 * {@code INSERT ... SELECT} per table, which hands back the rows it gained ({@code RETURNING});
 * on SQLite, MySQL and MariaDB one statement per row in a batch ({@link Store}'s upserts), the
 * visitors gained being the inserts whose update count is 1. Both are exact whoever else inserts
 * the same visitor at the same time.
 */
final class DayTables {

    /** {@code site} is the segment's: it adds nothing to the identity. */
    private record SegmentVisit(int day, VisitorId visitor, int segment, String site) implements Comparable<SegmentVisit> {
        // As VisitorId's: spelled out for the batch's lookups.
        @Override
        public int hashCode() {
            return (day * 31 + segment) * 31 + visitor.hashCode();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof SegmentVisit v && v.day == day && v.segment == segment && v.visitor.equals(visitor)
                    && (v.site == site || v.site.equals(site));
        }

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
        public int hashCode() {
            return (site.hashCode() * 31 + day) * 31 + visitor.hashCode();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof SiteVisit v && v.day == day && v.visitor.equals(visitor) && (v.site == site || v.site.equals(site));
        }

        @Override
        public int compareTo(SiteVisit o) {
            // The decoder hands out one instance per site: most comparisons end here.
            int c = site == o.site ? 0 : site.compareTo(o.site);
            if (c == 0) {
                c = Integer.compare(day, o.day);
            }
            return c != 0 ? c : visitor.compareTo(o.visitor);
        }
    }

    /**
     * A site visit of the batch: the partition of its first record (the partition whose row
     * counts it), its first page and segment, whether it had another segment too, and whether
     * {@code site_visitors} gained it.
     */
    private static final class Arrival {
        final int partition;
        final int page;
        final int segment;
        boolean severalSegments;
        boolean gained;

        Arrival(int partition, int page, int segment) {
            this.partition = partition;
            this.page = page;
            this.segment = segment;
        }
    }

    private record DayVisit(int day, VisitorId visitor) implements Comparable<DayVisit> {
        @Override
        public int hashCode() {
            return day * 31 + visitor.hashCode();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof DayVisit v && v.day == day && v.visitor.equals(visitor);
        }

        @Override
        public int compareTo(DayVisit o) {
            int c = Integer.compare(day, o.day);
            return c != 0 ? c : visitor.compareTo(o.visitor);
        }
    }

    private record SiteDay(String site, int day, int partition) implements Comparable<SiteDay> {
        @Override
        public int hashCode() {
            return (site.hashCode() * 31 + day) * 31 + partition;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof SiteDay d && d.day == day && d.partition == partition && (d.site == site || d.site.equals(site));
        }

        @Override
        public int compareTo(SiteDay o) {
            int c = site.compareTo(o.site);
            if (c == 0) {
                c = Integer.compare(day, o.day);
            }
            return c != 0 ? c : Integer.compare(partition, o.partition);
        }
    }

    /** A referrer host's views on a site and day ({@code referrers_daily}). */
    record HostDay(String site, String host, int day) {}

    /** The columns of {@code segments} with a repeat counter in {@code site_segment_days} (migration 10). */
    private static final List<String> REPEATED = db.migration.V10__Repeat_visitors.COLUMNS;
    /** The counters of {@code site_segment_days} the row stores write, in order. */
    private static final List<String> SITE_SEGMENT_COUNTERS = Stream.concat(Stream.of("views", "visitors", "first_visitors"),
            REPEATED.stream().map(column -> "repeat_" + column)).toList();

    private final LongCounts pageVisitorsAdded = new LongCounts();
    /** (day, segment) to a dense index from 1, so that (page, index) fits a {@code long} key. */
    private final LongCounts pairIndex = new LongCounts();
    private long[] pairs = new long[64];
    /** By (day, segment) index: the views, and the segment's site and referrer host. */
    private long[] pairViews = new long[64];
    private String[] pairSites = new String[64];
    private String[] pairHosts = new String[64];
    private int pairCount;
    private final LongCounts segmentViews = new LongCounts();
    /** Views by (day, segment) index and Kafka partition: {@code index << 32 | partition}. */
    private final LongCounts siteSegmentViews = new LongCounts();
    /** The rows page_visitors gained, by the key of segmentViews. */
    private final LongCounts segmentVisitorsAdded = new LongCounts();
    /** Each segment visit with the partition of its first record. */
    private final Map<SegmentVisit, Integer> segmentVisits = new HashMap<>();
    private final Map<SiteVisit, Arrival> siteVisits = new HashMap<>();
    /** Views and visitors gained. */
    private final Map<SiteDay, long[]> siteDays = new HashMap<>();
    private SiteDay lastSiteDay;
    private long[] lastSiteCounts;

    /**
     * First visitors of site_segment_days by the key of siteSegmentViews: the rows
     * {@code site_visitors} gained, each in its first segment.
     */
    private final LongCounts siteSegmentFirstVisitors = new LongCounts();
    private boolean siteVisitorsWritten;

    /** The visitor rows' COPY text for PostgreSQL, made by {@link #stageVisitorRows}. */
    private CompletableFuture<StringBuilder> siteVisitRows;

    /**
     * Adds one view of {@code segment}, whose site and referrer host ({@code null} for none) are
     * {@code site} and {@code host}; {@code visitor} may be {@code null}.
     */
    void view(int page, int day, int segment, String site, String host, int partition, VisitorId visitor) {
        long pair = (long) day << 32 | segment;
        int index = (int) pairIndex.get(pair);
        if (index == 0) {
            index = ++pairCount;
            if (index == pairs.length) {
                pairs = Arrays.copyOf(pairs, index * 2);
                pairViews = Arrays.copyOf(pairViews, index * 2);
                pairSites = Arrays.copyOf(pairSites, index * 2);
                pairHosts = Arrays.copyOf(pairHosts, index * 2);
            }
            pairs[index] = pair;
            pairSites[index] = site;
            pairHosts[index] = host;
            pairIndex.add(pair, index);
        }
        pairViews[index]++;
        segmentViews.add((long) page << 32 | index, 1);
        siteSegmentViews.add((long) index << 32 | partition, 1);
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
            segmentVisits.putIfAbsent(new SegmentVisit(day, visitor, segment, site), partition);
            Arrival a = siteVisits.computeIfAbsent(new SiteVisit(site, day, visitor), k -> new Arrival(partition, page, segment));
            if (a.segment != segment) {
                a.severalSegments = true;
            }
        }
    }

    /**
     * After the batch's last {@link #view}, on PostgreSQL: starts making the site visitor rows'
     * COPY text ({@link PageViewAggregator#copyRows}).
     */
    void stageVisitorRows(Store store) {
        if (store != Store.POSTGRESQL) {
            return;
        }
        siteVisitRows = PageViewAggregator.copyRows(siteVisits.keySet(), SiteVisit[]::new, 72, (rows, v) -> {
            Arrival a = siteVisits.get(v);
            text(rows, v.site()).append('\t').append(v.day()).append('\t');
            PageViewAggregator.bytea(rows, v.visitor()).append('\t').append(a.page).append('\t').append(a.segment).append('\n');
        });
    }

    /**
     * Views per referrer host, site and day: the sums of the segments that have a host. Summed
     * here rather than counted per view, which would cost a lookup per view for a few hundred rows.
     */
    Map<HostDay, long[]> referrers() {
        Map<HostDay, long[]> out = new HashMap<>();
        for (int index = 1; index <= pairCount; index++) {
            if (pairHosts[index] != null) {
                out.computeIfAbsent(new HostDay(pairSites[index], pairHosts[index], (int) (pairs[index] >>> 32)), k -> new long[1])[0] +=
                        pairViews[index];
            }
        }
        return out;
    }

    /** Views per (page, day), as {@code page << 32 | day}: the segment views summed over the segments. */
    LongCounts pageDays() {
        LongCounts sums = new LongCounts();
        segmentViews.forEach((k, views) -> sums.add(k & 0xFFFF_FFFF_0000_0000L | pairs[(int) k] >>> 32, views));
        return sums;
    }

    /**
     * One row that {@code page_visitors} gained in this batch, with the segment of the visitor's
     * first view of the page in it (a segment passed to {@link #view} for that page and day).
     */
    void pageVisitorAdded(int page, int day, int segment) {
        pageVisitorsAdded.add((long) page << 32 | day, 1);
        segmentVisitorsAdded.add((long) page << 32 | pairIndex.get((long) day << 32 | segment), 1);
    }

    /**
     * {@code WHERE} no {@code site_visitors} row of ({@code site}, {@code day}, {@code visitor})
     * holds {@code value} as its first {@code column} ({@code page} or {@code segment}), each
     * argument an SQL expression: the visitor rows that a site row holds are not inserted again.
     */
    static String notInSiteRow(Generation g, String column, String site, String day, String visitor, String value) {
        return " WHERE NOT EXISTS (SELECT 1 FROM " + g.table("site_visitors") + " f WHERE f.site = " + site + " AND f.day = " + day
                + " AND f.visitor = " + visitor + " AND f." + column + " = " + value
                // One row of parameters has no table to be joined to.
                + (site.equals("?") ? ")" : BY_KEY + ")");
    }

    /**
     * Ends a subquery that PostgreSQL must run once per staged row, by key, instead of turning
     * it into a join: for a few thousand staged rows against a visitor table of hundreds of
     * thousands it planned a scan and sort or hash of the whole table whenever the statistics of
     * the growing table lagged behind it. A subquery with an {@code OFFSET} is never flattened
     * into its query.
     */
    static final String BY_KEY = " OFFSET 0";

    /**
     * A {@code SELECT} of {@code n} parameters and then {@code where}, for a statement of one row
     * per parameter set: FROM a one-row table, as MySQL and MariaDB want a FROM before a WHERE.
     */
    static String selectParameters(int n, String where) {
        return "SELECT ?" + ", ?".repeat(n - 1) + " FROM (SELECT 1 AS one) one" + where;
    }

    /**
     * The batch's segment visits that are not the first segment of a site visit
     * {@code site_visitors} gained, in key order; those first segments are counted as gained
     * here, as their site row holds them.
     */
    private SegmentVisit[] segmentVisitsToInsert(LongCounts siteSegmentVisitors, Set<DayVisit> multi, List<SegmentVisit> gained) {
        List<SegmentVisit> rest = new ArrayList<>();
        segmentVisits.forEach((v, partition) -> {
            Arrival a = siteVisits.get(new SiteVisit(v.site(), v.day(), v.visitor()));
            if (a.gained && a.segment == v.segment()) {
                segmentVisitGained(v, siteSegmentVisitors, multi, gained);
            } else {
                rest.add(v);
            }
        });
        SegmentVisit[] sorted = rest.toArray(SegmentVisit[]::new);
        Arrays.sort(sorted);
        return sorted;
    }

    /** The site of {@code segment}, a segment passed to {@link #view} for {@code day}. */
    String site(int day, int segment) {
        return pairSites[(int) pairIndex.get((long) day << 32 | segment)];
    }

    /**
     * Whether the visit of {@code page} is the first page of a site visit that
     * {@code site_visitors} gained in this batch, which holds it: {@code page_visitors} gains
     * no row for it, and the visitor is the page's. {@code segment} is that of the visitor's
     * first view of the page in the batch.
     */
    boolean firstPageGained(int page, int day, int segment, VisitorId visitor) {
        Arrival a = siteVisits.get(new SiteVisit(site(day, segment), day, visitor));
        return a.gained && a.page == page;
    }

    /**
     * Inserts the batch's {@code site_visitors} rows, each with the page and segment of the
     * visitor's first view of the site, and counts those gained: first of the visitor rows, as a
     * {@code page_visitors} row is needed only for a page that is not the first one stored.
     */
    void writeSiteVisitors(Connection c, Generation g, Store store) throws SQLException {
        siteVisitorsWritten = true;
        if (store == Store.POSTGRESQL) {
            createStaging(c);
            if (siteVisitRows == null) {
                stageVisitorRows(Store.POSTGRESQL);
            }
            if (!siteVisits.isEmpty()) {
                PageViewAggregator.copyIn(c, "COPY staged_site_visits (site, day, visitor, page, segment) FROM STDIN",
                        PageViewAggregator.join(siteVisitRows));
                PageViewAggregator.insertGained(c, g.table("site_visitors"), "staged_site_visits", "site, day, visitor, page, segment", "",
                        "site, day, visitor", rs -> siteVisitGained(new SiteVisit(rs.getString(1), rs.getInt(2), VisitorId.of(rs.getBytes(3)))));
            }
            return;
        }
        if (siteVisits.isEmpty()) {
            return;
        }
        SiteVisit[] sorted = siteVisits.keySet().toArray(SiteVisit[]::new);
        Arrays.sort(sorted);
        try (PreparedStatement ps = c.prepareStatement(store.insertIfAbsent(g.table("site_visitors"), "site", "day", "visitor", "page", "segment"))) {
            for (SiteVisit v : sorted) {
                Arrival a = siteVisits.get(v);
                ps.setString(1, v.site());
                ps.setInt(2, v.day());
                ps.setBytes(3, v.visitor().bytes());
                ps.setInt(4, a.page);
                ps.setInt(5, a.segment);
                ps.addBatch();
            }
            int[] added = ps.executeBatch();
            for (int i = 0; i < sorted.length; i++) {
                if (added[i] > 0) {
                    siteVisitGained(sorted[i]);
                }
            }
        }
    }

    /**
     * Writes the day tables of {@code g}, after {@link #writeSiteVisitors} and after every row
     * {@code page_visitors} gained was {@linkplain #pageVisitorAdded added}.
     */
    void write(Connection c, Generation g, Store store) throws SQLException {
        if (!siteVisitorsWritten) {
            throw new IllegalStateException("the site visitors are written first");
        }
        if (store == Store.POSTGRESQL) {
            writePostgres(c, g);
        } else {
            writeRows(c, g, store);
        }
    }

    /** Each (day, segment) index's position in {@code sortedPairs}: the order of both tables' keys. */
    private int[] ranks(long[] sortedPairs) {
        int[] rank = new int[pairCount + 1];
        for (int r = 0; r < sortedPairs.length; r++) {
            rank[(int) pairIndex.get(sortedPairs[r])] = r;
        }
        return rank;
    }

    /**
     * The (page, segment-pair rank) keys of {@code segment_days} in (page, day, segment) order,
     * with their views and the visitors gained.
     */
    private long[][] segmentRows(int[] rank) {
        // (page, index) to (page, rank) is one to one: one sort of the ranked keys, and each
        // row's counts read back under its index, rather than copied into maps keyed by rank.
        int[] indexOf = new int[rank.length];
        for (int index = 1; index < rank.length; index++) {
            indexOf[rank[index]] = index;
        }
        long[] keys = new long[segmentViews.size()];
        int[] n = {0};
        segmentViews.forEach((k, views) -> keys[n[0]++] = k & 0xFFFF_FFFF_0000_0000L | rank[(int) k]);
        Arrays.sort(keys);
        long[] views = new long[keys.length];
        long[] visitors = new long[keys.length];
        for (int i = 0; i < keys.length; i++) {
            long k = keys[i] & 0xFFFF_FFFF_0000_0000L | indexOf[(int) keys[i]];
            views[i] = segmentViews.get(k);
            visitors[i] = segmentVisitorsAdded.get(k);
        }
        return new long[][] {keys, views, visitors};
    }

    /**
     * The (segment-pair rank, partition) keys of {@code site_segment_days} in (day, segment,
     * partition) order, with their views.
     */
    private long[][] siteSegmentRows(long[] sortedPairs, int[] rank) {
        long[] keys = siteSegmentViews.sortedKeys();
        long[] ranked = new long[keys.length];
        for (int i = 0; i < keys.length; i++) {
            ranked[i] = (long) rank[(int) (keys[i] >>> 32)] << 32 | (int) keys[i];
        }
        Arrays.sort(ranked);
        long[] views = new long[keys.length];
        for (int i = 0; i < keys.length; i++) {
            views[i] = siteSegmentViews.get(pairIndex.get(sortedPairs[(int) (ranked[i] >>> 32)]) << 32 | (int) ranked[i]);
        }
        return new long[][] {ranked, views};
    }

    private static void createStaging(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            // One round trip for the eight.
            st.execute("CREATE TEMP TABLE IF NOT EXISTS staged_page_days (page INTEGER, day INTEGER, views BIGINT, visitors BIGINT)"
                    + " ON COMMIT DELETE ROWS;"
                    + " CREATE TEMP TABLE IF NOT EXISTS staged_page_segment_days (page INTEGER, day INTEGER, segment INTEGER, views BIGINT,"
                    + " visitors BIGINT) ON COMMIT DELETE ROWS;"
                    + " CREATE TEMP TABLE IF NOT EXISTS staged_segment_visits (day INTEGER, visitor BYTEA, segment INTEGER, site VARCHAR(64))"
                    + " ON COMMIT DELETE ROWS;"
                    + " CREATE TEMP TABLE IF NOT EXISTS staged_site_visits (site VARCHAR(64), day INTEGER, visitor BYTEA, page INTEGER, segment INTEGER)"
                    + " ON COMMIT DELETE ROWS;"
                    + " CREATE TEMP TABLE IF NOT EXISTS staged_site_day_counts (site VARCHAR(64), day INTEGER, partition_id INTEGER, views BIGINT,"
                    + " visitors BIGINT) ON COMMIT DELETE ROWS;"
                    + " CREATE TEMP TABLE IF NOT EXISTS staged_site_segment_counts (day INTEGER, segment INTEGER, partition_id INTEGER, views BIGINT,"
                    + " visitors BIGINT, first_visitors BIGINT) ON COMMIT DELETE ROWS;"
                    + " CREATE TEMP TABLE IF NOT EXISTS staged_several (site VARCHAR(64), day INTEGER, visitor BYTEA) ON COMMIT DELETE ROWS;"
                    + " CREATE TEMP TABLE IF NOT EXISTS staged_gained_segments (day INTEGER, visitor BYTEA, segment INTEGER, partition_id INTEGER,"
                    + " site VARCHAR(64))"
                    + " ON COMMIT DELETE ROWS");
        }
    }

    private void writePostgres(Connection c, Generation g) throws SQLException {
        LongCounts siteSegmentVisitors = new LongCounts();
        Set<DayVisit> multi = new HashSet<>();
        List<SegmentVisit> gained = new ArrayList<>();
        // The visitor rows by COPY and one INSERT that hands back the rows it gained
        // (RETURNING): exact whoever else inserts the same visitor at the same time, and counted
        // here as the row stores count theirs, instead of joined back to the staged rows and
        // grouped by the server (most of its time on beacons). The site's were written first, as
        // there: a segment row gained for a visitor whose site row was not is a visitor of
        // several segments.
        SegmentVisit[] toInsert = segmentVisitsToInsert(siteSegmentVisitors, multi, gained);
        if (toInsert.length > 0) {
            StringBuilder segmentRows = new StringBuilder(toInsert.length * 64);
            for (SegmentVisit v : toInsert) {
                segmentRows.append(v.day()).append('\t');
                PageViewAggregator.bytea(segmentRows, v.visitor()).append('\t').append(v.segment()).append('\t');
                text(segmentRows, v.site()).append('\n');
            }
            PageViewAggregator.copyIn(c, "COPY staged_segment_visits (day, visitor, segment, site) FROM STDIN", segmentRows);
            PageViewAggregator.insertGained(c, g.table("segment_visitors"), "staged_segment_visits s", "day, visitor, segment",
                    notInSiteRow(g, "segment", "s.site", "s.day", "s.visitor", "s.segment"), "day, visitor, segment",
                    rs -> {
                        int day = rs.getInt(1);
                        int segment = rs.getInt(3);
                        segmentVisitGained(new SegmentVisit(day, VisitorId.of(rs.getBytes(2)), segment, site(day, segment)), siteSegmentVisitors,
                                multi, gained);
                    });
        }
        addSeveralSegments(multi);

        LongCounts pageDays = pageDays();
        StringBuilder rows = new StringBuilder(pageDays.size() * 24);
        for (long k : pageDays.sortedKeys()) {
            rows.append(k >>> 32).append('\t').append((int) k).append('\t').append(pageDays.get(k)).append('\t')
                    .append(pageVisitorsAdded.get(k)).append('\n');
        }
        PageViewAggregator.copyIn(c, "COPY staged_page_days (page, day, views, visitors) FROM STDIN", rows);

        long[] sortedPairs = pairIndex.sortedKeys();
        int[] rank = ranks(sortedPairs);
        long[][] segmentRows = segmentRows(rank);
        rows = new StringBuilder(segmentRows[0].length * 32);
        for (int i = 0; i < segmentRows[0].length; i++) {
            long k = segmentRows[0][i];
            long pair = sortedPairs[(int) k];
            rows.append(k >>> 32).append('\t').append(pair >>> 32).append('\t').append((int) pair).append('\t').append(segmentRows[1][i])
                    .append('\t').append(segmentRows[2][i]).append('\n');
        }
        PageViewAggregator.copyIn(c, "COPY staged_page_segment_days (page, day, segment, views, visitors) FROM STDIN", rows);

        long[][] siteSegmentRows = siteSegmentRows(sortedPairs, rank);
        rows = new StringBuilder(siteSegmentRows[0].length * 32);
        for (int i = 0; i < siteSegmentRows[0].length; i++) {
            long k = siteSegmentRows[0][i];
            long pair = sortedPairs[(int) (k >>> 32)];
            long key = pairIndex.get(pair) << 32 | (int) k;
            rows.append(pair >>> 32).append('\t').append((int) pair).append('\t').append((int) k).append('\t')
                    .append(siteSegmentRows[1][i]).append('\t').append(siteSegmentVisitors.get(key)).append('\t')
                    .append(siteSegmentFirstVisitors.get(key)).append('\n');
        }
        PageViewAggregator.copyIn(c, "COPY staged_site_segment_counts (day, segment, partition_id, views, visitors, first_visitors) FROM STDIN", rows);

        SiteDay[] sites = siteDays.keySet().toArray(SiteDay[]::new);
        Arrays.sort(sites);
        rows = new StringBuilder(sites.length * 40);
        for (SiteDay s : sites) {
            long[] counts = siteDays.get(s);
            text(rows, s.site()).append('\t').append(s.day()).append('\t').append(s.partition()).append('\t').append(counts[0]).append('\t')
                    .append(counts[1]).append('\n');
        }
        PageViewAggregator.copyIn(c, "COPY staged_site_day_counts (site, day, partition_id, views, visitors) FROM STDIN", rows);

        // The staged rows were copied in key order, and a scan of a fresh temporary table returns
        // them so: no sort of the big ones.
        String pd = g.table("page_days");
        String pw = g.table("page_weeks");
        String sgd = g.table("segment_days");
        String ssd = g.table("site_segment_days");
        String sd = g.table("site_days");
        try (Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO " + pd + " (page, day, views, visitors) SELECT page, day, views, visitors FROM staged_page_days"
                    + " ON CONFLICT (page, day) DO UPDATE SET views = " + pd + ".views + excluded.views, visitors = " + pd + ".visitors + excluded.visitors");
            // Sorted so that every writer locks the rows in one order.
            st.executeUpdate("INSERT INTO " + pw + " (page, week, views, visitors) SELECT page, day - day % 7, SUM(views), SUM(visitors)"
                    + " FROM staged_page_days GROUP BY page, day - day % 7 ORDER BY page, day - day % 7"
                    + " ON CONFLICT (page, week) DO UPDATE SET views = " + pw + ".views + excluded.views, visitors = " + pw + ".visitors + excluded.visitors");
            st.executeUpdate("INSERT INTO " + sgd + " (page, day, segment, views, visitors) SELECT page, day, segment, views, visitors"
                    + " FROM staged_page_segment_days ON CONFLICT (page, day, segment) DO UPDATE SET views = " + sgd + ".views + excluded.views,"
                    + " visitors = " + sgd + ".visitors + excluded.visitors");
            st.executeUpdate("INSERT INTO " + ssd + " (day, segment, partition_id, views, visitors, first_visitors)"
                    + " SELECT day, segment, partition_id, views, visitors, first_visitors FROM staged_site_segment_counts"
                    + " ON CONFLICT (day, segment, partition_id) DO UPDATE SET views = " + ssd + ".views + excluded.views,"
                    + " visitors = " + ssd + ".visitors + excluded.visitors, first_visitors = " + ssd + ".first_visitors + excluded.first_visitors");
            st.executeUpdate("INSERT INTO " + sd + " (site, day, partition_id, views, visitors)"
                    + " SELECT site, day, partition_id, views, visitors FROM staged_site_day_counts"
                    + " ON CONFLICT (site, day, partition_id) DO UPDATE SET views = " + sd + ".views + excluded.views, visitors = " + sd + ".visitors + excluded.visitors");
        }
        if (multi.isEmpty()) {
            return;
        }
        // The visitors of several segments: their site rows and the segment rows gained for them,
        // staged for the statements that keep their rows and count the repeats.
        Set<SiteVisit> several = severalSegments(multi, gained);
        StringBuilder gainedRows = new StringBuilder();
        for (SegmentVisit v : gained) {
            if (multi.contains(new DayVisit(v.day(), v.visitor()))) {
                gainedRows.append(v.day()).append('\t');
                PageViewAggregator.bytea(gainedRows, v.visitor()).append('\t').append(v.segment()).append('\t').append(segmentVisits.get(v))
                        .append('\t');
                text(gainedRows, v.site()).append('\n');
            }
        }
        rows = new StringBuilder(several.size() * 56);
        for (SiteVisit v : several) {
            text(rows, v.site()).append('\t').append(v.day()).append('\t');
            PageViewAggregator.bytea(rows, v.visitor()).append('\n');
        }
        PageViewAggregator.copyIn(c, "COPY staged_several (site, day, visitor) FROM STDIN", rows);
        PageViewAggregator.copyIn(c, "COPY staged_gained_segments (day, visitor, segment, partition_id, site) FROM STDIN", gainedRows);
        try (Statement st = c.createStatement()) {
            // Temporary tables have no statistics unless asked: without them the planner took a
            // few hundred staged rows for many and scanned all of segment_visitors.
            st.execute("ANALYZE staged_several; ANALYZE staged_gained_segments");
            // Those visitors' site rows locked, in key order, until the transaction ends: another
            // batch that adds segments to one of them waits for this one's commit (and this one
            // for theirs), so the next statement, with a snapshot of its own, sees their rows.
            st.executeQuery("SELECT 1 FROM (SELECT site, day, visitor FROM staged_several ORDER BY site, day, visitor) m"
                    + " CROSS JOIN LATERAL (SELECT 1 FROM " + g.table("site_visitors") + " v"
                    + " WHERE v.site = m.site AND v.day = m.day AND v.visitor = m.visitor FOR UPDATE) l").close();
            // All their segment rows (segment_visitors', and the first segment their site rows
            // hold) go to multi_segment_visitors, and each segment row gained counts as a repeat of
            // each column whose value another of the visitor's rows of the site that day has (one
            // stored before, or gained now with a smaller segment id).
            String sv = g.table("segment_visitors");
            String site = g.table("site_visitors");
            StringBuilder flags = new StringBuilder();
            StringBuilder sums = new StringBuilder();
            StringBuilder sets = new StringBuilder();
            for (String column : REPEATED) {
                flags.append(", MAX(CASE WHEN os.site = s.site AND os.").append(column).append(" = s.").append(column)
                        .append(" THEN 1 ELSE 0 END) AS ").append(column);
                sums.append(", SUM(").append(column).append(") AS ").append(column);
                sets.append(sets.isEmpty() ? "" : ", ").append("repeat_").append(column).append(" = ").append(ssd).append(".repeat_").append(column)
                        .append(" + n.").append(column);
            }
            st.executeUpdate("WITH multi AS (INSERT INTO " + g.table("multi_segment_visitors") + " (day, visitor, segment)"
                    + " SELECT v.day, v.visitor, v.segment FROM staged_several m CROSS JOIN LATERAL (SELECT day, visitor, segment FROM " + sv + " v"
                    + " WHERE v.day = m.day AND v.visitor = m.visitor" + BY_KEY + ") v"
                    + " UNION ALL SELECT f.day, f.visitor, f.segment FROM staged_several m CROSS JOIN LATERAL (SELECT day, visitor, segment FROM "
                    + site + " f WHERE f.site = m.site AND f.day = m.day AND f.visitor = m.visitor AND f.segment IS NOT NULL" + BY_KEY + ") f"
                    + " ON CONFLICT DO NOTHING),"
                    // Each gained row with the visitor's other segments: segment_visitors' and the site row's
                    // (found by its key, site included), each other segment's values found by its id
                    // alone and its site compared in the flags: a join on the site as well was planned,
                    // from a fresh table's statistics, as a read of all the site's segments per row.
                    + " o AS (SELECT x.day, x.visitor, x.segment, x.partition_id, v.segment AS other FROM staged_gained_segments x"
                    + " CROSS JOIN LATERAL (SELECT segment FROM " + sv + " v WHERE v.day = x.day AND v.visitor = x.visitor"
                    + " AND v.segment <> x.segment" + BY_KEY + ") v"
                    + " UNION ALL SELECT x.day, x.visitor, x.segment, x.partition_id, f.segment FROM staged_gained_segments x"
                    + " CROSS JOIN LATERAL (SELECT segment FROM " + site + " f WHERE f.site = x.site AND f.day = x.day AND f.visitor = x.visitor"
                    + " AND f.segment <> x.segment" + BY_KEY + ") f),"
                    + " r AS (SELECT o.day, o.segment, o.partition_id" + flags + " FROM o JOIN segments s ON s.id = o.segment"
                    + " JOIN segments os ON os.id = o.other"
                    + " LEFT JOIN staged_gained_segments y ON y.day = o.day AND y.visitor = o.visitor AND y.segment = o.other"
                    + " WHERE y.segment IS NULL OR y.segment < o.segment"
                    + " GROUP BY o.day, o.visitor, o.segment, o.partition_id),"
                    + " n AS (SELECT day, segment, partition_id" + sums + " FROM r GROUP BY day, segment, partition_id)"
                    + " UPDATE " + ssd + " SET " + sets + " FROM n WHERE " + ssd + ".day = n.day AND " + ssd + ".segment = n.segment"
                    + " AND " + ssd + ".partition_id = n.partition_id");
        }
    }

    /**
     * One statement per row, batched (SQLite, MySQL and MariaDB): the visitors gained are the
     * inserts whose update count is 1 (see {@link Store#url}).
     */
    /** Adds {@code views} and {@code visitors}, keyed by page and day (or week), to their rows by {@code upsert}, in key order. */
    private static void upsertPages(Connection c, String upsert, LongCounts views, LongCounts visitors) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(upsert)) {
            for (long k : views.sortedKeys()) {
                ps.setInt(1, (int) (k >>> 32));
                ps.setInt(2, (int) k);
                ps.setLong(3, views.get(k));
                ps.setLong(4, visitors.get(k));
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private void writeRows(Connection c, Generation g, Store store) throws SQLException {
        long[] sortedPairs = pairIndex.sortedKeys();
        int[] rank = ranks(sortedPairs);
        // By (day, segment) index and partition, as siteSegmentViews.
        LongCounts siteSegmentVisitors = new LongCounts();
        LongCounts[] repeats = new LongCounts[REPEATED.size()];
        for (int i = 0; i < repeats.length; i++) {
            repeats[i] = new LongCounts();
        }
        LongCounts pageDays = pageDays();
        upsertPages(c, store.upsertAdd(g.table("page_days"), List.of("views", "visitors"), "page", "day"), pageDays, pageVisitorsAdded);
        LongCounts weekViews = new LongCounts();
        LongCounts weekVisitors = new LongCounts();
        pageDays.forEach((k, views) -> {
            int day = (int) k;
            long week = k & 0xFFFF_FFFF_0000_0000L | day - day % 7;
            weekViews.add(week, views);
            weekVisitors.add(week, pageVisitorsAdded.get(k));
        });
        upsertPages(c, store.upsertAdd(g.table("page_weeks"), List.of("views", "visitors"), "page", "week"), weekViews, weekVisitors);
        long[][] segmentRows = segmentRows(rank);
        String sgd = g.table("segment_days");
        try (PreparedStatement ps = c.prepareStatement(store.upsertAdd(sgd, List.of("views", "visitors"), "page", "day", "segment"))) {
            for (int i = 0; i < segmentRows[0].length; i++) {
                long k = segmentRows[0][i];
                long pair = sortedPairs[(int) k];
                ps.setInt(1, (int) (k >>> 32));
                ps.setInt(2, (int) (pair >>> 32));
                ps.setInt(3, (int) pair);
                ps.setLong(4, segmentRows[1][i]);
                ps.setLong(5, segmentRows[2][i]);
                ps.addBatch();
            }
            ps.executeBatch();
        }
        if (!segmentVisits.isEmpty()) {
            Set<DayVisit> multi = new HashSet<>();
            List<SegmentVisit> gained = new ArrayList<>();
            SegmentVisit[] sorted = segmentVisitsToInsert(siteSegmentVisitors, multi, gained);
            try (PreparedStatement ps = c.prepareStatement(store.insertIfAbsentFrom(g.table("segment_visitors"),
                    selectParameters(3, notInSiteRow(g, "segment", "?", "?", "?", "?")), "day", "visitor", "segment"))) {
                for (SegmentVisit v : sorted) {
                    ps.setInt(1, v.day());
                    ps.setBytes(2, v.visitor().bytes());
                    ps.setInt(3, v.segment());
                    ps.setString(4, v.site());
                    ps.setInt(5, v.day());
                    ps.setBytes(6, v.visitor().bytes());
                    ps.setInt(7, v.segment());
                    ps.addBatch();
                }
                int[] added = ps.executeBatch();
                for (int i = 0; i < sorted.length; i++) {
                    if (added[i] > 0) {
                        segmentVisitGained(sorted[i], siteSegmentVisitors, multi, gained);
                    }
                }
            }
            addSeveralSegments(multi);
            if (!multi.isEmpty()) {
                DayVisit[] pairs = multi.toArray(DayVisit[]::new);
                Arrays.sort(pairs);
                // All their segment rows, the batch's included.
                try (PreparedStatement ps = c.prepareStatement(store.insertIfAbsentFrom(g.table("multi_segment_visitors"),
                        "SELECT day, visitor, segment FROM " + g.table("segment_visitors") + " WHERE day = ? AND visitor = ?",
                        "day", "visitor", "segment"))) {
                    for (DayVisit d : pairs) {
                        ps.setInt(1, d.day());
                        ps.setBytes(2, d.visitor().bytes());
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                // And the first segment their site rows hold.
                try (PreparedStatement ps = c.prepareStatement(store.insertIfAbsentFrom(g.table("multi_segment_visitors"),
                        "SELECT day, visitor, segment FROM " + g.table("site_visitors") + " WHERE site = ? AND day = ? AND visitor = ?"
                                + " AND segment IS NOT NULL", "day", "visitor", "segment"))) {
                    for (SiteVisit v : severalSegments(multi, gained)) {
                        ps.setString(1, v.site());
                        ps.setInt(2, v.day());
                        ps.setBytes(3, v.visitor().bytes());
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                countRepeats(c, g, store, multi, gained, repeats);
            }
        }
        long[][] siteSegmentRows = siteSegmentRows(sortedPairs, rank);
        try (PreparedStatement ps = c.prepareStatement(
                store.upsertAdd(g.table("site_segment_days"), SITE_SEGMENT_COUNTERS, "day", "segment", "partition_id"))) {
            for (int i = 0; i < siteSegmentRows[0].length; i++) {
                long k = siteSegmentRows[0][i];
                long pair = sortedPairs[(int) (k >>> 32)];
                ps.setInt(1, (int) (pair >>> 32));
                ps.setInt(2, (int) pair);
                ps.setInt(3, (int) k);
                ps.setLong(4, siteSegmentRows[1][i]);
                long key = pairIndex.get(pair) << 32 | (int) k;
                ps.setLong(5, siteSegmentVisitors.get(key));
                ps.setLong(6, siteSegmentFirstVisitors.get(key));
                for (int r = 0; r < repeats.length; r++) {
                    ps.setLong(7 + r, repeats[r].get(key));
                }
                ps.addBatch();
            }
            ps.executeBatch();
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

    /**
     * Adds to {@code repeats} (one per column of {@link #REPEATED}, by the key of
     * siteSegmentViews) each segment row {@code gained} of a visitor of {@code multi} whose value
     * of the column another of the visitor's rows of the same site that day has: one stored before
     * (read after a lock, so that another transaction's rows for the same visitor are seen), or one
     * gained in this batch with a smaller segment id.
     */
    private void countRepeats(Connection c, Generation g, Store store, Set<DayVisit> multi, List<SegmentVisit> gained, LongCounts[] repeats)
            throws SQLException {
        Map<DayVisit, List<SegmentVisit>> byVisitor = new TreeMap<>();
        for (SegmentVisit v : gained) {
            DayVisit d = new DayVisit(v.day(), v.visitor());
            if (multi.contains(d)) {
                byVisitor.computeIfAbsent(d, k -> new ArrayList<>()).add(v);
            }
        }
        if (byVisitor.isEmpty()) {
            return;
        }
        // Each visitor's site rows locked first, in key order, until the transaction ends: another
        // batch that adds segments to them waits for this one's commit (and this one for theirs),
        // so the read after the lock sees their rows.
        // The site too: one visitor hash may come from two sites (a producer's choice), whose segments differ.
        // The lock reads the first segment the site row holds (a locking read: the newest row).
        String columns = "s.site, s." + String.join(", s.", REPEATED);
        try (PreparedStatement lock = c.prepareStatement("SELECT segment FROM " + g.table("site_visitors")
                        + " WHERE site = ? AND day = ? AND visitor = ?" + store.forUpdate());
                PreparedStatement ps = c.prepareStatement("SELECT v.segment, " + columns + " FROM "
                + g.table("segment_visitors") + " v JOIN segments s ON s.id = v.segment WHERE v.day = ? AND v.visitor = ?"
                        // A locking read: the newest rows, whatever the isolation's snapshot.
                        + store.forShare());
                PreparedStatement first = c.prepareStatement("SELECT s.id, " + columns + " FROM segments s WHERE s.id = ?")) {
            for (Map.Entry<DayVisit, List<SegmentVisit>> e : byVisitor.entrySet()) {
                List<Integer> firsts = new ArrayList<>();
                for (String site : new TreeSet<>(e.getValue().stream().map(SegmentVisit::site).toList())) {
                    lock.setString(1, site);
                    lock.setInt(2, e.getKey().day());
                    lock.setBytes(3, e.getKey().visitor().bytes());
                    try (ResultSet rs = lock.executeQuery()) {
                        if (rs.next() && rs.getObject(1) != null) {
                            firsts.add(rs.getInt(1));
                        }
                    }
                }
                ps.setInt(1, e.getKey().day());
                ps.setBytes(2, e.getKey().visitor().bytes());
                Map<Integer, String[]> rows = new HashMap<>();
                readSegments(ps, rows);
                for (int segment : firsts) {
                    first.setInt(1, segment);
                    readSegments(first, rows);
                }
                Set<Integer> gainedNow = new HashSet<>();
                e.getValue().forEach(v -> gainedNow.add(v.segment()));
                for (SegmentVisit v : e.getValue()) {
                    String[] mine = rows.get(v.segment());
                    long key = pairIndex.get((long) v.day() << 32 | v.segment()) << 32 | segmentVisits.get(v);
                    for (int r = 0; r < repeats.length; r++) {
                        for (Map.Entry<Integer, String[]> o : rows.entrySet()) {
                            int other = o.getKey();
                            String[] theirs = o.getValue();
                            if (other != v.segment() && (!gainedNow.contains(other) || other < v.segment()) && theirs[0].equals(mine[0])
                                    && theirs[1 + r].equals(mine[1 + r])) {
                                repeats[r].add(key, 1);
                                break;
                            }
                        }
                    }
                }
            }
        }
    }

    /** Counts a visit that {@code site_visitors} gained: a visitor of the site's day, first in its first segment. */
    private void siteVisitGained(SiteVisit v) {
        Arrival a = siteVisits.get(v);
        a.gained = true;
        siteDays.get(new SiteDay(v.site(), v.day(), a.partition))[1]++;
        siteSegmentFirstVisitors.add(pairIndex.get((long) v.day() << 32 | a.segment) << 32 | a.partition, 1);
    }

    /**
     * Counts a row that {@code segment_visitors} gained, after the site's visits were written: a
     * visitor the site already had that day is one of several segments, kept in {@code multi}.
     */
    private void segmentVisitGained(SegmentVisit v, LongCounts siteSegmentVisitors, Set<DayVisit> multi, List<SegmentVisit> gained) {
        gained.add(v);
        siteSegmentVisitors.add(pairIndex.get((long) v.day() << 32 | v.segment()) << 32 | segmentVisits.get(v), 1);
        if (!siteVisits.get(new SiteVisit(v.site(), v.day(), v.visitor())).gained) {
            multi.add(new DayVisit(v.day(), v.visitor()));
        }
    }

    /** Puts each row of {@code query} (a segment id, then its site and {@link #REPEATED} columns) into {@code rows}. */
    private static void readSegments(PreparedStatement query, Map<Integer, String[]> rows) throws SQLException {
        try (ResultSet rs = query.executeQuery()) {
            while (rs.next()) {
                String[] values = new String[REPEATED.size() + 1];
                for (int r = 0; r < values.length; r++) {
                    values[r] = rs.getString(2 + r);
                }
                rows.put(rs.getInt(1), values);
            }
        }
    }

    /**
     * The site visits of the visitors of several segments ({@code multi}): every site they came
     * to with a segment row gained, or with several segments in the batch, in key order.
     */
    private Set<SiteVisit> severalSegments(Set<DayVisit> multi, List<SegmentVisit> gained) {
        Set<SiteVisit> several = new TreeSet<>();
        for (SegmentVisit v : gained) {
            if (multi.contains(new DayVisit(v.day(), v.visitor()))) {
                several.add(new SiteVisit(v.site(), v.day(), v.visitor()));
            }
        }
        siteVisits.forEach((v, a) -> {
            if (a.severalSegments) {
                several.add(v);
            }
        });
        return several;
    }

    /** Adds to {@code multi} the visitors who came with more than one segment in this batch. */
    private void addSeveralSegments(Set<DayVisit> multi) {
        siteVisits.forEach((v, a) -> {
            if (a.severalSegments) {
                multi.add(new DayVisit(v.day(), v.visitor()));
            }
        });
    }

    /** {@code s} in COPY's text format (a site is a label, but nothing from outside is trusted). */
    static StringBuilder text(StringBuilder out, String s) {
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
