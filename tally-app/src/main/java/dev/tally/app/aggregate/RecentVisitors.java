package dev.tally.app.aggregate;

import dev.tally.app.event.PageView;
import dev.tally.consumer.Message;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Comparator;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongSupplier;

/**
 * Who is on a site now: the visitors of the page views of the last hour, per site and minute
 * ({@code recent_visitors}, minutes since the epoch), for "Now". Only the live aggregator writes
 * it, and only for views at most {@link #KEPT} before its wall clock and at most {@link #AHEAD}
 * after it. Rows are inserted only if absent ({@link Store#insertIfAbsent}), so a batch delivered again (or a
 * replay's) adds nothing; at most once a {@link #PRUNE_EVERY} the rows older than {@link #KEPT}
 * are deleted in the same transaction. One instance serves one consumer.
 */
final class RecentVisitors {

    static final long MINUTE = 60_000L;
    /** How far back a view counts as recent, and how long rows are kept. */
    static final long KEPT = 60 * MINUTE;
    /** How far ahead of the clock a view may be (clocks of producers differ a little). */
    static final long AHEAD = 5_000L;
    static final long PRUNE_EVERY = MINUTE;

    private record Row(String site, int minute, VisitorId visitor) implements Comparable<Row> {
        private static final Comparator<Row> ORDER = Comparator.comparing(Row::site).thenComparingInt(Row::minute).thenComparing(Row::visitor);

        @Override
        public int compareTo(Row o) {
            return ORDER.compare(this, o);
        }
    }

    private final LongSupplier clock;
    private long prunedAt = Long.MIN_VALUE / 2; // a prune first: "now - prunedAt" must not overflow

    RecentVisitors(LongSupplier clock) {
        this.clock = clock;
    }

    /** Adds the recent visitors among {@code views}, and prunes if it is time, in the caller's transaction. */
    void write(Iterable<Message<PageView>> views, Connection connection) throws SQLException {
        long now = clock.getAsLong();
        Set<Row> rows = new TreeSet<>();
        for (Message<PageView> m : views) {
            PageView v = m.value();
            long ts = v.timestamp();
            if (ts >= now - KEPT && ts <= now + AHEAD && v.visitor() != null && !v.visitor().isEmpty()) {
                rows.add(new Row(v.site(), (int) (ts / MINUTE), VisitorId.of(v.visitor())));
            }
        }
        if (!rows.isEmpty()) {
            try (PreparedStatement ps = connection.prepareStatement(
                    Store.of(connection).insertIfAbsent("recent_visitors", "site", "minute", "visitor"))) {
                for (Row r : rows) {
                    ps.setString(1, r.site());
                    ps.setInt(2, r.minute());
                    ps.setBytes(3, r.visitor().bytes());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
        if (now - prunedAt >= PRUNE_EVERY) {
            try (PreparedStatement ps = connection.prepareStatement("DELETE FROM recent_visitors WHERE minute < ?")) {
                ps.setInt(1, (int) ((now - KEPT) / MINUTE));
                ps.executeUpdate();
            }
            // Kept even if the transaction rolls back: the next prune is a minute later at worst.
            prunedAt = now;
        }
    }
}
