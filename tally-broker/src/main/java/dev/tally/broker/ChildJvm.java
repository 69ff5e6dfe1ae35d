package dev.tally.broker;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A Java main class run as a child process on this JVM's class path, for faults a thread cannot
 * suffer: {@code kill -9}, SIGSTOP/SIGCONT, SIGTERM. Standard output is collected line by line
 * (and echoed to a log file with standard error), so a test can wait for what the child says.
 *
 * <p>Children are killed when this JVM exits normally (a shutdown hook); a parent that is itself
 * killed with {@code kill -9} leaves them running.
 */
public final class ChildJvm implements AutoCloseable {

    private static final Set<ChildJvm> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(c -> c.process.destroyForcibly()), "child-jvm-reaper"));
    }

    private final Process process;
    private final String name;
    private final Path log;
    private final List<String> lines = new ArrayList<>();

    private ChildJvm(Process process, String name, Path log) {
        this.process = process;
        this.name = name;
        this.log = log;
        Thread reader = new Thread(this::readOutput, "child-out-" + name);
        reader.setDaemon(true);
        reader.start();
        LIVE.add(this);
    }

    /** Starts configuring a child running {@code mainClass}. */
    public static Builder builder(String mainClass) {
        return new Builder(mainClass);
    }

    /**
     * The class path a child should run with: under Maven Surefire/Failsafe the whole test class
     * path (the JVM's own may be a manifest-only jar), otherwise this JVM's.
     */
    public static String currentClassPath() {
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
    }

    private void readOutput() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                synchronized (lines) {
                    lines.add(line);
                    lines.notifyAll();
                }
                appendLog(line);
            }
        } catch (IOException ignored) {
            // the child is gone
        } finally {
            synchronized (lines) {
                lines.notifyAll();
            }
        }
    }

    private void appendLog(String line) {
        try {
            Files.writeString(log, "[out] " + line + System.lineSeparator(), StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException ignored) {
            // diagnostics only
        }
    }

    /** Every line the child printed so far. */
    public List<String> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    /**
     * Waits for a line matching {@code match} (printed before or after this call).
     *
     * @return the line
     * @throws IllegalStateException if the child exits or {@code timeout} passes first, with its last output
     */
    public String awaitLine(Predicate<String> match, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lines) {
            int seen = 0;
            while (true) {
                for (; seen < lines.size(); seen++) {
                    if (match.test(lines.get(seen))) {
                        return lines.get(seen);
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || (!process.isAlive() && seen == lines.size())) {
                    throw new IllegalStateException(name + (process.isAlive() ? " did not print the awaited line in " + timeout
                            : " exited with " + process.exitValue() + " before printing the awaited line") + "; log: " + log + "\n" + tail());
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(lines, Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
            }
        }
    }

    /** The last lines of the child's log (standard error and output), for failure messages. */
    public String tail() {
        try {
            List<String> all = Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
            return String.join("\n", all.subList(Math.max(0, all.size() - 30), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** The log file holding standard error (and a copy of standard output). */
    public Path log() {
        return log;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** The exit code; the child must have exited. */
    public int exitCode() {
        return process.exitValue();
    }

    /** {@code kill -9}: no shutdown hook, no cleanup. Waits until the process is gone. */
    public void kill() {
        process.destroyForcibly();
        waitFor(Duration.ofSeconds(30));
        LIVE.remove(this);
    }

    /**
     * SIGTERM, as an operator or an orchestrator stops a process, then waits up to
     * {@code timeout}; kills it if it is still there.
     *
     * @return the exit code (143 is the JVM's answer to SIGTERM when shutdown hooks ran)
     */
    public int terminate(Duration timeout) {
        resume(); // a stopped process cannot handle SIGTERM
        process.destroy();
        if (!waitFor(timeout)) {
            kill();
        }
        LIVE.remove(this);
        return process.exitValue();
    }

    /** SIGSTOP: the whole process freezes, as in a long GC pause or a VM migration. */
    public void suspend() {
        signal("STOP");
    }

    /** SIGCONT: a suspended process continues where it stopped. */
    public void resume() {
        if (process.isAlive()) {
            signal("CONT");
        }
    }

    private void signal(String signal) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + signal + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private boolean waitFor(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Kills the child if it still runs. */
    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
        LIVE.remove(this);
    }

    @Override
    public String toString() {
        return name + " (pid " + process.pid() + ")";
    }

    /** Configures a {@link ChildJvm}. */
    public static final class Builder {
        private final String mainClass;
        private final List<String> jvmArgs = new ArrayList<>();
        private final List<String> args = new ArrayList<>();
        private final Map<String, String> env = new LinkedHashMap<>();
        private String classPath = currentClassPath();
        private String name;
        private Path logDir;

        private Builder(String mainClass) {
            this.mainClass = mainClass;
        }

        /** JVM options such as {@code -Xmx256m}. */
        public Builder jvmArgs(String... options) {
            jvmArgs.addAll(List.of(options));
            return this;
        }

        /** Program arguments. */
        public Builder args(Collection<String> arguments) {
            args.addAll(arguments);
            return this;
        }

        /** Program arguments. */
        public Builder args(String... arguments) {
            return args(List.of(arguments));
        }

        /** An environment variable for the child. */
        public Builder env(String key, String value) {
            env.put(key, value);
            return this;
        }

        /** The class path; default {@link #currentClassPath()}. */
        public Builder classPath(String path) {
            this.classPath = path;
            return this;
        }

        /** A name for logs and thread names; default the main class's simple name. */
        public Builder name(String n) {
            this.name = n;
            return this;
        }

        /** Where the log file goes; default the system temporary directory. */
        public Builder logDir(Path dir) {
            this.logDir = dir;
            return this;
        }

        /** Starts the child. */
        public ChildJvm start() {
            String n = name != null ? name : mainClass.substring(mainClass.lastIndexOf('.') + 1);
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(jvmArgs);
            command.add("-cp");
            command.add(classPath);
            command.add(mainClass);
            command.addAll(args);
            try {
                Path dir = logDir != null ? logDir : Path.of(System.getProperty("java.io.tmpdir"));
                Files.createDirectories(dir);
                Path log = Files.createTempFile(dir, "child-" + n + "-", ".log");
                ProcessBuilder pb = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
                pb.environment().putAll(env);
                pb.directory(new File(System.getProperty("user.dir")));
                return new ChildJvm(pb.start(), n, log);
            } catch (IOException e) {
                throw new UncheckedIOException("could not start " + mainClass, e);
            }
        }
    }
}
