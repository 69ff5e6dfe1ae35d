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
 * transaction of the data they describe. The SQL is the same on PostgreSQL and SQLite.
 */
public final class OffsetTable {

    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}(\\.[A-Za-z_][A-Za-z0-9_]{0,62})?");

    /** The next offset of a partition and when it last changed. */
    public record Row(long nextOffset, long updatedAtMillis) {}

    /** A conditional move of a partition's next offset from {@code expected} to {@code next}. */
    public record Advance(TopicPartition partition, long expected, long next) {}

    private final String table;
    private final String insertIfAbsent;
    private final String selectOne;
    private final String selectGroup;
    private final String compareAndSet;
    private final String rewind;

    public OffsetTable(String table) {
        if (table == null || !IDENTIFIER.matcher(table).matches()) {
            throw new IllegalArgumentException("offsets table name must be a plain SQL identifier, optionally schema-qualified: " + table);
        }
        this.table = table;
        this.insertIfAbsent = "INSERT INTO " + table + " (group_id, topic, partition_id, next_offset, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
        this.selectOne = "SELECT next_offset FROM " + table + " WHERE group_id = ? AND topic = ? AND partition_id = ?";
        this.selectGroup = "SELECT topic, partition_id, next_offset, updated_at FROM " + table + " WHERE group_id = ? ORDER BY topic, partition_id";
        this.compareAndSet = "UPDATE " + table + " SET next_offset = ?, updated_at = ? WHERE group_id = ? AND topic = ? AND partition_id = ? AND next_offset = ?";
        this.rewind = "INSERT INTO " + table + " AS o (group_id, topic, partition_id, next_offset, updated_at) VALUES (?, ?, ?, ?, ?)"
                + " ON CONFLICT (group_id, topic, partition_id) DO UPDATE SET next_offset = excluded.next_offset, updated_at = excluded.updated_at"
                + " WHERE o.next_offset >= excluded.next_offset";
    }

    public String name() {
        return table;
    }

    /** Creates the table if it does not exist; safe to race with other processes doing the same. */
    public void createIfAbsent(Connection c) throws SQLException {
        String ddl = "CREATE TABLE IF NOT EXISTS " + table + " ("
                + "group_id VARCHAR(255) NOT NULL, "
                + "topic VARCHAR(255) NOT NULL, "
                + "partition_id INTEGER NOT NULL, "
                + "next_offset BIGINT NOT NULL, "
                + "updated_at BIGINT NOT NULL, "
                + "PRIMARY KEY (group_id, topic, partition_id))";
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
        try (PreparedStatement ps = c.prepareStatement(selectOne)) {
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
        try (PreparedStatement ps = c.prepareStatement(selectGroup)) {
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
        return insert(c, insertIfAbsent, group, tp, offset);
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
        return read(c, group, tp).orElseThrow(() -> new SQLException("offset row for " + tp + " vanished right after it was written"));
    }

    /**
     * Moves each partition's offset from its expected value to its next value, in one batch of
     * statements. Returns the partitions whose stored offset was not the expected one: the
     * fence. The caller must roll back when that list is not empty.
     */
    public List<TopicPartition> advance(Connection c, String group, Collection<Advance> moves) throws SQLException {
        List<TopicPartition> fenced = new ArrayList<>();
        if (moves.isEmpty()) {
            return fenced;
        }
        long now = System.currentTimeMillis();
        List<Advance> order = ordered(moves);
        try (PreparedStatement ps = c.prepareStatement(compareAndSet)) {
            for (Advance m : order) {
                ps.setLong(1, m.next());
                ps.setLong(2, now);
                ps.setString(3, group);
                ps.setString(4, m.partition().topic());
                ps.setInt(5, m.partition().partition());
                ps.setLong(6, m.expected());
                ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            for (int i = 0; i < order.size(); i++) {
                // SUCCESS_NO_INFO (-2) never comes from the supported drivers for UPDATE; treat
                // anything but exactly one row as a fence so that doubt never applies a batch.
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
        return insert(c, rewind, group, tp, offset);
    }
}
