package dev.tally.app.aggregate;

import dev.tally.app.event.Dimensions;
import dev.tally.app.event.PageView;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The segment dictionary ({@code segments}, migration 6): one integer id per combination of
 * site, referrer host and event format v2's {@link Dimensions} that views arrive with, so that
 * the day tables key on an integer. {@code ''} stands for an unknown value. A segment's row is
 * found by its hash, the first 16 bytes of SHA-256 over its values, each as its UTF-8 length
 * (four bytes) and bytes, in column order: no two tuples share an encoding.
 *
 * <p>As in {@link PageIds}: a new segment's row is created in the batch's own transaction, its id
 * trusted from cache only once a later transaction has seen the row, and two aggregators creating
 * the same segment at once both get its one id (insert if absent in hash
 * order, then read back).
 */
final class Segments {

    /**
     * A segment as the views name it ({@code null} values allowed: they mean {@code ''}). The
     * equality takes the identity shortcut: the decoder hands out the same instances for repeated
     * values, and every v1 view has {@link Dimensions#NONE}. The hash is kept once computed: a
     * segment new to the cache is hashed to be inserted, read back and confirmed.
     */
    static final class Segment {
        private final String site;
        private final String referrer;
        private final Dimensions dimensions;
        private byte[] hash;

        Segment(String site, String referrer, Dimensions dimensions) {
            this.site = site;
            this.referrer = referrer;
            this.dimensions = dimensions;
        }

        String site() {
            return site;
        }

        String referrer() {
            return referrer;
        }

        Dimensions dimensions() {
            return dimensions;
        }

        @Override
        public int hashCode() {
            return (31 * site.hashCode() + (referrer == null ? 0 : referrer.hashCode())) * 31
                    + dimensions.hashCode();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Segment s && (s.site == site || s.site.equals(site))
                    && (s.referrer == referrer || (referrer != null && referrer.equals(s.referrer)))
                    && (s.dimensions == dimensions || dimensions.equals(s.dimensions));
        }

        @Override
        public String toString() {
            return "Segment[site=" + site + ", referrer=" + referrer + ", dimensions=" + dimensions + "]";
        }

        /** The eleven column values, in column order, {@code ''} for unknown. */
        String[] values() {
            Dimensions d = dimensions;
            return new String[] {site, or(referrer), or(d.source()), or(d.medium()), or(d.campaign()), or(d.browser()),
                or(d.browserVersion()), or(d.os()), or(d.osVersion()), or(d.device()), or(d.country())};
        }

        /** The first 16 bytes of SHA-256 over {@link #values}, each prefixed by its UTF-8 length. */
        byte[] hash() {
            if (hash == null) {
                MessageDigest sha;
                try {
                    sha = MessageDigest.getInstance("SHA-256");
                } catch (NoSuchAlgorithmException e) {
                    throw new IllegalStateException("every Java runtime has SHA-256", e);
                }
                for (String v : values()) {
                    byte[] b = v.getBytes(StandardCharsets.UTF_8);
                    sha.update(ByteBuffer.allocate(4).putInt(b.length).array());
                    sha.update(b);
                }
                hash = Arrays.copyOf(sha.digest(), 16);
            }
            return hash;
        }

        private static String or(String v) {
            return v == null ? "" : v;
        }
    }

    private static final int CHUNK = 200;

    private final IdCache<Segment> confirmed = new IdCache<>(IdCache.ENTRIES);
    private final Map<Segment, Integer> unconfirmed = new HashMap<>();

    /** The segment of a view. */
    static Segment of(PageView v) {
        return new Segment(v.site(), v.referrerHost(), v.dimensions() == null ? Dimensions.NONE : v.dimensions());
    }

    /** The id of a segment known from an earlier batch or this one, or 0. */
    int cached(Segment s) {
        int id = confirmed.get(s);
        if (id == 0) {
            Integer u = unconfirmed.get(s);
            id = u == null ? 0 : u;
        }
        return id;
    }

    /**
     * Called first in each transaction: the ids learnt in the previous one are kept if their rows
     * are there with the same hash (that transaction committed, or the rows were there before it).
     */
    void confirm(Connection c) throws SQLException {
        if (unconfirmed.isEmpty()) {
            return;
        }
        Map<Integer, Segment> byId = new HashMap<>();
        unconfirmed.forEach((segment, id) -> byId.put(id, segment));
        unconfirmed.clear();
        List<Integer> ids = new ArrayList<>(byId.keySet());
        for (int from = 0; from < ids.size(); from += CHUNK) {
            List<Integer> chunk = ids.subList(from, Math.min(ids.size(), from + CHUNK));
            try (PreparedStatement ps = c.prepareStatement("SELECT id, hash FROM segments WHERE id IN (" + marks(chunk.size()) + ")")) {
                for (int i = 0; i < chunk.size(); i++) {
                    ps.setInt(i + 1, chunk.get(i));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Segment expected = byId.get(rs.getInt(1));
                        if (expected != null && Arrays.equals(expected.hash(), rs.getBytes(2))) {
                            confirmed.put(expected, rs.getInt(1));
                        }
                    }
                }
            }
        }
    }

    /** Creates the segments that do not exist yet and returns the id of each, in this transaction. */
    Map<Segment, Integer> resolve(Connection c, Collection<Segment> segments) throws SQLException {
        Map<ByteBuffer, Segment> byHash = new HashMap<>(segments.size() * 2);
        for (Segment s : segments) {
            byHash.put(ByteBuffer.wrap(s.hash()), s);
        }
        List<ByteBuffer> sorted = new ArrayList<>(byHash.keySet());
        sorted.sort(null); // one order for every process: no two inserters wait for each other crosswise
        Map<ByteBuffer, Integer> idByHash = new HashMap<>(sorted.size() * 2);
        if (Store.of(c) == Store.POSTGRESQL) {
            copyIn(c, sorted, byHash, idByHash);
        } else {
            insertRows(c, sorted, byHash);
        }
        readIds(c, sorted.stream().filter(h -> !idByHash.containsKey(h)).toList(), idByHash);
        // By hash, not by the representative: a null and an '' value are one segment.
        Map<Segment, Integer> ids = new HashMap<>(segments.size() * 2);
        for (Segment s : segments) {
            Integer id = idByHash.get(ByteBuffer.wrap(s.hash()));
            if (id == null) {
                throw new SQLException("segment " + s + " is neither inserted nor found");
            }
            ids.put(s, id);
        }
        unconfirmed.putAll(ids);
        return ids;
    }

    /** The row stores: one insert-if-absent per segment, batched. */
    private static void insertRows(Connection c, List<ByteBuffer> sorted, Map<ByteBuffer, Segment> byHash) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(Store.of(c).insertIfAbsent("segments", "hash", "site", "referrer", "source", "medium", "campaign",
                "browser", "browser_version", "os", "os_version", "device", "country"))) {
            for (ByteBuffer h : sorted) {
                ps.setBytes(1, h.array());
                String[] values = byHash.get(h).values();
                for (int i = 0; i < values.length; i++) {
                    ps.setString(i + 2, values[i]);
                }
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /**
     * PostgreSQL: the segments copied into a temporary table and inserted if absent by one
     * statement, which hands back the id of each row it added: a batch of beacons brings tens of
     * thousands of new segments, one COPY and one statement instead of a statement each.
     */
    private static void copyIn(Connection c, List<ByteBuffer> sorted, Map<ByteBuffer, Segment> byHash, Map<ByteBuffer, Integer> idByHash)
            throws SQLException {
        StringBuilder rows = new StringBuilder(sorted.size() * 96);
        for (ByteBuffer h : sorted) {
            PageViewAggregator.bytea(rows, h.array());
            for (String v : byHash.get(h).values()) {
                DayTables.text(rows.append('\t'), v);
            }
            rows.append('\n');
        }
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TEMP TABLE IF NOT EXISTS staged_segments (hash BYTEA, site TEXT, referrer TEXT, source TEXT, medium TEXT,"
                    + " campaign TEXT, browser TEXT, browser_version TEXT, os TEXT, os_version TEXT, device TEXT, country TEXT)"
                    + " ON COMMIT DELETE ROWS");
        }
        PageViewAggregator.copyIn(c, "COPY staged_segments FROM STDIN", rows);
        // Copied in hash order, and a scan of a fresh temporary table returns them so: the
        // insert takes its keys in the one order every process takes.
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("INSERT INTO segments (hash, site, referrer, source, medium, campaign, browser, browser_version,"
                        + " os, os_version, device, country) SELECT * FROM staged_segments ON CONFLICT DO NOTHING RETURNING id, hash")) {
            while (rs.next()) {
                idByHash.put(ByteBuffer.wrap(rs.getBytes(2)), rs.getInt(1));
            }
        }
    }

    /**
     * The ids of {@code hashes}, those no insert handed back (on the row stores, all), read by
     * key in statements of their own, whose snapshots see a row another aggregator inserted
     * meanwhile (the insert waited for its commit and skipped it). A join of the batch to the
     * whole dictionary would read all of it.
     */
    private static void readIds(Connection c, List<ByteBuffer> hashes, Map<ByteBuffer, Integer> idByHash) throws SQLException {
        for (int from = 0; from < hashes.size(); from += CHUNK) {
            List<ByteBuffer> chunk = hashes.subList(from, Math.min(hashes.size(), from + CHUNK));
            try (PreparedStatement ps = c.prepareStatement("SELECT id, hash FROM segments WHERE hash IN (" + marks(chunk.size()) + ")")) {
                for (int i = 0; i < chunk.size(); i++) {
                    ps.setBytes(i + 1, chunk.get(i).array());
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        idByHash.put(ByteBuffer.wrap(rs.getBytes(2)), rs.getInt(1));
                    }
                }
            }
        }
    }

    private static String marks(int n) {
        return "?" + ",?".repeat(n - 1);
    }
}
