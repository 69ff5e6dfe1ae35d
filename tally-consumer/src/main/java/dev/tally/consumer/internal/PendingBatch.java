package dev.tally.consumer.internal;

import dev.tally.consumer.Batch;
import dev.tally.consumer.Message;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Records polled and decoded but not yet committed, per partition, with the offset range each
 * partition's part moves the stored offset over. Built on the polling thread, handed to the
 * committing thread whole; never touched by both at once.
 */
public final class PendingBatch<V> implements Batch<V> {

    /** One partition's records in a batch and the stored-offset move they stand for. */
    public static final class Part<V> {
        final TopicPartition partition;
        final long expected;
        long next;
        final ArrayList<Message<V>> messages = new ArrayList<>();
        final ArrayList<DeadLetter> undecodable = new ArrayList<>(0);
        long bytes;

        Part(TopicPartition partition, long expected) {
            this.partition = partition;
            this.expected = expected;
            this.next = expected;
        }

        /** Appends a later part of the same partition; its range starts where this one ends. */
        void append(Part<V> later) {
            messages.addAll(later.messages);
            undecodable.addAll(later.undecodable);
            bytes += later.bytes;
            next = later.next;
        }
    }

    private final LinkedHashMap<TopicPartition, Part<V>> parts = new LinkedHashMap<>();
    private final Map<Message<V>, String> rejected = new IdentityHashMap<>();
    private final long createdNanos;
    private int messageCount;
    private int recordCount;
    private long bytes;

    public PendingBatch() {
        this(System.nanoTime());
    }

    private PendingBatch(long createdNanos) {
        this.createdNanos = createdNanos;
    }

    private static <V> PendingBatch<V> of(long createdNanos, List<Part<V>> parts) {
        PendingBatch<V> b = new PendingBatch<>(createdNanos);
        for (Part<V> p : parts) {
            b.parts.put(p.partition, p);
            b.messageCount += p.messages.size();
            b.recordCount += p.messages.size() + p.undecodable.size();
            b.bytes += p.bytes;
        }
        return b;
    }

    /**
     * Splits this batch in two that, committed one after the other, move the stored offsets
     * exactly as this one would: by partitions while there are several, else by records at an
     * offset boundary. Empty when there is nothing left to split (one partition, at most one
     * record for the handler).
     */
    public List<PendingBatch<V>> halves() {
        List<Part<V>> all = new ArrayList<>(parts.values());
        if (all.size() > 1) {
            int mid = all.size() / 2;
            return List.of(of(createdNanos, all.subList(0, mid)), of(createdNanos, all.subList(mid, all.size())));
        }
        if (all.isEmpty() || all.get(0).messages.size() < 2) {
            return List.of();
        }
        Part<V> p = all.get(0);
        int mid = p.messages.size() / 2;
        long boundary = p.messages.get(mid).offset();
        Part<V> first = new Part<>(p.partition, p.expected);
        Part<V> second = new Part<>(p.partition, boundary);
        first.next = boundary;
        second.next = p.next;
        first.messages.addAll(p.messages.subList(0, mid));
        second.messages.addAll(p.messages.subList(mid, p.messages.size()));
        for (DeadLetter d : p.undecodable) {
            (d.record().offset() < boundary ? first : second).undecodable.add(d);
        }
        for (Part<V> half : List.of(first, second)) {
            half.messages.forEach(m -> half.bytes += bytes(m.record()));
            half.undecodable.forEach(d -> half.bytes += bytes(d.record()));
        }
        return List.of(of(createdNanos, List.of(first)), of(createdNanos, List.of(second)));
    }

    /** The one record the handler sees when this batch has been split down to it, else {@code null}. */
    public Message<V> soleMessage() {
        if (parts.size() != 1 || messageCount != 1) {
            return null;
        }
        return parts.values().iterator().next().messages.get(0);
    }

    /** Takes a record out of the handler's view and makes it a dead letter: the database refused it. */
    public void refuse(Message<V> message, Throwable cause) {
        Part<V> p = parts.get(message.topicPartition());
        if (p == null || !p.messages.remove(message)) {
            throw new IllegalArgumentException("not a record of this batch: " + message.topicPartition() + "@" + message.offset());
        }
        p.undecodable.add(DeadLetter.refused(message.record(), cause));
        messageCount--;
    }

    /**
     * Partitions whose records do not sit inside the offset range their part moves the stored
     * offset over, in increasing order: a surprise in the client's position. Such a part must
     * never be committed.
     */
    public List<TopicPartition> misplaced() {
        List<TopicPartition> bad = new ArrayList<>();
        for (Part<V> p : parts.values()) {
            long last = p.expected - 1;
            boolean ok = p.next >= p.expected;
            for (Message<V> m : p.messages) {
                ok &= m.offset() > last && m.offset() < p.next;
                last = m.offset();
            }
            for (DeadLetter d : p.undecodable) {
                ok &= d.record().offset() >= p.expected && d.record().offset() < p.next;
            }
            if (!ok) {
                bad.add(p.partition);
            }
        }
        return bad;
    }

    /** The part for {@code tp}, created to start at {@code expected} if absent. */
    public Part<V> part(TopicPartition tp, long expected) {
        return parts.computeIfAbsent(tp, p -> new Part<>(p, expected));
    }

    public void add(Part<V> part, Message<V> message) {
        part.messages.add(message);
        messageCount++;
        recordCount++;
        counted(part, message.record());
    }

    public void addUndecodable(Part<V> part, DeadLetter letter) {
        part.undecodable.add(letter);
        recordCount++;
        counted(part, letter.record());
    }

    private void counted(Part<V> part, ConsumerRecord<byte[], byte[]> r) {
        long n = bytes(r);
        part.bytes += n;
        bytes += n;
    }

    /** What a record's key and value hold in memory, as the batch byte cap counts it. */
    static long bytes(ConsumerRecord<byte[], byte[]> r) {
        return (r.key() == null ? 0 : r.key().length) + (r.value() == null ? 0 : r.value().length);
    }

    /** Moves every part of {@code later} (polled after this batch) into this one. */
    public void absorb(PendingBatch<V> later) {
        for (Part<V> p : later.parts.values()) {
            Part<V> mine = parts.get(p.partition);
            if (mine == null) {
                parts.put(p.partition, p);
            } else {
                mine.append(p);
            }
        }
        messageCount += later.messageCount;
        recordCount += later.recordCount;
        bytes += later.bytes;
    }

    /** Drops the parts of partitions that fail {@code keep}; returns whether anything was dropped. */
    public boolean retain(Predicate<TopicPartition> keep) {
        boolean changed = false;
        for (Iterator<Part<V>> it = parts.values().iterator(); it.hasNext(); ) {
            Part<V> p = it.next();
            if (!keep.test(p.partition)) {
                it.remove();
                messageCount -= p.messages.size();
                recordCount -= p.messages.size() + p.undecodable.size();
                bytes -= p.bytes;
                changed = true;
            }
        }
        if (changed) {
            rejected.keySet().removeIf(m -> !parts.containsKey(m.topicPartition()));
        }
        return changed;
    }

    public boolean isEmpty() {
        return parts.isEmpty();
    }

    /** Records of all kinds, decodable or not: what the batch size cap counts. */
    public int recordCount() {
        return recordCount;
    }

    /** The keys' and values' bytes of those records: what the batch byte cap counts. */
    public long bytes() {
        return bytes;
    }

    public long ageNanos() {
        return System.nanoTime() - createdNanos;
    }

    public Collection<Part<V>> parts() {
        return parts.values();
    }

    public Set<TopicPartition> allPartitions() {
        return new LinkedHashSet<>(parts.keySet());
    }

    /** How many records the handler rejected in this attempt. */
    public int rejectedCount() {
        return rejected.size();
    }

    /** Forgets the rejections of a previous, rolled-back attempt. */
    public void beginAttempt() {
        rejected.clear();
    }

    public List<OffsetTable.Advance> advances() {
        List<OffsetTable.Advance> moves = new ArrayList<>(parts.size());
        for (Part<V> p : parts.values()) {
            moves.add(new OffsetTable.Advance(p.partition, p.expected, p.next));
        }
        return moves;
    }

    public List<DeadLetter> deadLetters() {
        List<DeadLetter> letters = new ArrayList<>();
        for (Part<V> p : parts.values()) {
            letters.addAll(p.undecodable);
        }
        rejected.forEach((m, reason) -> letters.add(DeadLetter.rejected(m.record(), reason)));
        return letters;
    }

    // --- Batch, as the handler sees it ---

    @Override
    public Set<TopicPartition> partitions() {
        Set<TopicPartition> withMessages = new LinkedHashSet<>();
        for (Part<V> p : parts.values()) {
            if (!p.messages.isEmpty()) {
                withMessages.add(p.partition);
            }
        }
        return Collections.unmodifiableSet(withMessages);
    }

    @Override
    public List<Message<V>> messages(TopicPartition partition) {
        Part<V> p = parts.get(partition);
        return p == null ? List.of() : Collections.unmodifiableList(p.messages);
    }

    @Override
    public int size() {
        return messageCount;
    }

    @Override
    public void reject(Message<V> message, String reason) {
        Part<V> p = parts.get(message.topicPartition());
        if (p == null || message.offset() < p.expected || message.offset() >= p.next) {
            throw new IllegalArgumentException("not a record of this batch: " + message.topicPartition() + "@" + message.offset());
        }
        rejected.put(message, reason == null ? "rejected" : reason);
    }

    @Override
    public Iterator<Message<V>> iterator() {
        Iterator<Part<V>> outer = parts.values().iterator();
        return new Iterator<>() {
            private Iterator<Message<V>> inner = Collections.emptyIterator();

            @Override
            public boolean hasNext() {
                while (!inner.hasNext() && outer.hasNext()) {
                    inner = outer.next().messages.iterator();
                }
                return inner.hasNext();
            }

            @Override
            public Message<V> next() {
                if (!hasNext()) {
                    throw new java.util.NoSuchElementException();
                }
                return inner.next();
            }
        };
    }
}
