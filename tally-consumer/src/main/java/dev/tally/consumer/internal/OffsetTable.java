package dev.tally.consumer.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Pattern;
import org.apache.kafka.common.TopicPartition;

/**
 * The SQL of the offsets table: one row per (group, topic, partition) holding the next offset to
 * read. Every statement runs on a connection the caller owns, so that offset changes share the
 * transaction of the data they describe. PostgreSQL and SQLite share one SQL; MySQL and MariaDB
 * spell the upserts their own way.
 */
public final class OffsetTable {

    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}(\\.[A-Za-z_][A-Za-z0-9_]{0,62})?");

    /** The next offset of a partition and when it last changed. */
    public record Row(long nextOffset, long updatedAtMillis) {}

    /** A conditional move of a partition's next offset from {@code expected} to {@code next}. */
    public record Advance(TopicPartition partition, long expected, long next) {}

    /** The statements of one dialect. */
    private record Sql(String create, String insertIfAbsent, String selectOne, String readBack,
            String selectGroup, String compareAndSet, String rewind, String moveTo) {}

    private final String table;
    private final Sql standard;
    private final Sql mysql;
    private volatile Dialect dialect;
    private final String deleteGroup;

    public OffsetTable(String table) {
        if (table == null || !IDENTIFIER.matcher(table).matches()) {
            throw new IllegalArgumentException("offsets table name must be a plain SQL identifier, optionally schema-qualified: " + table);
        }
        this.table = table;
        String columns = "(group_id, topic, partition_id, next_offset, updated_at)";
        String create = "CREATE TABLE IF NOT EXISTS " + table + " ("
                + "group_id VARCHAR(255) NOT NULL, "
                + "topic VARCHAR(255) NOT NULL, "
                + "partition_id INTEGER NOT NULL, "
                + "next_offset BIGINT NOT NULL, "
                + "updated_at BIGINT NOT NULL, "
                + "PRIMARY KEY (group_id, topic, partition_id))";
        String selectOne = "SELECT next_offset FROM " + table + " WHERE group_id = ? AND topic = ? AND partition_id = ?";
        String selectGroup = "SELECT topic, partition_id, next_offset, updated_at FROM " + table + " WHERE group_id = ? ORDER BY topic, partition_id";
        String compareAndSet = "UPDATE " + table + " SET next_offset = ?, updated_at = ? WHERE group_id = ? AND topic = ? AND partition_id = ? AND next_offset = ?";
        this.standard = new Sql(create,
                "INSERT INTO " + table + " " + columns + " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                selectOne, selectOne, selectGroup, compareAndSet,
                "INSERT INTO " + table + " AS o " + columns + " VALUES (?, ?, ?, ?, ?)"
                        + " ON CONFLICT (group_id, topic, partition_id) DO UPDATE SET next_offset = excluded.next_offset, updated_at = excluded.updated_at"
                        + " WHERE o.next_offset >= excluded.next_offset",
                "INSERT INTO " + table + " " + columns + " VALUES (?, ?, ?, ?, ?)"
                        + " ON CONFLICT (group_id, topic, partition_id) DO UPDATE SET next_offset = excluded.next_offset, updated_at = excluded.updated_at");
        // InnoDB, whatever the server's default engine: the offsets must share the data's transaction.
        // The no-op update instead of INSERT IGNORE, which would also turn real errors into warnings.
        // In the rewind, updated_at is assigned first: MySQL evaluates the assignments in order, so
        // next_offset in its condition is still the stored one. VALUES() because MariaDB has no row alias.
        // The read-back locks: under REPEATABLE READ a plain SELECT would answer from the
        // transaction's snapshot, not the row the upsert just saw (or waited for).
        this.mysql = new Sql(create + " ENGINE=InnoDB",
                "INSERT INTO " + table + " " + columns + " VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE next_offset = next_offset",
                selectOne, selectOne + " FOR UPDATE", selectGroup, compareAndSet,
                "INSERT INTO " + table + " " + columns + " VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE"
                        + " updated_at = IF(next_offset >= VALUES(next_offset), VALUES(updated_at), updated_at),"
                        + " next_offset = LEAST(next_offset, VALUES(next_offset))",
                "INSERT INTO " + table + " " + columns + " VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE"
                        + " next_offset = VALUES(next_offset), updated_at = VALUES(updated_at)");
        this.deleteGroup = "DELETE FROM " + table + " WHERE group_id = ?";
    }

    /** The dialect of the database behind {@code c}, detected once: an offsets table serves one database. */
    public Dialect dialect(Connection c) throws SQLException {
        Dialect d = dialect;
        if (d == null) {
            d = Dialect.of(c);
            dialect = d;
        }
        return d;
    }

    private Sql sql(Connection c) throws SQLException {
        return dialect(c) == Dialect.MYSQL ? mysql : standard;
    }

    public String name() {
        return table;
    }

    /** Creates the table if it does not exist; safe to race with other processes doing the same. */
    public void createIfAbsent(Connection c) throws SQLException {
        String ddl = sql(c).create();
        boolean auto = c.getAutoCommit();
        try (Statement s = c.createStatement()) {
            c.setAutoCommit(true);
            s.execute(ddl);
        } catch (SQLException e) {
            // PostgreSQL's IF NOT EXISTS is not atomic: a concurrent creator wins with a
            // unique violation on the catalog. The table exists then, which is all we need.
            if (!"23505".equals(e.getSQLState()) && !"42P07".equals(e.getSQLState())) {
                throw e;
            }
        } finally {
            c.setAutoCommit(auto);
        }
    }

    public OptionalLong read(Connection c, String group, TopicPartition tp) throws SQLException {
        return read(c, sql(c).selectOne(), group, tp);
    }

    private static OptionalLong read(Connection c, String select, String group, TopicPartition tp) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(select)) {
            ps.setString(1, group);
            ps.setString(2, tp.topic());
            ps.setInt(3, tp.partition());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? OptionalLong.of(rs.getLong(1)) : OptionalLong.empty();
            }
        }
    }

    public Map<TopicPartition, Row> readGroup(Connection c, String group) throws SQLException {
        Map<TopicPartition, Row> rows = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement(sql(c).selectGroup())) {
            ps.setString(1, group);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.put(new TopicPartition(rs.getString(1), rs.getInt(2)), new Row(rs.getLong(3), rs.getLong(4)));
                }
            }
        }
        return rows;
    }

    /**
     * Stores {@code offset} for a partition that has no row yet and returns the stored offset:
     * {@code offset}, or the one another member stored first.
     */
    public long initialise(Connection c, String group, TopicPartition tp, long offset) throws SQLException {
        return insert(c, sql(c).insertIfAbsent(), group, tp, offset);
    }

    /** Runs one of the inserts of a partition's row, then reads back what is stored. */
    private long insert(Connection c, String sql, String group, TopicPartition tp, long offset) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, group);
            ps.setString(2, tp.topic());
            ps.setInt(3, tp.partition());
            ps.setLong(4, offset);
            ps.setLong(5, System.currentTimeMillis());
            ps.executeUpdate();
        }
        return read(c, sql(c).readBack(), group, tp).orElseThrow(() -> new SQLException("offset row for " + tp + " vanished right after it was written"));
    }

    /**
     * Moves each partition's offset from its expected value to its next value, in one batch of
     * statements (on MySQL and MariaDB one statement after the other). Returns the partitions
     * whose stored offset was not the expected one: the fence. The caller must roll back when
     * that list is not empty.
     */
    public List<TopicPartition> advance(Connection c, String group, Collection<Advance> moves) throws SQLException {
        List<TopicPartition> fenced = new ArrayList<>();
        if (moves.isEmpty()) {
            return fenced;
        }
        long now = System.currentTimeMillis();
        List<Advance> order = ordered(moves);
        boolean batched = dialect(c) != Dialect.MYSQL;
        try (PreparedStatement ps = c.prepareStatement(sql(c).compareAndSet())) {
            int[] counts = new int[order.size()];
            for (int i = 0; i < order.size(); i++) {
                Advance m = order.get(i);
                ps.setLong(1, m.next());
                ps.setLong(2, now);
                ps.setString(3, group);
                ps.setString(4, m.partition().topic());
                ps.setInt(5, m.partition().partition());
                ps.setLong(6, m.expected());
                if (batched) {
                    ps.addBatch();
                } else {
                    // One at a time: MySQL drivers may rewrite or bulk-send a batch and then
                    // report SUCCESS_NO_INFO instead of each statement's row count.
                    counts[i] = ps.executeUpdate();
                }
            }
            if (batched) {
                counts = ps.executeBatch();
            }
            for (int i = 0; i < order.size(); i++) {
                // Treat anything but exactly one row as a fence so that doubt never applies a batch.
                // MySQL drivers count matched rows, not changed ones, unless told useAffectedRows;
                // even then the row changes (updated_at), and a false fence only means a re-read.
                if (i >= counts.length || counts[i] != 1) {
                    fenced.add(order.get(i).partition());
                }
            }
        }
        return fenced;
    }

    /**
     * The moves in one fixed order (topic, then partition), so that two transactions updating
     * the same rows (a zombie and the new owner) lock them in the same order and queue rather
     * than deadlock.
     */
    static List<Advance> ordered(Collection<Advance> moves) {
        List<Advance> order = new ArrayList<>(moves);
        order.sort(Comparator.comparing((Advance a) -> a.partition().topic()).thenComparingInt(a -> a.partition().partition()));
        return order;
    }

    /**
     * Moves a partition's offset back to {@code offset} in one statement, creating the row if
     * there is none: atomic against a consumer storing its first offset and against another
     * rewind (the condition is checked on the row as it is when the statement gets its lock).
     * Returns the offset stored afterwards: {@code offset}, or a lower one that refused the move.
     */
    public long rewind(Connection c, String group, TopicPartition tp, long offset) throws SQLException {
        return insert(c, sql(c).rewind(), group, tp, offset);
    }

    /** Sets a partition's offset to {@code offset}, forwards or back, creating the row if there is none. */
    public void moveTo(Connection c, String group, TopicPartition tp, long offset) throws SQLException {
        insert(c, sql(c).moveTo(), group, tp, offset);
    }

    /** Deletes every stored offset of {@code group}; returns how many rows there were. */
    public int delete(Connection c, String group) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(deleteGroup)) {
            ps.setString(1, group);
            return ps.executeUpdate();
        }
    }
}
