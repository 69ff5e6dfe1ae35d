package dev.tally.chaos;

import dev.tally.consumer.OffsetStore;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Samples the stored offsets every 200 ms during the run and counts any that moved backwards:
 * fencing must make that impossible, whatever the faults. Sampling stops being possible while
 * PostgreSQL restarts; those samples are skipped, not counted.
 */
final class OffsetSampler implements AutoCloseable {

    final AtomicLong samples = new AtomicLong();
    final AtomicLong backwards = new AtomicLong();
    private final Map<Integer, Long> last = new HashMap<>();
    private final OffsetStore store;
    private final Thread thread;
    private volatile boolean running = true;

    OffsetSampler(OffsetStore store) {
        this.store = store;
        this.thread = new Thread(this::run, "offset-sampler");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        while (running) {
            try {
                store.positions(Topology.GROUP).forEach((tp, position) -> {
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
