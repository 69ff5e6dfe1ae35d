package dev.tally.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * A small {@code bin/tally bench}: every contender on both workloads completes, and every exact
 * one counts exactly (the command exits 0 only then). Speed is not asserted.
 */
class BenchIT {

    @Test
    @Timeout(300)
    void everyContenderCompletesAndTheExactOnesCountExactly() {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        int exit;
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
        try {
            exit = new CommandLine(new BenchCommand()).execute("--quick", "--events", "20000", "--beacon-events", "5000",
                    "--paths", "500", "--naive-records", "300", "--streams-threads", "1",
                    "--tally-threads", "2");
        } finally {
            System.setOut(stdout);
        }
        String report = printed.toString(StandardCharsets.UTF_8);
        stdout.println(report);
        assertThat(report).contains("(a) poll and discard", "(b) plain consumer", "(c) Kafka Streams EOS", "(d) per-record upsert",
                "(e) Tally -> SQLite", "(f) Tally -> PostgreSQL", "(g) store limit");
        assertThat(report).doesNotContain("WRONG");
        assertThat(exit).isZero();
    }
}
