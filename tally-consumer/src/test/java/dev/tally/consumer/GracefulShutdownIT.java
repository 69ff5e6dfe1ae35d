package dev.tally.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.testkit.KafkaBrokerExtension;
import dev.tally.testkit.SqliteDatabase;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** close() is bounded, never leaves a batch half applied, and leaves the group at once. */
class GracefulShutdownIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final SqliteDatabase db = new SqliteDatabase();

    @Test
    void closeUnderLoadIsBoundedAndWhatWasStoredIsExact() throws Exception {
        String topic = KAFKA.uniqueTopic("closeload");
        KAFKA.createTopic(topic, 3);
        Words.createSchema(db.dataSource());
        AtomicBoolean producing = new AtomicBoolean(true);
        Thread producer = new Thread(() -> {
            try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
                for (int i = 0; producing.get() && i < 200; i++) {
                    Words.produce(p, topic, i * 200, (i + 1) * 200, 0);
                }
            }
        });
        producer.start();
        CountDownLatch firstBatch = new CountDownLatch(1);
        TallyConsumer<String> consumer = TallyConsumer.<String>builder(Words.DECODER, (batch, connection) -> {
            Words.handler().handle(batch, connection);
            firstBatch.countDown();
            Thread.sleep(150); // the transaction stays open for a while: close will find one in flight
        }).bootstrapServers(KAFKA.bootstrapServers()).groupId("closeload").topics(topic)
                .dataSource(db.dataSource()).maxBatchRecords(500).build().start();
        assertThat(firstBatch.await(60, TimeUnit.SECONDS)).isTrue();
        Thread.sleep(1_000);

        long started = System.nanoTime();
        consumer.close(Duration.ofSeconds(3));
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        producing.set(false);
        producer.join(60_000);

        // A bound with slack for a loaded machine: the point is "bounded", not "fast".
        assertThat(tookMillis).isLessThan(3_000 + 3_000);
        assertThat(consumer.state()).isEqualTo(TallyConsumer.State.CLOSED);
        var stored = new OffsetStore(db.dataSource()).positions("closeload");
        assertThat(stored).isNotEmpty();
        assertThat(Words.counts(db.dataSource()))
                .isEqualTo(Words.expectedBefore(Words.readAll(KAFKA.bootstrapServers(), topic), stored));
    }

    @Test
    void aHandlerThatWillNotStopIsAbandonedAndRolledBack() throws Exception {
        String topic = KAFKA.uniqueTopic("stuck");
        KAFKA.createTopic(topic, 1);
        Words.createSchema(db.dataSource());
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            Words.produce(p, topic, 0, 100, 0);
        }
        CountDownLatch inHandler = new CountDownLatch(1);
        CountDownLatch handlerReturned = new CountDownLatch(1);
        TallyConsumer<String> consumer = TallyConsumer.<String>builder(Words.DECODER, (batch, connection) -> {
            Words.handler().handle(batch, connection);
            inHandler.countDown();
            // Deaf to interrupts, like a handler stuck in a driver call.
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
            while (System.nanoTime() < until) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ignored) {
                    // keep going
                }
            }
            handlerReturned.countDown();
        }).bootstrapServers(KAFKA.bootstrapServers()).groupId("stuck").topics(topic).dataSource(db.dataSource()).build().start();
        assertThat(inHandler.await(60, TimeUnit.SECONDS)).isTrue();

        long started = System.nanoTime();
        consumer.close(Duration.ofSeconds(1));
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertThat(tookMillis).isLessThan(1_000 + 2_500);

        // Even when the handler finally returns, the abandoned batch must not commit.
        assertThat(handlerReturned.await(10, TimeUnit.SECONDS)).isTrue();
        Thread.sleep(500);
        assertThat(Words.counts(db.dataSource())).isEmpty();
        assertThat(new OffsetStore(db.dataSource()).positions("stuck").values())
                .allSatisfy(p -> assertThat(p.nextOffset()).isZero());
    }

    @Test
    void closeLeavesTheGroupSoPartitionsMoveWithoutWaitingForTheSessionTimeout() throws Exception {
        String topic = KAFKA.uniqueTopic("leave");
        KAFKA.createTopic(topic, 2);
        Words.createSchema(db.dataSource());
        TallyConsumer<String> consumer = Words.consumer(KAFKA.bootstrapServers(), topic, "leave", db.dataSource())
                .kafkaProperty("session.timeout.ms", "45000").build().start();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> consumer.assignment().size() == 2);
        consumer.close(Duration.ofSeconds(10));
        var group = KAFKA.admin().describeConsumerGroups(List.of("leave")).all().get(30, TimeUnit.SECONDS).get("leave");
        assertThat(group.members()).isEmpty();
    }
}
