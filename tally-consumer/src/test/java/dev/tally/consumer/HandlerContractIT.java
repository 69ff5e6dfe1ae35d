package dev.tally.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.testkit.KafkaBrokerExtension;
import dev.tally.testkit.MariaDbDatabase;
import dev.tally.testkit.SqliteDatabase;
import java.io.IOException;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The smaller promises of the handler contract: the batch cap is a cap, a handler's own failure
 * is not mistaken for a passing database hiccup, and a handler that tries to end the
 * transaction itself is stopped before it can lose or double a record.
 */
class HandlerContractIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final SqliteDatabase db = new SqliteDatabase();

    @RegisterExtension
    final MariaDbDatabase mariadb = new MariaDbDatabase();

    @Test
    void maxBatchRecordsCapsEveryTransaction() throws Exception {
        String topic = KAFKA.uniqueTopic("cap");
        KAFKA.createTopic(topic, 2);
        Words.createSchema(db.dataSource());
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            Words.produce(p, topic, 0, 3_000, 0);
        }
        List<Integer> sizes = new CopyOnWriteArrayList<>();
        TallyConsumer<String> consumer = TallyConsumer.<String>builder(Words.DECODER, (batch, connection) -> {
            sizes.add(batch.size());
            Words.handler().handle(batch, connection);
        }).bootstrapServers(KAFKA.bootstrapServers()).groupId("cap").topics(topic).dataSource(db.dataSource())
                .maxBatchRecords(37).build().start();
        try {
            Words.awaitCaughtUp(db.dataSource(), "cap", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(90));
        } finally {
            consumer.close(Duration.ofSeconds(10));
        }
        assertThat(Words.counts(db.dataSource())).isEqualTo(Words.expected(3_000, 0));
        assertThat(sizes).isNotEmpty().allSatisfy(n -> assertThat(n).isBetween(1, 37));
    }

    @Test
    void aHandlersOwnIoExceptionCountsTowardMaxBatchAttempts() throws Exception {
        String topic = KAFKA.uniqueTopic("ioerror");
        KAFKA.createTopic(topic, 1);
        Words.createSchema(db.dataSource());
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            Words.produce(p, topic, 0, 50, 0);
        }
        List<ConsumerError> errors = new CopyOnWriteArrayList<>();
        TallyConsumer<String> consumer = TallyConsumer.<String>builder(Words.DECODER, (batch, connection) -> {
            // A JSON parse error in a handler is an IOException too: a bug, not an outage.
            throw new java.sql.SQLException("handler could not parse a value", new IOException("Unexpected character"));
        }).bootstrapServers(KAFKA.bootstrapServers()).groupId("ioerror").topics(topic).dataSource(db.dataSource())
                .maxBatchAttempts(3).retryBackoff(Duration.ofMillis(10), Duration.ofMillis(20))
                .errorListener(errors::add).build().start();
        try {
            assertThat(consumer.awaitTermination(Duration.ofSeconds(30))).as("stops after 3 attempts").isTrue();
            assertThat(consumer.state()).isEqualTo(TallyConsumer.State.FAILED);
            assertThat(errors).filteredOn(e -> e.phase() == ConsumerError.Phase.COMMIT).hasSize(3);
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    @Test
    void aHandlerThatCommitsItselfIsStoppedAndNothingIsCountedTwice() throws Exception {
        handlerThatEndsTheTransaction("commit", Connection::commit);
    }

    @Test
    void aHandlerThatRollsBackItselfIsStopped() throws Exception {
        handlerThatEndsTheTransaction("rollback", Connection::rollback);
    }

    @Test
    void aHandlerThatClosesTheConnectionIsStopped() throws Exception {
        handlerThatEndsTheTransaction("close", Connection::close);
    }

    @Test
    void aHandlerThatTurnsOnAutoCommitIsStopped() throws Exception {
        handlerThatEndsTheTransaction("autocommit", c -> c.setAutoCommit(true));
    }

    @Test
    void aHandlerThatCommitsInSqlIsStopped() throws Exception {
        handlerThatEndsTheTransaction("sqlcommit", db.dataSource(), c -> {
            try (java.sql.Statement s = c.createStatement()) {
                s.execute("COMMIT");
            }
        });
    }

    @Test
    void aHandlerWhoseDdlWouldCommitImplicitlyOnMariadbIsStopped() throws Exception {
        handlerThatEndsTheTransaction("ddl", mariadb.dataSource(), c -> {
            try (java.sql.Statement s = c.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS audit (word VARCHAR(200))");
            }
        });
    }

    private interface ConnectionAction {
        void apply(Connection c) throws Exception;
    }

    private void handlerThatEndsTheTransaction(String name, ConnectionAction action) throws Exception {
        handlerThatEndsTheTransaction(name, db.dataSource(), action);
    }

    private void handlerThatEndsTheTransaction(String name, DataSource ds, ConnectionAction action) throws Exception {
        String topic = KAFKA.uniqueTopic("own-" + name);
        KAFKA.createTopic(topic, 1);
        Words.createSchema(ds);
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            Words.produce(p, topic, 0, 200, 0);
        }
        List<ConsumerError> errors = new CopyOnWriteArrayList<>();
        AtomicInteger calls = new AtomicInteger();
        TallyConsumer<String> consumer = TallyConsumer.<String>builder(Words.DECODER, (batch, connection) -> {
            Words.handler().handle(batch, connection);
            if (calls.incrementAndGet() == 1) {
                action.apply(connection); // the contract says: never
                throw new IllegalStateException("first attempt fails after ending the transaction itself");
            }
        }).bootstrapServers(KAFKA.bootstrapServers()).groupId("own-" + name).topics(topic).dataSource(ds)
                .maxBatchAttempts(2).retryBackoff(Duration.ofMillis(10), Duration.ofMillis(20))
                .errorListener(errors::add).build().start();
        try {
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(errors)
                    .filteredOn(e -> e.phase() == ConsumerError.Phase.COMMIT)
                    .anySatisfy(e -> assertThat(e.cause()).hasMessageContaining("must not " + verb(name))
                            .hasMessageContaining("Tally")));
            Words.awaitCaughtUp(ds, "own-" + name, KAFKA.bootstrapServers(), topic, Duration.ofSeconds(30));
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
        // The first attempt's writes were rolled back with the batch: the retry counted each word once.
        assertThat(Words.counts(ds)).isEqualTo(Words.expected(200, 0));
        assertThat(new OffsetStore(ds).positions("own-" + name))
                .containsOnlyKeys(new TopicPartition(topic, 0));
    }

    private static String verb(String name) {
        return switch (name) {
            case "commit", "sqlcommit" -> "commit";
            case "rollback" -> "roll back";
            case "ddl" -> "run CREATE";
            case "close" -> "close";
            default -> "turn on auto-commit";
        };
    }
}
