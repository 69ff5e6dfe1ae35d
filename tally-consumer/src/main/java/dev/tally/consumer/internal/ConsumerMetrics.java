package dev.tally.consumer.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.apache.kafka.common.TopicPartition;

/** The consumer's Micrometer meters, all tagged with its group and client id. */
public final class ConsumerMetrics implements AutoCloseable {

    private final MeterRegistry registry;
    private final Tags tags;
    private final List<Meter> meters = new ArrayList<>();
    private final Map<TopicPartition, Meter> lagGauges = new ConcurrentHashMap<>();
    private final Map<TopicPartition, AtomicLong> lag = new ConcurrentHashMap<>();

    final Counter recordsProcessed;
    final Counter recordsDeadLettered;
    final Counter batchesCommitted;
    final Counter batchesFenced;
    final Counter batchesFailed;
    final Counter rebalancesAssigned;
    final Counter rebalancesRevoked;
    final Counter rebalancesLost;
    final Timer batchLatency;
    final Timer dbCommit;
    final AtomicLong lastProgressMillis = new AtomicLong(System.currentTimeMillis());
    final AtomicInteger pausedPartitions = new AtomicInteger();
    final AtomicInteger haltedPartitions = new AtomicInteger();

    public ConsumerMetrics(MeterRegistry registry, String group, String clientId, LongSupplier droppedErrors) {
        this.registry = registry;
        this.tags = Tags.of("group", group, "client.id", clientId);
        recordsProcessed = keep(Counter.builder("tally.consumer.records").description("Records committed to the database").tags(tags).tag("outcome", "processed").register(registry));
        recordsDeadLettered = keep(Counter.builder("tally.consumer.records").description("Records committed to the database").tags(tags).tag("outcome", "dead_lettered").register(registry));
        batchesCommitted = keep(Counter.builder("tally.consumer.batches").tags(tags).tag("outcome", "committed").register(registry));
        batchesFenced = keep(Counter.builder("tally.consumer.batches").tags(tags).tag("outcome", "fenced").register(registry));
        batchesFailed = keep(Counter.builder("tally.consumer.batches").tags(tags).tag("outcome", "failed").register(registry));
        rebalancesAssigned = keep(Counter.builder("tally.consumer.rebalances").tags(tags).tag("kind", "assigned").register(registry));
        rebalancesRevoked = keep(Counter.builder("tally.consumer.rebalances").tags(tags).tag("kind", "revoked").register(registry));
        rebalancesLost = keep(Counter.builder("tally.consumer.rebalances").tags(tags).tag("kind", "lost").register(registry));
        batchLatency = keep(Timer.builder("tally.consumer.batch.latency").description("From the poll of a batch's first records to its commit").tags(tags).register(registry));
        dbCommit = keep(Timer.builder("tally.consumer.db.transaction").description("Handler, offsets and commit of one batch").tags(tags).register(registry));
        keep(Gauge.builder("tally.consumer.last.progress", lastProgressMillis, v -> v.get() / 1000.0).description("Epoch seconds of the last committed batch").tags(tags).register(registry));
        keep(Gauge.builder("tally.consumer.paused.partitions", pausedPartitions, AtomicInteger::get).tags(tags).register(registry));
        keep(Gauge.builder("tally.consumer.halted.partitions", haltedPartitions, AtomicInteger::get)
                .description("Partitions stopped by this member until an operator moves their stored offset").tags(tags).register(registry));
        keep(FunctionCounter.builder("tally.consumer.errors.dropped", droppedErrors, LongSupplier::getAsLong).description("Error reports dropped because the listener was slow").tags(tags).register(registry));
    }

    private <M extends Meter> M keep(M meter) {
        meters.add(meter);
        return meter;
    }

    public void error(String phase) {
        registry.counter("tally.consumer.errors", tags.and("phase", phase)).increment();
    }

    void deadLettered(int n) {
        recordsDeadLettered.increment(n);
    }

    void committed(int records, long ageNanos, long transactionNanos) {
        recordsProcessed.increment(records);
        batchesCommitted.increment();
        batchLatency.record(ageNanos, TimeUnit.NANOSECONDS);
        dbCommit.record(transactionNanos, TimeUnit.NANOSECONDS);
        lastProgressMillis.set(System.currentTimeMillis());
    }

    void trackLag(Collection<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) {
            AtomicLong value = lag.computeIfAbsent(tp, p -> new AtomicLong(-1));
            lagGauges.computeIfAbsent(tp, p -> Gauge.builder("tally.consumer.lag", value, AtomicLong::get)
                    .description("Records behind the end of the partition, as the consumer last saw it")
                    .tags(tags).tag("topic", p.topic()).tag("partition", Integer.toString(p.partition()))
                    .register(registry));
        }
    }

    void lag(TopicPartition tp, long value) {
        AtomicLong v = lag.get(tp);
        if (v != null) {
            v.set(value);
        }
    }

    void untrackLag(Collection<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) {
            Meter m = lagGauges.remove(tp);
            if (m != null) {
                registry.remove(m);
            }
            lag.remove(tp);
        }
    }

    public long lastProgressMillis() {
        return lastProgressMillis.get();
    }

    @Override
    public void close() {
        untrackLag(new ArrayList<>(lagGauges.keySet()));
        for (Meter m : meters) {
            registry.remove(m);
        }
    }
}
