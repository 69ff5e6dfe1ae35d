package dev.tally.app.operations;

import com.zaxxer.hikari.HikariDataSource;
import dev.tally.app.KafkaOptions;
import dev.tally.app.StartupException;
import dev.tally.app.StoreOptions;
import dev.tally.app.TimeArgument;
import dev.tally.app.aggregate.Aggregator;
import dev.tally.app.event.PageView;
import dev.tally.app.event.PageViewDecoder;
import dev.tally.consumer.OffsetStore;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code bin/tally audit}: recomputes the views per page and hour from the topic, with a
 * throwaway consumer and the aggregator's own decoder, and compares them with the store.
 *
 * <p>The comparison is exact because the store and its stored offsets are read in one
 * transaction: the counts are those of exactly the records before the offsets, and the audit
 * reads the topic up to those offsets, not to its end — an aggregator may go on counting
 * meanwhile.
 */
@Command(name = "audit", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Recomputes views per page and hour from the topic and compares them with the store; exit 0 equal, 1 not.")
public final class AuditCommand implements Callable<Integer> {

    private static final long HOUR = 3_600_000L;

    @Spec
    CommandSpec spec;

    @Mixin
    KafkaOptions kafka;

    @Mixin
    StoreOptions store;

    @Option(names = "--group", description = "the aggregator's consumer group (default ${DEFAULT-VALUE})")
    String group = Aggregator.DEFAULT_GROUP;

    @Option(names = "--from", converter = TimeArgument.class, paramLabel = "TIME",
            description = "first hour compared: epoch ms, ISO-8601 instant or date (default: all time)")
    Long from;

    @Option(names = "--to", converter = TimeArgument.class, paramLabel = "TIME", description = "end of the range, exclusive (default: all time)")
    Long to;

    @Option(names = "--site", description = "only this site (default: every site)")
    String site;

    @Option(names = "--show", paramLabel = "N", description = "rows that differ to print at most (default ${DEFAULT-VALUE})")
    int show = 50;

    /** A count's key: the page and the hour. */
    record Key(String site, String path, long hour) implements Comparable<Key> {
        @Override
        public int compareTo(Key o) {
            int c = site.compareTo(o.site);
            c = c != 0 ? c : path.compareTo(o.path);
            return c != 0 ? c : Long.compare(hour, o.hour);
        }
    }

    @Override
    public Integer call() throws Exception {
        long lo = from == null ? 0 : from / HOUR * HOUR;
        long hi = to == null ? Long.MAX_VALUE : to;
        if (lo >= hi) {
            throw new ParameterException(spec.commandLine(), "--from must be before --to");
        }
        if (show < 0) {
            throw new ParameterException(spec.commandLine(), "--show must not be negative");
        }
        store.validate(spec);
        Map<TopicPartition, Long> upTo = new HashMap<>();
        Map<Key, Long> stored = readStore(lo, hi, upTo);
        List<String> warnings = new ArrayList<>();
        Map<Key, Long> recomputed = recompute(lo, hi, upTo, warnings);

        PrintStream out = System.out;
        TreeSet<Key> keys = new TreeSet<>(stored.keySet());
        keys.addAll(recomputed.keySet());
        int differing = 0;
        for (Key k : keys) {
            long s = stored.getOrDefault(k, 0L);
            long r = recomputed.getOrDefault(k, 0L);
            if (s != r) {
                if (differing == 0) {
                    out.printf("%-12s %-40s %-20s %10s %10s%n", "site", "path", "hour", "stored", "recomputed");
                }
                if (differing < show) {
                    out.printf("%-12s %-40s %-20s %10d %10d%n", k.site(), k.path(), Instant.ofEpochMilli(k.hour()), s, r);
                }
                differing++;
            }
        }
        warnings.forEach(w -> out.println("warning: " + w));
        long events = recomputed.values().stream().mapToLong(Long::longValue).sum();
        out.printf("%d page-hours compared, %d differ; %d views recomputed from %d partitions of %s up to the stored offsets of group %s%n",
                keys.size(), differing, events, upTo.size(), kafka.topic, group);
        out.println(differing == 0 ? "AUDIT: EQUAL" : "AUDIT: DIFFERENT");
        return differing == 0 ? 0 : 1;
    }

    /** The stored counts of the range, and the stored offsets they stand for, from one snapshot. */
    private Map<Key, Long> readStore(long lo, long hi, Map<TopicPartition, Long> upTo) {
        Map<Key, Long> rows = new HashMap<>();
        try (HikariDataSource pool = store.openPool("tally-audit", 1); Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            if (!store.db.startsWith("jdbc:sqlite:")) {
                c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
                // SQLite's driver refuses this once connected; its read transaction is one snapshot anyway (WAL).
                c.setReadOnly(true);
            }
            new OffsetStore(pool).positions(c, group).forEach((tp, p) -> {
                if (tp.topic().equals(kafka.topic)) {
                    upTo.put(tp, p.nextOffset());
                }
            });
            String sql = "SELECT site, path, hour, views FROM views_hourly WHERE hour >= ? AND hour < ?" + (site == null ? "" : " AND site = ?");
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, lo);
                ps.setLong(2, hi);
                if (site != null) {
                    ps.setString(3, site);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows.merge(new Key(rs.getString(1), rs.getString(2), rs.getLong(3)), rs.getLong(4), Long::sum);
                    }
                }
            }
            c.rollback();
        } catch (SQLException e) {
            throw new StartupException("cannot read the store " + store.redacted() + ": " + e.getMessage(), e);
        }
        return rows;
    }

    /** The views of the range, from every record before the stored offsets, decoded as the aggregator decodes them. */
    private Map<Key, Long> recompute(long lo, long hi, Map<TopicPartition, Long> upTo, List<String> warnings) {
        Map<Key, Long> counts = new TreeMap<>();
        Properties p = new Properties();
        p.putAll(kafka.adminProperties());
        kafka.kafka.forEach(p::putIfAbsent);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "tally-audit");
        p.remove(ConsumerConfig.GROUP_ID_CONFIG);
        PageViewDecoder decoder = new PageViewDecoder();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo info : consumer.partitionsFor(kafka.topic, Duration.ofSeconds(15))) {
                TopicPartition tp = new TopicPartition(kafka.topic, info.partition());
                partitions.add(tp);
                upTo.putIfAbsent(tp, 0L); // nothing stored: nothing counted yet
            }
            consumer.assign(partitions);
            Map<TopicPartition, Long> start = consumer.beginningOffsets(partitions, Duration.ofSeconds(15));
            for (TopicPartition tp : partitions) {
                if (start.get(tp) > 0 && upTo.get(tp) > 0) {
                    warnings.add(tp + ": records [0, " + start.get(tp) + ") were deleted by retention; what they counted cannot be recomputed");
                }
            }
            consumer.seekToBeginning(partitions);
            List<TopicPartition> open = new ArrayList<>(partitions);
            open.removeIf(tp -> upTo.get(tp) <= start.get(tp));
            consumer.pause(partitions);
            consumer.resume(open);
            while (!open.isEmpty()) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    if (r.offset() >= upTo.get(tp)) {
                        continue;
                    }
                    PageView v;
                    try {
                        v = decoder.decode(r);
                    } catch (Exception invalid) {
                        continue; // a dead letter: never counted
                    }
                    if (v.event() != null) {
                        continue; // a custom event on the page-view topic: the aggregator dead-letters it too
                    }
                    long hour = v.timestamp() / HOUR * HOUR;
                    if (hour >= lo && hour < hi && (site == null || site.equals(v.site()))) {
                        counts.merge(new Key(v.site(), v.path(), hour), 1L, Long::sum);
                    }
                }
                for (TopicPartition tp : new ArrayList<>(open)) {
                    if (consumer.position(tp) >= upTo.get(tp)) {
                        open.remove(tp);
                        consumer.pause(List.of(tp));
                    }
                }
            }
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw new StartupException("Kafka at " + kafka.bootstrapServers + " did not answer: " + e.getMessage());
        }
        return counts;
    }
}
