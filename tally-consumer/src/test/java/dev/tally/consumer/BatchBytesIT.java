package dev.tally.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.testkit.KafkaBrokerExtension;
import dev.tally.testkit.SqliteDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Records of a megabyte that compress to a kilobyte, as any producer may write them: a batch
 * holds at most {@code maxBatchBytes} of them (plus one), one poll an eighth, and still every
 * record is handled once, in order.
 */
class BatchBytesIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final SqliteDatabase db = new SqliteDatabase();

    private static final int RECORD = 1 << 20;

    @Test
    void aBatchHoldsAtMostItsBytesAndEveryRecordIsHandledOnceInOrder() throws Exception {
        String topic = KAFKA.uniqueTopic("bytes");
        KAFKA.admin().createTopics(List.of(new NewTopic(topic, Optional.of(2), Optional.empty())
                .configs(Map.of("max.message.bytes", "3000000")))).all().get(30, TimeUnit.SECONDS);
        KAFKA.createTopic(topic, 2);
        int records = 60;
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", KAFKA.bootstrapServers(),
                "acks", "all", "compression.type", "gzip", "max.request.size", "3000000", "linger.ms", "20",
                "key.serializer", ByteArraySerializer.class.getName(), "value.serializer", ByteArraySerializer.class.getName()))) {
            List<Future<?>> acks = new ArrayList<>();
            for (int i = 0; i < records; i++) {
                byte[] value = new byte[RECORD]; // zeros: a megabyte that gzip makes about a kilobyte
                value[0] = (byte) i;
                acks.add(p.send(new ProducerRecord<>(topic, i % 2, null, value)));
            }
            for (Future<?> a : acks) {
                a.get(60, TimeUnit.SECONDS);
            }
        }
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE seen (part INTEGER, off INTEGER, first_byte INTEGER, PRIMARY KEY (part, off))");
        }
        long maxBatchBytes = 8L * RECORD;
        AtomicLong largest = new AtomicLong();
        BatchHandler<byte[]> handler = (batch, connection) -> {
            long bytes = 0;
            try (PreparedStatement ps = connection.prepareStatement("INSERT INTO seen VALUES (?, ?, ?)")) {
                for (Message<byte[]> m : batch) {
                    bytes += m.value().length;
                    ps.setInt(1, m.partition());
                    ps.setLong(2, m.offset());
                    ps.setInt(3, m.value()[0]);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            largest.accumulateAndGet(bytes, Math::max);
        };
        TallyConsumer<byte[]> consumer = TallyConsumer.builder(r -> r.value(), handler)
                .bootstrapServers(KAFKA.bootstrapServers()).groupId("bytes").topics(topic).dataSource(db.dataSource())
                .maxBatchBytes(maxBatchBytes).build().start();
        try {
            Words.awaitCaughtUp(db.dataSource(), "bytes", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(120));
        } finally {
            consumer.close(Duration.ofSeconds(10));
        }
        assertThat(largest.get()).as("the largest batch's bytes").isPositive().isLessThanOrEqualTo(maxBatchBytes + RECORD);
        List<String> seen = new ArrayList<>();
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT part, off, first_byte FROM seen ORDER BY part, off")) {
            while (rs.next()) {
                seen.add(rs.getInt(1) + "@" + rs.getLong(2) + ":" + rs.getInt(3));
            }
        }
        List<String> expected = new ArrayList<>();
        for (int part = 0; part < 2; part++) {
            for (int i = part, off = 0; i < records; i += 2, off++) {
                expected.add(part + "@" + off + ":" + (byte) i);
            }
        }
        assertThat(seen).containsExactlyElementsOf(expected);
    }
}
