package dev.tally.consumer.internal;

import dev.tally.consumer.ConsumerError;
import dev.tally.consumer.ConsumerError.Phase;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;

/**
 * The committing thread: runs the handler and the offset compare-and-set of each batch in one
 * database transaction, while the polling thread reads and decodes the next batch.
 *
 * <p>Outcomes of one batch: committed; fenced (a stored offset was not the expected one, so the
 * transaction is rolled back and the partitions are re-read from the database); or failed (rolled
 * back, partitions paused, retried with backoff: forever while the failure is transient, a bounded
 * number of times otherwise, then the consumer stops rather than skip data).
 */
public final class BatchCommitter<V> implements Runnable {

    private static final Duration TAKE_WAIT = Duration.ofMillis(200);

    private final Settings<V> s;
    private final Handoff<V> handoff;
    private final OffsetTable table;
    private final DeadLetterPublisher deadLetters;
    private final ErrorReporter errors;
    private final ConsumerMetrics metrics;
    private final Backoff backoff;
    private final Set<TopicPartition> owned;
    private final Set<TopicPartition> resyncPending;
    private final Runnable onFatal;

    private final ConcurrentLinkedQueue<Map<TopicPartition, Long>> committed = new ConcurrentLinkedQueue<>();
    private final CountDownLatch stopSignal = new CountDownLatch(1);
    private final Object inFlightMonitor = new Object();
    private final AtomicLong commits = new AtomicLong();
    private volatile Set<TopicPartition> inFlight = Set.of();
    private volatile boolean blocked;
    private volatile boolean failed;
    private volatile boolean aborted;
    private volatile Connection activeConnection;
    private volatile Thread thread;

    public BatchCommitter(Settings<V> s, Handoff<V> handoff, OffsetTable table, DeadLetterPublisher deadLetters,
            ErrorReporter errors, ConsumerMetrics metrics, Set<TopicPartition> owned,
            Set<TopicPartition> resyncPending, Runnable onFatal) {
        this.s = s;
        this.handoff = handoff;
        this.table = table;
        this.deadLetters = deadLetters;
        this.errors = errors;
        this.metrics = metrics;
        this.backoff = new Backoff(s.retryBackoffInitial(), s.retryBackoffMax());
        this.owned = owned;
        this.resyncPending = resyncPending;
        this.onFatal = onFatal;
    }

    @Override
    public void run() {
        thread = Thread.currentThread();
        try {
            while (!stopping()) {
                PendingBatch<V> batch;
                try {
                    batch = handoff.take(TAKE_WAIT, resyncPending);
                } catch (InterruptedException e) {
                    break;
                }
                if (batch == null || batch.isEmpty()) {
                    continue;
                }
                inFlight = batch.allPartitions();
                try {
                    process(batch);
                } finally {
                    synchronized (inFlightMonitor) {
                        inFlight = Set.of();
                        inFlightMonitor.notifyAll();
                    }
                }
            }
        } finally {
            synchronized (inFlightMonitor) {
                inFlightMonitor.notifyAll();
            }
        }
    }

    private boolean stopping() {
        return stopSignal.getCount() == 0 || failed;
    }

    private void process(PendingBatch<V> batch) {
        int attempt = 0;
        int hardFailures = 0;
        while (true) {
            // Partitions that moved to another member, or are being re-read, are not ours to write.
            batch.retain(tp -> owned.contains(tp) && !resyncPending.contains(tp));
            if (batch.isEmpty()) {
                blocked = false;
                return;
            }
            if (stopping() && attempt > 0) {
                return;
            }
            attempt++;
            long started = System.nanoTime();
            try {
                List<TopicPartition> fenced = commitOnce(batch);
                blocked = false;
                if (!fenced.isEmpty()) {
                    metrics.batchesFenced.increment();
                    resyncPending.addAll(batch.allPartitions());
                    for (PendingBatch.Part<V> p : batch.parts()) {
                        if (fenced.contains(p.partition)) {
                            report(Phase.FENCED, p, attempt, new IllegalStateException(
                                    "stored offset is no longer " + p.expected + ": another consumer or an operator moved it; batch rolled back"));
                        }
                    }
                    return;
                }
                succeeded(batch, started);
                return;
            } catch (Throwable e) {
                metrics.batchesFailed.increment();
                if (aborted) {
                    reportAll(Phase.CLOSE, batch, attempt, e);
                    return;
                }
                Phase phase = e instanceof DeadLetterFailure ? Phase.DEAD_LETTER : Phase.COMMIT;
                Throwable cause = e instanceof DeadLetterFailure ? e.getCause() : e;
                reportAll(phase, batch, attempt, cause);
                // A dead-letter failure is the broker's; like a database outage it is waited out, never skipped.
                boolean transientFailure = phase == Phase.DEAD_LETTER || Dialect.isTransient(cause);
                if (!transientFailure && ++hardFailures >= s.maxBatchAttempts()) {
                    failed = true;
                    reportAll(Phase.FATAL, batch, attempt, new IllegalStateException(
                            "batch failed " + hardFailures + " times with a non-transient error; the consumer stops rather than skip records", cause));
                    onFatal.run();
                    return;
                }
                blocked = true;
                try {
                    if (stopSignal.await(backoff.delayMillis(attempt), TimeUnit.MILLISECONDS)) {
                        return;
                    }
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /** Runs one attempt; returns the fenced partitions (empty when committed). */
    private List<TopicPartition> commitOnce(PendingBatch<V> batch) throws Exception {
        try (Connection c = s.dataSource().getConnection()) {
            activeConnection = c;
            try {
                c.setAutoCommit(false);
                batch.beginAttempt();
                if (batch.size() > 0) {
                    s.handler().handle(batch, c);
                }
                List<TopicPartition> fenced = table.advance(c, s.groupId(), batch.advances());
                if (!fenced.isEmpty()) {
                    c.rollback();
                    return fenced;
                }
                List<DeadLetter> letters = batch.deadLetters();
                try {
                    deadLetters.publish(letters, s.deadLetterTimeout());
                } catch (Exception e) {
                    throw new DeadLetterFailure(e);
                }
                if (aborted) {
                    throw new IllegalStateException("consumer closed before the batch could commit; rolled back");
                }
                c.commit();
                if (!letters.isEmpty()) {
                    metrics.deadLettered(letters.size());
                    for (DeadLetter l : letters) {
                        errors.report(new ConsumerError(l.phase(), s.groupId(), l.record().topic(), l.record().partition(),
                                l.record().offset(), l.record().offset() + 1, 1, l.asException(), Instant.now()));
                    }
                }
                return List.of();
            } catch (Throwable t) {
                rollbackQuietly(c);
                throw t;
            } finally {
                activeConnection = null;
            }
        }
    }

    private void succeeded(PendingBatch<V> batch, long started) {
        Map<TopicPartition, Long> offsets = new HashMap<>();
        for (PendingBatch.Part<V> p : batch.parts()) {
            offsets.put(p.partition, p.next);
        }
        committed.add(offsets);
        commits.incrementAndGet();
        metrics.committed(batch.size() - batch.rejectedCount(), batch.ageNanos(), System.nanoTime() - started);
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (Exception ignored) {
            // The connection is gone; the database rolls the transaction back on its own.
        }
    }

    private void reportAll(Phase phase, PendingBatch<V> batch, int attempt, Throwable cause) {
        for (PendingBatch.Part<V> p : batch.parts()) {
            report(phase, p, attempt, cause);
        }
    }

    private void report(Phase phase, PendingBatch.Part<V> p, int attempt, Throwable cause) {
        errors.report(new ConsumerError(phase, s.groupId(), p.partition.topic(), p.partition.partition(),
                p.expected, p.next, attempt, cause, Instant.now()));
    }

    /** Offsets committed since the last call, for the best-effort copy to Kafka. */
    public Map<TopicPartition, Long> drainCommitted() {
        Map<TopicPartition, Long> merged = new HashMap<>();
        for (Map<TopicPartition, Long> m; (m = committed.poll()) != null; ) {
            m.forEach((tp, o) -> merged.merge(tp, o, Math::max));
        }
        return merged;
    }

    /** Whether the last attempt failed and the committer is backing off: the poller pauses. */
    public boolean blocked() {
        return blocked;
    }

    public boolean failed() {
        return failed;
    }

    public boolean idle() {
        return inFlight.isEmpty();
    }

    public long commits() {
        return commits.get();
    }

    /**
     * Waits, at most {@code timeout}, until no batch of {@code partitions} is being committed, so
     * that the member taking them over starts from the result. Returns at once while the
     * committer is backing off: such a batch is dropped from its retry anyway.
     */
    public void awaitNotInFlight(Set<TopicPartition> partitions, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (inFlightMonitor) {
            while (!blocked && intersects(inFlight, partitions)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(inFlightMonitor, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private static boolean intersects(Set<TopicPartition> a, Set<TopicPartition> b) {
        for (TopicPartition tp : a) {
            if (b.contains(tp)) {
                return true;
            }
        }
        return false;
    }

    /** Asks the committer to finish the batch in hand (no retries) and take no other. */
    public void stop() {
        stopSignal.countDown();
    }

    /**
     * Gives up on the batch in hand: it is rolled back, never committed. The connection is
     * aborted on another thread so that a database that does not answer cannot hold up shutdown.
     */
    public void abort() {
        aborted = true;
        stopSignal.countDown();
        Connection c = activeConnection;
        if (c != null) {
            Thread closer = new Thread(() -> {
                try {
                    c.abort(Runnable::run);
                } catch (Exception e) {
                    try {
                        c.close();
                    } catch (Exception ignored) {
                        // Nothing more can be done; the transaction was never committed.
                    }
                }
            }, "tally-abort");
            closer.setDaemon(true);
            closer.start();
        }
        Thread t = thread;
        if (t != null) {
            t.interrupt();
        }
    }

    /** Marks a failure to publish dead letters, so that it is reported as such. */
    private static final class DeadLetterFailure extends Exception {
        DeadLetterFailure(Exception cause) {
            super(cause);
        }
    }
}
