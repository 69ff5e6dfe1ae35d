package dev.tally.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.testkit.KafkaBrokerExtension;
import dev.tally.testkit.MariaDbDatabase;
import dev.tally.testkit.PostgresDatabase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Outages of the broker and of the database (PostgreSQL refusing connections; MariaDB ending
 * every session, as a restart or failover does) are waited out without a restart, and counts stay
 * exact.
 */
class RecoveryIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.childProcess();

    @RegisterExtension
    final PostgresDatabase db = new PostgresDatabase();

    @RegisterExtension
    final MariaDbDatabase mariadb = new MariaDbDatabase();

    @Test
    void aBrokerDownForTwentySecondsIsWaitedOut() throws Exception {
        String topic = KAFKA.uniqueTopic("brokerdown");
        KAFKA.createTopic(topic, 3);
        Words.createSchema(db.dataSource());
        List<ConsumerError> errors = new CopyOnWriteArrayList<>();
        TallyConsumer<String> consumer = Words.consumer(KAFKA.bootstrapServers(), topic, "brokerdown", db.dataSource())
                .errorListener(errors::add).build().start();
        try {
            try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
                Words.produce(p, topic, 0, 5_000, 0);
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> Words.total(db.dataSource()) > 0);

            KAFKA.process().kill();
            Thread.sleep(20_000);
            assertThat(consumer.state()).isEqualTo(TallyConsumer.State.RUNNING);
            KAFKA.process().restart();

            try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
                Words.produce(p, topic, 5_000, 10_000, 0);
            }
            Words.awaitCaughtUp(db.dataSource(), "brokerdown", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(120));
            assertThat(consumer.state()).isEqualTo(TallyConsumer.State.RUNNING);
        } finally {
            consumer.close(Duration.ofSeconds(10));
        }
        assertThat(Words.counts(db.dataSource())).isEqualTo(Words.expected(10_000, 0));
    }

    @Test
    void aDatabaseOutagePausesThePartitionsKeepsTheMembershipAndResumes() throws Exception {
        String topic = KAFKA.uniqueTopic("dbdown");
        KAFKA.createTopic(topic, 3);
        Words.createSchema(db.dataSource());
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        List<ConsumerError> errors = new CopyOnWriteArrayList<>();
        // The consumer's own pool (jdbcUrl): connection attempts fail fast while the database is away.
        TallyConsumer<String> consumer = TallyConsumer.builder(Words.DECODER, Words.handler())
                .bootstrapServers(KAFKA.bootstrapServers()).groupId("dbdown").topics(topic).jdbcUrl(db.jdbcUrl())
                .retryBackoff(Duration.ofMillis(50), Duration.ofSeconds(1))
                .meterRegistry(registry).errorListener(errors::add).build().start();
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            Words.produce(p, topic, 0, 3_000, 0);
            await().atMost(Duration.ofSeconds(60)).until(() -> consumer.assignment().size() == 3 && Words.total(db.dataSource()) > 0);
            double rebalancesBefore = registry.get("tally.consumer.rebalances").tag("kind", "assigned").counter().count();
            Set<TopicPartition> assignmentBefore = consumer.assignment();

            blockConnections(true);
            try {
                Words.produce(p, topic, 3_000, 6_000, 0);
                await().atMost(Duration.ofSeconds(30)).until(consumer::isBackingOff);
                Thread.sleep(8_000);
                // Still a member with the same partitions, paused rather than gone.
                assertThat(consumer.isBackingOff()).isTrue();
                assertThat(consumer.assignment()).isEqualTo(assignmentBefore);
                assertThat(consumer.state()).isEqualTo(TallyConsumer.State.RUNNING);
                assertThat(registry.get("tally.consumer.paused.partitions").gauge().value()).isEqualTo(3);
            } finally {
                blockConnections(false);
            }
            Words.awaitCaughtUp(db.dataSource(), "dbdown", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(90));
            assertThat(registry.get("tally.consumer.rebalances").tag("kind", "assigned").counter().count()).isEqualTo(rebalancesBefore);
            assertThat(consumer.isBackingOff()).isFalse();
        } finally {
            consumer.close(Duration.ofSeconds(10));
        }
        assertThat(Words.counts(db.dataSource())).isEqualTo(Words.expected(6_000, 0));
        assertThat(errors).anySatisfy(e -> assertThat(e.phase()).isEqualTo(ConsumerError.Phase.COMMIT));
    }

    @Test
    void sessionsKilledOnMariadbMidTransactionAreRetriedAndCountsStayExact() throws Exception {
        String topic = KAFKA.uniqueTopic("killed");
        KAFKA.createTopic(topic, 3);
        Words.createSchema(mariadb.dataSource());
        List<ConsumerError> errors = new CopyOnWriteArrayList<>();
        // The handler holds each transaction open a while, so that kills land inside one. The URL is
        // spelt jdbc:mysql:, which goes to MariaDB Connector/J as well.
        List<String> isolation = new CopyOnWriteArrayList<>();
        TallyConsumer<String> consumer = TallyConsumer.<String>builder(Words.DECODER, (batch, connection) -> {
            Words.handler().handle(batch, connection);
            try (Statement s = connection.createStatement(); java.sql.ResultSet rs = s.executeQuery("SELECT @@tx_isolation")) {
                rs.next();
                isolation.add(rs.getString(1));
            }
            Thread.sleep(50);
        }).bootstrapServers(KAFKA.bootstrapServers()).groupId("killed").topics(topic)
                .jdbcUrl(mariadb.jdbcUrl().replace("jdbc:mariadb:", "jdbc:mysql:"))
                .maxBatchRecords(500).maxBatchAttempts(2).retryBackoff(Duration.ofMillis(50), Duration.ofSeconds(1))
                .errorListener(errors::add).build().start();
        try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
            Words.produce(p, topic, 0, 6_000, 0);
            // A restart or failover ends every session; keep doing it until one ended a transaction.
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(150)).until(() -> {
                mariadb.killConnections();
                return errors.stream().anyMatch(e -> e.phase() == ConsumerError.Phase.COMMIT);
            });
            Words.produce(p, topic, 6_000, 8_000, 0);
            Words.awaitCaughtUp(mariadb.dataSource(), "killed", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(90));
            // Transient: retried past maxBatchAttempts(2) without stopping.
            assertThat(consumer.state()).isEqualTo(TallyConsumer.State.RUNNING);
        } finally {
            consumer.close(Duration.ofSeconds(10));
        }
        assertThat(Words.counts(mariadb.dataSource())).isEqualTo(Words.expected(8_000, 0));
        assertThat(errors).noneMatch(e -> e.phase() == ConsumerError.Phase.FATAL);
        // The pool Tally opens runs at READ COMMITTED, as on PostgreSQL, not InnoDB's default.
        assertThat(isolation).isNotEmpty().containsOnly("READ-COMMITTED");
    }

    @Test
    void aLockHeldElsewherePastMariadbsLockWaitTimeoutIsWaitedOut() throws Exception {
        String topic = KAFKA.uniqueTopic("locked");
        KAFKA.createTopic(topic, 1);
        Words.createSchema(mariadb.dataSource());
        List<ConsumerError> errors = new CopyOnWriteArrayList<>();
        try (Connection blocker = mariadb.dataSource().getConnection()) {
            // Another writer holds word w0 (an uncommitted insert): the consumer's upsert waits on it.
            blocker.setAutoCommit(false);
            try (Statement s = blocker.createStatement()) {
                s.execute("INSERT INTO word_counts (word, n) VALUES ('w0', 0)");
            }
            try (KafkaProducer<byte[], byte[]> p = Words.producer(KAFKA.bootstrapServers())) {
                Words.produce(p, topic, 0, 2_000, 0);
            }
            TallyConsumer<String> running = TallyConsumer.builder(Words.DECODER, Words.handler())
                    .bootstrapServers(KAFKA.bootstrapServers()).groupId("locked").topics(topic)
                    .jdbcUrl(mariadb.jdbcUrl() + "&sessionVariables=innodb_lock_wait_timeout=1")
                    .maxBatchAttempts(2).retryBackoff(Duration.ofMillis(50), Duration.ofMillis(200))
                    .errorListener(errors::add).build().start();
            try {
                // Error 1205, SQLSTATE HY000: more often than maxBatchAttempts, and still running.
                await().atMost(Duration.ofSeconds(60)).until(() -> errors.stream()
                        .filter(e -> e.phase() == ConsumerError.Phase.COMMIT && errorCode(e.cause()) == 1205).count() > 3);
                assertThat(running.state()).isEqualTo(TallyConsumer.State.RUNNING);
                blocker.commit();
                Words.awaitCaughtUp(mariadb.dataSource(), "locked", KAFKA.bootstrapServers(), topic, Duration.ofSeconds(60));
            } finally {
                running.close(Duration.ofSeconds(10));
            }
        }
        assertThat(Words.counts(mariadb.dataSource())).isEqualTo(Words.expected(2_000, 0));
    }

    private static int errorCode(Throwable t) {
        for (; t != null; t = t.getCause()) {
            if (t instanceof java.sql.SQLException e) {
                return e.getErrorCode();
            }
        }
        return 0;
    }

    /** Refuses new connections to the test database and terminates the open ones, as a failover would. */
    private void blockConnections(boolean block) throws Exception {
        try (Connection admin = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/postgres", "postgres", "");
                Statement s = admin.createStatement()) {
            s.execute("ALTER DATABASE " + db.name() + " WITH ALLOW_CONNECTIONS " + !block);
            if (block) {
                s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + db.name() + "'");
            }
        }
    }
}
