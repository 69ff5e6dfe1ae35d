package dev.tally.consumer.internal;

import dev.tally.consumer.ConsumerError;
import dev.tally.consumer.ConsumerError.Phase;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import dev.tally.consumer.FailurePolicy;
import dev.tally.consumer.Message;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
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
    private final HaltedPartitions halted;
    private final ReentrantLock commitGate = new ReentrantLock();
    private volatile Set<TopicPartition> blocked = Set.of();
    private volatile boolean failed;
    private volatile boolean aborted;
    private volatile Connection activeConnection;
    private volatile Thread thread;

    public BatchCommitter(Settings<V> s, Handoff<V> handoff, OffsetTable table, DeadLetterPublisher deadLetters,
            ErrorReporter errors, ConsumerMetrics metrics, Set<TopicPartition> owned,
            Set<TopicPartition> resyncPending, HaltedPartitions halted, Runnable onFatal) {
        this.s = s;
        this.handoff = handoff;
        this.table = table;
        this.deadLetters = deadLetters;
        this.errors = errors;
        this.metrics = metrics;
        this.backoff = new Backoff(s.retryBackoffInitial(), s.retryBackoffMax());
        this.owned = owned;
        this.resyncPending = resyncPending;
        this.halted = halted;
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

    /** How one unit of work (a batch, or a part of a split one) ended. */
    private enum Outcome {
        COMMITTED,
        /** Split in halves: commit them in order instead. */
        SPLIT,
        /** Fenced: its partitions are re-read from the stored offsets; drop what is left. */
        FENCED,
        /** Its partition was halted; the rest of the work goes on without it. */
        HALTED,
        /** The consumer stops (closing, or a failure it will not skip). */
        STOPPED
    }

    /**
     * Commits a batch. Under {@link FailurePolicy#DEAD_LETTER} a batch that fails for good is
     * split, and its halves are committed in order (a stack keeps the earlier half first, so
     * each partition's stored offset still moves forward without a gap).
     */
    private void process(PendingBatch<V> batch) {
        Deque<PendingBatch<V>> work = new ArrayDeque<>();
        work.push(batch);
        while (!work.isEmpty()) {
            PendingBatch<V> unit = work.peek();
            switch (commitWithRetries(unit)) {
                case COMMITTED, HALTED -> work.pop();
                case SPLIT -> {
                    work.pop();
                    List<PendingBatch<V>> halves = unit.halves();
                    work.push(halves.get(1));
                    work.push(halves.get(0));
                }
                case FENCED -> {
                    work.forEach(u -> resyncPending.addAll(u.allPartitions()));
                    return;
                }
                case STOPPED -> {
                    return;
                }
            }
        }
    }

    private Outcome commitWithRetries(PendingBatch<V> unit) {
        int attempt = 0;
        int hardFailures = 0;
        try {
            while (true) {
                // Partitions that moved to another member, are being re-read or were halted are not ours to write.
                unit.retain(tp -> owned.contains(tp) && !resyncPending.contains(tp) && !halted.contains(tp));
                if (unit.isEmpty()) {
                    return Outcome.COMMITTED;
                }
                if (stopping() && attempt > 0) {
                    return Outcome.STOPPED;
                }
                List<TopicPartition> misplaced = unit.misplaced();
                if (!misplaced.isEmpty()) {
                    for (PendingBatch.Part<V> p : unit.parts()) {
                        if (misplaced.contains(p.partition)) {
                            report(Phase.FENCED, p, attempt + 1, new IllegalStateException("records polled outside the range ["
                                    + p.expected + ", " + p.next + ") that the stored offset moves over; not committed, re-reading from the stored offset"));
                        }
                    }
                    resyncPending.addAll(misplaced);
                    continue;
                }
                attempt++;
                long started = System.nanoTime();
                try {
                    List<TopicPartition> fenced = s.tracer().commit(s.groupId(), unit, attempt, () -> commitOnce(unit));
                    if (!fenced.isEmpty()) {
                        metrics.batchesFenced.increment();
                        for (PendingBatch.Part<V> p : unit.parts()) {
                            if (fenced.contains(p.partition)) {
                                report(Phase.FENCED, p, attempt, new IllegalStateException(
                                        "stored offset is no longer " + p.expected + ": another consumer or an operator moved it; batch rolled back"));
                            }
                        }
                        return Outcome.FENCED;
                    }
                    succeeded(unit, started);
                    return Outcome.COMMITTED;
                } catch (Throwable e) {
                    metrics.batchesFailed.increment();
                    if (aborted) {
                        reportAll(Phase.CLOSE, unit, attempt, e);
                        return Outcome.STOPPED;
                    }
                    boolean deadLetterFailure = e instanceof DeadLetterFailure;
                    Phase phase = deadLetterFailure ? Phase.DEAD_LETTER : Phase.COMMIT;
                    Throwable cause = deadLetterFailure ? e.getCause() : e;
                    boolean transientFailure = Dialect.isTransient(cause);
                    if (!transientFailure && s.failurePolicy() == FailurePolicy.DEAD_LETTER) {
                        if (!deadLetterFailure && Dialect.isRefusal(cause) && unit.size() > 0) {
                            // The database refuses some value in here: narrow it down.
                            Message<V> sole = unit.soleMessage();
                            if (sole == null) {
                                return Outcome.SPLIT;
                            }
                            unit.refuse(sole, cause);
                            attempt = 0;
                            continue;
                        }
                        if (deadLetterFailure && unit.parts().size() > 1) {
                            return Outcome.SPLIT; // find the partition whose dead letter Kafka refuses
                        }
                    }
                    reportAll(phase, unit, attempt, cause);
                    if (!transientFailure && ++hardFailures >= s.maxBatchAttempts()) {
                        if (deadLetterFailure && s.failurePolicy() == FailurePolicy.DEAD_LETTER) {
                            halt(unit, cause);
                            return Outcome.HALTED;
                        }
                        failed = true;
                        reportAll(Phase.FATAL, unit, attempt, new IllegalStateException(
                                "batch failed " + hardFailures + " times with a non-transient error; the consumer stops rather than skip records", cause));
                        onFatal.run();
                        return Outcome.STOPPED;
                    }
                    blocked = unit.allPartitions();
                    try {
                        if (stopSignal.await(backoff.delayMillis(attempt), TimeUnit.MILLISECONDS)) {
                            return Outcome.STOPPED;
                        }
                    } catch (InterruptedException ie) {
                        return Outcome.STOPPED;
                    }
                }
            }
        } finally {
            blocked = Set.of();
        }
    }

    /** Stops the unit's one partition at its stored offset: its dead letter cannot be published, and skipping it is not an option. */
    private void halt(PendingBatch<V> unit, Throwable cause) {
        for (PendingBatch.Part<V> p : unit.parts()) {
            String reason = "a dead letter of this partition is refused by Kafka for good (" + cause
                    + "); the partition stops at offset " + p.expected + " and the others go on. Fix the dead-letter topic"
                    + " (size limit, permissions) and restart the member, or move the stored offset with OffsetStore.rewind";
            if (halted.halt(p.partition, reason, java.util.OptionalLong.of(p.expected))) {
                handoff.drop(Set.of(p.partition));
                report(Phase.HALTED, p, 1, new IllegalStateException(reason, cause));
            }
        }
    }

    /** Runs one attempt; returns the fenced partitions (empty when committed). */
    private List<TopicPartition> commitOnce(PendingBatch<V> batch) throws Exception {
        try (Connection c = ConnectionPool.borrow(s.dataSource(), s.databaseTimeout())) {
            activeConnection = c;
            try {
                c.setAutoCommit(false);
                batch.beginAttempt();
                if (batch.size() > 0) {
                    s.handler().handle(batch, GuardedConnection.wrap(c, table.dialect(c)));
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
                commitGate.lock();
                try {
                    // Once close gave up on this batch, nothing may commit: checked under the gate it takes.
                    if (aborted) {
                        throw new IllegalStateException("consumer closed before the batch could commit; rolled back");
                    }
                    c.commit();
                } finally {
                    commitGate.unlock();
                }
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

    /** Whether the last attempt failed and the committer is backing off. */
    public boolean blocked() {
        return !blocked.isEmpty();
    }

    /** The partitions of the batch the committer is backing off on: the poller pauses them. */
    public Set<TopicPartition> blockedPartitions() {
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
            while (blocked.isEmpty() && intersects(inFlight, partitions)) {
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
    public void abort(Duration gateWait) {
        aborted = true;
        stopSignal.countDown();
        try {
            // A commit already under way finishes (or fails) before close returns; none starts after.
            if (commitGate.tryLock(gateWait.toNanos(), TimeUnit.NANOSECONDS)) {
                commitGate.unlock();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
