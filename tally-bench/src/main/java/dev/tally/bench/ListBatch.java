package dev.tally.bench;

import dev.tally.consumer.Batch;
import dev.tally.consumer.Message;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;

/** A batch built by hand, to call the application's handler without the library around it. */
final class ListBatch<V> implements Batch<V> {

    private final List<Message<V>> messages = new ArrayList<>();

    void add(Message<V> m) {
        messages.add(m);
    }

    void clear() {
        messages.clear();
    }

    @Override
    public Set<TopicPartition> partitions() {
        Set<TopicPartition> s = new java.util.HashSet<>();
        for (Message<V> m : messages) {
            s.add(new TopicPartition(m.topic(), m.partition()));
        }
        return s;
    }

    @Override
    public List<Message<V>> messages(TopicPartition partition) {
        return messages.stream().filter(m -> m.partition() == partition.partition() && m.topic().equals(partition.topic())).toList();
    }

    @Override
    public int size() {
        return messages.size();
    }

    @Override
    public void reject(Message<V> message, String reason) {
        throw new IllegalStateException("the benchmark's events are all valid: " + reason);
    }

    @Override
    public Iterator<Message<V>> iterator() {
        return messages.iterator();
    }
}
