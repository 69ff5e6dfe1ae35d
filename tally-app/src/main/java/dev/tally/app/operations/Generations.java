package dev.tally.app.operations;

import dev.tally.app.KafkaOptions;
import dev.tally.app.aggregate.Generation;
import dev.tally.app.aggregate.Generation.AggregateTable;
import dev.tally.app.aggregate.Store;
import dev.tally.consumer.OffsetStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.apache.kafka.common.TopicPartition;

/**
 * The registry of generations ({@code tally_generations}) and the three transactions of a
 * replay: creating a generation (its tables, the rows it keeps, the replay group's start
 * offsets), switching to it, and dropping old ones. See {@link ReplayCommand} for why each is
 * sound.
 */
final class Generations {

    /**
     * A generation a replay is filling.
     *
     * @param fromTime the first recomputed instant, or {@code null} for all
     * @param copiedTo per partition, the live group's offset when the kept rows were copied
     */
    record Building(Generation generation, Long fromTime, String topic, String liveGroup, String replayGroup,
            Map<TopicPartition, Long> copiedTo) {}

    private static final Pattern INDEX = Pattern.compile("(?is)^CREATE\\s+(UNIQUE\\s+)?INDEX\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?\"?(\\w+)\"?\\s+ON\\s+\"?\\w+\"?(.*)$");
    private static final Pattern TABLE = Pattern.compile("(?is)^CREATE\\s+TABLE\\s+\"?\\w+\"?(.*)$");

    private final DataSource store;
    private final OffsetStore offsets;

    Generations(DataSource store) {
        this.store = store;
        this.offsets = new OffsetStore(store);
    }

    /** The generation being built, or {@code null}. */
    Building building() throws SQLException {
        try (Connection c = store.getConnection()) {
            Integer n = null;
            Long from = null;
            String topic = null;
            String live = null;
            String replay = null;
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT generation, from_time, topic, live_group, replay_group FROM tally_generations WHERE state = 'building'")) {
                if (rs.next()) {
                    n = rs.getInt(1);
                    long f = rs.getLong(2);
                    from = rs.wasNull() ? null : f;
                    topic = rs.getString(3);
                    live = rs.getString(4);
                    replay = rs.getString(5);
                }
            }
            if (n == null) {
                return null;
            }
            Map<TopicPartition, Long> copied = new HashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT topic, partition_id, copied_to FROM tally_generation_offsets WHERE generation = ?")) {
                ps.setInt(1, n);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        copied.put(new TopicPartition(rs.getString(1), rs.getInt(2)), rs.getLong(3));
                    }
                }
            }
            return new Building(new Generation(n), from, topic, live, replay, copied);
        }
    }

    /**
     * Creates the next generation in one transaction: its tables (the structure of the current
     * generation's), for a range replay the current generation's rows before {@code fromTime}
     * and the live group's offsets they stand for, and the replay group's start offsets.
     *
     * @param fromTime the first recomputed instant (a UTC midnight), or {@code null} for all
     * @param timeOffsets per partition, the first offset at or after {@code fromTime} minus the margin (a range replay)
     * @param logStarts per partition of the topic and its events topic, its first offset
     */
    Building create(String topic, String liveGroup, Long fromTime, Map<TopicPartition, Long> timeOffsets,
            Map<TopicPartition, Long> logStarts) throws SQLException {
        try (Connection c = store.getConnection()) {
            Store kind = Store.of(c);
            if (kind == Store.POSTGRESQL) {
                // One snapshot for the copied rows and the live group's offsets, without stopping it.
                c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            }
            c.setAutoCommit(false);
            try {
                Generation current = Generation.current(c);
                int n;
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT MAX(generation) FROM tally_generations")) {
                    rs.next();
                    n = rs.getInt(1) + 1;
                }
                Generation next = new Generation(n);
                String replayGroup = liveGroup + ".replay-" + n;
                if (kind.ddlCommits()) {
                    // Each CREATE commits by itself here: the tables are made first (after a
                    // leftover of an abandoned attempt with this number: no registry row names it
                    // yet), then the rest is one transaction that holds the pointer exclusively.
                    // No aggregator transaction runs during the copy (each takes the pointer
                    // shared first), so the rows and the offsets are one state, as PostgreSQL's
                    // snapshot gives without stopping the aggregator.
                    dropTables(c, next);
                    createTables(c, kind, current, next);
                    c.commit();
                    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                            "SELECT generation FROM tally_current_generation WHERE id = 1" + kind.forUpdate())) {
                        rs.next();
                    }
                } else {
                    createTables(c, kind, current, next);
                }
                Map<TopicPartition, Long> copiedTo = new HashMap<>();
                offsets.positions(c, liveGroup).forEach((tp, p) -> {
                    if (tp.topic().equals(topic) || tp.topic().equals(KafkaOptions.eventsTopic(topic))) {
                        copiedTo.put(tp, p.nextOffset());
                    }
                });
                if (fromTime != null) {
                    try (Statement s = c.createStatement()) {
                        for (AggregateTable t : Generation.AGGREGATES) {
                            s.executeUpdate(t.keepBefore().sql(current, next, fromTime));
                        }
                    }
                    try (PreparedStatement ps = c.prepareStatement(
                            "INSERT INTO tally_generation_offsets (generation, topic, partition_id, copied_to) VALUES (?, ?, ?, ?)")) {
                        for (TopicPartition tp : logStarts.keySet()) {
                            ps.setInt(1, n);
                            ps.setString(2, tp.topic());
                            ps.setInt(3, tp.partition());
                            ps.setLong(4, copiedTo.getOrDefault(tp, 0L));
                            ps.addBatch();
                        }
                        ps.executeBatch();
                    }
                }
                offsets.forget(c, replayGroup); // a leftover of an abandoned attempt with this number
                for (Map.Entry<TopicPartition, Long> e : logStarts.entrySet()) {
                    TopicPartition tp = e.getKey();
                    long start = e.getValue();
                    if (fromTime != null) {
                        // Whatever is not in the kept rows must be read: records after the copy, and
                        // those of the recomputed days.
                        start = Math.max(start, Math.min(timeOffsets.getOrDefault(tp, Long.MAX_VALUE), copiedTo.getOrDefault(tp, 0L)));
                    }
                    offsets.moveTo(c, replayGroup, tp, start);
                }
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO tally_generations"
                        + " (generation, state, from_time, topic, live_group, replay_group, created_at) VALUES (?, 'building', ?, ?, ?, ?, ?)")) {
                    ps.setInt(1, n);
                    if (fromTime == null) {
                        ps.setNull(2, java.sql.Types.BIGINT);
                    } else {
                        ps.setLong(2, fromTime);
                    }
                    ps.setString(3, topic);
                    ps.setString(4, liveGroup);
                    ps.setString(5, replayGroup);
                    ps.setLong(6, System.currentTimeMillis());
                    ps.executeUpdate();
                }
                c.commit();
                return new Building(next, fromTime, topic, liveGroup, replayGroup, fromTime == null ? Map.of() : copiedTo);
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    /**
     * Makes {@code b} the current generation in one transaction, once its replay group is closed:
     * with the pointer locked (so no aggregator transaction is under way, and none starts until
     * this one ends), the live group's stored offsets become the replay group's — the live
     * members then go on writing the new generation from exactly where it stands — and the
     * pointer, the registry and the schema-2 views move to the new generation.
     *
     * @return the previous generation
     */
    Generation switchTo(Building b) throws SQLException {
        try (Connection c = store.getConnection()) {
            Store kind = Store.of(c);
            c.setAutoCommit(false);
            try {
                Generation old;
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                        "SELECT generation FROM tally_current_generation WHERE id = 1" + kind.forUpdate())) {
                    rs.next();
                    old = new Generation(rs.getInt(1));
                }
                String state = state(c, b.generation());
                if (!"building".equals(state)) {
                    throw new IllegalStateException("generation " + b.generation().number() + " is " + state + ", not being built");
                }
                for (Map.Entry<TopicPartition, OffsetStore.Position> e : offsets.positions(c, b.replayGroup()).entrySet()) {
                    long r = e.getValue().nextOffset();
                    if (r < b.copiedTo().getOrDefault(e.getKey(), 0L)) {
                        // The live group would count records there that the kept rows already hold.
                        throw new IllegalStateException("the replay of " + e.getKey() + " is at " + r + ", before the copy's offset "
                                + b.copiedTo().get(e.getKey()) + "; no switch yet");
                    }
                    offsets.moveTo(c, b.liveGroup(), e.getKey(), r);
                }
                long now = System.currentTimeMillis();
                try (Statement s = c.createStatement()) {
                    s.executeUpdate("UPDATE tally_current_generation SET generation = " + b.generation().number() + " WHERE id = 1");
                    s.executeUpdate("UPDATE tally_generations SET state = 'old', switched_at = " + now + " WHERE generation = " + old.number());
                    s.executeUpdate("UPDATE tally_generations SET state = 'current', switched_at = " + now + " WHERE generation = " + b.generation().number());
                    s.executeUpdate("DELETE FROM tally_generation_offsets WHERE generation = " + b.generation().number());
                    if (!kind.ddlCommits()) {
                        pointViews(s, kind, b.generation());
                    }
                }
                offsets.forget(c, b.replayGroup());
                c.commit();
                if (kind.ddlCommits()) {
                    // After the switch, not in it: a view's DDL would commit the switch half done.
                    // Until then they show the old generation; the next start of the aggregator
                    // re-points them if this process dies first.
                    try (Statement s = c.createStatement()) {
                        pointViews(s, kind, b.generation());
                    }
                }
                return old;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    private static void pointViews(Statement s, Store kind, Generation g) throws SQLException {
        for (Map.Entry<String, String> v : g.legacyViews().entrySet()) {
            for (String sql : kind.replaceView(v.getKey(), v.getValue())) {
                s.execute(sql);
            }
        }
    }

    /** Drops the generation being built (its tables, its replay group's offsets): {@code --restart}. */
    void abandon(Building b) throws SQLException {
        inTransaction(c -> {
            // Where DROP commits by itself (MySQL), an interruption after it leaves the generation
            // registered without its tables: running --restart again drops nothing and ends it.
            dropTables(c, b.generation());
            offsets.forget(c, b.replayGroup());
            try (Statement s = c.createStatement()) {
                s.executeUpdate("DELETE FROM tally_generation_offsets WHERE generation = " + b.generation().number());
                s.executeUpdate("UPDATE tally_generations SET state = 'dropped' WHERE generation = " + b.generation().number());
            }
        });
    }

    /** Drops the tables of every old generation; returns their numbers. */
    List<Integer> dropOld() throws SQLException {
        List<Integer> dropped = new ArrayList<>();
        inTransaction(c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT generation FROM tally_generations WHERE state = 'old'")) {
                while (rs.next()) {
                    dropped.add(rs.getInt(1));
                }
            }
            for (int n : dropped) {
                dropTables(c, new Generation(n)); // as in abandon: running it again finishes it
                try (Statement s = c.createStatement()) {
                    s.executeUpdate("UPDATE tally_generations SET state = 'dropped' WHERE generation = " + n);
                }
            }
        });
        return dropped;
    }

    /** The state of {@code g} in the registry, within the caller's transaction. */
    static String state(Connection c, Generation g) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT state FROM tally_generations WHERE generation = ?")) {
            ps.setInt(1, g.number());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : "unknown";
            }
        }
    }

    private interface Work {
        void run(Connection c) throws SQLException;
    }

    private void inTransaction(Work work) throws SQLException {
        try (Connection c = store.getConnection()) {
            c.setAutoCommit(false);
            try {
                work.run(c);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    /** Each aggregate table of {@code to} with the structure (keys, indexes) of {@code from}'s. */
    private static void createTables(Connection c, Store kind, Generation from, Generation to) throws SQLException {
        try (Statement s = c.createStatement()) {
            for (AggregateTable t : Generation.AGGREGATES) {
                String source = from.table(t.name());
                String target = to.table(t.name());
                if (kind == Store.MYSQL) {
                    // Columns, keys, indexes, engine and collations; index names are per table there.
                    s.execute("CREATE TABLE " + target + " LIKE " + source);
                    continue;
                }
                if (kind == Store.POSTGRESQL) {
                    s.execute("CREATE TABLE " + target + " (LIKE " + source + " INCLUDING ALL)");
                    // LIKE copies keys and indexes, not the storage parameters (the fill factor of migration 5).
                    String options = null;
                    try (PreparedStatement ps = c.prepareStatement("SELECT array_to_string(reloptions, ',') FROM pg_class WHERE oid = ?::regclass")) {
                        ps.setString(1, source);
                        try (ResultSet rs = ps.executeQuery()) {
                            if (rs.next()) {
                                options = rs.getString(1);
                            }
                        }
                    }
                    if (options != null && !options.isEmpty()) {
                        s.execute("ALTER TABLE " + target + " SET (" + options + ")");
                    }
                    continue;
                }
                List<String> ddl = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT type, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type DESC")) {
                    ps.setString(1, source);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            String sql = rs.getString(2);
                            if (rs.getString(1).equals("table")) {
                                Matcher m = TABLE.matcher(sql);
                                if (!m.matches()) {
                                    throw new SQLException("unexpected definition of " + source + ": " + sql);
                                }
                                ddl.add(0, "CREATE TABLE " + target + m.group(1));
                            } else {
                                Matcher m = INDEX.matcher(sql);
                                if (!m.matches()) {
                                    throw new SQLException("unexpected index of " + source + ": " + sql);
                                }
                                String index = m.group(2).replaceFirst("_g\\d+$", "") + (to.number() == 1 ? "" : "_g" + to.number());
                                ddl.add("CREATE " + (m.group(1) == null ? "" : "UNIQUE ") + "INDEX " + index + " ON " + target + m.group(3));
                            }
                        }
                    }
                }
                if (ddl.isEmpty()) {
                    throw new SQLException("table " + source + " of generation " + from.number() + " does not exist");
                }
                for (String d : ddl) {
                    s.execute(d);
                }
            }
        }
    }

    private static void dropTables(Connection c, Generation g) throws SQLException {
        try (Statement s = c.createStatement()) {
            for (AggregateTable t : Generation.AGGREGATES) {
                s.execute("DROP TABLE IF EXISTS " + g.table(t.name()));
            }
        }
    }
}
