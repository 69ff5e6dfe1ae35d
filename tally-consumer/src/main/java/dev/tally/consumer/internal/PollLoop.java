package dev.tally.consumer.internal;

import dev.tally.consumer.ConsumerError;
import dev.tally.consumer.ConsumerError.Phase;
import dev.tally.consumer.Message;
import dev.tally.consumer.StartPosition;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.InvalidOffsetException;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The polling thread: owns the {@link Consumer}, seeks assigned partitions to their stored
 * offsets, decodes records into the waiting batch, pauses partitions while the database cannot
 * keep up or is down (so that the member stays in its group), and copies committed offsets to
 * Kafka for lag tools.
 */
public final class PollLoop<V> implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(PollLoop.class);
    private static final Duration REVOKE_WAIT = Duration.ofSeconds(5);
    private static final Duration KAFKA_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration POSITION_WAIT = Duration.ofMillis(50);

    private final Settings<V> s;
    private final Consumer<byte[], byte[]> consumer;
    private final Handoff<V> handoff;
    private final BatchCommitter<V> committer;
    private final OffsetTable table;
    private final ErrorReporter errors;
    private final ConsumerMetrics metrics;
    private final Backoff backoff;
    private final Set<TopicPartition> owned;
    private final Set<TopicPartition> resyncPending;
    private final HaltedPartitions halted;
    private final int maxPollRecords;
    private final PollBudget budget;

    // Poll-thread state.
    private final Map<TopicPartition, Long> expectedNext = new HashMap<>();
    // The stored offsets as this member last wrote or read them: lag counts from there, since
    // records polled but not committed are not consumed.
    private final Map<TopicPartition, Long> storedNext = new HashMap<>();
    private final Set<TopicPartition> uninitialised = new HashSet<>();
    // Partitions this member has seen a stored offset for: if their row is missing later, it
    // vanished, and starting over from the start position would count everything again.
    private final Set<TopicPartition> everStored = new HashSet<>();
    private long nextInitAttemptNanos;
    private int initFailures;
    private int resyncFailures;
    private long nextResyncAttemptNanos;
    private long nextOffsetCheckNanos;
    private long nextHaltCheckNanos;

    private volatile boolean stopping;
    private volatile long deadlineNanos = Long.MAX_VALUE;

    public PollLoop(Settings<V> s, Consumer<byte[], byte[]> consumer, Handoff<V> handoff, BatchCommitter<V> committer,
            OffsetTable table, ErrorReporter errors, ConsumerMetrics metrics, Set<TopicPartition> owned,
            Set<TopicPartition> resyncPending, HaltedPartitions halted, PollBudget budget) {
        this.s = s;
        this.budget = budget;
        this.consumer = consumer;
        this.handoff = handoff;
        this.committer = committer;
        this.table = table;
        this.errors = errors;
        this.metrics = metrics;
        this.backoff = new Backoff(s.retryBackoffInitial(), s.retryBackoffMax());
        this.owned = owned;
        this.resyncPending = resyncPending;
        this.halted = halted;
        this.maxPollRecords = KafkaSettings.maxPollRecords(s);
    }

    /** The bytes one poll may hand over: an eighth of the batch byte cap, so that a poll fits beside a waiting batch. */
    public static long pollBytes(Settings<?> s) {
        return Math.max(1, s.maxBatchBytes() / 8);
    }

    /** Asks the loop to stop; shutdown must be over by {@code deadlineNanos} ({@link System#nanoTime()}). */
    public void stop(long deadlineNanos) {
        this.deadlineNanos = Math.min(this.deadlineNanos, deadlineNanos);
        this.stopping = true;
        consumer.wakeup();
    }

    @Override
    public void run() {
        try {
            consumer.subscribe(s.topics(), new Rebalance());
            int pollFailures = 0;
            while (!stopping && !committer.failed()) {
                try {
                    processResyncs();
                    retryInitialisation();
                    recheckStoredOffsets();
                    recheckHalted();
                    copyOffsetsToKafka();
                    boolean full = applyPauses();
                    if (full) {
                        awaitRoom();
                        full = applyPauses();
                    }
                    // Full, the partitions are all paused: a poll then only keeps the group membership.
                    budget.reset();
                    ConsumerRecords<byte[], byte[]> records = consumer.poll(full ? Duration.ZERO : s.pollTimeout());
                    pollFailures = 0;
                    if (!records.isEmpty() || !records.nextOffsets().isEmpty()) {
                        stage(records);
                    } else {
                        stagePositionMoves();
                    }
                    updateLag();
                } catch (WakeupException | InterruptException e) {
                    if (stopping) {
                        break;
                    }
                } catch (InvalidOffsetException e) {
                    try {
                        handleInvalidOffsets(e);
                    } catch (WakeupException | InterruptException stop) {
                        if (stopping) {
                            break;
                        }
                    } catch (Exception again) {
                        pollFailures++;
                        report(Phase.POLL, null, -1, -1, pollFailures, again);
                        pauseFor(backoff.delayMillis(pollFailures));
                    }
                } catch (Exception e) {
                    pollFailures++;
                    report(Phase.POLL, null, -1, -1, pollFailures, e);
                    pauseFor(backoff.delayMillis(pollFailures));
                }
            }
        } catch (Throwable t) {
            report(Phase.FATAL, null, -1, -1, 1, t);
        } finally {
            shutdown();
        }
    }

    private void pauseFor(long millis) {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (!stopping && System.nanoTime() < until) {
            try {
                Thread.sleep(Math.min(50, Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime()))));
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void stage(ConsumerRecords<byte[], byte[]> records) {
        PendingBatch<V> polled = new PendingBatch<>();
        // The position after a poll counts what the records do not show: transaction markers and
        // aborted records. Storing it lets the stored offset reach the log end.
        Map<TopicPartition, OffsetAndMetadata> nextOffsets = records.nextOffsets();
        Set<TopicPartition> seen = new HashSet<>(records.partitions());
        seen.addAll(nextOffsets.keySet());
        for (TopicPartition tp : seen) {
            Long expected = expectedNext.get(tp);
            if (expected == null || !owned.contains(tp) || resyncPending.contains(tp) || uninitialised.contains(tp)
                    || halted.contains(tp)) {
                continue; // read before a seek that is still to come: re-read after it
            }
            List<ConsumerRecord<byte[], byte[]>> list = records.records(tp);
            OffsetAndMetadata next = nextOffsets.get(tp);
            if (!list.isEmpty() && list.get(0).offset() < expected) {
                // The client handed back records before our position: trust the database, not it.
                report(Phase.POLL, tp.topic(), tp.partition(), list.get(0).offset(), expected, 1, new IllegalStateException(
                        "polled offset " + list.get(0).offset() + " is before the stored offset " + expected + "; re-reading from the stored offset"));
                resyncPending.add(tp);
                continue;
            }
            long end;
            int deferred = firstDeferred(list);
            if (deferred >= 0) {
                // Past the poll's byte budget: the part ends there, and a later poll reads on from it.
                end = list.get(deferred).offset();
                consumer.seek(tp, end);
                list = list.subList(0, deferred);
            } else {
                end = list.isEmpty() ? expected : list.get(list.size() - 1).offset() + 1;
                if (next != null) {
                    end = Math.max(end, next.offset());
                }
            }
            if (list.isEmpty() && end <= expected) {
                continue;
            }
            PendingBatch.Part<V> part = polled.part(tp, expected);
            for (ConsumerRecord<byte[], byte[]> r : list) {
                V value;
                try {
                    value = s.decoder().decode(r);
                } catch (Exception e) {
                    polled.addUndecodable(part, DeadLetter.undecodable(r, e));
                    continue;
                }
                polled.add(part, new Message<>(r, value));
            }
            part.next = end;
            expectedNext.put(tp, end);
        }
        handoff.offer(polled);
    }

    private static int firstDeferred(List<ConsumerRecord<byte[], byte[]>> list) {
        for (int i = 0; i < list.size(); i++) {
            if (PollBudget.deferred(list.get(i))) {
                return i;
            }
        }
        return -1;
    }

    /**
     * An idle partition's position can move without records (a transaction's marker arrives
     * after its last record was read): store it, so that lag reads zero when all is consumed.
     */
    private void stagePositionMoves() {
        PendingBatch<V> moves = new PendingBatch<>();
        Set<TopicPartition> paused = consumer.paused();
        for (Map.Entry<TopicPartition, Long> e : expectedNext.entrySet()) {
            TopicPartition tp = e.getKey();
            if (paused.contains(tp) || !owned.contains(tp) || resyncPending.contains(tp) || uninitialised.contains(tp)
                    || halted.contains(tp)) {
                continue;
            }
            long position;
            try {
                position = consumer.position(tp, POSITION_WAIT);
            } catch (org.apache.kafka.common.errors.TimeoutException notKnownYet) {
                continue; // being validated after a seek; the next idle poll asks again
            }
            if (position > e.getValue()) {
                moves.part(tp, e.getValue()).next = position;
                e.setValue(position);
            }
        }
        if (!moves.isEmpty()) {
            handoff.offer(moves);
        }
    }

    /**
     * Pauses everything while the committer is failing or the waiting batch is full; always
     * pauses unseeked partitions. True when the waiting batch is full.
     */
    private boolean applyPauses() {
        Set<TopicPartition> assignment = consumer.assignment();
        Set<TopicPartition> want = new HashSet<>(uninitialised);
        want.addAll(committer.blockedPartitions());
        halted.snapshot().keySet().forEach(want::add);
        boolean full = handoff.waiting() > roomForAPoll() || handoff.waitingBytes() > roomForAPollBytes();
        if (full) {
            want.addAll(assignment);
        }
        want.retainAll(assignment);
        Set<TopicPartition> paused = consumer.paused();
        List<TopicPartition> pause = new ArrayList<>();
        for (TopicPartition tp : want) {
            if (!paused.contains(tp)) {
                pause.add(tp);
            }
        }
        List<TopicPartition> resume = new ArrayList<>();
        for (TopicPartition tp : paused) {
            if (!want.contains(tp)) {
                resume.add(tp);
            }
        }
        if (!pause.isEmpty()) {
            consumer.pause(pause);
        }
        if (!resume.isEmpty()) {
            consumer.resume(resume);
        }
        metrics.pausedPartitions.set(want.size());
        metrics.haltedPartitions.set(halted.size());
        return full;
    }

    /** Records that may wait with one more poll still under the cap, which bounds every transaction and the memory. */
    private int roomForAPoll() {
        return s.maxBatchRecords() - maxPollRecords;
    }

    /** The same in bytes: the batch byte cap less what one poll may add ({@link #pollBytes}). */
    private long roomForAPollBytes() {
        return s.maxBatchBytes() - pollBytes(s);
    }

    /**
     * Waits, at most one poll timeout, for the committer to take the full batch: a poll with every
     * partition paused would sleep its whole timeout however soon the batch was taken.
     */
    private void awaitRoom() {
        try {
            handoff.awaitRoom(roomForAPoll(), roomForAPollBytes(), s.pollTimeout());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the next poll throws InterruptException, handled as a wakeup
        }
    }

    private void updateLag() {
        for (TopicPartition tp : consumer.assignment()) {
            OptionalLong lag = consumer.currentLag(tp);
            Long position = expectedNext.get(tp);
            Long stored = storedNext.get(tp);
            if (lag.isPresent() && position != null && stored != null) {
                metrics.lag(tp, lag.getAsLong() + Math.max(0, position - stored));
            }
        }
    }

    /** Re-reads partitions whose batch was fenced: their position comes from the database again. */
    private void processResyncs() {
        if (resyncPending.isEmpty() || System.nanoTime() < nextResyncAttemptNanos) {
            return;
        }
        Set<TopicPartition> wanted = new HashSet<>(resyncPending);
        Set<TopicPartition> assignment = consumer.assignment();
        handoff.drop(wanted);
        Set<TopicPartition> seek = new HashSet<>(wanted);
        seek.retainAll(assignment);
        seek.removeAll(uninitialised);
        seek.removeIf(halted::contains);
        try {
            if (!seek.isEmpty()) {
                seekToStored(seek);
            }
            resyncPending.removeAll(wanted);
            resyncFailures = 0;
        } catch (Exception e) {
            resyncFailures++;
            for (TopicPartition tp : seek) {
                report(Phase.ASSIGN, tp.topic(), tp.partition(), -1, resyncFailures, e);
            }
            nextResyncAttemptNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff.delayMillis(resyncFailures));
        }
    }

    /**
     * Notices offsets moved from outside (an operator's rewind) on partitions that have nothing
     * in flight: those would otherwise only notice at their next batch, which may never come.
     */
    private void recheckStoredOffsets() {
        long now = System.nanoTime();
        if (now < nextOffsetCheckNanos) {
            return;
        }
        nextOffsetCheckNanos = now + s.offsetCheckInterval().toNanos();
        if (owned.isEmpty() || !committer.idle() || handoff.waiting() > 0 || !resyncPending.isEmpty()) {
            return;
        }
        long commitsBefore = committer.commits();
        Map<TopicPartition, OffsetTable.Row> stored;
        try (Connection c = ConnectionPool.borrow(s.dataSource(), s.databaseTimeout())) {
            c.setAutoCommit(true);
            stored = table.readGroup(c, s.groupId());
        } catch (Exception e) {
            return; // the committer reports database trouble; this check is only a courtesy
        }
        if (committer.commits() != commitsBefore || !committer.idle() || handoff.waiting() > 0) {
            return; // a batch committed meanwhile: what we read may already be old
        }
        for (Map.Entry<TopicPartition, Long> e : expectedNext.entrySet()) {
            OffsetTable.Row row = stored.get(e.getKey());
            if (row == null && !uninitialised.contains(e.getKey()) && !halted.contains(e.getKey())) {
                haltVanished(e.getKey(), e.getValue());
                continue;
            }
            if (row != null && row.nextOffset() != e.getValue() && !uninitialised.contains(e.getKey()) && !halted.contains(e.getKey())) {
                LOG.info("Stored offset of {} moved from {} to {} outside this consumer; re-reading from there",
                        e.getKey(), e.getValue(), row.nextOffset());
                resyncPending.add(e.getKey());
            }
        }
    }

    /**
     * Releases halted partitions whose stored offset an operator changed (or re-created): that
     * is how an operator says where to go on from.
     */
    private void recheckHalted() {
        long now = System.nanoTime();
        if (halted.isEmpty() || now < nextHaltCheckNanos) {
            return;
        }
        nextHaltCheckNanos = now + s.offsetCheckInterval().toNanos();
        Map<TopicPartition, OffsetTable.Row> stored;
        try (Connection c = ConnectionPool.borrow(s.dataSource(), s.databaseTimeout())) {
            c.setAutoCommit(true);
            stored = table.readGroup(c, s.groupId());
        } catch (Exception e) {
            return;
        }
        halted.snapshot().forEach((tp, halt) -> {
            OffsetTable.Row row = stored.get(tp);
            OptionalLong current = row == null ? OptionalLong.empty() : OptionalLong.of(row.nextOffset());
            if (!current.equals(halt.storedOffset()) && current.isPresent()) {
                LOG.info("Stored offset of halted partition {} moved to {}; resuming from there", tp, current.getAsLong());
                halted.release(tp);
                resyncPending.add(tp);
            }
        });
    }

    private void haltVanished(TopicPartition tp, long expected) {
        halt(tp, OptionalLong.empty(), -1, new IllegalStateException("no stored offset for " + tp + " in group '" + s.groupId()
                + "' any more, though this member stored " + expected + " before: the row was deleted or the group renamed."
                + " Starting over from the start position would count again what is already stored, so the partition stops."
                + " To go on, store the offset to read from: OffsetStore.rewind(\"" + s.groupId() + "\", new TopicPartition(\""
                + tp.topic() + "\", " + tp.partition() + "), offset)"));
    }

    private void halt(TopicPartition tp, OptionalLong storedOffset, long from, IllegalStateException why) {
        if (halted.halt(tp, why.getMessage(), storedOffset)) {
            handoff.drop(Set.of(tp));
            report(Phase.HALTED, tp.topic(), tp.partition(), from, 1, why);
        }
    }

    private void copyOffsetsToKafka() {
        Map<TopicPartition, OffsetAndMetadata> offsets = committedOffsets();
        if (!offsets.isEmpty()) {
            consumer.commitAsync(offsets, (done, e) -> {
                if (e != null) {
                    report(Phase.KAFKA_COMMIT, null, -1, -1, 1, e);
                }
            });
        }
    }

    private Map<TopicPartition, OffsetAndMetadata> committedOffsets() {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        committer.drainCommitted().forEach((tp, o) -> {
            if (owned.contains(tp)) {
                offsets.put(tp, new OffsetAndMetadata(o));
                storedNext.put(tp, o);
            }
        });
        return offsets;
    }

    private void retryInitialisation() {
        if (uninitialised.isEmpty() || System.nanoTime() < nextInitAttemptNanos) {
            return;
        }
        Set<TopicPartition> pending = new HashSet<>(uninitialised);
        pending.retainAll(consumer.assignment());
        uninitialised.retainAll(pending);
        initialise(pending);
    }

    /** Seeks newly assigned partitions to their stored offsets, storing the start position first where there is none. */
    private void initialise(Collection<TopicPartition> partitions) {
        if (partitions.isEmpty()) {
            return;
        }
        try {
            seekToStored(partitions);
            uninitialised.removeAll(partitions);
            initFailures = 0;
        } catch (Exception e) {
            initFailures++;
            uninitialised.addAll(partitions);
            consumer.pause(partitions);
            for (TopicPartition tp : partitions) {
                report(Phase.ASSIGN, tp.topic(), tp.partition(), -1, initFailures, e);
            }
            nextInitAttemptNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff.delayMillis(initFailures));
        }
    }

    private void seekToStored(Collection<TopicPartition> partitions) throws Exception {
        Map<TopicPartition, Long> stored = new HashMap<>();
        List<TopicPartition> vanished = new ArrayList<>();
        try (Connection c = ConnectionPool.borrow(s.dataSource(), s.databaseTimeout())) {
            c.setAutoCommit(true);
            List<TopicPartition> missing = new ArrayList<>();
            for (TopicPartition tp : partitions) {
                OptionalLong o = table.read(c, s.groupId(), tp);
                if (o.isPresent()) {
                    stored.put(tp, o.getAsLong());
                } else if (everStored.contains(tp)) {
                    vanished.add(tp);
                } else {
                    missing.add(tp);
                }
            }
            if (!missing.isEmpty()) {
                Map<TopicPartition, Long> start = startOffsets(missing);
                for (TopicPartition tp : missing) {
                    stored.put(tp, table.initialise(c, s.groupId(), tp, start.get(tp)));
                }
            }
        }
        for (TopicPartition tp : vanished) {
            Long last = expectedNext.get(tp);
            haltVanished(tp, last == null ? -1 : last);
        }
        for (Map.Entry<TopicPartition, Long> e : stored.entrySet()) {
            consumer.seek(e.getKey(), e.getValue());
            expectedNext.put(e.getKey(), e.getValue());
            storedNext.put(e.getKey(), e.getValue());
            everStored.add(e.getKey());
        }
    }

    private Map<TopicPartition, Long> startOffsets(List<TopicPartition> partitions) {
        StartPosition start = s.startPosition();
        if (start.isEarliest()) {
            return consumer.beginningOffsets(partitions, KAFKA_TIMEOUT);
        }
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions, KAFKA_TIMEOUT);
        if (start.isLatest()) {
            return end;
        }
        long time = start.time().orElseThrow().toEpochMilli();
        Map<TopicPartition, Long> query = new HashMap<>();
        partitions.forEach(tp -> query.put(tp, time));
        Map<TopicPartition, OffsetAndTimestamp> found = consumer.offsetsForTimes(query, KAFKA_TIMEOUT);
        Map<TopicPartition, Long> result = new HashMap<>(end);
        found.forEach((tp, ot) -> {
            if (ot != null) {
                result.put(tp, ot.offset());
            }
        });
        return result;
    }

    /**
     * A stored offset Kafka calls out of range. Inside the log it is read on from (a passing
     * surprise, such as a leader change); below the log start, retention deleted records before
     * they were read: reading goes on at the start, the stored offset moves over the gap with the
     * next batch, and the gap is reported with its size; beyond the log end the topic was
     * recreated or truncated, and the partition stops rather than skip or rewrite anything.
     */
    private void handleInvalidOffsets(InvalidOffsetException e) {
        Set<TopicPartition> partitions = e.partitions();
        Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions, KAFKA_TIMEOUT);
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions, KAFKA_TIMEOUT);
        for (TopicPartition tp : partitions) {
            Long stored = expectedNext.get(tp);
            if (stored == null || uninitialised.contains(tp) || halted.contains(tp)) {
                consumer.seek(tp, begin.get(tp)); // a placeholder; the partition stays paused until seeked from the database
                continue;
            }
            long start = begin.get(tp);
            long logEnd = end.get(tp);
            switch (OutOfRange.of(stored, start, logEnd)) {
                case RESUME -> consumer.seek(tp, stored);
                case GAP -> {
                    report(Phase.POLL, tp.topic(), tp.partition(), stored, start, 1, new IllegalStateException(
                            (start - stored) + " records [" + stored + ", " + start + ") of " + tp + " were deleted by retention before they were read;"
                                    + " continuing at " + start));
                    consumer.seek(tp, start);
                }
                case HALT -> {
                    consumer.seek(tp, logEnd); // a placeholder: the partition stays paused
                    halt(tp, OptionalLong.of(stored), stored, new IllegalStateException("stored offset " + stored + " of " + tp
                            + " is beyond the log end " + logEnd + " (log start " + start + "): the topic was probably deleted and recreated."
                            + " Tally neither skips nor rewrites: the partition stops. To count the new log from its start, run"
                            + " OffsetStore.rewind(\"" + s.groupId() + "\", new TopicPartition(\"" + tp.topic() + "\", " + tp.partition()
                            + "), " + start + ") (first reset what the old log counted, if it must not stay)"));
                }
            }
        }
    }

    private void shutdown() {
        handoff.close();
        committer.stop();
        long reserve = TimeUnit.MILLISECONDS.toNanos(Math.min(2_000, Math.max(200, remainingMillis() / 4)));
        waitForCommitter(deadlineNanos == Long.MAX_VALUE ? System.nanoTime() + s.closeTimeout().toNanos() - reserve : deadlineNanos - reserve);
        try {
            Map<TopicPartition, OffsetAndMetadata> offsets = committedOffsets();
            if (!offsets.isEmpty() && remainingMillis() > 100) {
                consumer.commitSync(offsets, Duration.ofMillis(Math.min(2_000, remainingMillis() / 2)));
            }
        } catch (Exception e) {
            report(Phase.KAFKA_COMMIT, null, -1, -1, 1, e);
        }
        try {
            consumer.close(CloseOptions.timeout(Duration.ofMillis(Math.max(0, remainingMillis()))));
        } catch (Exception e) {
            report(Phase.CLOSE, null, -1, -1, 1, e);
        }
        metrics.untrackLag(new ArrayList<>(owned));
        owned.clear();
    }

    private void waitForCommitter(long untilNanos) {
        Thread t = committerThread;
        if (t == null) {
            return;
        }
        try {
            long left = untilNanos - System.nanoTime();
            if (left > 0) {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
            if (t.isAlive()) {
                committer.abort(Duration.ofMillis(Math.max(0, Math.min(1_000, remainingMillis() / 2))));
                t.join(200);
            }
        } catch (InterruptedException e) {
            committer.abort(Duration.ZERO);
            Thread.currentThread().interrupt();
        }
    }

    private volatile Thread committerThread;

    /** The thread running the committer, joined at shutdown. */
    public void committerThread(Thread t) {
        this.committerThread = t;
    }

    private long remainingMillis() {
        long deadline = deadlineNanos;
        if (deadline == Long.MAX_VALUE) {
            return s.closeTimeout().toMillis();
        }
        return TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
    }

    private void report(Phase phase, String topic, int partition, long from, long to, int attempt, Throwable cause) {
        errors.report(new ConsumerError(phase, s.groupId(), topic, partition, from, to, attempt, cause, Instant.now()));
    }

    private void report(Phase phase, String topic, int partition, long from, int attempt, Throwable cause) {
        report(phase, topic, partition, from, from, attempt, cause);
    }

    /** Rebalance callbacks run on this thread, inside poll(). */
    private final class Rebalance implements ConsumerRebalanceListener {

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            metrics.rebalancesRevoked.increment();
            Set<TopicPartition> gone = new HashSet<>(partitions);
            forget(gone);
            // Let the batch in flight finish so the next owner starts from its result rather
            // than being fenced by it. No offsets are written here: the fence decides.
            committer.awaitNotInFlight(gone, stopping ? Duration.ZERO : REVOKE_WAIT);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            metrics.rebalancesLost.increment();
            forget(new HashSet<>(partitions));
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            metrics.rebalancesAssigned.increment();
            owned.addAll(partitions);
            metrics.trackLag(partitions);
            List<TopicPartition> added = new ArrayList<>(partitions);
            // Incremental (cooperative, KIP-848): only the added partitions arrive here; seek just them.
            initialise(added);
            if (committer.blocked()) {
                consumer.pause(added); // pause state does not survive reassignment
            }
        }

        private void forget(Set<TopicPartition> gone) {
            owned.removeAll(gone);
            handoff.drop(gone);
            gone.forEach(expectedNext::remove);
            gone.forEach(storedNext::remove);
            uninitialised.removeAll(gone);
            halted.releaseAll(gone);
            metrics.untrackLag(gone);
        }
    }
}
