package dev.tally.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tally.app.PageViewTruth;
import dev.tally.app.TallyProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The download as a user gets it: the built {@code tally-VERSION.tar.gz} unpacked by {@code tar},
 * its {@code bin/tally} run with an environment that has a Java runtime and nothing else — no
 * Maven, no checkout, no build.
 */
class DistributionIT {

    private static final String VERSION = System.getProperty("tally.version");

    @TempDir
    static Path unpacked;
    /** A PATH of only what the launcher itself needs: bash and two coreutils. */
    @TempDir
    static Path tools;
    private static Path launcher;

    @BeforeAll
    static void unpack() throws Exception {
        Path archive = Path.of(System.getProperty("tally.dist.archive"));
        assertThat(archive).exists();
        Process tar = new ProcessBuilder("tar", "-xzf", archive.toString(), "-C", unpacked.toString()).inheritIO().start();
        assertThat(tar.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(tar.exitValue()).isZero();
        Path home = unpacked.resolve("tally-" + VERSION);
        launcher = home.resolve("bin").resolve("tally");
        assertThat(Files.getPosixFilePermissions(launcher)).contains(PosixFilePermission.OWNER_EXECUTE,
                PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_EXECUTE);
        assertThat(home.resolve("lib").resolve("tally-app-" + VERSION + ".jar")).exists();
        assertThat(home.resolve("README.md")).exists();
        assertThat(home.resolve("CHANGELOG.md")).exists();

        for (String tool : new String[] {"bash", "dirname", "readlink"}) {
            Files.createSymbolicLink(tools.resolve(tool), which(tool));
        }
    }

    @Test
    void versionWithJavaHomeAndNoJavaOnThePath(@TempDir Path work) throws Exception {
        Map<String, String> env = environment(false);
        env.put("JAVA_HOME", System.getProperty("java.home"));
        // JAVA_OPTS reach the JVM: it prints its settings, the class path of lib/ among them.
        env.put("JAVA_OPTS", "-XshowSettings:properties");
        TallyProcess version = TallyProcess.run(launcher, env, work, "--version");
        assertThat(version.exitCode()).as(version.stderr()).isZero();
        assertThat(version.stdout().strip()).isEqualTo("tally " + VERSION);
        assertThat(version.stderr()).contains("java.class.path").contains("tally-app-" + VERSION + ".jar");
        assertThat(version.stderr()).doesNotContain("building");
    }

    @Test
    void helpThroughASymlinkWithJavaOnThePath(@TempDir Path work) throws Exception {
        Path link = work.resolve("tally");
        Files.createSymbolicLink(link, launcher);
        Map<String, String> env = environment(true);
        TallyProcess help = TallyProcess.run(link, env, work, "--help");
        assertThat(help.exitCode()).as(help.stderr()).isZero();
        assertThat(help.stdout()).contains("run", "broker", "collect", "aggregate", "serve", "lag", "audit", "chaos")
                .doesNotContain("bench");

        TallyProcess noMaven = TallyProcess.run(tools.resolve("bash"), env, work, "-c", "command -v mvn");
        assertThat(noMaven.exitCode()).as("mvn is not on the PATH of these tests").isNotZero();
    }

    @Test
    void theAggregatingCommandsRunOnTheThroughputCollectorUnlessJavaOptsChooseOne(@TempDir Path work) throws Exception {
        Map<String, String> env = environment(true);
        env.put("JAVA_OPTS", "-XX:+PrintCommandLineFlags");
        for (String[] args : new String[][] {{"aggregate", "--help"}, {"replay", "--help"}, {"--config", "tally.properties", "aggregate", "--help"}}) {
            TallyProcess p = TallyProcess.run(launcher, env, work, args);
            assertThat(p.stdout()).as(String.join(" ", args)).contains("-XX:+UseParallelGC");
        }
        for (String command : new String[] {"run", "serve", "collect"}) {
            TallyProcess p = TallyProcess.run(launcher, env, work, command, "--help");
            assertThat(p.stdout()).as(command).contains("PrintCommandLineFlags").doesNotContain("UseParallelGC");
        }
        env.put("JAVA_OPTS", "-XX:+PrintCommandLineFlags -XX:+UseSerialGC");
        TallyProcess chosen = TallyProcess.run(launcher, env, work, "aggregate", "--help");
        assertThat(chosen.stdout()).contains("-XX:+UseSerialGC").doesNotContain("UseParallelGC");
    }

    @Test
    void noJavaIsOneLineAndExitOne(@TempDir Path work) throws Exception {
        TallyProcess p = TallyProcess.run(launcher, environment(false), work, "--version");
        assertThat(p.exitCode()).isEqualTo(1);
        assertThat(p.stderr().strip()).startsWith("tally: no Java found");
    }

    @Test
    void runCountsABeaconAndStopsOnSigterm(@TempDir Path work) throws Exception {
        Path data = work.resolve("data");
        Map<String, String> env = environment(true);
        env.put("JAVA_OPTS", "-Xmx384m -XX:+UseSerialGC");
        try (TallyProcess run = TallyProcess.start(launcher, env, work, "run", "--data-dir", data.toString(),
                "--port", String.valueOf(TallyProcess.freePort()),
                "--kafka-port", String.valueOf(TallyProcess.freeKafkaPort()))) {
            String base = run.await("dashboard:\\s+(http://\\S+)/", Duration.ofSeconds(120));
            JsonNode health = PageViewTruth.get(base + "/health");
            assertThat(health.get("status").asText()).isEqualTo("ready");

            PageViewTruth truth = new PageViewTruth();
            truth.sendBeacons(base, 1, 1);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300)).ignoreExceptions()
                    .untilAsserted(() -> truth.assertApiMatches(base));

            assertThat(run.terminate(Duration.ofSeconds(60))).isEqualTo(143);
            assertThat(run.stderr()).contains("tally: stopping").doesNotContain("\tat ");
        }
        assertThat(data.resolve("tally.db")).exists();
        assertThat(work.resolve("tally-data")).doesNotExist();
    }

    /** Only the tools, and a {@code java} that is a link to this JVM's when {@code javaOnPath}. */
    private static Map<String, String> environment(boolean javaOnPath) throws IOException {
        Path path = tools;
        if (javaOnPath) {
            path = Files.createTempDirectory(tools, "with-java");
            for (String tool : new String[] {"bash", "dirname", "readlink"}) {
                Files.createSymbolicLink(path.resolve(tool), tools.resolve(tool));
            }
            Files.createSymbolicLink(path.resolve("java"), Path.of(System.getProperty("java.home"), "bin", "java"));
        }
        Map<String, String> env = new HashMap<>();
        env.put("PATH", path.toString());
        env.put("HOME", System.getProperty("user.home"));
        // The Java process dies with this test JVM, however the test ends.
        env.put("TALLY_MAIN_WRAPPER", "dev.tally.broker.ParentWatch");
        return env;
    }

    private static Path which(String tool) {
        for (String dir : System.getenv("PATH").split(":")) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        throw new IllegalStateException(tool + " is not on the PATH");
    }
}
