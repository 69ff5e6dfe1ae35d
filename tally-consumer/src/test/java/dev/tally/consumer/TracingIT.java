package dev.tally.consumer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.broker.ChildJvm;
import dev.tally.consumer.internal.DeadLetterPublisher;
import dev.tally.testkit.KafkaBrokerExtension;
import dev.tally.testkit.PostgresDatabase;
import dev.tally.testkit.SqliteDatabase;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.io.File;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * OpenTelemetry: one consumer span per batch transaction, linked to the producer span of each
 * of its records (W3C {@code traceparent} headers), with the batch's partitions, offsets, size
 * and outcome; an error status when the transaction did not commit; and nothing at all (not
 * even a class loaded) without OpenTelemetry.
 */
class TracingIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final PostgresDatabase postgres = new PostgresDatabase();

    @RegisterExtension
    final SqliteDatabase sqlite = new SqliteDatabase();

    private static final AttributeKey<String> SYSTEM = AttributeKey.stringKey("messaging.system");
    private static final AttributeKey<String> DESTINATION = AttributeKey.stringKey("messaging.destination.name");
    private static final AttributeKey<String> GROUP = AttributeKey.stringKey("messaging.consumer.group.name");
    private static final AttributeKey<String> OPERATION = AttributeKey.stringKey("messaging.operation.type");
    private static final AttributeKey<Long> COUNT = AttributeKey.longKey("messaging.batch.message_count");
    private static final AttributeKey<List<String>> PARTITIONS = AttributeKey.stringArrayKey("tally.partitions");
    private static final AttributeKey<List<String>> RANGES = AttributeKey.stringArrayKey("tally.offset_ranges");
    private static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("tally.outcome");

    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    private OpenTelemetrySdk otel;

    @BeforeEach
    void sdk() {
        otel = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
                .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
                .build();
    }

    @AfterEach
    void closeSdk() {
        GlobalOpenTelemetry.resetForTest();
        otel.close();
    }

    @Test
    void oneSpanPerBatchTransactionLinkedToItsProducersOnSqlite() throws Exception {
        oneSpanPerBatchTransactionLinkedToItsProducers(sqlite.dataSource(), "sqlite");
    }

    @Test
    void oneSpanPerBatchTransactionLinkedToItsProducersOnPostgresql() throws Exception {
        oneSpanPerBatchTransactionLinkedToItsProducers(postgres.dataSource(), "pg");
    }

    private void oneSpanPerBatchTransactionLinkedToItsProducers(DataSource ds, String name) throws Exception {
        String topic = KAFKA.uniqueTopic("traced-" + name);
        KAFKA.createTopic(topic, 3);
        Words.createSchema(ds);
        Map<String, String> traceparents = new HashMap<>(); // origin partition@offset -> traceparent
        List<SpanContext> producers = new ArrayList<>();
        int n = 0;
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            // Five producer spans of 40 records each (every 20th poison), then records without
            // trace context and records whose traceparent is hostile: all are counted alike.
            for (int s = 0; s < 5; s++) {
                Span producer = otel.getTracer("test-producer").spanBuilder("send").setSpanKind(SpanKind.PRODUCER).startSpan();
                producers.add(producer.getSpanContext());
                try (Scope ignored = producer.makeCurrent()) {
                    for (int i = 0; i < 40; i++, n++) {
                        ProducerRecord<byte[], byte[]> r = record(topic, Words.word(n, 20));
                        otel.getPropagators().getTextMapPropagator().inject(Context.current(), r,
                                (carrier, key, value) -> carrier.headers().add(key, value.getBytes(UTF_8)));
                        var meta = p.send(r).get();
                        traceparents.put(meta.partition() + "@" + meta.offset(), new String(r.headers().lastHeader("traceparent").value(), UTF_8));
                    }
                } finally {
                    producer.end();
                }
            }
            for (int i = 0; i < 50; i++, n++) {
                p.send(record(topic, Words.word(n, 20))).get();
            }
            String[] hostile = {"garbage", "00-00000000000000000000000000000000-0000000000000000-01",
                    "ff-" + "a".repeat(32) + "-" + "b".repeat(16) + "-01", "00-\u0000\u00ff", ""};
            for (String h : hostile) {
                ProducerRecord<byte[], byte[]> r = record(topic, Words.word(n++, 20));
                r.headers().add("traceparent", h.getBytes(UTF_8));
                p.send(r).get();
            }
            ProducerRecord<byte[], byte[]> binary = record(topic, Words.word(n++, 20));
            binary.headers().add("traceparent", new byte[] {(byte) 0xc3, 0x28, 0, (byte) 0xff});
            p.send(binary).get();
        }

        Set<String> spansSeenByTheHandler = ConcurrentHashMap.newKeySet();
        BatchHandler<String> handler = Words.handler();
        TallyConsumer<String> consumer = TallyConsumer.builder(Words.DECODER, (batch, connection) -> {
                    spansSeenByTheHandler.add(Span.current().getSpanContext().getSpanId());
                    handler.handle(batch, connection);
                })
                .bootstrapServers(KAFKA.bootstrapServers()).groupId("traced").topics(topic).dataSource(ds)
                .openTelemetry(otel)
                .build().start();
        try {
            Words.awaitCaughtUp(ds, "traced", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(60));
        } finally {
            consumer.close(Duration.ofSeconds(10));
        }
        assertThat(Words.counts(ds)).isEqualTo(Words.expected(n, 20));

        List<SpanData> batches = batchSpans();
        assertThat(batches).isNotEmpty();
        long records = 0;
        Map<String, List<long[]>> ranges = new TreeMap<>();
        Set<SpanContext> linked = new HashSet<>();
        for (SpanData span : batches) {
            assertThat(span.getName()).isEqualTo("process " + topic);
            assertThat(span.getParentSpanContext().isValid()).as("a batch span is a root; its producers are links").isFalse();
            assertThat(span.getAttributes().get(SYSTEM)).isEqualTo("kafka");
            assertThat(span.getAttributes().get(DESTINATION)).isEqualTo(topic);
            assertThat(span.getAttributes().get(GROUP)).isEqualTo("traced");
            assertThat(span.getAttributes().get(OPERATION)).isEqualTo("process");
            assertThat(span.getAttributes().get(OUTCOME)).isEqualTo("committed");
            assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
            records += span.getAttributes().get(COUNT);
            List<String> partitions = span.getAttributes().get(PARTITIONS);
            List<String> spanRanges = span.getAttributes().get(RANGES);
            assertThat(spanRanges).hasSameSizeAs(partitions);
            for (int i = 0; i < partitions.size(); i++) {
                assertThat(spanRanges.get(i)).startsWith(partitions.get(i) + " [");
                String[] bounds = spanRanges.get(i).replaceAll(".*\\[(\\d+), (\\d+)\\)", "$1 $2").split(" ");
                ranges.computeIfAbsent(partitions.get(i), k -> new ArrayList<>())
                        .add(new long[] {Long.parseLong(bounds[0]), Long.parseLong(bounds[1])});
            }
            Set<SpanContext> mine = new HashSet<>();
            for (LinkData link : span.getLinks()) {
                assertThat(link.getSpanContext().isValid()).isTrue();
                assertThat(link.getSpanContext().isRemote()).isTrue();
                assertThat(mine.add(link.getSpanContext())).as("one link per producer span").isTrue();
            }
            linked.addAll(mine);
        }
        assertThat(records).as("every record, poison included, in exactly one committed batch").isEqualTo(n);
        // The committed ranges of each partition follow each other from 0 to its end.
        Map<TopicPartition, Long> end = Words.endOffsets(KAFKA.bootstrapServers(), topic);
        end.forEach((tp, e) -> {
            List<long[]> rs = ranges.getOrDefault(tp.toString(), List.of());
            long at = 0;
            for (long[] r : rs.stream().sorted((a, b) -> Long.compare(a[0], b[0])).toList()) {
                assertThat(r[0]).as("%s starts where the last range ended", tp).isEqualTo(at);
                at = r[1];
            }
            assertThat(at).as("%s covered to its end", tp).isEqualTo(e);
        });
        assertThat(linked.stream().map(SpanContext::getSpanId).collect(Collectors.toSet()))
                .isEqualTo(producers.stream().map(SpanContext::getSpanId).collect(Collectors.toSet()));
        assertThat(spansSeenByTheHandler).as("the handler runs inside the batch's span")
                .isEqualTo(batches.stream().map(SpanData::getSpanId).collect(Collectors.toSet()));

        // Dead letters carry their record's trace context onward.
        int traced = 0;
        for (ConsumerRecord<byte[], byte[]> r : KafkaBrokerExtension.readAll(KAFKA.bootstrapServers(), topic + ".dlq")) {
            String origin = header(r, DeadLetterPublisher.ORIGIN_PARTITION) + "@" + header(r, DeadLetterPublisher.ORIGIN_OFFSET);
            if (traceparents.containsKey(origin)) {
                assertThat(header(r, "traceparent")).isEqualTo(traceparents.get(origin));
                traced++;
            }
        }
        assertThat(traced).isEqualTo(10); // every 20th of the 200 traced records
    }

    @Test
    void failuresAreErrorSpansNamingTheirOutcome() throws Exception {
        DataSource ds = postgres.dataSource();
        String topic = KAFKA.uniqueTopic("traced-failures");
        KAFKA.createTopic(topic, 1);
        Words.createSchema(ds);
        TopicPartition tp = new TopicPartition(topic, 0);
        AtomicBoolean thrown = new AtomicBoolean();
        AtomicBoolean fenced = new AtomicBoolean();
        BatchHandler<String> words = Words.handler();
        TallyConsumer<String> consumer = TallyConsumer.builder(Words.DECODER, (batch, connection) -> {
                    if (thrown.compareAndSet(false, true)) {
                        throw new IllegalStateException("boom");
                    }
                    for (Message<String> m : batch) {
                        // An operator moves the stored offset while this transaction runs: it is fenced.
                        if (m.value().equals("fence-me") && fenced.compareAndSet(false, true)) {
                            new OffsetStore(ds).rewind("failing", tp, m.offset() - 1);
                        }
                    }
                    words.handle(batch, connection);
                })
                .bootstrapServers(KAFKA.bootstrapServers()).groupId("failing").topics(topic).dataSource(ds)
                .failurePolicy(FailurePolicy.DEAD_LETTER).retryBackoff(Duration.ofMillis(10), Duration.ofMillis(50))
                .openTelemetry(otel)
                .build().start();
        String longTraceparent;
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            Words.produce(p, topic, 0, 100, 0);
            Words.awaitCaughtUp(ds, "failing", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(60));

            // A word too long for VARCHAR(200): refused by PostgreSQL, isolated, dead-lettered.
            Span producer = otel.getTracer("test-producer").spanBuilder("send").setSpanKind(SpanKind.PRODUCER).startSpan();
            ProducerRecord<byte[], byte[]> tooLong = record(topic, "x".repeat(300));
            try (Scope ignored = producer.makeCurrent()) {
                otel.getPropagators().getTextMapPropagator().inject(Context.current(), tooLong,
                        (carrier, key, value) -> carrier.headers().add(key, value.getBytes(UTF_8)));
            } finally {
                producer.end();
            }
            longTraceparent = new String(tooLong.headers().lastHeader("traceparent").value(), UTF_8);
            p.send(record(topic, "before")).get();
            p.send(tooLong).get();
            p.send(record(topic, "after")).get();
            Words.awaitCaughtUp(ds, "failing", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(60));

            p.send(record(topic, "fence-me")).get();
            Words.awaitCaughtUp(ds, "failing", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(60));
        } finally {
            consumer.close(Duration.ofSeconds(10));
        }
        assertThat(consumer.state()).isEqualTo(TallyConsumer.State.CLOSED);

        Map<String, List<SpanData>> byOutcome = batchSpans().stream()
                .collect(Collectors.groupingBy(s -> s.getAttributes().get(OUTCOME), TreeMap::new, Collectors.toList()));
        assertThat(byOutcome).containsOnlyKeys("committed", "rolled_back", "refused", "fenced");
        assertThat(byOutcome.get("committed")).allSatisfy(s -> assertThat(s.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET));

        SpanData rolledBack = byOutcome.get("rolled_back").get(0);
        assertThat(rolledBack.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(rolledBack.getEvents()).extracting(EventData::getName).contains("exception");
        assertThat(rolledBack.getEvents().get(0).getAttributes().get(AttributeKey.stringKey("exception.message"))).isEqualTo("boom");

        assertThat(byOutcome.get("refused")).allSatisfy(s -> {
            assertThat(s.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
            assertThat(s.getEvents()).extracting(EventData::getName).contains("exception");
        });
        // Bisection ends with the refused record alone; its span links to its producer.
        assertThat(byOutcome.get("refused")).anySatisfy(s -> assertThat(s.getLinks())
                .extracting(l -> l.getSpanContext().getSpanId()).containsExactly(spanId(longTraceparent)));

        SpanData fencedSpan = byOutcome.get("fenced").get(0);
        assertThat(fencedSpan.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(fencedSpan.getStatus().getDescription()).contains("fenced").contains(tp.toString());

        List<ConsumerRecord<byte[], byte[]>> dead = KafkaBrokerExtension.readAll(KAFKA.bootstrapServers(), topic + ".dlq");
        assertThat(dead).hasSize(1);
        assertThat(header(dead.get(0), "traceparent")).isEqualTo(longTraceparent);
    }

    @Test
    void theGlobalOpenTelemetryIsUsedOnceItIsSetAndNotBefore() throws Exception {
        DataSource ds = sqlite.dataSource();
        String topic = KAFKA.uniqueTopic("traced-global");
        KAFKA.createTopic(topic, 2);
        Words.createSchema(ds);
        TallyConsumer<String> consumer = Words.consumer(KAFKA.bootstrapServers(), topic, "global", ds).build().start();
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            Words.produce(p, topic, 0, 200, 0);
            Words.awaitCaughtUp(ds, "global", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(60));
            assertThat(exporter.getFinishedSpanItems()).isEmpty();

            // An application that registers its SDK after building the consumer is traced from then on.
            GlobalOpenTelemetry.set(otel);
            Words.produce(p, topic, 200, 300, 0);
            Words.awaitCaughtUp(ds, "global", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(60));
        } finally {
            consumer.close(Duration.ofSeconds(10));
        }
        assertThat(batchSpans()).isNotEmpty()
                .allSatisfy(s -> assertThat(s.getAttributes().get(GROUP)).isEqualTo("global"));
        assertThat(batchSpans().stream().mapToLong(s -> s.getAttributes().get(COUNT)).sum()).isEqualTo(100);
        assertThat(Words.counts(ds)).isEqualTo(Words.expected(300, 0));
    }

    @Test
    void withoutOpenTelemetryOnTheClassPathItCountsAsBefore() throws Exception {
        String topic = KAFKA.uniqueTopic("untraced");
        KAFKA.createTopic(topic, 2);
        Words.createSchema(sqlite.dataSource());
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            for (int i = 0; i < 500; i++) {
                ProducerRecord<byte[], byte[]> r = record(topic, Words.word(i, 20));
                r.headers().add("traceparent", ("00-" + "1".repeat(32) + "-" + "2".repeat(16) + "-01").getBytes(UTF_8));
                p.send(r);
            }
            p.flush();
        }
        String classpath = Arrays.stream(ChildJvm.defaultClasspath().split(File.pathSeparator))
                .filter(entry -> !entry.contains("opentelemetry"))
                .collect(Collectors.joining(File.pathSeparator));
        assertThat(ChildJvm.defaultClasspath()).contains("opentelemetry-api");
        try (ChildJvm child = ChildJvm.builder(WordCountProcess.class).classpath(classpath)
                .jvmArgs("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
                .args("bootstrap=" + KAFKA.bootstrapServers(), "topic=" + topic, "group=untraced", "jdbc=" + sqlite.jdbcUrl())
                .start()) {
            child.awaitLine(l -> l.equals("STARTED"), Duration.ofSeconds(60));
            Words.awaitCaughtUp(sqlite.dataSource(), "untraced", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(90));
            assertThat(child.lines()).filteredOn(l -> l.startsWith("ERROR"))
                    .allMatch(l -> l.startsWith("ERROR DECODE") || l.startsWith("ERROR REJECT")); // the poison only
            assertThat(child.terminate(Duration.ofSeconds(30))).isEqualTo(143);
            assertThat(child.stderrTail()).doesNotContain("NoClassDefFoundError").doesNotContain("opentelemetry");
        }
        assertThat(Words.counts(sqlite.dataSource())).isEqualTo(Words.expected(500, 20));
    }

    /** The finished spans of Tally's batches (not the test's producer spans). */
    private List<SpanData> batchSpans() {
        return exporter.getFinishedSpanItems().stream()
                .filter(s -> s.getKind() == SpanKind.CONSUMER)
                .toList();
    }

    private static ProducerRecord<byte[], byte[]> record(String topic, String word) {
        byte[] w = word.getBytes(UTF_8);
        return new ProducerRecord<>(topic, w, w);
    }

    private static String spanId(String traceparent) {
        return traceparent.split("-")[2];
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), UTF_8);
    }
}
