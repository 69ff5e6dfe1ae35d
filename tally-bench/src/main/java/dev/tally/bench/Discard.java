package dev.tally.bench;

import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/** (a) Poll and discard: the broker and client's own limit on this machine. */
final class Discard implements Contender {

    @Override
    public char letter() {
        return 'a';
    }

    @Override
    public String name() {
        return "(a) poll and discard";
    }

    @Override
    public Progress.Run run(Trial t) {
        Progress progress = new Progress(t.records());
        long n = 0;
        try (KafkaConsumer<byte[], byte[]> c = t.consumer("discard")) {
            c.subscribe(List.of(t.topic()));
            while (!progress.finished()) {
                n += c.poll(Duration.ofMillis(100)).count();
                progress.at(n);
            }
        }
        return progress.result("not checked (counts nothing)");
    }
}
