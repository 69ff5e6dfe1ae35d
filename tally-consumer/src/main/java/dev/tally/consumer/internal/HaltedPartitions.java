package dev.tally.consumer.internal;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.TopicPartition;

/**
 * Partitions this member stopped on its own while the others go on: going on with them would
 * skip or double count. Each remembers its stored offset at the time, so that an operator's
 * change of it (the way to say "go on from here") releases the partition. Shared by the two
 * threads.
 */
public final class HaltedPartitions {

    /** Why a partition stopped, and its stored offset then (empty: it had no row). */
    public record Halt(String reason, OptionalLong storedOffset) {}

    private final ConcurrentHashMap<TopicPartition, Halt> halts = new ConcurrentHashMap<>();

    /** Stops {@code tp}; returns false if it was stopped already. */
    public boolean halt(TopicPartition tp, String reason, OptionalLong storedOffset) {
        return halts.putIfAbsent(tp, new Halt(reason, storedOffset)) == null;
    }

    public boolean contains(TopicPartition tp) {
        return halts.containsKey(tp);
    }

    public boolean isEmpty() {
        return halts.isEmpty();
    }

    public Halt get(TopicPartition tp) {
        return halts.get(tp);
    }

    public void release(TopicPartition tp) {
        halts.remove(tp);
    }

    public void releaseAll(Collection<TopicPartition> partitions) {
        partitions.forEach(halts::remove);
    }

    public int size() {
        return halts.size();
    }

    /** Each halted partition with its reason. */
    public Map<TopicPartition, String> reasons() {
        Map<TopicPartition, String> m = new LinkedHashMap<>();
        halts.forEach((tp, h) -> m.put(tp, h.reason()));
        return m;
    }

    public Map<TopicPartition, Halt> snapshot() {
        return Map.copyOf(halts);
    }
}
