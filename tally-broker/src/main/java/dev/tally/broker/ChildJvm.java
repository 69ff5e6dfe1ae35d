package dev.tally.broker;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * A Java main class running in a child JVM, with this JVM's classpath: what a test needs to
 * {@code kill -9}, SIGTERM, SIGSTOP or SIGCONT a real process and read what it prints.
 *
 * <pre>{@code
 * ChildJvm child = ChildJvm.builder(WordCountProcess.class).jvmArgs("-Xmx128m").args("topic=words").start();
 * child.awaitLine(line -> line.startsWith("STARTED"), Duration.ofSeconds(60));
 * child.kill();                                   // SIGKILL, then waits for the process to end
 * }</pre>
 *
 * <h2>Output</h2>
 * Standard output is read line by line on a thread of its own; {@link #lines()} and
 * {@link #awaitLine} see every line from the first one on (the oldest are dropped past
 * {@value #MAX_LINES} lines). Standard error goes to a file if {@link Builder#stderrTo} says so,
 * else its last {@value #STDERR_TAIL_LINES} lines are kept in memory for {@link #stderrTail()};
 * failure messages of this class include that tail. Standard input belongs to the parent watch
 * (below) and cannot be used by the child's code.
 *
 * <h2>Classpath and JVM options</h2>
 * The child's classpath is {@code surefire.test.class.path} when that system property is set
 * (under Surefire and Failsafe, whose own {@code java.class.path} may be a lone booter jar), else
 * {@code java.class.path}; {@link Builder#classpath} replaces it. The jar or directory holding
 * this class is always added. Unless the caller's JVM options choose otherwise, the child gets
 * {@code -Xmx256m} and the serial collector: machines running several children may have two
 * cores.
 *
 * <h2>Cleanup</h2>
 * A child never outlives its parent for long. A shutdown hook of the parent kills (SIGKILL) every
 * child still running when the parent exits normally or on SIGTERM/SIGINT. And the child watches
 * its standard input, a pipe whose other end only the parent holds: when the parent dies in any
 * way, {@code kill -9} included, the child sees end-of-input and exits (halting after 10 s if its
 * own shutdown hooks hang). Only a child that is SIGSTOPped at that moment stays, stopped, until
 * it is continued or killed. {@link #close()} kills the child; use try-with-resources or a
 * {@code finally} block in tests.
 */
public final class ChildJvm implements AutoCloseable {

    static final int MAX_LINES = 100_000;
    static final int STDERR_TAIL_LINES = 200;
    private static final Duration REAP_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(5);

    private static final Set<ChildJvm> RUNNING = ConcurrentHashMap.newKeySet();
    private static final Thread KILL_ON_EXIT = new Thread(() -> RUNNING.forEach(c -> c.process.destroyForcibly()),
            "tally-child-jvm-cleanup");

    static {
        Runtime.getRuntime().addShutdownHook(KILL_ON_EXIT);
    }

    private final String name;
    private final Process process;
    private final Path stderrFile;
    private final Object lock = new Object();
    private final Deque<String> lines = new ArrayDeque<>();
    private final Deque<String> stderrTail = new ArrayDeque<>();
    private final List<Thread> readers = new ArrayList<>();
    private final OutputStream parentPipe;
    private long dropped;
    private boolean stdoutClosed;
    private volatile boolean suspended;

    private ChildJvm(Builder b) {
        this.name = b.name;
        this.stderrFile = b.stderrFile;
        ProcessBuilder pb = new ProcessBuilder(b.command());
        pb.environment().putAll(b.env);
        if (b.workingDir != null) {
            pb.directory(b.workingDir.toFile());
        }
        pb.redirectInput(ProcessBuilder.Redirect.PIPE);
        if (stderrFile != null) {
            pb.redirectError(ProcessBuilder.Redirect.appendTo(stderrFile.toFile()));
        }
        try {
            this.process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("could not start a JVM for " + b.mainClass, e);
        }
        // Held, never written, never closed: its end tells the child that the parent is gone.
        this.parentPipe = process.getOutputStream();
        RUNNING.add(this);
        process.onExit().thenRun(() -> RUNNING.remove(this));
        readers.add(reader("stdout", process.getInputStream(), this::addLine, this::stdoutEnded));
        if (stderrFile == null) {
            readers.add(reader("stderr", process.getErrorStream(), this::addStderrLine, () -> { }));
        }
    }

    /** Starts configuring a child that runs {@code mainClass}'s {@code main}. */
    public static Builder builder(String mainClass) {
        return new Builder(mainClass);
    }

    /** Starts configuring a child that runs {@code mainClass}'s {@code main}. */
    public static Builder builder(Class<?> mainClass) {
        return new Builder(mainClass.getName());
    }

    /** The child's process id. */
    public long pid() {
        return process.pid();
    }

    /** Whether the process is still running (a suspended one is). */
    public boolean isAlive() {
        return process.isAlive();
    }

    /** Whether the process is {@link #suspend() suspended} (SIGSTOP) and not resumed since. */
    public boolean isSuspended() {
        return suspended && process.isAlive();
    }

    /** The exit code, or empty while the process runs; 137 after {@link #kill()}, 143 after SIGTERM without a handler's own code. */
    public OptionalInt exitCode() {
        return process.isAlive() ? OptionalInt.empty() : OptionalInt.of(process.exitValue());
    }

    /** A copy of the standard-output lines read so far, oldest first. */
    public List<String> lines() {
        synchronized (lock) {
            return new ArrayList<>(lines);
        }
    }

    /**
     * Waits until a line of standard output, printed at any time since the start, matches; lines
     * already printed count.
     *
     * @return the first matching line
     * @throws IllegalStateException if {@code timeout} passes, or if the process ends first; the
     *     message has the last lines of output and of standard error
     */
    public String awaitLine(Predicate<String> matches, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long next = 0;
        synchronized (lock) {
            while (true) {
                long index = Math.max(next, dropped);
                for (var it = lines.stream().skip(index - dropped).iterator(); it.hasNext(); index++) {
                    String line = it.next();
                    if (matches.test(line)) {
                        return line;
                    }
                }
                next = index;
                if (stdoutClosed) {
                    break;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException(this + " printed no line awaited within " + timeout.toMillis()
                            + " ms" + diagnostics());
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for " + this, e);
                }
            }
        }
        // The output ends a moment before the process does: give it that moment, for its exit code.
        awaitExit(DRAIN_TIMEOUT);
        throw new IllegalStateException(this + " ended its output before printing the line awaited"
                + exitDescription() + diagnostics());
    }

    /** Waits until a line of standard output matches {@code regex} ({@link java.util.regex.Matcher#find() found} in it). */
    public String awaitLine(Pattern regex, Duration timeout) {
        return awaitLine(line -> regex.matcher(line).find(), timeout);
    }

    /**
     * Waits up to {@code timeout} for the process to end by itself.
     *
     * @return its exit code, or empty if it still runs
     */
    public OptionalInt awaitExit(Duration timeout) {
        try {
            if (process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                drain();
                return OptionalInt.of(process.exitValue());
            }
            return OptionalInt.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return exitCode();
        }
    }

    /**
     * Kills the process with SIGKILL (also a suspended one) and waits until it is gone and its
     * output has been read. Does nothing if it has already ended.
     *
     * @throws IllegalStateException if it is still there after 30 s
     */
    public void kill() {
        // Through the handle: Process.destroyForcibly() would also close our end of the pipes and
        // lose lines the child printed just before it died.
        process.toHandle().destroyForcibly();
        reap(REAP_TIMEOUT);
    }

    /**
     * Sends SIGTERM (and SIGCONT, should the process be suspended) and waits up to
     * {@code timeout} for it to exit; a process still running then is killed with SIGKILL.
     *
     * @return the exit code: 143 for a JVM that ran its shutdown hooks and exited on the signal,
     *     137 if it had to be killed, or whatever code the process chose
     */
    public int terminate(Duration timeout) {
        // Through the handle: Process.destroy() would also close the child's standard input,
        // which the child takes for its parent's death, and our end of its output.
        process.toHandle().destroy();
        if (suspended) {
            resume();
        }
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.toHandle().destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.toHandle().destroyForcibly();
        }
        reap(REAP_TIMEOUT);
        return process.exitValue();
    }

    /** Stops the process with SIGSTOP: it stays, frozen, with its sockets and locks, until {@link #resume()}. */
    public void suspend() {
        signal("STOP");
        suspended = true;
    }

    /** Continues a {@link #suspend() suspended} process with SIGCONT. */
    public void resume() {
        signal("CONT");
        suspended = false;
    }

    /** The file standard error goes to, if {@link Builder#stderrTo} chose one; else null. */
    public Path stderrFile() {
        return stderrFile;
    }

    /** The last lines of standard error (from the file if there is one), for diagnostics. */
    public String stderrTail() {
        List<String> tail;
        if (stderrFile != null) {
            try {
                List<String> all = Files.readAllLines(stderrFile, StandardCharsets.UTF_8);
                tail = all.subList(Math.max(0, all.size() - STDERR_TAIL_LINES), all.size());
            } catch (IOException e) {
                return "(cannot read " + stderrFile + ": " + e.getMessage() + ")";
            }
        } else {
            synchronized (lock) {
                tail = new ArrayList<>(stderrTail);
            }
        }
        return String.join(System.lineSeparator(), tail);
    }

    /** Kills the process if it still runs. */
    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
    }

    @Override
    public String toString() {
        return "child JVM " + name + " (pid " + process.pid() + ")";
    }

    private void signal(String signal) {
        if (!process.isAlive()) {
            throw new IllegalStateException(this + " is not running" + exitDescription());
        }
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
                    .redirectErrorStream(true).start();
            String out = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + signal + " " + process.pid() + " failed: " + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run kill -" + signal, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while signalling " + this, e);
        }
    }

    private void reap(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException(this + " did not end within " + timeout.toSeconds() + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + this + " to end", e);
        }
        suspended = false;
        drain();
    }

    /** Lets the readers reach end-of-stream, so that {@link #lines()} is complete once the process is gone. */
    private void drain() {
        long deadline = System.nanoTime() + DRAIN_TIMEOUT.toNanos();
        for (Thread reader : readers) {
            try {
                reader.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private String exitDescription() {
        OptionalInt code = exitCode();
        return code.isPresent() ? " (exit code " + code.getAsInt() + ")" : "";
    }

    private String diagnostics() {
        List<String> out;
        synchronized (lock) {
            out = new ArrayList<>(lines);
        }
        out = out.subList(Math.max(0, out.size() - 20), out.size());
        String nl = System.lineSeparator();
        return nl + "--- last lines of standard output ---" + nl + String.join(nl, out)
                + nl + "--- last lines of standard error ---" + nl + stderrTail();
    }

    private void addLine(String line) {
        synchronized (lock) {
            lines.addLast(line);
            if (lines.size() > MAX_LINES) {
                lines.removeFirst();
                dropped++;
            }
            lock.notifyAll();
        }
    }

    private void stdoutEnded() {
        synchronized (lock) {
            stdoutClosed = true;
            lock.notifyAll();
        }
    }

    private void addStderrLine(String line) {
        synchronized (lock) {
            stderrTail.addLast(line);
            if (stderrTail.size() > STDERR_TAIL_LINES) {
                stderrTail.removeFirst();
            }
        }
    }

    private Thread reader(String stream, InputStream in, java.util.function.Consumer<String> sink, Runnable atEnd) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    sink.accept(line);
                }
            } catch (IOException ignored) {
                // the process is gone; what was read is kept
            } finally {
                atEnd.run();
            }
        }, "child-jvm-" + name + "-" + process.pid() + "-" + stream);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /**
     * The classpath a child gets by default: {@code surefire.test.class.path} when set, else
     * {@code java.class.path}, plus the location of this class.
     */
    public static String defaultClasspath() {
        String cp = System.getProperty("surefire.test.class.path");
        if (cp == null || cp.isBlank()) {
            cp = System.getProperty("java.class.path");
        }
        return withOwnLocation(cp);
    }

    private static String withOwnLocation(String classpath) {
        CodeSource source = ChildJvm.class.getProtectionDomain().getCodeSource();
        if (source == null || source.getLocation() == null) {
            return classpath;
        }
        String own;
        try {
            own = Path.of(source.getLocation().toURI()).toString();
        } catch (URISyntaxException | IllegalArgumentException e) {
            return classpath;
        }
        List<String> entries = Arrays.asList(classpath.split(File.pathSeparator));
        return entries.contains(own) ? classpath : own + File.pathSeparator + classpath;
    }

    /** Configures a {@link ChildJvm}; options and arguments accumulate. */
    public static final class Builder {
        private final String mainClass;
        private String name;
        private final List<String> jvmArgs = new ArrayList<>();
        private final List<String> args = new ArrayList<>();
        private final Map<String, String> env = new LinkedHashMap<>();
        private String classpath;
        private Path workingDir;
        private Path stderrFile;

        private Builder(String mainClass) {
            this.mainClass = mainClass;
            this.name = mainClass.substring(mainClass.lastIndexOf('.') + 1);
        }

        /** JVM options such as {@code -Xmx128m} or {@code -Dkey=value}, added after the defaults (so they win). */
        public Builder jvmArgs(String... options) {
            return jvmArgs(Arrays.asList(options));
        }

        /** JVM options, added after the defaults. */
        public Builder jvmArgs(List<String> options) {
            jvmArgs.addAll(options);
            return this;
        }

        /** Arguments for the main class, added after those given before. */
        public Builder args(String... arguments) {
            return args(Arrays.asList(arguments));
        }

        /** Arguments for the main class, added after those given before. */
        public Builder args(List<String> arguments) {
            args.addAll(arguments);
            return this;
        }

        /** An environment variable, on top of this process's environment. */
        public Builder env(String variable, String value) {
            env.put(variable, value);
            return this;
        }

        /** Replaces the default classpath (this JVM's; see {@link ChildJvm}). */
        public Builder classpath(String classpath) {
            this.classpath = classpath;
            return this;
        }

        /** The child's working directory; default this process's. */
        public Builder workingDir(Path dir) {
            this.workingDir = dir;
            return this;
        }

        /** Appends standard error to this file instead of keeping its tail in memory. */
        public Builder stderrTo(Path file) {
            this.stderrFile = file;
            return this;
        }

        /** A short name for messages and thread names; default the main class's simple name. */
        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** Starts a new child process with these settings; can be called again for another. */
        public ChildJvm start() {
            return new ChildJvm(this);
        }

        List<String> command() {
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            if (jvmArgs.stream().noneMatch(a -> a.startsWith("-Xmx") || a.startsWith("-XX:MaxHeapSize"))) {
                cmd.add("-Xmx256m");
            }
            if (jvmArgs.stream().noneMatch(a -> a.matches("-XX:[+-]Use\\w+GC"))) {
                cmd.add("-XX:+UseSerialGC");
            }
            cmd.addAll(jvmArgs);
            cmd.add("-cp");
            cmd.add(classpath != null ? withOwnLocation(classpath) : defaultClasspath());
            cmd.add(ParentWatch.class.getName());
            cmd.add(mainClass);
            cmd.addAll(args);
            return cmd;
        }
    }
}
