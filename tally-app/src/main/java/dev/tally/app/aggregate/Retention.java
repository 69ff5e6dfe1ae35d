package dev.tally.app.aggregate;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --retain DAYS}: deletes the per-visitor rows ({@code page_visitors},
 * {@code segment_visitors}, {@code site_visitors}, and {@code event_visitors},
 * {@code multi_segment_visitors} and {@code goal_visitors} where those tables exist) of the days more than {@code DAYS} days before today (UTC), in the current generation.
 * The counters stay: {@code page_days} and {@code site_days} keep the visitors of every day.
 *
 * <p>Once a day across all processes: one transaction locks the one row of
 * {@code tally_retention}, does nothing when its {@code done_before_day} already reaches the
 * cut-off, else deletes and moves {@code done_before_day} to the cut-off. The aggregator runs it
 * on its own thread and connection, at most once an hour: on PostgreSQL the deletes lock only the
 * old rows, so counting goes on; SQLite has one writer, which waits for the delete once a day.
 */
public final class Retention {

    private static final Logger LOG = LoggerFactory.getLogger(Retention.class);
    private static final long DAY = 86_400_000L;
    /**
     * The per-visitor tables, by their generation-1 names; {@code event_visitors} comes with
     * migration 7, {@code multi_segment_visitors} with migration 8, {@code goal_visitors} with migration 9.
     */
    static final List<String> VISITOR_TABLES = List.of("page_visitors", "segment_visitors", "site_visitors", "event_visitors",
            "multi_segment_visitors", "goal_visitors");

    private final int days;

    /** Keeps the per-visitor rows of {@code days} days before today, and today's. */
    public Retention(int days) {
        if (days < 1) {
            throw new IllegalArgumentException("--retain must be at least 1 day: " + days);
        }
        this.days = days;
    }

    /**
     * Deletes, in one transaction on {@code c} (committed here), the rows older than the cut-off
     * of {@code nowMillis}, unless done already for that cut-off.
     *
     * @return the rows deleted, or -1 when nothing was to be done
     */
    public long run(Connection c, long nowMillis) throws SQLException {
        int cutoff = (int) (nowMillis / DAY) - days;
        Store store = Store.of(c);
        c.setAutoCommit(false);
        try {
            int done;
            try (Statement s = c.createStatement()) {
                if (store == Store.SQLITE) {
                    // SQLite: take the write lock first, so the later deletes never need to upgrade a read.
                    s.executeUpdate("UPDATE tally_retention SET done_before_day = done_before_day WHERE id = 1");
                }
                try (ResultSet rs = s.executeQuery("SELECT done_before_day FROM tally_retention WHERE id = 1" + store.forUpdate())) {
                    if (!rs.next()) {
                        throw new SQLException("tally_retention has no row: the schema is damaged");
                    }
                    done = rs.getInt(1);
                }
            }
            if (done >= cutoff) {
                c.rollback();
                return -1;
            }
            Generation g = Generation.currentLocked(c);
            long deleted = 0;
            try (PreparedStatement ps = c.prepareStatement(store.tableExists())) {
                for (String t : VISITOR_TABLES) {
                    String table = g.table(t);
                    ps.setString(1, table);
                    boolean exists;
                    try (ResultSet rs = ps.executeQuery()) {
                        exists = rs.next() && rs.getBoolean(1);
                    }
                    if (exists) {
                        try (Statement s = c.createStatement()) {
                            deleted += s.executeUpdate("DELETE FROM " + table + " WHERE day < " + cutoff);
                        }
                    }
                }
            }
            try (Statement s = c.createStatement()) {
                s.executeUpdate("UPDATE tally_retention SET done_before_day = " + cutoff + " WHERE id = 1");
            }
            c.commit();
            return deleted;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        }
    }

    /**
     * Runs {@link #run} on a thread of its own against {@code jdbcUrl}, soon and then every hour,
     * until the returned executor is shut down; a failure is logged and tried again an hour later.
     */
    public ScheduledExecutorService schedule(String jdbcUrl) {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tally-retention");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> {
            try (Connection c = connect(jdbcUrl)) {
                long deleted = run(c, System.currentTimeMillis());
                if (deleted >= 0) {
                    LOG.info("--retain {}: deleted {} visitor rows older than {} days", days, deleted, days);
                }
            } catch (SQLException | RuntimeException e) {
                LOG.warn("--retain {}: deleting old visitor rows failed, trying again in an hour: {}", days, e.toString());
            }
        }, 10, 3_600, TimeUnit.SECONDS);
        return timer;
    }

    private static Connection connect(String jdbcUrl) throws SQLException {
        Properties p = new Properties();
        if (Store.of(jdbcUrl) == Store.MYSQL) {
            return DriverManager.getConnection(Store.url(jdbcUrl));
        }
        if (jdbcUrl.startsWith("jdbc:sqlite:")) {
            // As the aggregator's pool: wait for the writer rather than fail.
            p.setProperty("journal_mode", "WAL");
            p.setProperty("busy_timeout", "10000");
        }
        return DriverManager.getConnection(jdbcUrl, p);
    }
}
