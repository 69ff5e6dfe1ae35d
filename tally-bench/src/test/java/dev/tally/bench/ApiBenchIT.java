package dev.tally.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * A small {@code bin/tally bench --api}: the store is filled, {@code serve} starts on it and every
 * dashboard query answers 200 (the command exits 0 only then). Speed is not asserted.
 */
class ApiBenchIT {

    @Test
    @Timeout(240)
    void everyDashboardQueryAnswersOverAFilledStore() {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        int exit;
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
        try {
            exit = new CommandLine(new BenchCommand()).execute("--api", "--api-days", "2", "--api-views-per-day", "3000");
        } finally {
            System.setOut(stdout);
        }
        String report = printed.toString(StandardCharsets.UTF_8);
        stdout.println(report);
        assertThat(report).contains("/api/summary", "/api/breakdown", "/api/now", "p99 ms").doesNotContain("answered");
        assertThat(exit).isZero();
    }
}
