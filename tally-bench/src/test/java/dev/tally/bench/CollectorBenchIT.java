package dev.tally.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The end-to-end part of {@code bin/tally bench --collector}, small and without wrk: against a
 * real {@code bin/tally run} in a child JVM, a steady stream of beacons completes, each answered
 * 202, each counted exactly once, and every sampled beacon seen in {@code /api/views}. Speed is not
 * asserted.
 */
class CollectorBenchIT {

    private Path dir;

    @AfterEach
    void deleteDir() throws Exception {
        if (dir != null) {
            BenchCommand.deleteTree(dir);
        }
    }

    @Test
    @Timeout(240)
    void everyBeaconOfASteadyStreamIsAcceptedAndCountedOnce() throws Exception {
        dir = Files.createTempDirectory("collector-bench-it-");
        CollectorBench bench = new CollectorBench(System.out, dir);
        CollectorBench.EndToEnd e2e;
        try (CollectorBench.Server run = bench.startRun()) {
            e2e = bench.endToEnd(run.base(), 200, 5);
        }
        assertThat(e2e.sent()).isEqualTo(1_000);
        assertThat(e2e.accepted()).as("answered 202").isEqualTo(1_000);
        assertThat(e2e.otherAnswers() + e2e.failed()).isZero();
        assertThat(e2e.counted()).as("views counted on the site").isEqualTo(1_000);
        assertThat(e2e.mostViewsOfAPage()).as("most views of one page").isEqualTo(1);
        assertThat(e2e.latenciesMillis()).hasSize(20);
        assertThat(e2e.unseen()).isZero();
        assertThat(e2e.valid()).isTrue();
    }
}
