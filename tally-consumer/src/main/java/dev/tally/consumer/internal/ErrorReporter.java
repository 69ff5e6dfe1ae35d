package dev.tally.consumer.internal;

import dev.tally.consumer.ConsumerError;
import dev.tally.consumer.ErrorListener;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers error reports to the user's listener on a thread of its own through a bounded queue.
 * Reporting never blocks the caller: a full queue drops the report and counts it.
 */
public final class ErrorReporter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger("dev.tally.consumer.TallyConsumer");

    private final BlockingQueue<ConsumerError> queue;
    private final ErrorListener listener;
    private final AtomicLong dropped = new AtomicLong();
    private final Consumer<ConsumerError> onReport;
    private final Thread thread;
    private volatile boolean closing;

    public ErrorReporter(ErrorListener listener, int capacity, String name, Consumer<ConsumerError> onReport) {
        this.listener = listener;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.onReport = onReport;
        this.thread = new Thread(this::deliver, name);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** The default listener: one log line per failure. */
    public static ErrorListener logging() {
        return error -> {
            if (error.phase() == ConsumerError.Phase.FATAL) {
                LOG.error(error.describe(), error.cause());
            } else if (error.attempt() <= 1 && error.phase() != ConsumerError.Phase.KAFKA_COMMIT
                    && error.phase() != ConsumerError.Phase.DECODE && error.phase() != ConsumerError.Phase.REJECT) {
                // A stack trace helps with the first failure of a batch; a poison record's reason is in its line.
                LOG.warn(error.describe(), error.cause());
            } else {
                LOG.warn(error.describe());
            }
        };
    }

    public void report(ConsumerError error) {
        onReport.accept(error);
        if (closing || !queue.offer(error)) {
            dropped.incrementAndGet();
        }
    }

    public long dropped() {
        return dropped.get();
    }

    private void deliver() {
        while (true) {
            ConsumerError next;
            try {
                next = queue.poll(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (next == null) {
                if (closing) {
                    return;
                }
                continue;
            }
            try {
                listener.onError(next);
            } catch (Throwable t) {
                LOG.warn("error listener failed on {}", next.describe(), t);
            }
        }
    }

    /** Stops accepting reports and gives the listener until {@code timeout} to take what is queued. */
    public void close(Duration timeout) {
        closing = true;
        try {
            thread.join(Math.max(1, timeout.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            thread.interrupt();
        }
        dropped.addAndGet(queue.size());
        queue.clear();
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(1));
    }
}
