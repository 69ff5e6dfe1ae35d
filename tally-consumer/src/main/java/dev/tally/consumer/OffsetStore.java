package dev.tally.consumer;

import dev.tally.consumer.internal.OffsetTable;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.sql.DataSource;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

/**
 * The offsets a group has stored in the database, for operators: read them (lag, progress) and
 * rewind them (replay after a bug fix).
 *
 * <p>The stored offset of a partition is the next offset to read; it is the only position Tally
 * trusts. Rewinding while consumers run is safe: their next commit on the partition no longer
 * matches the offset they expect, so it is rolled back and they re-read from the rewound offset
 * (an idle member notices within {@link TallyConsumer.Builder#offsetCheckInterval}).
 *
 * <p>Rewinding re-applies records to whatever the handler wrote before. To recompute rather than
 * add twice, reset the derived data in the same transaction:
 * {@link #rewind(Connection, String, TopicPartition, long)} takes the caller's connection for
 * exactly that.
 */
public final class OffsetStore {

    /** The default offsets table name. */
    public static final String DEFAULT_TABLE = "tally_offsets";

    /**
     * A partition's stored position.
     *
     * @param nextOffset the next offset to read
     * @param updatedAt when it last moved: a consumer's last progress on that partition
     */
    public record Position(long nextOffset, Instant updatedAt) {}

    /**
     * How far a group's stored offset of one partition is behind the log.
     *
     * @param stored the stored next offset, or {@code null} when the group has none yet
     * @param logStart the first offset still in the log
     * @param logEnd the end a {@code read_committed} consumer can reach (the last stable offset)
     * @param lag records not yet stored: {@code logEnd - stored}, or {@code logEnd - logStart}
     *     when nothing is stored; never negative
     * @param updatedAt when the stored offset last moved, or {@code null}
     */
    public record Lag(Long stored, long logStart, long logEnd, long lag, Instant updatedAt) {}

    private final DataSource dataSource;
    private final OffsetTable table;

    /** An offset store over the default table. */
    public OffsetStore(DataSource dataSource) {
        this(dataSource, DEFAULT_TABLE);
    }

    /**
     * An offset store over {@code table}.
     *
     * @param dataSource the database the consumers write to
     * @param table the offsets table, as configured on the consumers
     */
    public OffsetStore(DataSource dataSource, String table) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.table = new OffsetTable(table);
    }

    /** Creates the offsets table if it is absent (consumers do this on start). */
    public void createTableIfAbsent() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            table.createIfAbsent(c);
        }
    }

    /** Every stored position of {@code group}, ordered by topic and partition. */
    public Map<TopicPartition, Position> positions(String group) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            return positions(c, group);
        }
    }

    /**
     * Every stored position of {@code group}, read on the caller's connection: inside a
     * read-only transaction, the positions match the data that transaction sees (the handler's
     * writes and the offsets commit together), for checking the data against the log.
     */
    public Map<TopicPartition, Position> positions(Connection connection, String group) throws SQLException {
        Map<TopicPartition, Position> result = new LinkedHashMap<>();
        table.readGroup(connection, group).forEach((tp, row) ->
                result.put(tp, new Position(row.nextOffset(), Instant.ofEpochMilli(row.updatedAtMillis()))));
        return result;
    }

    /**
     * The lag of {@code group} on every partition of {@code topic}, from the offsets stored in
     * the database — the ones Tally trusts — not from Kafka's committed copy or a consumer's
     * fetch position. A partition appears even when the group has stored nothing for it yet.
     *
     * @param admin a Kafka admin client, used for the partitions and their log bounds
     */
    public Map<TopicPartition, Lag> lag(String group, String topic, Admin admin)
            throws SQLException, ExecutionException, InterruptedException, TimeoutException {
        List<TopicPartition> partitions = new ArrayList<>();
        admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic).partitions()
                .forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
        partitions.sort(Comparator.comparingInt(TopicPartition::partition));
        Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        partitions.forEach(tp -> {
            earliest.put(tp, OffsetSpec.earliest());
            latest.put(tp, OffsetSpec.latest());
        });
        // read_committed: the end a Tally consumer can reach; an open upstream transaction is not lag.
        ListOffsetsOptions committed = new ListOffsetsOptions(IsolationLevel.READ_COMMITTED);
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> start = admin.listOffsets(earliest, committed).all().get(30, TimeUnit.SECONDS);
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> end = admin.listOffsets(latest, committed).all().get(30, TimeUnit.SECONDS);
        Map<TopicPartition, Position> stored = positions(group);
        Map<TopicPartition, Lag> result = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            long s0 = start.get(tp).offset();
            long e0 = end.get(tp).offset();
            Position p = stored.get(tp);
            long lag = p == null ? e0 - s0 : e0 - Math.max(p.nextOffset(), s0);
            result.put(tp, new Lag(p == null ? null : p.nextOffset(), s0, e0, Math.max(0, lag), p == null ? null : p.updatedAt()));
        }
        return result;
    }

    /**
     * Moves a partition's stored offset back to {@code offset}, in a transaction of its own.
     *
     * @return the offset it had before
     * @throws IllegalArgumentException if {@code offset} is negative or ahead of the stored one
     */
    public long rewind(String group, TopicPartition partition, long offset) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                long previous = rewind(c, group, partition, offset);
                c.commit();
                return previous;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    /**
     * Moves a partition's stored offset back to {@code offset} within the caller's transaction,
     * so that the caller can reset the data derived from the records being replayed atomically
     * with it. A partition without a stored offset gets {@code offset} as its start.
     *
     * @return the offset it had before, or {@code offset} if it had none
     * @throws IllegalArgumentException if {@code offset} is negative or ahead of the stored one
     */
    public long rewind(Connection transaction, String group, TopicPartition partition, long offset) throws SQLException {
        if (offset < 0) {
            throw new IllegalArgumentException("offset must not be negative: " + offset);
        }
        OptionalLong before = table.read(transaction, group, partition);
        long now = table.rewind(transaction, group, partition, offset);
        if (now != offset) {
            throw new IllegalArgumentException("rewind moves offsets back only: " + partition + " is at "
                    + now + ", asked for " + offset);
        }
        return before.orElse(offset);
    }

    /**
     * Sets a partition's stored offset to {@code offset}, forwards or back, within the caller's
     * transaction, creating the row if there is none. It is how a group is handed over to data
     * that another group has counted up to {@code offset} (see {@code bin/tally replay}): a
     * running member of {@code group} notices as it does a {@link #rewind}, by its next
     * compare-and-set failing, and re-reads from {@code offset}; records it had counted beyond
     * are counted again only if the caller's data lacks them, which is the caller's contract.
     *
     * @throws IllegalArgumentException if {@code offset} is negative
     */
    public void moveTo(Connection transaction, String group, TopicPartition partition, long offset) throws SQLException {
        if (offset < 0) {
            throw new IllegalArgumentException("offset must not be negative: " + offset);
        }
        table.moveTo(transaction, group, partition, offset);
    }

    /**
     * Deletes every stored offset of {@code group} within the caller's transaction, for a group
     * that is gone for good. A member still running would start again from its start position.
     *
     * @return the number of partitions that had an offset
     */
    public int forget(Connection transaction, String group) throws SQLException {
        return table.delete(transaction, group);
    }

    /**
     * Rewinds every stored partition of {@code topic} to the first record at or after
     * {@code time}, in one transaction. Partitions already before that point are left alone.
     *
     * @param admin a Kafka admin client, used to find offsets by time
     * @return the new stored offset of each partition that moved
     */
    public Map<TopicPartition, Long> rewind(String group, String topic, Instant time, Admin admin)
            throws SQLException, ExecutionException, InterruptedException, TimeoutException {
        Map<TopicPartition, Position> stored = new LinkedHashMap<>();
        positions(group).forEach((tp, p) -> {
            if (tp.topic().equals(topic)) {
                stored.put(tp, p);
            }
        });
        if (stored.isEmpty()) {
            return Map.of();
        }
        Map<TopicPartition, OffsetSpec> query = new HashMap<>();
        stored.keySet().forEach(tp -> query.put(tp, OffsetSpec.forTimestamp(time.toEpochMilli())));
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> found =
                admin.listOffsets(query).all().get(30, TimeUnit.SECONDS);
        Map<TopicPartition, Long> moved = new LinkedHashMap<>();
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                for (Map.Entry<TopicPartition, Position> e : stored.entrySet()) {
                    ListOffsetsResult.ListOffsetsResultInfo info = found.get(e.getKey());
                    // -1: no record that late; the partition is already before the time.
                    if (info == null || info.offset() < 0 || info.offset() >= e.getValue().nextOffset()) {
                        continue;
                    }
                    // Only back: a concurrent rewind further back wins.
                    moved.put(e.getKey(), table.rewind(c, group, e.getKey(), info.offset()));
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
        return moved;
    }
}
