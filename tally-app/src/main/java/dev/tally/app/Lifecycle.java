package dev.tally.app;

import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The life of a long-running command — {@code run}, {@code collect}, {@code aggregate},
 * {@code serve} — the same for each. Parts start one by one and each says how it stops; when a
 * start fails, what had started is stopped again, last first, so that a port in use does not
 * leave a broker running. Once up, the command prints its ready lines and waits for SIGTERM or
 * Ctrl-C (exit 0) or for a part to fail by itself (exit 1, with the reason), then stops every part,
 * last started first: the HTTP front stops taking requests before the producer flushes and the
 * aggregator commits, and the broker goes last.
 */
public final class Lifecycle {

    private final String command;
    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private final CountDownLatch stopped = new CountDownLatch(1);

    /** @param command the command's name, for messages */
    public Lifecycle(String command) {
        this.command = command;
    }

    /**
     * Remembers how to stop a part that has just started.
     *
     * @return {@code part}, for chaining
     */
    public <T> T started(T part, AutoCloseable stop) {
        synchronized (started) {
            started.push(stop);
        }
        return part;
    }

    /** Stops every part started so far, last first; safe to call more than once and from any thread. */
    public void stopAll() {
        synchronized (started) {
            while (!started.isEmpty()) {
                try {
                    started.pop().close();
                } catch (Exception e) {
                    System.err.println("tally " + command + ": while stopping: " + e);
                }
            }
        }
    }

    /**
     * Prints {@code ready}, then waits until the process is asked to stop or {@code failure} names
     * a reason (checked every second), and stops every part.
     *
     * @param failure what went wrong by itself, or {@code null} while all is well
     * @param stopping printed to standard error when a signal starts the stop, or {@code null}
     * @return the exit status: 0 when stopped by a signal, 1 after a failure
     */
    public int awaitStop(Supplier<String> failure, List<String> ready, String stopping) throws InterruptedException {
        Thread hook = new Thread(() -> {
            if (stopping != null) {
                System.err.println("tally: " + stopping);
            }
            stop();
        }, command + "-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        PrintStream out = System.out;
        ready.forEach(out::println);
        out.flush();
        while (!stopped.await(1, TimeUnit.SECONDS)) {
            String problem = failure.get();
            if (problem != null) {
                System.err.println("tally " + command + ": " + problem);
                stopAll();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException exiting) {
                    // The JVM is already stopping; the hook finds nothing left to stop.
                }
                return 1;
            }
        }
        return 0;
    }

    /** What the shutdown hook does: stop every part, then let {@link #awaitStop} return. */
    void stop() {
        stopAll();
        stopped.countDown();
    }
}
