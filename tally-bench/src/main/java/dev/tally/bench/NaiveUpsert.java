package dev.tally.bench;

import dev.tally.app.aggregate.Aggregator;
import dev.tally.app.aggregate.PageViewAggregator;
import dev.tally.app.event.PageViewDecoder;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * (d) The naive way, on PostgreSQL: per record, the application's upserts in a database
 * transaction, then a synchronous offset commit to Kafka (at-least-once: a crash between the two
 * counts a record twice). Only the first {@link Trial#naiveRecords()} records are processed; the
 * rate is extrapolated to the topic. Not checked for exactness (it is not exactly once).
 */
final class NaiveUpsert implements Contender {

    @Override
    public char letter() {
        return 'd';
    }

    @Override
    public String name() {
        return "(d) per-record upsert + Kafka commit, PostgreSQL";
    }

    @Override
    public Progress.Run run(Trial t) throws Exception {
        long target = Math.min(t.naiveRecords(), t.records());
        Progress progress = new Progress(target);
        PageViewDecoder decoder = PageViewDecoder.forCounting();
        PageViewAggregator handler = new PageViewAggregator();
        long n = 0;
        try (Store store = Store.create(Store.Kind.POSTGRESQL, t.postgres(), t.dir())) {
            Aggregator.migrate(store.jdbcUrl);
            try (KafkaConsumer<byte[], byte[]> c = t.consumer("naive");
                    Connection db = DriverManager.getConnection(Aggregator.writeUrl(store.jdbcUrl))) {
                db.setAutoCommit(false);
                c.subscribe(List.of(t.topic()));
                while (!progress.finished()) {
                    for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
                        handler.write(List.of(decoder.decode(r)), db);
                        db.commit();
                        c.commitSync(Map.of(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1)));
                        progress.at(++n);
                        if (progress.finished()) {
                            break;
                        }
                    }
                }
            }
        }
        Progress.Run r = progress.result("not checked (at-least-once)");
        return new Progress.Run(r.rate(), t.records(), t.records() / r.rate(),
                "not checked (at-least-once; first " + target + " records, extrapolated)", r.cpuPerRecord());
    }
}
