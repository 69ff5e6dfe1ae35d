package dev.tally.bench;

import dev.tally.app.aggregate.Aggregator;
import dev.tally.app.aggregate.PageViewAggregator;
import dev.tally.app.event.PageView;
import java.util.ArrayList;
import java.util.List;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.Iterator;
import java.util.Properties;

/**
 * (g) The store's own ingest limit for this schema: the workload's events, regenerated without
 * Kafka, in batches of {@link #BATCH} through the application's handler on one JDBC connection,
 * one transaction per batch, no offsets, no library. Tally cannot beat it; it says how close it
 * comes.
 */
final class StoreLimit implements Contender {

    /** The aggregator's own cap in this JVM: the same transactions, without what reads and commits them. */
    static final int BATCH = Aggregator.BATCH_RECORDS;

    private final Store.Kind kind;

    StoreLimit(Store.Kind kind) {
        this.kind = kind;
    }

    @Override
    public char letter() {
        return 'g';
    }

    @Override
    public String name() {
        return "(g) store limit: batched JDBC, no Kafka, " + (kind == Store.Kind.SQLITE ? "SQLite" : "PostgreSQL");
    }

    @Override
    public boolean appliesTo(Workload workload) {
        return workload.beacons();
    }

    @Override
    public Progress.Run run(Trial t) throws Exception {
        PageViewAggregator handler = new PageViewAggregator();
        List<PageView> batch = new ArrayList<>(BATCH);
        try (Store store = Store.create(kind, t.postgres(), t.dir())) {
            Aggregator.migrate(store.jdbcUrl);
            Properties sqlite = new Properties();
            // The settings the library's pool gives SQLite.
            sqlite.setProperty("journal_mode", "WAL");
            sqlite.setProperty("synchronous", "NORMAL");
            try (Connection db = DriverManager.getConnection(Aggregator.writeUrl(store.jdbcUrl), kind == Store.Kind.SQLITE ? sqlite : new Properties())) {
                db.setAutoCommit(false);
                Iterator<Workload.Event> events = t.workload().iterator();
                long writing = 0;
                CpuClock.Cpu cpu = new CpuClock.Cpu(0, 0, 0);
                while (events.hasNext()) {
                    batch.clear();
                    while (events.hasNext() && batch.size() < BATCH) {
                        batch.add(events.next().view());
                    }
                    // Only the writes are timed, not making the events.
                    long start = System.nanoTime();
                    CpuClock.Reading before = CpuClock.now();
                    handler.write(batch, db);
                    db.commit();
                    writing += System.nanoTime() - start;
                    CpuClock.Cpu spent = CpuClock.now().minus(before);
                    cpu = new CpuClock.Cpu(cpu.contender() + spent.contender(), cpu.broker() + spent.broker(), cpu.database() + spent.database());
                }
                String wrong = t.reference().difference(StoreReader.read(store.jdbcUrl));
                double seconds = writing / 1e9;
                long n = t.records();
                return new Progress.Run(n / seconds, n, seconds, wrong == null ? "exact" : "WRONG: " + wrong,
                        new CpuClock.Cpu(cpu.contender() / n, cpu.broker() / n, cpu.database() / n));
            }
        }
    }
}
