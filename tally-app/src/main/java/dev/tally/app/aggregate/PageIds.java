package dev.tally.app.aggregate;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The page dictionary: (site, path) to the integer id that the aggregate tables use instead of
 * the text. A new page's row is created in the batch's own transaction, so it exists exactly when
 * the batch's counts do. Ids are cached in memory, at most {@link IdCache#ENTRIES}, but an id learnt
 * in a transaction is trusted only after a later transaction has seen its row: a rolled-back
 * batch may leave an id behind that the database gives to another page.
 *
 * <p>Two aggregators may create the same page at once on PostgreSQL or MySQL: the insert does
 * nothing on a conflict (the second waits for the first's commit on the unique index),
 * and the id is read back afterwards. New pages are inserted in (site, path) order, so two
 * transactions never wait for each other in opposite orders.
 */
final class PageIds {

    /**
     * The dictionary's key. Looked up once per event: the hash and equality are spelled out because
     * the decoder hands out the same string instances for repeated pages, with their hashes cached,
     * and a record's generated methods would not take the identity shortcut.
     */
    record Page(String site, String path) {
        @Override
        public int hashCode() {
            return 31 * site.hashCode() + path.hashCode();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Page p && (p.path == path || p.path.equals(path)) && (p.site == site || p.site.equals(site));
        }
    }

    private static final int CHUNK = 200;

    private final IdCache<Page> confirmed = new IdCache<>(IdCache.ENTRIES);
    private final Map<Page, Integer> unconfirmed = new HashMap<>();

    /** The id of a page known from an earlier batch or this one, or 0. */
    int cached(Page page) {
        int id = confirmed.get(page);
        if (id == 0) {
            Integer u = unconfirmed.get(page);
            id = u == null ? 0 : u;
        }
        return id;
    }

    /**
     * Called first in each transaction: the ids learnt in the previous one are kept if their rows
     * are there (that transaction committed, or the rows were there before it), dropped otherwise.
     */
    void confirm(Connection c) throws SQLException {
        if (unconfirmed.isEmpty()) {
            return;
        }
        Map<Integer, Page> byId = new HashMap<>();
        unconfirmed.forEach((page, id) -> byId.put(id, page));
        unconfirmed.clear();
        List<Integer> ids = new ArrayList<>(byId.keySet());
        for (int from = 0; from < ids.size(); from += CHUNK) {
            List<Integer> chunk = ids.subList(from, Math.min(ids.size(), from + CHUNK));
            try (PreparedStatement ps = c.prepareStatement("SELECT id, site, path FROM pages WHERE id IN (" + marks(chunk.size()) + ")")) {
                for (int i = 0; i < chunk.size(); i++) {
                    ps.setInt(i + 1, chunk.get(i));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Page expected = byId.get(rs.getInt(1));
                        if (expected != null && expected.site().equals(rs.getString(2)) && expected.path().equals(rs.getString(3))) {
                            confirmed.put(expected, rs.getInt(1));
                        }
                    }
                }
            }
        }
    }

    /** Creates the pages that do not exist yet and returns the id of each, in this transaction. */
    Map<Page, Integer> resolve(Connection c, Collection<Page> pages) throws SQLException {
        List<Page> sorted = new ArrayList<>(pages);
        sorted.sort(Comparator.comparing(Page::site).thenComparing(Page::path));
        try (PreparedStatement ps = c.prepareStatement(Store.of(c).insertIfAbsent("pages", "site", "path"))) {
            for (Page p : sorted) {
                ps.setString(1, p.site());
                ps.setString(2, p.path());
                ps.addBatch();
            }
            ps.executeBatch();
        }
        Map<Page, Integer> ids = new HashMap<>(sorted.size() * 2);
        // Read back per site, many paths per statement: one round trip per CHUNK pages.
        Iterator<Page> it = sorted.iterator();
        List<Page> chunk = new ArrayList<>(CHUNK);
        while (it.hasNext() || !chunk.isEmpty()) {
            Page next = it.hasNext() ? it.next() : null;
            if (next != null && (chunk.isEmpty() || (chunk.size() < CHUNK && chunk.get(0).site().equals(next.site())))) {
                chunk.add(next);
                continue;
            }
            read(c, chunk, ids);
            chunk.clear();
            if (next != null) {
                chunk.add(next);
            }
        }
        unconfirmed.putAll(ids);
        for (Page p : sorted) {
            if (!ids.containsKey(p)) {
                throw new SQLException("page " + p + " is neither inserted nor found");
            }
        }
        return ids;
    }

    private static void read(Connection c, List<Page> sameSite, Map<Page, Integer> into) throws SQLException {
        boolean postgres = Store.of(c) == Store.POSTGRESQL;
        // On PostgreSQL, path IN (...) over a pages table without statistics yet (a new store, or
        // many pages since autovacuum last looked) is planned as a scan of the site's whole index
        // range, filtered by the list: 100 ms a chunk at 30 000 pages. A join with the array is a
        // lookup per path whatever the statistics say.
        try (PreparedStatement ps = c.prepareStatement(postgres
                ? "SELECT p.id, p.path FROM unnest(?::varchar[]) x (path) JOIN pages p ON p.site = ? AND p.path = x.path"
                : "SELECT id, path FROM pages WHERE site = ? AND path IN (" + marks(sameSite.size()) + ")")) {
            if (postgres) {
                ps.setArray(1, c.createArrayOf("varchar", sameSite.stream().map(Page::path).toArray()));
                ps.setString(2, sameSite.get(0).site());
            } else {
                ps.setString(1, sameSite.get(0).site());
                for (int i = 0; i < sameSite.size(); i++) {
                    ps.setString(i + 2, sameSite.get(i).path());
                }
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    into.put(new Page(sameSite.get(0).site(), rs.getString(2)), rs.getInt(1));
                }
            }
        }
    }

    private static String marks(int n) {
        return "?" + ",?".repeat(n - 1);
    }
}
