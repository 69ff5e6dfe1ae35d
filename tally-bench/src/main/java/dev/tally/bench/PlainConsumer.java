package dev.tally.bench;

import dev.tally.app.event.PageView;
import dev.tally.app.event.PageViewDecoder;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * (b) A plain consumer that decodes every value (the application's Jackson streaming decoder)
 * and aggregates in memory: the limit of anything that reads the values. Nothing is stored, so
 * nothing is exactly once; its counts are still checked.
 */
final class PlainConsumer implements Contender {

    @Override
    public char letter() {
        return 'b';
    }

    @Override
    public String name() {
        return "(b) plain consumer, in memory";
    }

    @Override
    public Progress.Run run(Trial t) throws Exception {
        Progress progress = new Progress(t.records());
        PageViewDecoder decoder = PageViewDecoder.forCounting();
        Aggregates counts = new Aggregates();
        long n = 0;
        try (KafkaConsumer<byte[], byte[]> c = t.consumer("plain")) {
            c.subscribe(List.of(t.topic()));
            while (!progress.finished()) {
                ConsumerRecords<byte[], byte[]> records = c.poll(Duration.ofMillis(100));
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    PageView v = decoder.decode(r);
                    counts.add(v, v.referrerHost());
                }
                n += records.count();
                progress.at(n);
            }
        }
        String wrong = t.reference().difference(counts);
        return progress.result(wrong == null ? "exact" : "WRONG: " + wrong);
    }
}
