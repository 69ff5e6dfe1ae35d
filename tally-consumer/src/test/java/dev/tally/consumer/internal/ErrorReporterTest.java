package dev.tally.consumer.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.consumer.ConsumerError;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ErrorReporterTest {

    private static ConsumerError error(int n) {
        return new ConsumerError(ConsumerError.Phase.COMMIT, "g", "t", 0, n, n + 1, 1, new RuntimeException("e" + n), Instant.now());
    }

    @Test
    void aBlockedListenerNeverBlocksTheReporterAndDropsAreCounted() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<ConsumerError> seen = new CopyOnWriteArrayList<>();
        AtomicInteger counted = new AtomicInteger();
        ErrorReporter reporter = new ErrorReporter(e -> {
            seen.add(e);
            try {
                release.await();
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
        }, 4, "test-errors", e -> counted.incrementAndGet());

        long started = System.nanoTime();
        for (int i = 0; i < 100; i++) {
            reporter.report(error(i));
        }
        long tookMillis = (System.nanoTime() - started) / 1_000_000;
        // 100 reports against a listener that never returns: all were accepted or dropped at once.
        assertThat(tookMillis).isLessThan(5_000);
        assertThat(counted.get()).isEqualTo(100);
        // One report in the listener, at most four queued; the rest dropped.
        assertThat(reporter.dropped()).isBetween(95L, 96L);
        release.countDown();
        await().atMost(Duration.ofSeconds(5)).until(() -> seen.size() + reporter.dropped() == 100);
        reporter.close(Duration.ofSeconds(1));
    }

    @Test
    void aThrowingListenerDoesNotStopDelivery() {
        List<ConsumerError> seen = new CopyOnWriteArrayList<>();
        ErrorReporter reporter = new ErrorReporter(e -> {
            seen.add(e);
            throw new IllegalStateException("listener bug");
        }, 16, "test-errors", e -> {});
        reporter.report(error(1));
        reporter.report(error(2));
        await().atMost(Duration.ofSeconds(5)).until(() -> seen.size() == 2);
        reporter.close(Duration.ofSeconds(1));
        assertThat(reporter.dropped()).isZero();
    }
}
