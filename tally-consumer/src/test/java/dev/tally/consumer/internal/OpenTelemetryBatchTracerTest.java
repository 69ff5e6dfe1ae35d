package dev.tally.consumer.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.consumer.Message;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.sql.SQLException;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class OpenTelemetryBatchTracerTest {

    private static final TopicPartition P0 = new TopicPartition("t", 0);

    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    private final OpenTelemetrySdk otel = OpenTelemetrySdk.builder()
            .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
            .build();

    @AfterEach
    void close() {
        otel.close();
    }

    /** {@code producers} records, each from its own producer span, then as many again from the same spans. */
    private static PendingBatch<String> batch(int producers) {
        PendingBatch<String> b = new PendingBatch<>();
        PendingBatch.Part<String> part = b.part(P0, 0);
        for (int i = 0; i < 2 * producers; i++) {
            ConsumerRecord<byte[], byte[]> r = new ConsumerRecord<>("t", 0, i, null, null);
            String traceparent = String.format("00-%032x-%016x-01", 1 + i % producers, 1 + i % producers);
            r.headers().add("traceparent", traceparent.getBytes(UTF_8));
            b.add(part, new Message<>(r, "v"));
            part.next = i + 1;
        }
        return b;
    }

    private SpanData onlySpan() {
        assertThat(exporter.getFinishedSpanItems()).hasSize(1);
        return exporter.getFinishedSpanItems().get(0);
    }

    @Test
    void linksAreOnePerProducerSpanAndCappedWithTheRestCounted() throws Exception {
        BatchTracer tracer = BatchTracer.of(otel);
        assertThat(tracer.commit("g", batch(100), 1, List::of)).isEmpty();
        SpanData span = onlySpan();
        assertThat(span.getLinks()).hasSize(100);
        assertThat(span.getAttributes().get(OpenTelemetryBatchTracer.LINKS_DROPPED)).isNull();
        assertThat(span.getAttributes().get(OpenTelemetryBatchTracer.MESSAGE_COUNT)).isEqualTo(200);
        assertThat(span.getAttributes().get(OpenTelemetryBatchTracer.PARTITION_ID)).isEqualTo("0");
        assertThat(span.getAttributes().get(OpenTelemetryBatchTracer.OFFSET_RANGES)).containsExactly("t-0 [0, 200)");

        exporter.reset();
        tracer.commit("g", batch(300), 1, List::of);
        span = onlySpan();
        assertThat(span.getLinks()).hasSize(OpenTelemetryBatchTracer.MAX_LINKS);
        // 172 producer spans not linked, each with two records.
        assertThat(span.getAttributes().get(OpenTelemetryBatchTracer.LINKS_DROPPED)).isEqualTo(2 * (300 - 128));
    }

    @Test
    void aRefusalIsToldFromARollbackAndBothAreErrorsThatPropagate() {
        BatchTracer tracer = BatchTracer.of(otel);
        SQLException tooLong = new SQLException("value too long for type character varying(200)", "22001");
        assertThatThrownBy(() -> tracer.commit("g", batch(1), 1, () -> {
            throw tooLong;
        })).isSameAs(tooLong);
        SpanData span = onlySpan();
        assertThat(span.getAttributes().get(OpenTelemetryBatchTracer.OUTCOME)).isEqualTo("refused");
        assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);

        exporter.reset();
        SQLException lost = new SQLException("connection reset", "08006");
        assertThatThrownBy(() -> tracer.commit("g", batch(1), 2, () -> {
            throw lost;
        })).isSameAs(lost);
        span = onlySpan();
        assertThat(span.getAttributes().get(OpenTelemetryBatchTracer.OUTCOME)).isEqualTo("rolled_back");
        assertThat(span.getAttributes().get(OpenTelemetryBatchTracer.ATTEMPT)).isEqualTo(2);
    }

    @Test
    void theNoopInstanceIsTracingOff() {
        assertThat(BatchTracer.of(OpenTelemetry.noop())).isSameAs(BatchTracer.OFF);
    }
}
