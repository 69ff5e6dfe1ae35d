package dev.tally.consumer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

class MessageTest {

    private static ConsumerRecord<byte[], byte[]> record(RecordHeaders headers) {
        return new ConsumerRecord<>("views", 3, 42L, 1_700_000_000_000L, TimestampType.LOG_APPEND_TIME, 3, 5,
                "key".getBytes(UTF_8), "value".getBytes(UTF_8), headers, Optional.of(7));
    }

    @Test
    void keepsWhatTheRecordSaidAndRebuildsItForTheDeadLetterTopic() {
        RecordHeaders headers = new RecordHeaders();
        headers.add("traceparent", "00-abc".getBytes(UTF_8));
        Message<String> m = new Message<>(record(headers), "decoded");

        assertThat(m.value()).isEqualTo("decoded");
        assertThat(m.topicPartition()).isEqualTo(new TopicPartition("views", 3));
        assertThat(m.offset()).isEqualTo(42L);
        assertThat(m.timestamp()).isEqualTo(1_700_000_000_000L);
        assertThat(m.key()).asString(UTF_8).isEqualTo("key");
        assertThat(m.headers().lastHeader("traceparent").value()).asString(UTF_8).isEqualTo("00-abc");

        ConsumerRecord<byte[], byte[]> rebuilt = m.record();
        assertThat(rebuilt.topic()).isEqualTo("views");
        assertThat(rebuilt.partition()).isEqualTo(3);
        assertThat(rebuilt.offset()).isEqualTo(42L);
        assertThat(rebuilt.timestamp()).isEqualTo(1_700_000_000_000L);
        assertThat(rebuilt.timestampType()).isEqualTo(TimestampType.LOG_APPEND_TIME);
        assertThat(rebuilt.key()).asString(UTF_8).isEqualTo("key");
        assertThat(rebuilt.value()).asString(UTF_8).isEqualTo("value");
        assertThat(rebuilt.headers().toArray()).hasSize(1);
    }

    @Test
    void aRecordWithoutHeadersHasAnEmptyReadOnlyList() {
        Message<String> m = new Message<>(record(new RecordHeaders()), null);

        assertThat(m.value()).isNull();
        assertThat(m.headers()).isEmpty();
        assertThat(m.record().headers()).isEmpty();
        assertThatThrownBy(() -> m.headers().add("x", new byte[0])).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void twoMessagesOfOneOffsetAreTwo() {
        ConsumerRecord<byte[], byte[]> r = record(new RecordHeaders());
        assertThat(new Message<>(r, "v")).isNotEqualTo(new Message<>(r, "v"));
    }
}
