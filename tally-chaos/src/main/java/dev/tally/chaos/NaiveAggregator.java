package dev.tally.chaos;

import dev.tally.app.aggregate.Aggregator;
import dev.tally.app.aggregate.PageViewAggregator;
import dev.tally.app.event.PageView;
import dev.tally.app.event.PageViewDecoder;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The aggregator as most code writes it, for {@code chaos --naive}: poll, write the counts in one
 * database transaction, and let Kafka's auto-commit record the offsets afterwards. A crash after
 * the database commit and before the next offset commit counts those batches again after the
 * restart: at-least-once. The harness must see those duplicates.
 *
 * <p>Arguments: bootstrap servers, topic, group, JDBC URL.
 */
public final class NaiveAggregator {

    private NaiveAggregator() {}

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String topic = args[1];
        String group = args[2];
        String jdbc = args[3];
        Aggregator.migrate(jdbc);
        Properties c = new Properties();
        c.put("bootstrap.servers", bootstrap);
        c.put("group.id", group);
        // Kafka commits the positions of what poll() returned, every 5 s, from inside the next poll().
        c.put("enable.auto.commit", "true");
        c.put("auto.offset.reset", "earliest");
        c.put("session.timeout.ms", "6000");
        c.put("heartbeat.interval.ms", "1000");
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        PageViewDecoder decoder = new PageViewDecoder();
        PageViewAggregator writer = new PageViewAggregator();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
                KafkaProducer<byte[], byte[]> dlq = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
                Connection db = DriverManager.getConnection(jdbc)) {
            db.setAutoCommit(false);
            consumer.subscribe(List.of(topic));
            System.out.println("aggregating (naive) " + topic);
            System.out.flush();
            while (true) {
                var records = consumer.poll(Duration.ofMillis(500));
                if (records.isEmpty()) {
                    continue;
                }
                List<PageView> views = new ArrayList<>();
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    try {
                        views.add(decoder.decode(r));
                    } catch (Exception invalid) {
                        dlq.send(new ProducerRecord<>(topic + ".dlq", r.key(), r.value()));
                    }
                }
                // The application's own writes; only the offsets are handled naively.
                writer.write(views, db);
                db.commit();
                dlq.flush();
            }
        }
    }
}
