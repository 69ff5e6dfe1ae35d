package dev.tally.bench;

import dev.tally.app.event.PageView;
import dev.tally.app.event.PageViewDecoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * (c) Kafka Streams with {@code processing.guarantee=exactly_once_v2}, written as a Streams user
 * would: each event becomes one key per aggregate row it touches, re-keyed through a repartition
 * topic and {@code count()}ed into a RocksDB store (changelogged). Exactly once within Kafka; the
 * counts are read back from the store through interactive queries and checked.
 *
 * <p>The clock starts at the first record decoded and stops when every key has been counted and
 * the last transaction committed (the group's committed offsets reach the ends of the input and
 * repartition topics).
 */
final class StreamsCount implements Contender {

    private static final String STORE = "counts";

    private final int threads;

    StreamsCount(int threads) {
        this.threads = threads;
    }

    @Override
    public char letter() {
        return 'c';
    }

    @Override
    public String name() {
        return "(c) Kafka Streams EOS, " + threads + (threads == 1 ? " thread" : " threads");
    }

    @Override
    public Progress.Run run(Trial t) throws Exception {
        String app = "bench-streams-" + UUID.randomUUID();
        Path state = Files.createTempDirectory(t.dir(), "streams-");
        Progress progress = new Progress(t.records());
        AtomicLong counted = new AtomicLong();
        PageViewDecoder decoder = PageViewDecoder.forCounting();

        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(t.topic(), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
                .flatMap((key, value) -> {
                    progress.startNow();
                    PageView v;
                    try {
                        v = decoder.decode(value, 0L);
                    } catch (PageViewDecoder.InvalidEventException e) {
                        return List.of();
                    }
                    List<String> names = Aggregates.streamKeys(v);
                    List<KeyValue<String, byte[]>> keys = new ArrayList<>(names.size());
                    byte[] none = new byte[0];
                    for (String name : names) {
                        keys.add(KeyValue.pair(name, none));
                    }
                    return keys;
                })
                .repartition(Repartitioned.with(Serdes.String(), Serdes.ByteArray()).withName("keys"))
                .peek((k, v) -> counted.incrementAndGet())
                .groupByKey(Grouped.with(Serdes.String(), Serdes.ByteArray()))
                .count(Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as(STORE)
                        .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()));

        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, app);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, t.bootstrapServers());
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
        p.put(StreamsConfig.STATE_DIR_CONFIG, state.toString());
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
        p.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
        p.put(StreamsConfig.consumerPrefix("max.poll.records"), 5000);

        KafkaStreams streams = new KafkaStreams(builder.build(), p);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, t.bootstrapServers()))) {
            streams.start();
            String repartition = app + "-keys-repartition";
            long lastCount = -1;
            long lastChange = System.nanoTime();
            while (!progress.finished()) {
                Thread.sleep(20);
                long now = System.nanoTime();
                if (counted.get() != lastCount) {
                    lastCount = counted.get();
                    lastChange = now;
                } else if (now - lastChange > Progress.STALL_NANOS) {
                    throw new IllegalStateException("Kafka Streams made no progress for 120 s at " + lastCount + " of " + t.streamKeys() + " keys");
                }
                if (streams.state() == KafkaStreams.State.ERROR) {
                    throw new IllegalStateException("Kafka Streams failed");
                }
                if (counted.get() >= t.streamKeys() && committedToEnd(admin, app, Set.of(t.topic(), repartition))) {
                    progress.finishNow();
                }
            }
            Aggregates counts = read(streams);
            String wrong = t.reference().difference(counts);
            return progress.result(wrong == null ? "exact" : "WRONG: " + wrong);
        } finally {
            streams.close(Duration.ofSeconds(30));
            streams.cleanUp();
            try (Stream<Path> files = Files.walk(state)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** Whether the group's committed offsets reached the end of every partition of these topics (past a commit marker or at it). */
    private static boolean committedToEnd(Admin admin, String group, Set<String> topics) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
        Map<TopicPartition, OffsetSpec> ask = new java.util.HashMap<>();
        for (TopicPartition tp : committed.keySet()) {
            if (topics.contains(tp.topic())) {
                ask.put(tp, OffsetSpec.latest());
            }
        }
        if (ask.isEmpty()) {
            return false;
        }
        var ends = admin.listOffsets(ask).all().get();
        long topicsSeen = ask.keySet().stream().map(TopicPartition::topic).distinct().count();
        if (topicsSeen < topics.size()) {
            return false;
        }
        for (var e : ends.entrySet()) {
            OffsetAndMetadata c = committed.get(e.getKey());
            if (c == null || c.offset() < e.getValue().offset() - 1) {
                return false;
            }
        }
        return true;
    }

    private static Aggregates read(KafkaStreams streams) {
        ReadOnlyKeyValueStore<String, Long> store = streams.store(
                StoreQueryParameters.fromNameAndType(STORE, QueryableStoreTypes.keyValueStore()));
        Aggregates a = new Aggregates();
        try (KeyValueIterator<String, Long> all = store.all()) {
            while (all.hasNext()) {
                KeyValue<String, Long> kv = all.next();
                a.addStreamCount(kv.key, kv.value);
            }
        }
        return a;
    }
}
