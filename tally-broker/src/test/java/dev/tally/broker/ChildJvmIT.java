package dev.tally.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class ChildJvmIT {

    @Test
    void runsAMainClassWithThisClasspathArgumentsAndEnvironment() {
        try (ChildJvm child = ChildJvm.builder(Chatter.class).env("TALLY_CHILD_TEST", "42")
                .args("print=hello", "env=TALLY_CHILD_TEST").args(List.of("exit=3")).start()) {
            assertThat(child.awaitLine(Pattern.compile("^ENV "), Duration.ofSeconds(30))).isEqualTo("ENV 42");
            assertThat(child.awaitExit(Duration.ofSeconds(30))).hasValue(3);
            assertThat(child.lines()).containsExactly("hello", "ENV 42", "HOOK");
            assertThat(child.exitCode()).hasValue(3);
            assertThat(child.stderrTail()).contains("chatter on stderr");
        }
    }

    @Test
    void awaitingALineThatNeverComesFailsWithTheChildsOutput() {
        try (ChildJvm child = ChildJvm.builder(Chatter.class).args("print=only this", "exit=0").start()) {
            assertThatThrownBy(() -> child.awaitLine(l -> l.equals("never"), Duration.ofSeconds(30)))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("exit code 0")
                    .hasMessageContaining("only this")
                    .hasMessageContaining("chatter on stderr");
        }
        try (ChildJvm child = ChildJvm.builder(Chatter.class).args("sleep").start()) {
            assertThatThrownBy(() -> child.awaitLine(l -> l.equals("never"), Duration.ofMillis(300)))
                    .hasMessageContaining("within 300 ms");
        }
    }

    @Test
    void suspendFreezesResumeContinuesTerminateRunsShutdownHooks() throws Exception {
        try (ChildJvm child = ChildJvm.builder(Chatter.class).args("tick").start()) {
            child.awaitLine(l -> l.equals("TICK 5"), Duration.ofSeconds(30));
            child.suspend();
            Thread.sleep(200); // lines in flight arrive
            int frozen = child.lines().size();
            Thread.sleep(500);
            assertThat(child.lines()).hasSize(frozen);
            assertThat(child.isAlive()).isTrue();
            child.resume();
            child.awaitLine(l -> l.equals("TICK " + (frozen + 5)), Duration.ofSeconds(30));

            child.suspend();
            assertThat(child.terminate(Duration.ofSeconds(20))).isEqualTo(143);
            assertThat(child.lines()).contains("HOOK"); // the ticking thread may print after it
        }
    }

    @Test
    void killIsSigkill(@TempDir Path dir) {
        Path stderr = dir.resolve("child.stderr");
        ChildJvm child = ChildJvm.builder(Chatter.class).stderrTo(stderr).args("print=up", "sleep").start();
        child.awaitLine("up"::equals, Duration.ofSeconds(30));
        child.kill();
        assertThat(child.isAlive()).isFalse();
        assertThat(child.exitCode()).hasValue(137);
        assertThat(child.lines()).containsExactly("up"); // no shutdown hook ran
        assertThat(child.stderrFile()).isEqualTo(stderr);
        assertThat(child.stderrTail()).contains("chatter on stderr");
    }

    @Test
    void aChildWhoseParentIsGoneExits() throws Exception {
        // What the parent's death looks like to the child: its standard input ends.
        Process p = new ProcessBuilder(ChildJvm.builder(Chatter.class).args("print=up", "sleep").command())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            assertThat(new String(p.getInputStream().readNBytes(3))).isEqualTo("up" + System.lineSeparator().charAt(0));
            p.getOutputStream().close();
            assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isEqualTo(143);
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void theDefaultClasspathHasThisModulesClassesAndItsDependencies() {
        String cp = ChildJvm.defaultClasspath();
        assertThat(cp.split(File.pathSeparator)).anyMatch(e -> e.contains("kafka_2.13"));
        assertThat(cp.split(File.pathSeparator)).anyMatch(e -> Files.isDirectory(Path.of(e, "dev", "tally", "broker"))
                || e.contains("tally-broker"));
    }
}
