package dev.tally.chaos;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
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
    private final String jdbcUrl;
    private final Thread thread;
    private volatile boolean running = true;

    OffsetSampler(String jdbcUrl) {
        this.jdbcUrl = jdbcUrl;
        this.thread = new Thread(this::run, "offset-sampler");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        while (running) {
            try (Connection c = DriverManager.getConnection(jdbcUrl);
                    PreparedStatement ps = c.prepareStatement(
                            "SELECT partition_id, next_offset FROM tally_offsets WHERE group_id = ? AND topic = ?")) {
                ps.setString(1, Topology.GROUP);
                ps.setString(2, Topology.TOPIC);
                while (running) {
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            long offset = rs.getLong(2);
                            Long before = last.put(rs.getInt(1), offset);
                            if (before != null && offset < before) {
                                backwards.incrementAndGet();
                                System.err.printf("chaos: stored offset of partition %d moved back from %d to %d%n",
                                        rs.getInt(1), before, offset);
                            }
                        }
                    }
                    samples.incrementAndGet();
                    Thread.sleep(200);
                }
            } catch (SQLException e) {
                sleep(500); // the database restarts, or the table is not there yet
            } catch (InterruptedException e) {
                return;
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
