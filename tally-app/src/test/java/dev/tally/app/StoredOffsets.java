package dev.tally.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.consumer.OffsetStore;
import dev.tally.testkit.KafkaBrokerExtension;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;
import javax.sql.DataSource;
import org.apache.kafka.common.TopicPartition;

/** The tests' one wait for an aggregator: every record, valid or not, is behind the group's stored offsets. */
public final class StoredOffsets {

    private StoredOffsets() {}

    /** Waits (at most 90 s) until the stored offsets of {@code group} equal the end of every partition of {@code topic}. */
    public static void awaitCaughtUp(DataSource ds, String group, String bootstrapServers, String topic) {
        OffsetStore store = new OffsetStore(ds);
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).ignoreExceptions().untilAsserted(() -> {
            Map<TopicPartition, Long> end = KafkaBrokerExtension.endOffsets(bootstrapServers, topic);
            Map<TopicPartition, Long> stored = new TreeMap<>(Comparator.comparing(TopicPartition::toString));
            store.positions(group).forEach((tp, pos) -> stored.put(tp, pos.nextOffset()));
            end.forEach((tp, o) -> assertThat(stored.getOrDefault(tp, 0L)).as("stored offset of %s", tp).isEqualTo(o));
        });
    }
}
