package dev.tally.consumer.internal;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.tally.consumer.Message;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.TracerProvider;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One OpenTelemetry span per batch transaction: kind consumer, no parent, linked to the
 * producer span of each record that carries a W3C {@code traceparent} header, with the messaging
 * semantic conventions' attributes and Tally's own (partitions, offset ranges, outcome). The
 * handler runs with the span current, so that its own spans (JDBC, HTTP) are children of it.
 *
 * <p>Loaded only when the OpenTelemetry API is on the class path (see {@link BatchTracer#of}).
 * Tracing never fails a batch: an exception from the tracing code is logged and the
 * transaction runs untraced.
 */
final class OpenTelemetryBatchTracer implements BatchTracer {

    /**
     * Links per span at most: the SDK's default span limit, beyond which it would drop them
     * silently. The rest are counted in {@code tally.links.dropped}.
     */
    static final int MAX_LINKS = 128;

    static final AttributeKey<String> MESSAGING_SYSTEM = AttributeKey.stringKey("messaging.system");
    static final AttributeKey<String> OPERATION_TYPE = AttributeKey.stringKey("messaging.operation.type");
    static final AttributeKey<String> OPERATION_NAME = AttributeKey.stringKey("messaging.operation.name");
    static final AttributeKey<String> DESTINATION = AttributeKey.stringKey("messaging.destination.name");
    static final AttributeKey<String> PARTITION_ID = AttributeKey.stringKey("messaging.destination.partition.id");
    static final AttributeKey<String> CONSUMER_GROUP = AttributeKey.stringKey("messaging.consumer.group.name");
    static final AttributeKey<Long> MESSAGE_COUNT = AttributeKey.longKey("messaging.batch.message_count");
    static final AttributeKey<List<String>> PARTITIONS = AttributeKey.stringArrayKey("tally.partitions");
    static final AttributeKey<List<String>> OFFSET_RANGES = AttributeKey.stringArrayKey("tally.offset_ranges");
    static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("tally.attempt");
    static final AttributeKey<Long> DEAD_LETTERS = AttributeKey.longKey("tally.dead_letters");
    static final AttributeKey<Long> LINKS_DROPPED = AttributeKey.longKey("tally.links.dropped");
    static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("tally.outcome");

    private static final String SCOPE = "dev.tally.consumer";
    private static final Logger LOG = LoggerFactory.getLogger(OpenTelemetryBatchTracer.class);

    private static final TextMapGetter<Headers> HEADERS = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Headers headers) {
            List<String> keys = new ArrayList<>();
            for (Header h : headers) {
                keys.add(h.key());
            }
            return keys;
        }

        @Override
        public String get(Headers headers, String key) {
            if (headers == null) {
                return null;
            }
            Header h = headers.lastHeader(key);
            return h == null || h.value() == null ? null : new String(h.value(), UTF_8);
        }
    };

    /** The tracer to use for the next batch, or {@code null} while tracing is off. */
    private final Supplier<Tracer> tracers;

    private OpenTelemetryBatchTracer(Supplier<Tracer> tracers) {
        this.tracers = tracers;
    }

    /** Traces with {@code openTelemetry} (an {@link OpenTelemetry}); its no-op instance turns tracing off. */
    static BatchTracer with(Object openTelemetry) {
        OpenTelemetry otel = (OpenTelemetry) openTelemetry;
        if (otel.getTracerProvider() == TracerProvider.noop()) {
            return OFF;
        }
        Tracer tracer = otel.getTracer(SCOPE);
        return new OpenTelemetryBatchTracer(() -> tracer);
    }

    /** Traces with {@link GlobalOpenTelemetry} from the first batch after an application set it. */
    static BatchTracer global() {
        return new OpenTelemetryBatchTracer(new Supplier<>() {
            private OpenTelemetry seen;
            private Tracer tracer;

            @Override
            public Tracer get() {
                // Never GlobalOpenTelemetry.get() before it is set: that would fix it to the no-op for good.
                if (!GlobalOpenTelemetry.isSet()) {
                    return null;
                }
                OpenTelemetry otel = GlobalOpenTelemetry.get();
                if (otel != seen) {
                    seen = otel;
                    tracer = otel.getTracer(SCOPE);
                }
                return tracer;
            }
        });
    }

    @Override
    public List<TopicPartition> commit(String group, PendingBatch<?> batch, int attempt, Transaction transaction) throws Exception {
        Span span = null;
        try {
            Tracer tracer = tracers.get();
            if (tracer != null) {
                span = start(tracer, group, batch, attempt);
            }
        } catch (RuntimeException e) {
            LOG.warn("tracing a batch failed; it runs untraced", e);
        }
        if (span == null) {
            return transaction.run();
        }
        Span traced = span;
        List<TopicPartition> fenced;
        try (Scope ignored = traced.makeCurrent()) {
            fenced = transaction.run();
        } catch (Throwable t) {
            end(traced, () -> {
                traced.setAttribute(OUTCOME, Dialect.isRefusal(t) ? "refused" : "rolled_back");
                traced.recordException(t);
                traced.setStatus(StatusCode.ERROR, String.valueOf(t.getMessage()));
            });
            throw t;
        }
        end(traced, () -> {
            if (fenced.isEmpty()) {
                traced.setAttribute(OUTCOME, "committed");
                traced.setAttribute(DEAD_LETTERS, batch.deadLetters().size());
            } else {
                traced.setAttribute(OUTCOME, "fenced");
                traced.setStatus(StatusCode.ERROR, "fenced: the stored offset of " + fenced
                        + " is not where this batch starts (another member or an operator moved it); rolled back");
            }
        });
        return fenced;
    }

    private static void end(Span span, Runnable outcome) {
        try {
            outcome.run();
        } catch (RuntimeException e) {
            LOG.warn("recording a batch's outcome on its span failed", e);
        } finally {
            span.end();
        }
    }

    private static Span start(Tracer tracer, String group, PendingBatch<?> batch, int attempt) {
        Set<String> topics = new LinkedHashSet<>();
        List<String> partitions = new ArrayList<>();
        List<String> ranges = new ArrayList<>();
        for (PendingBatch.Part<?> p : batch.parts()) {
            topics.add(p.partition.topic());
            partitions.add(p.partition.toString());
            ranges.add(p.partition + " [" + p.expected + ", " + p.next + ")");
        }
        String topic = topics.size() == 1 ? topics.iterator().next() : null;
        SpanBuilder b = tracer.spanBuilder(topic == null ? "process" : "process " + topic)
                .setSpanKind(SpanKind.CONSUMER)
                .setNoParent()
                .setAttribute(MESSAGING_SYSTEM, "kafka")
                .setAttribute(OPERATION_TYPE, "process")
                .setAttribute(OPERATION_NAME, "process")
                .setAttribute(CONSUMER_GROUP, group)
                .setAttribute(MESSAGE_COUNT, (long) batch.recordCount())
                .setAttribute(PARTITIONS, partitions)
                .setAttribute(OFFSET_RANGES, ranges)
                .setAttribute(ATTEMPT, (long) attempt);
        if (topic != null) {
            b.setAttribute(DESTINATION, topic);
        }
        if (partitions.size() == 1) {
            b.setAttribute(PARTITION_ID, Integer.toString(batch.parts().iterator().next().partition.partition()));
        }
        long dropped = link(b, batch);
        if (dropped > 0) {
            b.setAttribute(LINKS_DROPPED, dropped);
        }
        return b.startSpan();
    }

    /**
     * Links the span to each distinct producer context of the batch's records, the first
     * {@link #MAX_LINKS} of them; returns how many further records carried a context not linked.
     */
    private static long link(SpanBuilder b, PendingBatch<?> batch) {
        Set<SpanContext> linked = new HashSet<>();
        long dropped = 0;
        for (PendingBatch.Part<?> p : batch.parts()) {
            List<Headers> headers = new ArrayList<>(p.messages.size() + p.undecodable.size());
            for (Message<?> m : p.messages) {
                headers.add(m.headers());
            }
            for (DeadLetter d : p.undecodable) {
                headers.add(d.record().headers());
            }
            for (Headers h : headers) {
                if (h.lastHeader("traceparent") == null) {
                    continue;
                }
                SpanContext producer = producerContext(h);
                if (!producer.isValid() || linked.contains(producer)) {
                    continue;
                }
                if (linked.size() >= MAX_LINKS) {
                    dropped++;
                    continue;
                }
                linked.add(producer);
                b.addLink(producer);
            }
        }
        return dropped;
    }

    /** The context in a record's W3C headers; invalid when they are absent or malformed (any producer may write them). */
    private static SpanContext producerContext(Headers headers) {
        try {
            Context extracted = W3CTraceContextPropagator.getInstance().extract(Context.root(), headers, HEADERS);
            return Span.fromContext(extracted).getSpanContext();
        } catch (RuntimeException hostile) {
            return SpanContext.getInvalid();
        }
    }
}
