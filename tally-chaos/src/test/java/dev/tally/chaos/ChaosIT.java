package dev.tally.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.DriverManager;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The chaos harness in the build: a short run with at least one fault of each kind and a fixed
 * seed must pass, and the same load on the naive aggregator must be caught counting twice.
 */
class ChaosIT {

    private static final String POSTGRES = "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres";

    @BeforeAll
    static void postgresIsThere() {
        try (var c = DriverManager.getConnection(POSTGRES)) {
            c.isValid(5);
        } catch (Exception e) {
            if ("true".equals(System.getenv("CI"))) {
                throw new IllegalStateException("PostgreSQL is not reachable at " + POSTGRES, e);
            }
            Assumptions.abort("PostgreSQL is not reachable at " + POSTGRES + "; the chaos tests are skipped");
        }
    }

    @Test
    void aShortRunWithEveryFaultCountsExactly() {
        Run run = chaos("--seed", "20261125", "--minutes", "2", "--min-each", "1");
        assertThat(run.exit).as(run.output).isZero();
        assertThat(run.output).contains("RESULT: PASS");
        assertThat(number(run.output, "duplicated counts \\(store > truth\\)")).isZero();
        assertThat(number(run.output, "lost \\(acknowledged, not in Kafka\\)")).isZero();
        for (FaultKind kind : FaultKind.values()) {
            assertThat(number(run.output, Pattern.quote(kind.label()))).as(kind.label()).isPositive();
        }
    }

    @Test
    void theNaiveAggregatorIsCaughtCountingTwice() {
        Run run = chaos("--naive", "--seed", "7", "--minutes", "1", "--faults", "aggregator-kill", "--min-each", "3");
        assertThat(run.exit).as(run.output).isEqualTo(1);
        assertThat(run.output).contains("RESULT: FAIL");
        assertThat(number(run.output, "duplicated counts \\(store > truth\\)")).isPositive();
    }

    private record Run(int exit, String output) {}

    private static Run chaos(String... args) {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream tee = new PrintStream(new java.io.OutputStream() {
            @Override
            public void write(int b) {
                captured.write(b);
                original.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                captured.write(b, off, len);
                original.write(b, off, len);
            }
        }, true, StandardCharsets.UTF_8);
        System.setOut(tee);
        try {
            int exit = new CommandLine(new ChaosCommand()).execute(args);
            return new Run(exit, captured.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(original);
        }
    }

    /** The number at the end of the report line that begins with {@code label}. */
    private static long number(String output, String label) {
        Matcher m = Pattern.compile("(?m)^" + label + "[^\\n]*?\\s(\\d+)$").matcher(output);
        assertThat(m.find()).as("a line %s in%n%s", label, output).isTrue();
        return Long.parseLong(m.group(1));
    }
}
