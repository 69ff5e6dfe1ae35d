package dev.tally.consumer.internal;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.common.TopicPartition;

/**
 * The one slot between the polling thread and the committing thread. While the committer works
 * on a batch, new polls are merged into the waiting one, so that the next transaction covers
 * everything polled meanwhile: batches grow with the database's latency and memory stays bounded
 * by the cap the polling thread enforces.
 */
public final class Handoff<V> {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition filled = lock.newCondition();
    private final Condition taken = lock.newCondition();
    private PendingBatch<V> slot;
    private boolean closed;

    /** Merges freshly polled records into the waiting batch; returns how many records now wait. */
    public int offer(PendingBatch<V> polled) {
        lock.lock();
        try {
            if (closed || polled.isEmpty()) {
                return slot == null ? 0 : slot.recordCount();
            }
            if (slot == null) {
                slot = polled;
            } else {
                slot.absorb(polled);
            }
            filled.signal();
            return slot.recordCount();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes the waiting batch, without the parts of partitions in {@code exclude} (partitions
     * about to be re-read from the stored offset); {@code null} if none came within
     * {@code wait} or the handoff is closed.
     */
    public PendingBatch<V> take(Duration wait, Set<TopicPartition> exclude) throws InterruptedException {
        lock.lock();
        try {
            if (slot == null && !closed) {
                filled.await(wait.toNanos(), TimeUnit.NANOSECONDS);
            }
            if (closed || slot == null) {
                return null;
            }
            PendingBatch<V> batch = slot;
            slot = null;
            taken.signalAll();
            if (!exclude.isEmpty()) {
                batch.retain(tp -> !exclude.contains(tp));
            }
            return batch;
        } finally {
            lock.unlock();
        }
    }

    /** Drops waiting records of partitions that moved away or are about to be re-read. */
    public void drop(Set<TopicPartition> partitions) {
        lock.lock();
        try {
            if (slot != null) {
                slot.retain(tp -> !partitions.contains(tp));
                if (slot.isEmpty()) {
                    slot = null;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until at most {@code records} of at most {@code bytes} wait, at most {@code wait}: a
     * full batch pauses every partition, and a paused poll would sleep its whole timeout after the
     * committer took it.
     */
    public void awaitRoom(int records, long bytes, Duration wait) throws InterruptedException {
        long nanos = wait.toNanos();
        lock.lock();
        try {
            while (!closed && slot != null && (slot.recordCount() > records || slot.bytes() > bytes) && nanos > 0) {
                nanos = taken.awaitNanos(nanos);
            }
        } finally {
            lock.unlock();
        }
    }

    public int waiting() {
        lock.lock();
        try {
            return slot == null ? 0 : slot.recordCount();
        } finally {
            lock.unlock();
        }
    }

    /** The bytes of the records waiting ({@link PendingBatch#bytes}). */
    public long waitingBytes() {
        lock.lock();
        try {
            return slot == null ? 0 : slot.bytes();
        } finally {
            lock.unlock();
        }
    }

    public boolean holds(TopicPartition tp) {
        lock.lock();
        try {
            return slot != null && slot.allPartitions().contains(tp);
        } finally {
            lock.unlock();
        }
    }

    /** Stops the handoff: the waiting batch is abandoned (it was never applied) and takers get {@code null}. */
    public void close() {
        lock.lock();
        try {
            closed = true;
            slot = null;
            filled.signalAll();
            taken.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
