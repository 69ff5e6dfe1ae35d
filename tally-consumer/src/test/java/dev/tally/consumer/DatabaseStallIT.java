package dev.tally.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.testkit.KafkaBrokerExtension;
import dev.tally.testkit.MariaDbDatabase;
import dev.tally.testkit.PostgresDatabase;
import dev.tally.testkit.TcpProxy;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A database that stops answering without closing its connections (dropped packets, a frozen
 * server): the member must neither hang nor be evicted from its group, and {@code close} stays
 * bounded. The database (PostgreSQL, MariaDB) is reached through a {@link TcpProxy} that goes
 * silent on demand.
 */
class DatabaseStallIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final PostgresDatabase postgres = new PostgresDatabase();

    @RegisterExtension
    final MariaDbDatabase mariadb = new MariaDbDatabase();

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void aSilentDatabaseNeitherHangsTheMemberNorEvictsItFromItsGroup(String database) throws Exception {
        Words.Database db = Words.Database.of(database, null, postgres, mariadb);
        int port = database.equals("mariadb") ? 3306 : 5432;
        String topic = KAFKA.uniqueTopic("stall");
        KAFKA.createTopic(topic, 2);
        Words.createSchema(db.dataSource());
        List<ConsumerError> errors = new CopyOnWriteArrayList<>();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (TcpProxy proxy = TcpProxy.to("127.0.0.1", port);
                KafkaProducer<byte[], byte[]> producer = Words.producer(KAFKA.bootstrapServers())) {
            String viaProxy = db.jdbcUrl().replace("127.0.0.1:" + port, "127.0.0.1:" + proxy.port());
            TallyConsumer<String> consumer = TallyConsumer.builder(Words.DECODER, Words.handler())
                    .bootstrapServers(KAFKA.bootstrapServers()).groupId(topic).topics(topic).jdbcUrl(viaProxy)
                    .databaseTimeout(Duration.ofSeconds(3))
                    .offsetCheckInterval(Duration.ofMillis(300)) // the polling thread reads the database too
                    .retryBackoff(Duration.ofMillis(100), Duration.ofSeconds(1))
                    // A member whose polling thread is held longer than this is dropped from its group.
                    .kafkaProperty("max.poll.interval.ms", "10000")
                    .meterRegistry(registry).errorListener(errors::add).build().start();
            try {
                Words.produce(producer, topic, 0, 500, 0);
                Words.awaitCaughtUp(db.dataSource(), topic, KAFKA.bootstrapServers(), topic, Duration.ofSeconds(60));

                proxy.blackhole();
                Words.produce(producer, topic, 500, 1_000, 0);
                Thread.sleep(20_000); // twice max.poll.interval.ms
                // Database calls failed as lost connections, retried; the records wait.
                assertThat(errors).anySatisfy(e -> assertThat(e.phase()).isIn(ConsumerError.Phase.COMMIT, ConsumerError.Phase.ASSIGN));
                proxy.heal();

                Words.awaitCaughtUp(db.dataSource(), topic, KAFKA.bootstrapServers(), topic, Duration.ofSeconds(60));
                assertThat(Words.counts(db.dataSource())).isEqualTo(Words.expected(1_000, 0));
                assertThat(registry.get("tally.consumer.rebalances").tag("kind", "lost").counter().count())
                        .as("evicted from the group").isZero();
                assertThat(registry.get("tally.consumer.rebalances").tag("kind", "revoked").counter().count()).isZero();
                assertThat(consumer.state()).isEqualTo(TallyConsumer.State.RUNNING);

                // close() is bounded even while the database is silent, pool included, and nothing commits after it.
                proxy.blackhole();
                Words.produce(producer, topic, 1_000, 1_200, 0);
                Thread.sleep(1_000);
                long started = System.nanoTime();
                consumer.close(Duration.ofSeconds(3));
                long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                assertThat(tookMillis).isLessThan(3_000 + 2_000);
                assertThat(consumer.state()).isEqualTo(TallyConsumer.State.CLOSED);
                assertThat(consumer.awaitTermination(Duration.ZERO)).as("both threads stopped").isTrue();
                Map<TopicPartition, OffsetStore.Position> atClose = new OffsetStore(db.dataSource()).positions(topic);
                proxy.heal();
                Thread.sleep(2_000);
                Map<TopicPartition, OffsetStore.Position> later = new OffsetStore(db.dataSource()).positions(topic);
                assertThat(later).isEqualTo(atClose);
                assertThat(Words.counts(db.dataSource())).isEqualTo(Words.expectedBefore(
                        Words.readAll(KAFKA.bootstrapServers(), topic), later));
            } finally {
                consumer.close(Duration.ofSeconds(5));
            }
        }
    }
}
