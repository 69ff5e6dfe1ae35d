package dev.tally.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.consumer.RecordDecoder;
import dev.tally.consumer.StartPosition;
import dev.tally.consumer.TallyConsumer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TallyPropertiesTest {

    @Test
    void startPositionsByName() {
        TallyProperties p = new TallyProperties();
        assertThat(p.startPosition()).isEqualTo(StartPosition.earliest());
        p.setStartPosition(" LATEST ");
        assertThat(p.startPosition()).isEqualTo(StartPosition.latest());
        p.setStartPosition("2026-11-27T00:00:00Z");
        assertThat(p.startPosition()).isEqualTo(StartPosition.timestamp(Instant.parse("2026-11-27T00:00:00Z")));
        p.setStartPosition("yesterday");
        assertThatThrownBy(p::startPosition).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tally.consumer.start-position").hasMessageContaining("yesterday");
    }

    @Test
    void whatIsMissingOrWrongIsRefusedByTheLibraryWithEveryProblemAtOnce() {
        TallyProperties p = new TallyProperties();
        p.setMaxBatchRecords(0);
        p.setMaxBatchBytes(org.springframework.util.unit.DataSize.ofBytes(100));
        p.setRetryBackoffMax(Duration.ofMillis(1));
        p.setKafka(Map.of("enable.auto.commit", "true"));
        TallyConsumer.Builder<byte[]> builder = p.applyTo(TallyConsumer.builder(RecordDecoder.bytes(), (batch, connection) -> { }));
        assertThatThrownBy(builder::build).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bootstrapServers is required")
                .hasMessageContaining("groupId is required")
                .hasMessageContaining("topics are required")
                .hasMessageContaining("maxBatchRecords")
                .hasMessageContaining("maxBatchBytes must be at least 8 KiB")
                .hasMessageContaining("retryBackoff max must not be below its initial delay")
                .hasMessageContaining("enable.auto.commit");
    }

    @Test
    void aCompleteConfigurationBuilds() {
        TallyProperties p = new TallyProperties();
        p.setBootstrapServers("127.0.0.1:9092");
        p.setGroup("g");
        p.setTopics(List.of("a", "b"));
        p.setClientId("c1");
        p.setCloseTimeout(Duration.ofSeconds(5));
        p.setKafka(Map.of("security.protocol", "PLAINTEXT"));
        TallyConsumer<byte[]> consumer = p.applyTo(TallyConsumer.builder(RecordDecoder.bytes(), (batch, connection) -> { }))
                .dataSource(new org.springframework.jdbc.datasource.DriverManagerDataSource("jdbc:postgresql://127.0.0.1:1/none")).build();
        assertThat(consumer.groupId()).isEqualTo("g");
        assertThat(consumer.clientId()).isEqualTo("c1");
        assertThat(p.effectiveCloseTimeout()).isEqualTo(Duration.ofSeconds(5));
        consumer.close();
    }
}
