package dev.tally.chaos;

import dev.tally.app.aggregate.Generation;
import dev.tally.consumer.OffsetStore;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * Samples the stored offsets every 200 ms during the run and counts any that moved backwards:
 * fencing must make that impossible, whatever the faults — but for a replay's switch to a new
 * generation, which the sample reads in the same snapshot. Sampling stops being possible while
 * PostgreSQL restarts; those samples are skipped, not counted.
 */
final class OffsetSampler implements AutoCloseable {

    final AtomicLong samples = new AtomicLong();
    final AtomicLong backwards = new AtomicLong();
    private final Map<Integer, Long> last = new HashMap<>();
    private final DataSource dataSource;
    private final OffsetStore store;
    private final Thread thread;
    private volatile boolean running = true;

    OffsetSampler(DataSource dataSource) {
        this.dataSource = dataSource;
        this.store = new OffsetStore(dataSource);
        this.thread = new Thread(this::run, "offset-sampler");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        int generation = 0;
        while (running) {
            try (Connection c = dataSource.getConnection()) {
                c.setAutoCommit(false);
                c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
                int now = Generation.current(c).number();
                if (now != generation) {
                    // A replay's switch hands the group over to the new generation's offsets: the one move back allowed.
                    last.clear();
                    generation = now;
                }
                store.positions(c, Topology.GROUP).forEach((tp, position) -> {
                    if (!tp.topic().equals(Topology.TOPIC)) {
                        return;
                    }
                    Long before = last.put(tp.partition(), position.nextOffset());
                    if (before != null && position.nextOffset() < before) {
                        backwards.incrementAndGet();
                        System.err.printf("chaos: stored offset of partition %d moved back from %d to %d%n",
                                tp.partition(), before, position.nextOffset());
                    }
                });
                c.rollback();
                samples.incrementAndGet();
                sleep(200);
            } catch (SQLException e) {
                sleep(500); // the database restarts, or the table is not there yet
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join(5_000);
    }
}
