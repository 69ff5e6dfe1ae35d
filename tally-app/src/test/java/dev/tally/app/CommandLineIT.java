package dev.tally.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/tally}'s contract with scripts: exit 0 ok, 2 bad usage, 1 runtime failure, and a
 * one-line reason on standard error, never a stack trace.
 */
class CommandLineIT {

    @TempDir
    Path dir;

    @Test
    void helpListsEveryCommandAndEachHasItsOwn() throws Exception {
        TallyProcess help = TallyProcess.run(dir, "--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.stdout()).contains("run", "broker", "collect", "aggregate", "serve");
        for (String command : new String[] {"run", "broker", "collect", "aggregate", "serve"}) {
            TallyProcess p = TallyProcess.run(dir, command, "--help");
            assertThat(p.exitCode()).as(command).isZero();
            assertThat(p.stdout()).as(command).contains("Usage: tally " + command);
        }
        assertThat(TallyProcess.run(dir, "run", "--help").stdout()).contains("--port", "--data-dir", "--kafka-port");
        assertThat(TallyProcess.run(dir, "collect", "--help").stdout())
                .contains("--bootstrap-servers", "--topic", "--kafka", "--port", "--sites", "--rate-limit");
        assertThat(TallyProcess.run(dir, "serve", "--help").stdout()).contains("--db", "--port");
        for (String command : new String[] {"run", "collect", "serve"}) { // one HTTP front, the same options
            assertThat(TallyProcess.run(dir, command, "--help").stdout()).as(command).contains("--bind", "--admin-port",
                    "--admin-bind", "--read-timeout", "--max-connections", "--h2c");
        }
    }

    @Test
    void badUsageIsExitTwoWithOneLine() throws Exception {
        assertOneLine(TallyProcess.run(dir), 2, "Usage: tally");
        assertOneLine(TallyProcess.run(dir, "frobnicate"), 2, "Unmatched argument");
        assertOneLine(TallyProcess.run(dir, "aggregate", "--db", "jdbc:oracle:thin:@127.0.0.1:1521/x"), 2,
                "tally: --db must be a jdbc:sqlite:, jdbc:postgresql:, jdbc:mysql: or jdbc:mariadb: URL, not jdbc:oracle:thin:@127.0.0.1:1521/x (see bin/tally --help)");
        assertOneLine(TallyProcess.run(dir, "serve", "--port", "eighty"), 2, "Invalid value for option '--port'");
        assertOneLine(TallyProcess.run(dir, "serve", "--admin-port", "maybe"), 2,
                "Invalid value for option '--admin-port': 'maybe' is not a port (0-65535), same or off");
        assertOneLine(TallyProcess.run(dir, "collect", "--read-timeout", "0"), 2, "Invalid value for option '--read-timeout'");
        assertOneLine(TallyProcess.run(dir, "run", "--max-connections", "-1"), 2, "Invalid value for option '--max-connections'");
        assertOneLine(TallyProcess.run(dir, "collect", "--kafka", "acks=0", "--bootstrap-servers", "127.0.0.1:1"), 2,
                "cannot be changed");
        assertOneLine(TallyProcess.run(dir, "replay"), 2, "give --from earliest|TIME");
        assertOneLine(TallyProcess.run(dir, "replay", "--from", "yesterday"), 2, "--from must be epoch milliseconds");
    }

    @Test
    void runtimeFailuresAreExitOneWithOneLine() throws Exception {
        assertOneLine(TallyProcess.run(dir, "aggregate", "--db", "jdbc:postgresql://127.0.0.1:1/nowhere"), 1,
                "tally aggregate: cannot open the database jdbc:postgresql://127.0.0.1:1/nowhere");
        assertOneLine(TallyProcess.run(dir, "collect", "--bootstrap-servers", "127.0.0.1:1", "--port", "0"), 1,
                "tally collect: Kafka at 127.0.0.1:1 is unreachable");
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertOneLine(TallyProcess.run(dir, "serve", "--port", String.valueOf(busy.getLocalPort())), 1,
                    "tally serve: port " + busy.getLocalPort() + " on 127.0.0.1 is in use");
        }
        assertOneLine(TallyProcess.run(dir, "replay", "--from", "earliest", "--db", "jdbc:postgresql://127.0.0.1:1/nowhere"), 1,
                "tally replay: cannot open the database jdbc:postgresql://127.0.0.1:1/nowhere");
    }

    /** The exit code, and a last line of standard error that says why; no stack trace anywhere. */
    private static void assertOneLine(TallyProcess p, int exit, String reason) {
        String err = p.stderr().strip();
        assertThat(p.exitCode()).as(err).isEqualTo(exit);
        assertThat(err).doesNotContain("\tat ").doesNotContain("Exception in thread");
        if (exit == 2 && reason.startsWith("Usage")) {
            assertThat(err).contains(reason);
            return;
        }
        String last = err.substring(err.lastIndexOf('\n') + 1);
        assertThat(last).contains(reason);
    }
}
