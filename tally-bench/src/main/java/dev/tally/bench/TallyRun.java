package dev.tally.bench;

import dev.tally.app.aggregate.Aggregator;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;

/**
 * (e), (f) Tally: the real {@code bin/tally aggregate} code path — {@link Aggregator} with the
 * application's decoder and handler, one group member — into a fresh store. The clock starts at
 * its first commit and stops when the committed records reach the end of the topic (the
 * library's {@code tally.consumer.records} counter, which moves only after a commit).
 */
final class TallyRun implements Contender {

    private final Store.Kind kind;

    TallyRun(Store.Kind kind) {
        this.kind = kind;
    }

    @Override
    public char letter() {
        return kind == Store.Kind.SQLITE ? 'e' : 'f';
    }

    @Override
    public String name() {
        return (kind == Store.Kind.SQLITE ? "(e)" : "(f)") + " Tally -> " + (kind == Store.Kind.SQLITE ? "SQLite" : "PostgreSQL");
    }

    @Override
    public Progress.Run run(Trial t) throws Exception {
        Progress progress = new Progress(t.records());
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (Store store = Store.create(kind, t.postgres(), t.dir())) {
            String group = "bench-tally-" + java.util.UUID.randomUUID();
            double batches;
            try (Aggregator aggregator = Aggregator.start(t.bootstrapServers(), t.topic(), group, store.jdbcUrl, 1, Map.of(), meters)) {
                while (!progress.finished()) {
                    Thread.sleep(2);
                    if (aggregator.failed()) {
                        throw new IllegalStateException("the aggregator failed; see the log");
                    }
                    progress.at((long) meters.find("tally.consumer.records").tag("outcome", "processed")
                            .counters().stream().mapToDouble(Counter::count).sum());
                }
                // Read before close, which removes the meters.
                batches = meters.find("tally.consumer.batches").tag("outcome", "committed").counters().stream()
                    .mapToDouble(Counter::count).sum();
            }
            String wrong = t.reference().difference(StoreReader.read(store.jdbcUrl));
            return progress.result((wrong == null ? "exact" : "WRONG: " + wrong)
                    + String.format(" (%,.0f batches of %,.0f records on average)", batches, t.records() / Math.max(batches, 1)));
        }
    }
}
