package dev.tally.chaos;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.tally.app.event.PageView;
import dev.tally.app.event.PageViewDecoder;
import dev.tally.testkit.KafkaBrokerExtension;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Compares what the store holds with what happened. The counts are checked against the topic's
 * own content, decoded exactly as the aggregator decodes it (an event the load generator was not
 * told about may still be in Kafka: a 503 promises nothing either way); the acknowledged ids are
 * checked against the topic (each exactly once); the dead-letter topic against the poison.
 */
final class Checker {

    private static final Pattern ID = Pattern.compile("\"id\":\"([^\"]+)\"");

    private record Cell(String site, String path, long hour) {}

    /** What the checker found; {@link #passed()} when nothing was lost, duplicated or misplaced. */
    record Result(long inKafka, long validInKafka, long counted, long countsLost, long countsDuplicated,
            long ackedLost, long ackedDuplicated, long storedUnacknowledged, long poisonInKafka, long dlqMissing,
            long dlqUnexpected, long dlqRedelivered) {

        boolean passed() {
            return countsLost == 0 && countsDuplicated == 0 && ackedLost == 0 && ackedDuplicated == 0
                    && dlqMissing == 0 && dlqUnexpected == 0;
        }
    }

    private Checker() {}

    /** Waits until the group has consumed the topic to its end (DB offsets, or Kafka's in naive mode). */
    static void awaitCaughtUp(Topology t, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<TopicPartition, Long> end = KafkaBrokerExtension.endOffsets(t.bootstrapServers(), Topology.TOPIC);
        Map<TopicPartition, Long> at = Map.of();
        while (System.nanoTime() < deadline) {
            try {
                at = t.naive ? kafkaOffsets(t) : storedOffsets(t);
                Map<TopicPartition, Long> now = at;
                if (end.entrySet().stream().allMatch(e -> now.getOrDefault(e.getKey(), 0L) >= e.getValue())) {
                    return;
                }
            } catch (Exception e) {
                // the store or the cluster is still coming back
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("the group did not catch up within " + timeout + ": at " + at + ", end " + end);
    }

    /** The group's stored offsets of the topic, read directly (not through the proxy). */
    static Map<TopicPartition, Long> storedOffsets(Topology t) throws Exception {
        Map<TopicPartition, Long> at = new HashMap<>();
        t.offsetStore().positions(Topology.GROUP).forEach((tp, position) -> {
            if (tp.topic().equals(Topology.TOPIC)) {
                at.put(tp, position.nextOffset());
            }
        });
        return at;
    }

    private static Map<TopicPartition, Long> kafkaOffsets(Topology t) throws Exception {
        Admin admin = t.cluster.admin();
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(
                Map.of(Topology.GROUP, new ListConsumerGroupOffsetsSpec())).partitionsToOffsetAndMetadata(Topology.GROUP).get();
        Map<TopicPartition, Long> at = new HashMap<>();
        committed.forEach((tp, o) -> at.put(tp, o == null ? 0L : o.offset()));
        return at;
    }

    static Result check(Topology t, LoadGenerator load) throws Exception {
        List<ConsumerRecord<byte[], byte[]>> records = KafkaBrokerExtension.readAll(t.bootstrapServers(), Topology.TOPIC);
        PageViewDecoder decoder = new PageViewDecoder();
        Map<Cell, Long> truth = new HashMap<>();
        Map<String, Integer> copies = new HashMap<>();
        Set<String> poison = new HashSet<>();
        long valid = 0;
        for (ConsumerRecord<byte[], byte[]> r : records) {
            String value = new String(r.value(), UTF_8);
            try {
                PageView v = decoder.decode(r);
                truth.merge(new Cell(v.site(), v.path(), v.timestamp() / 3_600_000L * 3_600_000L), 1L, Long::sum);
                valid++;
            } catch (PageViewDecoder.InvalidEventException e) {
                poison.add(value);
            }
            Matcher m = ID.matcher(value);
            if (m.find()) {
                copies.merge(m.group(1), 1, Integer::sum);
            }
        }

        Map<Cell, Long> stored = new HashMap<>();
        try (Connection c = DriverManager.getConnection(t.jdbcUrl);
                PreparedStatement ps = c.prepareStatement("SELECT site, path, hour, views FROM views_hourly");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                stored.put(new Cell(rs.getString(1), rs.getString(2), rs.getLong(3)), rs.getLong(4));
            }
        }
        long lost = 0;
        long duplicated = 0;
        long counted = 0;
        Set<Cell> cells = new HashSet<>(truth.keySet());
        cells.addAll(stored.keySet());
        for (Cell cell : cells) {
            long want = truth.getOrDefault(cell, 0L);
            long have = stored.getOrDefault(cell, 0L);
            counted += have;
            lost += Math.max(0, want - have);
            duplicated += Math.max(0, have - want);
        }

        Set<String> acked = new HashSet<>(load.ackedBeacons);
        acked.addAll(load.ackedRecords);
        acked.addAll(load.ackedPoison);
        long ackedLost = acked.stream().filter(id -> !copies.containsKey(id)).count();
        long ackedDuplicated = acked.stream().filter(id -> copies.getOrDefault(id, 0) > 1).count();
        long unacknowledged = copies.keySet().stream().filter(id -> !acked.contains(id)).count();

        List<ConsumerRecord<byte[], byte[]>> dead = KafkaBrokerExtension.readAll(t.bootstrapServers(), Topology.TOPIC + ".dlq");
        Set<String> deadValues = new HashSet<>();
        dead.forEach(r -> deadValues.add(new String(r.value(), UTF_8)));
        long missing = poison.stream().filter(v -> !deadValues.contains(v)).count();
        long unexpected = deadValues.stream().filter(v -> !poison.contains(v)).count();
        return new Result(records.size(), valid, counted, lost, duplicated, ackedLost, ackedDuplicated, unacknowledged,
                poison.size(), missing, unexpected, dead.size() - deadValues.size());
    }
}
