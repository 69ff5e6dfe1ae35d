package dev.tally.app.aggregate;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Page goals ({@code --goal NAME=page:/docs/*}) counted as the views are: who reached each goal
 * on a site that day ({@code goal_visitors}) and how many ({@code goal_days}, the rows
 * {@code goal_visitors} gained, per Kafka partition), so that a month's conversions are a sum of
 * a few counters, not a {@code COUNT(DISTINCT)} over every visitor of every matching page.
 *
 * <p>A pattern is registered once ({@link #register}), by the process that serves the API: the
 * same transaction gives it an id in {@code page_goals} and fills both tables of every generation
 * from the {@code page_visitors} and {@code site_visitors} rows there are. It takes the current generation's row
 * {@code FOR UPDATE}, as a replay's switch does, so it waits for the batches in flight and they
 * wait for it; each batch reads the patterns after its own shared lock on that row
 * ({@link #forBatch}). Every view is therefore counted by the backfill or by its batch, never by
 * neither (and never twice: the rows are inserted only if absent).
 *
 * <p>A pattern matches a whole path, {@code *} standing for any characters, case-sensitively on
 * every store (SQLite's and MySQL's {@code LIKE} would not be).
 *
 * <p>{@link #remove} takes the same lock, deletes the goal's rows from every generation and leaves
 * its {@code page_goals} row with an empty pattern ({@link #REMOVED}): batches stop counting it,
 * and its id is never given to another pattern, so a {@code serve} started before the removal
 * finds no rows under it rather than another goal's.
 */
public final class PageGoals {

    /** Most pages whose goals are kept between batches: a page seen again needs no matching. */
    private static final int MAX_CACHED_PAGES = 100_000;
    private static final int[] NONE = new int[0];

    /** The pattern of a removed goal's row: it keeps the id taken, and no path is empty. */
    static final String REMOVED = "";

    private Map<Integer, String> patterns = Map.of();
    private Map<Integer, Pattern> goals = Map.of();
    private final Map<Integer, int[]> byPage = new HashMap<>();

    /**
     * Registers {@code patterns} not registered yet, each counted from the rows there are, in one
     * transaction on {@code c} (committed here; its auto-commit mode is restored).
     *
     * @return every pattern's id
     */
    public static Map<String, Integer> register(Connection c, Collection<String> patterns) throws SQLException {
        return underLock(c, store -> {
            Map<String, Integer> ids = new LinkedHashMap<>();
            int max = 0;
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id, pattern FROM page_goals")) {
                while (rs.next()) {
                    ids.put(rs.getString(2), rs.getInt(1));
                    max = Math.max(max, rs.getInt(1));
                }
            }
            ids.remove(REMOVED);
            for (String pattern : patterns) {
                if (!ids.containsKey(pattern)) {
                    int id = ++max;
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO page_goals (id, pattern) VALUES (?, ?)")) {
                        ps.setInt(1, id);
                        ps.setString(2, pattern);
                        ps.executeUpdate();
                    }
                    backfill(c, store, id, pattern);
                    ids.put(pattern, id);
                }
            }
            return ids;
        });
    }

    /**
     * Stops counting {@code patterns} and deletes their rows from every generation, in one
     * transaction on {@code c} (committed here; its auto-commit mode is restored). A pattern not
     * registered is left out of the answer.
     *
     * @return the ids of the patterns removed
     */
    public static Map<String, Integer> remove(Connection c, Collection<String> patterns) throws SQLException {
        return underLock(c, store -> {
            Map<String, Integer> removed = new LinkedHashMap<>();
            Map<String, Integer> ids = registered(c);
            for (String pattern : patterns) {
                Integer id = ids.get(pattern);
                if (id == null || removed.containsKey(pattern)) {
                    continue;
                }
                try (PreparedStatement ps = c.prepareStatement("UPDATE page_goals SET pattern = ? WHERE id = ?")) {
                    ps.setString(1, REMOVED);
                    ps.setInt(2, id);
                    ps.executeUpdate();
                }
                try (Statement s = c.createStatement()) {
                    for (int n : db.migration.V6__Dimensions.liveGenerations(c)) {
                        Generation g = new Generation(n);
                        s.executeUpdate("DELETE FROM " + g.table("goal_visitors") + " WHERE goal = " + id);
                        s.executeUpdate("DELETE FROM " + g.table("goal_days") + " WHERE goal = " + id);
                    }
                }
                removed.put(pattern, id);
            }
            return removed;
        });
    }

    /** The patterns counted now, each with its id, in the order of the ids. */
    public static Map<String, Integer> registered(Connection c) throws SQLException {
        Map<String, Integer> ids = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id, pattern FROM page_goals WHERE pattern <> ? ORDER BY id")) {
            ps.setString(1, REMOVED);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.put(rs.getString(2), rs.getInt(1));
                }
            }
        }
        return ids;
    }

    private interface Locked<T> {
        T run(Store store) throws SQLException;
    }

    /**
     * Runs {@code work} in one transaction on {@code c} that first takes the current generation's
     * row for update: the batches in flight hold it shared, so they finish first and later ones
     * read the patterns after. Committed here; the auto-commit mode is restored.
     */
    private static <T> T underLock(Connection c, Locked<T> work) throws SQLException {
        Store store = Store.of(c);
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            try (Statement s = c.createStatement()) {
                if (store == Store.SQLITE) {
                    // Take the write lock first, so the backfill never needs to upgrade a read.
                    s.executeUpdate("UPDATE tally_current_generation SET generation = generation WHERE id = 1");
                }
                s.executeQuery("SELECT generation FROM tally_current_generation WHERE id = 1" + store.forUpdate()).close();
            }
            T result = work.run(store);
            c.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    /** Fills goal {@code id}'s tables of every generation not dropped from their {@code page_visitors}. */
    private static void backfill(Connection c, Store store, int id, String pattern) throws SQLException {
        List<Integer> pages = new ArrayList<>();
        Pattern matcher = compile(pattern);
        // LIKE narrows the pages down (ignoring case on SQLite and in some collations); the pattern decides.
        try (PreparedStatement ps = c.prepareStatement(store.sql("SELECT id, path FROM pages WHERE path LIKE ? ESCAPE '\\'"))) {
            ps.setString(1, likePattern(pattern));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (matcher.matcher(rs.getString(2)).matches()) {
                        pages.add(rs.getInt(1));
                    }
                }
            }
        }
        try (Statement s = c.createStatement()) {
            for (int n : db.migration.V6__Dimensions.liveGenerations(c)) {
                Generation g = new Generation(n);
                for (int from = 0; from < pages.size(); from += 500) {
                    String in = pages.subList(from, Math.min(pages.size(), from + 500)).stream().map(String::valueOf)
                            .collect(Collectors.joining(", "));
                    // A visitor's first page of a day is in its site row (migration 12), the others in page_visitors.
                    for (String table : List.of("page_visitors", "site_visitors")) {
                        s.executeUpdate(store.insertIfAbsentFrom(g.table("goal_visitors"), "SELECT DISTINCT " + id + ", p.site, v.day, v.visitor FROM "
                                + g.table(table) + " v JOIN pages p ON p.id = v.page WHERE v.page IN (" + in + ")",
                                "goal", "site", "day", "visitor"));
                    }
                }
                s.executeUpdate("INSERT INTO " + g.table("goal_days") + " (goal, site, day, partition_id, visitors)"
                        + " SELECT goal, site, day, 0, COUNT(*) FROM " + g.table("goal_visitors") + " WHERE goal = " + id + " GROUP BY goal, site, day");
            }
        }
    }

    /** {@code pattern} as a {@code LIKE} pattern with escape character {@code \}. */
    static String likePattern(String pattern) {
        StringBuilder like = new StringBuilder();
        for (char ch : pattern.toCharArray()) {
            switch (ch) {
                case '*' -> like.append('%');
                case '%', '_', '\\' -> like.append('\\').append(ch);
                default -> like.append(ch);
            }
        }
        return like.toString();
    }

    /** Whether {@code path} matches {@code pattern} as a whole, {@code *} standing for any characters. */
    public static boolean matches(String pattern, String path) {
        return compile(pattern).matcher(path).matches();
    }

    private static Pattern compile(String pattern) {
        return Pattern.compile(Arrays.stream(pattern.split("\\*", -1)).map(Pattern::quote).collect(Collectors.joining(".*")), Pattern.DOTALL);
    }

    /**
     * The goals for the batch whose transaction {@code c} is in, read after the generation's
     * shared lock ({@link GenerationTarget#begin}); {@code null} when no goal is registered.
     */
    Batch forBatch(Connection c) throws SQLException {
        Map<Integer, String> read = new HashMap<>();
        registered(c).forEach((pattern, id) -> read.put(id, pattern));
        if (!read.equals(patterns)) {
            Map<Integer, Pattern> compiled = new HashMap<>();
            read.forEach((id, pattern) -> compiled.put(id, compile(pattern)));
            patterns = read;
            goals = compiled;
            byPage.clear();
        }
        return goals.isEmpty() ? null : new Batch();
    }

    /** The goals {@code path} (page {@code page}) reaches, from the cache when it can. */
    private int[] goalsOf(int page, String path) {
        int[] found = byPage.get(page);
        if (found == null) {
            found = goals.entrySet().stream().filter(e -> e.getValue().matcher(path).matches()).mapToInt(Map.Entry::getKey).sorted().toArray();
            if (found.length == 0) {
                found = NONE;
            }
            if (byPage.size() >= MAX_CACHED_PAGES) {
                byPage.clear();
            }
            byPage.put(page, found);
        }
        return found;
    }

    private record GoalVisit(int goal, String site, int day, VisitorId visitor) implements Comparable<GoalVisit> {
        @Override
        public int compareTo(GoalVisit o) {
            int c = Integer.compare(goal, o.goal);
            if (c == 0) {
                c = site.compareTo(o.site);
            }
            if (c == 0) {
                c = Integer.compare(day, o.day);
            }
            return c != 0 ? c : visitor.compareTo(o.visitor);
        }
    }

    private record GoalDay(int goal, String site, int day, int partition) implements Comparable<GoalDay> {
        @Override
        public int compareTo(GoalDay o) {
            int c = Integer.compare(goal, o.goal);
            if (c == 0) {
                c = site.compareTo(o.site);
            }
            if (c == 0) {
                c = Integer.compare(day, o.day);
            }
            return c != 0 ? c : Integer.compare(partition, o.partition);
        }
    }

    /** One batch's goal visits, each with the partition of its first record. */
    final class Batch {
        private final Map<GoalVisit, Integer> visits = new HashMap<>();

        void view(int page, String path, String site, int day, int partition, VisitorId visitor) {
            for (int goal : goalsOf(page, path)) {
                visits.putIfAbsent(new GoalVisit(goal, site, day, visitor), partition);
            }
        }

        /** Inserts the visits not stored yet and counts those gained into {@code goal_days}. */
        void write(Connection c, Generation g, Store store) throws SQLException {
            if (visits.isEmpty()) {
                return;
            }
            Map<GoalDay, long[]> gained = new TreeMap<>();
            if (store == Store.POSTGRESQL) {
                insertPostgres(c, g, gained);
            } else {
                GoalVisit[] sorted = visits.keySet().toArray(GoalVisit[]::new);
                Arrays.sort(sorted);
                try (PreparedStatement ps = c.prepareStatement(store.insertIfAbsent(g.table("goal_visitors"), "goal", "site", "day", "visitor"))) {
                    for (GoalVisit v : sorted) {
                        ps.setInt(1, v.goal());
                        ps.setString(2, v.site());
                        ps.setInt(3, v.day());
                        ps.setBytes(4, v.visitor().bytes());
                        ps.addBatch();
                    }
                    int[] added = ps.executeBatch();
                    for (int i = 0; i < sorted.length; i++) {
                        if (added[i] > 0) {
                            gained(sorted[i], gained);
                        }
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement(store.upsertAdd(g.table("goal_days"), "visitors", "goal", "site", "day", "partition_id"))) {
                for (Map.Entry<GoalDay, long[]> e : gained.entrySet()) {
                    GoalDay d = e.getKey();
                    ps.setInt(1, d.goal());
                    ps.setString(2, d.site());
                    ps.setInt(3, d.day());
                    ps.setInt(4, d.partition());
                    ps.setLong(5, e.getValue()[0]);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }

        private void gained(GoalVisit v, Map<GoalDay, long[]> gained) {
            gained.computeIfAbsent(new GoalDay(v.goal(), v.site(), v.day(), visits.get(v)), k -> new long[1])[0]++;
        }

        /** By COPY and one insert that hands back the rows it gained ({@code RETURNING}), as {@link DayTables} does. */
        private void insertPostgres(Connection c, Generation g, Map<GoalDay, long[]> gained) throws SQLException {
            try (Statement st = c.createStatement()) {
                st.execute("CREATE TEMP TABLE IF NOT EXISTS staged_goal_visits (goal INTEGER, site VARCHAR(64), day INTEGER, visitor BYTEA)"
                        + " ON COMMIT DELETE ROWS");
            }
            StringBuilder rows = PageViewAggregator.copyText(visits.keySet(), GoalVisit[]::new, 64, (out, v) -> {
                out.append(v.goal()).append('\t');
                DayTables.text(out, v.site()).append('\t').append(v.day()).append('\t');
                PageViewAggregator.bytea(out, v.visitor()).append('\n');
            });
            PageViewAggregator.copyIn(c, "COPY staged_goal_visits (goal, site, day, visitor) FROM STDIN", rows);
            PageViewAggregator.insertGained(c, g.table("goal_visitors"), "staged_goal_visits", "goal, site, day, visitor", "",
                    "goal, site, day, visitor",
                    rs -> gained(new GoalVisit(rs.getInt(1), rs.getString(2), rs.getInt(3), VisitorId.of(rs.getBytes(4))), gained));
        }
    }
}
