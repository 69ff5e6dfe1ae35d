package dev.tally.consumer.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.consumer.StartPosition;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class KafkaSettingsTest {

    private static Settings<byte[]> settings(Map<String, String> props) {
        return new Settings<>("b:9092", "g", "c1", List.of("t"), null, "tally_offsets", r -> r.value(), (b, c) -> {},
                StartPosition.earliest(), null, e -> {}, 8, new SimpleMeterRegistry(), props, 1000, 128L << 20, Duration.ofMillis(10),
                Duration.ofMillis(10), Duration.ofMillis(20), 3, Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(1),
                dev.tally.consumer.FailurePolicy.STOP, Duration.ofSeconds(30), BatchTracer.OFF);
    }

    @Test
    void onePollNeverHandsOverMoreThanOneTransactionMayHold() {
        Settings<byte[]> s = new Settings<>("b:9092", "g", "c1", List.of("t"), null, "tally_offsets", r -> r.value(), (b, c) -> {},
                StartPosition.earliest(), null, e -> {}, 8, new SimpleMeterRegistry(), Map.of("max.poll.records", "500"), 37, 128L << 20,
                Duration.ofMillis(10), Duration.ofMillis(10), Duration.ofMillis(20), 3, Duration.ofSeconds(1), Duration.ofSeconds(1),
                Duration.ofSeconds(1), dev.tally.consumer.FailurePolicy.STOP, Duration.ofSeconds(30), BatchTracer.OFF);
        assertThat(KafkaSettings.maxPollRecords(s)).isEqualTo(37);
        assertThat(KafkaSettings.consumer(s).get("max.poll.records")).isEqualTo("37");
        assertThat(KafkaSettings.maxPollRecords(settings(Map.of()))).isEqualTo(1000);
    }

    @Test
    void passThroughReachesBothClientsWhereItApplies() {
        Settings<byte[]> s = settings(Map.of("security.protocol", "SASL_SSL", "max.poll.records", "77",
                "linger.ms", "9", "producer.compression.type", "zstd", "consumer.interceptor.custom", "x"));
        Properties consumer = KafkaSettings.consumer(s);
        Properties producer = KafkaSettings.deadLetterProducer(s);
        assertThat(consumer).containsEntry("security.protocol", "SASL_SSL").containsEntry("max.poll.records", "77")
                .containsEntry("interceptor.custom", "x").doesNotContainKey("linger.ms")
                .containsEntry("enable.auto.commit", "false").containsEntry("auto.offset.reset", "none")
                .containsEntry("isolation.level", "read_committed");
        assertThat(producer).containsEntry("security.protocol", "SASL_SSL").containsEntry("linger.ms", "9")
                .containsEntry("compression.type", "zstd").containsEntry("acks", "all").doesNotContainKey("max.poll.records");
    }

    @Test
    void theNewGroupProtocolGetsNoClientSideAssignor() {
        assertThat(KafkaSettings.consumer(settings(Map.of()))).containsKey("partition.assignment.strategy");
        assertThat(KafkaSettings.consumer(settings(Map.of("group.protocol", "consumer"))))
                .doesNotContainKey("partition.assignment.strategy");
    }
}
