package dev.tally.app.aggregate;

import dev.tally.app.event.PageView;
import dev.tally.consumer.Batch;
import dev.tally.consumer.BatchHandler;
import dev.tally.consumer.Message;
import java.io.IOException;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.IntFunction;
import org.postgresql.PGConnection;

/**
 * Turns a batch of page views into the aggregate tables: views per page and hour
 * ({@code page_hours}), total views per page ({@code page_totals}), referrer hosts per day
 * ({@code referrers_daily}), and exact unique visitors per page and day ({@code page_visitors});
 * and the day tables of event format v2's dimensions ({@link DayTables}, by {@link Segments}), and
 * the visitors who reached a page goal ({@link PageGoals}).
 * Pages are integers from the {@code pages} dictionary ({@link PageIds}), hours and days are
 * integers since the epoch, visitors are 16 bytes ({@link VisitorId}): narrow keys are most of
 * the store's speed. The batch is reduced in memory first, so the database sees one write per
 * distinct key, in key order, not one per event.
 *
 * <p>It writes only through the connection it is given; the page ids it caches are checked
 * against the database before they are trusted (see {@link PageIds}). One instance serves one
 * consumer (one thread at a time).
 */
public final class PageViewAggregator implements BatchHandler<PageView> {

    static final long HOUR = 3_600_000L;
    static final long DAY = 24 * HOUR;
    /** Hours since the epoch are stored as 32-bit integers; later events are rejected. */
    static final long MAX_TIMESTAMP = Integer.MAX_VALUE * HOUR;
    /** Slots of the batch's ids by instance ({@link BatchIds}): 10 000 pages a batch mostly fit, a few hundred segments. */
    private static final int PAGES_BY_INSTANCE = 16_384;
    private static final int SEGMENTS_BY_INSTANCE = 2_048;
    private record Visit(int page, int day, VisitorId visitor) implements Comparable<Visit> {
        @Override
        public int hashCode() {
            return (page * 31 + day) * 31 + visitor.hashCode();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Visit v && v.page == page && v.day == day && v.visitor.equals(visitor);
        }

        @Override
        public int compareTo(Visit o) {
            int c = Integer.compare(page, o.page);
            if (c == 0) {
                c = Integer.compare(day, o.day);
            }
            return c != 0 ? c : visitor.compareTo(o.visitor);
        }
    }

    private final PageIds pages = new PageIds();
    private final Segments segments = new Segments();
    private final PageGoals goals = new PageGoals();
    private final GenerationTarget target;
    private Store store;

    /** An aggregator that counts into the current generation. */
    public PageViewAggregator() {
        this(GenerationTarget.CURRENT);
    }

    /** An aggregator that counts into {@code target}'s generation. */
    public PageViewAggregator(GenerationTarget target) {
        this.target = target;
    }

    @Override
    public void handle(Batch<PageView> batch, Connection connection) throws SQLException {
        Generation generation = target.begin(connection);
        List<PageView> views = new ArrayList<>(batch.size());
        int[] partitions = new int[batch.size()];
        for (Message<PageView> m : batch) {
            if (m.value().timestamp() >= MAX_TIMESTAMP) {
                batch.reject(m, "ts is too far in the future");
            } else if (target.counts(m)) {
                partitions[views.size()] = m.partition();
                views.add(m.value());
            }
        }
        write(views, partitions, connection, generation);
    }

    /**
     * Adds {@code views} to the aggregates through {@code connection}, inside the caller's
     * transaction (neither committed nor rolled back here). Every timestamp must be below
     * {@link #MAX_TIMESTAMP}.
     */
    public void write(Collection<PageView> views, Connection connection) throws SQLException {
        write(views, new int[views.size()], connection, Generation.currentLocked(connection));
    }

    /** As {@link #write(Collection, Connection)}, every view from Kafka partition {@code partition} (what two consumers race on). */
    void write(Collection<PageView> views, int partition, Connection connection) throws SQLException {
        int[] partitions = new int[views.size()];
        java.util.Arrays.fill(partitions, partition);
        write(views, partitions, connection, Generation.currentLocked(connection));
    }

    /** As {@link #write(Collection, Connection)}; {@code partitions[i]} is the Kafka partition of the i-th view's record. */
    private void write(Collection<PageView> views, int[] partitions, Connection connection, Generation g) throws SQLException {
        pages.confirm(connection);
        segments.confirm(connection);
        int[] ids = pageIds(views, connection);
        int[] segmentIds = segmentIds(views, connection);
        DayTables days = new DayTables();
        PageGoals.Batch reached = goals.forBatch(connection);

        LongCounts hourly = new LongCounts();
        // Each (page, day, visitor) with the segment of its first view in the batch: the segment
        // that counts the visitor in segment_days if page_visitors gains the row.
        Map<Visit, Integer> visits = new HashMap<>();
        int i = 0;
        for (PageView v : views) {
            int page = ids[i++];
            long ts = v.timestamp();
            int hour = (int) (ts / HOUR);
            hourly.add((long) page << 32 | hour, 1);
            VisitorId visitor = null;
            if (v.visitor() != null && !v.visitor().isEmpty()) {
                visitor = VisitorId.of(v.visitor());
                visits.putIfAbsent(new Visit(page, (int) (ts / DAY), visitor), segmentIds[i - 1]);
                if (reached != null) {
                    reached.view(page, v.path(), v.site(), (int) (ts / DAY), partitions[i - 1], visitor);
                }
            }
            days.view(page, (int) (ts / DAY), segmentIds[i - 1], v.site(), v.referrerHost(), partitions[i - 1], visitor);
        }
        // Both summed from finer counts after the loop: once per key instead of once per view.
        long[] hours = hourly.sortedKeys();
        LongCounts totals = new LongCounts();
        for (long key : hours) {
            totals.add(key >>> 32, hourly.get(key));
        }
        Map<DayTables.HostDay, long[]> referrers = days.referrers();

        Store store = store(connection);
        boolean copy = store == Store.POSTGRESQL;
        days.stageVisitorRows(store);
        if (copy) {
            prepareStaging(connection);
            StringBuilder rows = new StringBuilder(hourly.size() * 24);
            for (long key : hours) {
                rows.append(key >>> 32).append('\t').append((int) key).append('\t').append(hourly.get(key)).append('\n');
            }
            copyIn(connection, "COPY staged_hours (page, hour, views) FROM STDIN", rows);
            try (Statement st = connection.createStatement()) {
                st.executeUpdate("INSERT INTO " + g.table("page_hours") + " (page, hour, views) SELECT page, hour, views FROM staged_hours"
                        + " ON CONFLICT (page, hour) DO UPDATE SET views = " + g.table("page_hours") + ".views + excluded.views");
            }
        } else {
            try (PreparedStatement ps = connection.prepareStatement(store.upsertAdd(g.table("page_hours"), "views", "page", "hour"))) {
                for (long key : hours) {
                    ps.setInt(1, (int) (key >>> 32));
                    ps.setInt(2, (int) key);
                    ps.setLong(3, hourly.get(key));
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
        try (PreparedStatement ps = connection.prepareStatement(store.upsertAdd(g.table("page_totals"), "views", "page"))) {
            for (long page : totals.sortedKeys()) {
                ps.setInt(1, (int) page);
                ps.setLong(2, totals.get(page));
                ps.addBatch();
            }
            ps.executeBatch();
        }
        if (!referrers.isEmpty()) {
            try (PreparedStatement ps = connection.prepareStatement(store.upsertAdd(g.table("referrers_daily"), "views", "site", "host", "day"))) {
                for (Map.Entry<DayTables.HostDay, long[]> e : referrers.entrySet()) {
                    ps.setString(1, e.getKey().site());
                    ps.setString(2, e.getKey().host());
                    ps.setLong(3, e.getKey().day() * DAY);
                    ps.setLong(4, e.getValue()[0]);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
        days.writeSiteVisitors(connection, g, store);
        if (!visits.isEmpty()) {
            writePageVisitors(connection, g, store, visits, days);
        }
        days.write(connection, g, store);
        if (reached != null) {
            reached.write(connection, g, store);
        }
    }

    /**
     * The {@code page_visitors} rows of the batch's page visits that are not the first page of a
     * site visit {@code site_visitors} gained, with each visit the segment of its first view;
     * those first pages, and the rows gained, are the page visitors gained. A row whose stored
     * site row holds its page is not inserted: that visitor was counted when its site row was
     * gained, by this member or another (whose transaction has ended by then: its site row's key
     * made this one's insert wait).
     */
    private static void writePageVisitors(Connection connection, Generation g, Store store, Map<Visit, Integer> visits, DayTables days)
            throws SQLException {
        Set<Visit> rest = new HashSet<>();
        visits.forEach((v, segment) -> {
            if (days.firstPageGained(v.page(), v.day(), segment, v.visitor())) {
                days.pageVisitorAdded(v.page(), v.day(), segment);
            } else {
                rest.add(v);
            }
        });
        if (rest.isEmpty()) {
            return;
        }
        if (store == Store.POSTGRESQL) {
            StringBuilder rows = copyText(rest, Visit[]::new, 64, (out, v) -> {
                int segment = visits.get(v);
                out.append(v.page()).append('\t').append(v.day()).append('\t');
                bytea(out, v.visitor()).append('\t').append(segment).append('\t');
                DayTables.text(out, days.site(v.day(), segment)).append('\n');
            });
            copyIn(connection, "COPY staged_visitors (page, day, visitor, segment, site) FROM STDIN", rows);
            insertGained(connection, g.table("page_visitors"), "staged_visitors s", "page, day, visitor, segment",
                    DayTables.notInSiteRow(g, "page", "s.site", "s.day", "s.visitor", "s.page"), "page, day, segment",
                    rs -> days.pageVisitorAdded(rs.getInt(1), rs.getInt(2), rs.getInt(3)));
            return;
        }
        Visit[] sorted = rest.toArray(Visit[]::new);
        java.util.Arrays.sort(sorted);
        try (PreparedStatement ps = connection.prepareStatement(store.insertIfAbsentFrom(g.table("page_visitors"),
                DayTables.selectParameters(4, DayTables.notInSiteRow(g, "page", "?", "?", "?", "?")), "page", "day", "visitor", "segment"))) {
            for (Visit v : sorted) {
                int segment = visits.get(v);
                ps.setInt(1, v.page());
                ps.setInt(2, v.day());
                ps.setBytes(3, v.visitor().bytes());
                ps.setInt(4, segment);
                ps.setString(5, days.site(v.day(), segment));
                ps.setInt(6, v.day());
                ps.setBytes(7, v.visitor().bytes());
                ps.setInt(8, v.page());
                ps.addBatch();
            }
            int[] added = ps.executeBatch();
            for (int j = 0; j < sorted.length; j++) {
                if (added[j] > 0) {
                    days.pageVisitorAdded(sorted[j].page(), sorted[j].day(), visits.get(sorted[j]));
                }
            }
        }
    }

    /**
     * On PostgreSQL, the two big tables are written by COPY into session-local staging tables
     * and one INSERT ... SELECT each: a fraction of the per-row cost of parameterised inserts.
     * The staging tables are temporary and emptied at commit; the rows reach the real tables
     * only through the same transaction.
     */
    private Store store(Connection c) throws SQLException {
        if (store == null) {
            store = Store.of(c);
        }
        return store;
    }

    private static void prepareStaging(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            // The batch's statements sort and join a few hundred thousand staged rows: with the
            // default 4 MB each sort spills to disk. For this transaction only.
            st.execute("SET LOCAL work_mem = '64MB'");
            st.execute("CREATE TEMP TABLE IF NOT EXISTS staged_hours (page INTEGER, hour INTEGER, views BIGINT) ON COMMIT DELETE ROWS");
            st.execute("CREATE TEMP TABLE IF NOT EXISTS staged_visitors (page INTEGER, day INTEGER, visitor BYTEA, segment INTEGER, site VARCHAR(64))"
                    + " ON COMMIT DELETE ROWS");
        }
    }

    static void copyIn(Connection c, String sql, CharSequence rows) throws SQLException {
        try {
            c.unwrap(PGConnection.class).getCopyAPI().copyIn(sql, new StringReader(rows.toString()));
        } catch (IOException e) {
            throw new SQLException("COPY failed: " + e.getMessage(), e);
        }
    }

    /** One key as a row of COPY's text format. */
    @FunctionalInterface
    interface CopyRow<K> {
        void append(StringBuilder rows, K key);
    }

    /**
     * Sorts {@code keys} into key order and writes them as COPY text, on another thread
     * ({@code CompletableFuture}'s default executor). A batch's visitor rows, hundreds of
     * thousands of random keys, took a noticeable share of the committing thread to sort and
     * print, and done there that work stood between PostgreSQL's statements, which run one at a
     * time on a transaction's single connection. Started before the batch's first statement, it
     * is done while PostgreSQL writes the tables before. The keys must not change until it is
     * {@linkplain #join joined}.
     */
    static <K extends Comparable<K>> CompletableFuture<StringBuilder> copyRows(Set<K> keys, IntFunction<K[]> array, int charsPerRow,
            CopyRow<K> row) {
        return CompletableFuture.supplyAsync(() -> copyText(keys, array, charsPerRow, row));
    }

    /** {@code keys} in key order as COPY text, on this thread. */
    static <K extends Comparable<K>> StringBuilder copyText(Set<K> keys, IntFunction<K[]> array, int charsPerRow, CopyRow<K> row) {
        K[] sorted = keys.toArray(array.apply(0));
        java.util.Arrays.sort(sorted);
        StringBuilder rows = new StringBuilder(sorted.length * charsPerRow);
        for (K k : sorted) {
            row.append(rows, k);
        }
        return rows;
    }

    /** The text of {@link #copyRows}, its failure rethrown as it was. */
    static StringBuilder join(CompletableFuture<StringBuilder> rows) {
        try {
            return rows.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /** One row an insert handed back. */
    @FunctionalInterface
    interface Gained {
        void row(ResultSet rs) throws SQLException;
    }

    /**
     * Inserts the rows of the temporary table {@code staged} (that {@code where} lets through,
     * if not empty) that {@code table} lacks and hands {@code gained} each row added, as its
     * {@code returning} columns: exactly the rows this transaction added, whoever else inserts
     * the same ones at the same time.
     */
    static void insertGained(Connection c, String table, String staged, String columns, String where, String returning, Gained gained)
            throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("INSERT INTO " + table + " (" + columns + ") SELECT " + columns + " FROM " + staged + where
                        + " ON CONFLICT DO NOTHING RETURNING " + returning)) {
            while (rs.next()) {
                gained.row(rs);
            }
        }
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** {@code visitor} as a BYTEA in COPY's text format. */
    static StringBuilder bytea(StringBuilder out, VisitorId visitor) {
        out.append("\\\\x");
        hex(out, visitor.high());
        hex(out, visitor.low());
        return out;
    }

    /** {@code bytes} as a BYTEA in COPY's text format. */
    static StringBuilder bytea(StringBuilder out, byte[] bytes) {
        out.append("\\\\x");
        for (byte b : bytes) {
            out.append(HEX[(b >>> 4) & 0xF]).append(HEX[b & 0xF]);
        }
        return out;
    }

    private static void hex(StringBuilder out, long v) {
        for (int shift = 60; shift >= 0; shift -= 4) {
            out.append(HEX[(int) (v >>> shift) & 0xF]);
        }
    }

    /** The page id of each view, in order, creating the pages not seen before. */
    private int[] pageIds(Collection<PageView> views, Connection connection) throws SQLException {
        int[] ids = new int[views.size()];
        PageIds.Page[] unknown = null;
        Set<PageIds.Page> missing = null;
        BatchIds found = new BatchIds(PAGES_BY_INSTANCE);
        int i = 0;
        for (PageView v : views) {
            int id = found.get(v.site(), v.path(), null);
            if (id != 0) {
                ids[i++] = id;
                continue;
            }
            PageIds.Page p = new PageIds.Page(v.site(), v.path());
            id = pages.cached(p);
            if (id != 0) {
                found.put(v.site(), v.path(), null, id);
            } else {
                if (unknown == null) {
                    unknown = new PageIds.Page[ids.length];
                    missing = new LinkedHashSet<>();
                }
                unknown[i] = p;
                missing.add(p);
            }
            ids[i++] = id;
        }
        if (missing != null) {
            Map<PageIds.Page, Integer> created = pages.resolve(connection, missing);
            for (int j = 0; j < ids.length; j++) {
                if (unknown[j] != null) {
                    ids[j] = created.get(unknown[j]);
                }
            }
        }
        return ids;
    }

    /**
     * The segment id of each view, in order, creating the segments not seen before. Consecutive
     * views with the same site, referrer host and dimensions instances (every v1 view of a site
     * without a referrer) reuse the previous id without a lookup.
     */
    private int[] segmentIds(Collection<PageView> views, Connection connection) throws SQLException {
        int[] ids = new int[views.size()];
        Segments.Segment[] unknown = null;
        Set<Segments.Segment> missing = null;
        BatchIds found = new BatchIds(SEGMENTS_BY_INSTANCE);
        PageView previous = null;
        int previousId = 0;
        int i = 0;
        for (PageView v : views) {
            int id;
            if (previousId != 0 && v.site() == previous.site() && v.referrerHost() == previous.referrerHost()
                    && v.dimensions() == previous.dimensions()) {
                id = previousId;
            } else if ((id = found.get(v.site(), v.referrerHost(), v.dimensions())) == 0) {
                Segments.Segment s = Segments.of(v);
                id = segments.cached(s);
                if (id != 0) {
                    found.put(v.site(), v.referrerHost(), v.dimensions(), id);
                } else {
                    if (unknown == null) {
                        unknown = new Segments.Segment[ids.length];
                        missing = new HashSet<>();
                    }
                    unknown[i] = s;
                    missing.add(s);
                }
            }
            previous = v;
            previousId = id;
            ids[i++] = id;
        }
        if (missing != null) {
            Map<Segments.Segment, Integer> created = segments.resolve(connection, missing);
            for (int j = 0; j < ids.length; j++) {
                if (unknown[j] != null) {
                    ids[j] = created.get(unknown[j]);
                }
            }
        }
        return ids;
    }
}
