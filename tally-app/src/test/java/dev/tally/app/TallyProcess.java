package dev.tally.app;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.tally.broker.ChildJvm;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bin/tally} as a user runs it: the launcher script, in a working directory of the test's
 * choosing, as a child process. It runs on the test's class path (no build inside the build) and
 * dies with the test JVM, however that ends: the script's Java process watches the standard input
 * this object holds open.
 */
public final class TallyProcess implements AutoCloseable {

    private static final Path SCRIPT = locateScript();

    private final Process process;
    private final List<String> stdout = new ArrayList<>();
    private final Path stderr;
    @SuppressWarnings("unused") // held open: its end-of-file tells the child that the test JVM is gone
    private final OutputStream stdin;

    private TallyProcess(Path script, Map<String, String> environment, Path workDir, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(script.toString());
        cmd.addAll(args);
        stderr = Files.createTempFile("tally-stderr-", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectError(stderr.toFile());
        pb.environment().clear();
        pb.environment().putAll(environment);
        process = pb.start();
        stdin = process.getOutputStream();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (stdout) {
                        stdout.add(line);
                        stdout.notifyAll();
                    }
                }
            } catch (IOException e) {
                // The process is gone; what it printed is kept.
            }
        }, "tally-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts {@code bin/tally args…} in {@code workDir}. */
    public static TallyProcess start(Path workDir, String... args) throws IOException {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("TALLY_CLASSPATH", ChildJvm.defaultClasspath());
        env.put("TALLY_MAIN_WRAPPER", "dev.tally.broker.ParentWatch");
        env.put("TALLY_JAVA_OPTS", "-Xmx384m -XX:+UseSerialGC");
        return new TallyProcess(SCRIPT, env, workDir, List.of(args));
    }

    /** Starts {@code bin/tally args…} in {@code workDir} with {@code systemProperties} set in its JVM (test-only switches). */
    public static TallyProcess startWithProperties(Path workDir, Map<String, String> systemProperties, String... args) throws IOException {
        StringBuilder options = new StringBuilder("-Xmx384m -XX:+UseSerialGC");
        systemProperties.forEach((k, v) -> options.append(" -D").append(k).append('=').append(v));
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("TALLY_CLASSPATH", ChildJvm.defaultClasspath());
        env.put("TALLY_MAIN_WRAPPER", "dev.tally.broker.ParentWatch");
        env.put("TALLY_JAVA_OPTS", options.toString());
        return new TallyProcess(SCRIPT, env, workDir, List.of(args));
    }

    /**
     * Starts another launcher (an unpacked distribution's {@code bin/tally}) in {@code workDir},
     * with exactly {@code environment} and nothing of this process's.
     */
    public static TallyProcess start(Path launcher, Map<String, String> environment, Path workDir, String... args)
            throws IOException {
        return new TallyProcess(launcher, environment, workDir, List.of(args));
    }

    /** Runs {@code bin/tally args…} to its end (at most a minute) and returns it, for the exit code and output. */
    public static TallyProcess run(Path workDir, String... args) throws Exception {
        return awaitExit(start(workDir, args), args);
    }

    /** Runs another launcher to its end (at most a minute), as {@link #start(Path, Map, Path, String...)} starts it. */
    public static TallyProcess run(Path launcher, Map<String, String> environment, Path workDir, String... args)
            throws Exception {
        return awaitExit(start(launcher, environment, workDir, args), args);
    }

    private static TallyProcess awaitExit(TallyProcess p, String... args) throws InterruptedException {
        if (!p.process.waitFor(60, TimeUnit.SECONDS)) {
            p.close();
            throw new IllegalStateException("bin/tally " + String.join(" ", args) + " did not end within 60 s");
        }
        return p;
    }

    /** Waits for a line of standard output matching {@code regex} and returns its first group (or the line). */
    public String await(String regex, Duration timeout) throws InterruptedException {
        Pattern p = Pattern.compile(regex);
        long deadline = System.nanoTime() + timeout.toNanos();
        int seen = 0;
        synchronized (stdout) {
            while (true) {
                for (; seen < stdout.size(); seen++) {
                    Matcher m = p.matcher(stdout.get(seen));
                    if (m.find()) {
                        return m.groupCount() > 0 ? m.group(1) : m.group();
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || !process.isAlive() && seen == stdout.size()) {
                    throw new IllegalStateException("no line matching " + regex + " from bin/tally (alive: "
                            + process.isAlive() + "); stdout: " + stdout + "; stderr: " + stderr());
                }
                stdout.wait(Math.max(1, Math.min(200, TimeUnit.NANOSECONDS.toMillis(left))));
            }
        }
    }

    /** Sends SIGTERM (what Ctrl-C and a service manager do) and waits for the exit code. */
    public int terminate(Duration timeout) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly().waitFor();
            throw new IllegalStateException("bin/tally did not stop within " + timeout + " of SIGTERM; stderr: " + stderr());
        }
        return process.exitValue();
    }

    public int exitCode() {
        return process.exitValue();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public String stdout() {
        synchronized (stdout) {
            return String.join("\n", stdout);
        }
    }

    public String stderr() {
        try {
            return Files.readString(stderr, UTF_8);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    /** A TCP port free at the time of the call. */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A port for {@code run --kafka-port}: free, and the next one (its controller's) free too. */
    public static int freeKafkaPort() throws IOException {
        for (int i = 0; i < 50; i++) {
            int port = freePort();
            try (ServerSocket next = new ServerSocket(port + 1)) {
                return port;
            } catch (IOException taken) {
                // try another
            }
        }
        throw new IllegalStateException("no two consecutive free ports");
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static Path locateScript() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            Path candidate = dir.resolve("bin").resolve("tally");
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
            dir = dir.getParent();
        }
        throw new IllegalStateException("bin/tally not found above " + Path.of("").toAbsolutePath());
    }
}
