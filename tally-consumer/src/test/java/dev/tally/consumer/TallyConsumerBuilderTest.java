package dev.tally.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.consumer.internal.KafkaSettings;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TallyConsumerBuilderTest {

    private static TallyConsumer.Builder<byte[]> builder() {
        return TallyConsumer.builder(RecordDecoder.bytes(), (batch, connection) -> {});
    }

    @Test
    void everyProblemIsNamedAtOnce() {
        assertThatThrownBy(() -> builder().maxBatchRecords(0).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bootstrapServers is required")
                .hasMessageContaining("groupId is required")
                .hasMessageContaining("topics are required")
                .hasMessageContaining("a database is required")
                .hasMessageContaining("maxBatchRecords");
    }

    @Test
    void anOptionSetTwiceIsAMistake() {
        assertThatThrownBy(() -> builder().groupId("a").groupId("b"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("groupId");
        assertThatThrownBy(() -> builder().jdbcUrl("jdbc:sqlite:x").dataSource(null))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("database");
    }

    @Test
    void propertiesTallyReliesOnCannotBeOverridden() {
        assertThatThrownBy(() -> builder().bootstrapServers("b:9092").groupId("g").topics("t")
                .jdbcUrl("jdbc:sqlite:x").kafkaProperty("enable.auto.commit", "true").build())
                .hasMessageContaining("enable.auto.commit").hasMessageContaining("database");
    }

    @Test
    void typosInKafkaPropertiesFailFastButPrefixedOnesPass() {
        assertThat(KafkaSettings.problems(Map.of("securty.protocol", "SSL")))
                .singleElement().asString().contains("unknown Kafka client property 'securty.protocol'");
        assertThat(KafkaSettings.problems(Map.of("security.protocol", "SASL_SSL", "sasl.mechanism", "PLAIN",
                "consumer.my.plugin.setting", "x", "max.poll.records", "100", "linger.ms", "10"))).isEmpty();
    }

    @Test
    void aTopicAndItsDeadLetterTopicCannotBothBeRead() {
        assertThatThrownBy(() -> builder().bootstrapServers("b:9092").groupId("g").topics("t", "t.dlq")
                .jdbcUrl("jdbc:sqlite:x").build()).hasMessageContaining("dead-letter");
    }

    @Test
    void unsupportedDatabasesAndBadTableNamesAreRefused() {
        assertThatThrownBy(() -> builder().bootstrapServers("b:9092").groupId("g").topics("t")
                .jdbcUrl("jdbc:oracle:thin:@x:1521/y").offsetsTable("offsets; drop table x").build())
                .hasMessageContaining("jdbc:postgresql:, jdbc:sqlite:, jdbc:mariadb: or jdbc:mysql:")
                .hasMessageContaining("plain SQL identifier");
    }

    @Test
    void mariadbAndMysqlUrlsAreAccepted() {
        for (String url : new String[] {"jdbc:mariadb://127.0.0.1:1/x", "jdbc:mysql://127.0.0.1:1/x"}) {
            TallyConsumer<byte[]> c = builder().bootstrapServers("b:9092").groupId("g").topics("t").jdbcUrl(url).build();
            c.close(java.time.Duration.ofSeconds(1));
        }
    }
}
