package dev.tally.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.consumer.Batch;
import dev.tally.consumer.BatchHandler;
import dev.tally.consumer.Message;
import dev.tally.consumer.OffsetStore;
import dev.tally.testkit.KafkaBrokerExtension;
import dev.tally.testkit.PostgresDatabase;
import jakarta.persistence.EntityManager;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.autoconfigure.AutoConfigurationPackage;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.JdbcClientAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.JdbcTemplateAutoConfiguration;
import org.springframework.boot.jooq.autoconfigure.JooqAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Transactional;

/**
 * The application's {@code JdbcClient}, jOOQ {@code DSLContext} and JPA {@code EntityManager}
 * write in the transaction of the offsets: each handler runs on the very database session Tally
 * handed over, and fails once per batch after writing; the batch is rolled back and retried, so
 * if any of those writes escaped the transaction the counts would be too high.
 */
class DataAccessIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final PostgresDatabase db = new PostgresDatabase();

    private static final int EACH = 50;
    private static final Set<String> WORDS = Set.of("alpha", "beta", "gamma", "delta");

    @Test
    void jdbcClientWritesInTheOffsetsTransaction() throws Exception {
        countsExactlyDespiteAFailureAfterWritingInEveryBatch(WithJdbcClient.class);
    }

    @Test
    void jooqWritesInTheOffsetsTransaction() throws Exception {
        countsExactlyDespiteAFailureAfterWritingInEveryBatch(WithJooq.class);
    }

    @Test
    void aTransactionalMethodJoinsTheOffsetsTransaction() throws Exception {
        countsExactlyDespiteAFailureAfterWritingInEveryBatch(WithTransactionalService.class);
    }

    @Test
    void jpaWritesInTheOffsetsTransaction() throws Exception {
        countsExactlyDespiteAFailureAfterWritingInEveryBatch(WithJpa.class);
    }

    private void countsExactlyDespiteAFailureAfterWritingInEveryBatch(Class<?> configuration) throws Exception {
        String topic = KAFKA.createTopic(KAFKA.uniqueTopic("access"), 2);
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE words (word text PRIMARY KEY, n bigint NOT NULL)");
        }
        try (KafkaProducer<String, String> p = new KafkaProducer<>(KAFKA.producerProperties())) {
            for (int i = 0; i < EACH; i++) {
                for (String w : WORDS) {
                    p.send(new ProducerRecord<>(topic, w + i, w));
                }
            }
        }
        Map<TopicPartition, Long> end = KAFKA.endOffsets(topic);
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
                        DataSourceTransactionManagerAutoConfiguration.class, JdbcTemplateAutoConfiguration.class,
                        JdbcClientAutoConfiguration.class, JooqAutoConfiguration.class, HibernateJpaAutoConfiguration.class,
                        TallyAutoConfiguration.class))
                .withUserConfiguration(configuration)
                .withPropertyValues(
                        "spring.datasource.url=" + db.jdbcUrl(),
                        "spring.datasource.hikari.maximum-pool-size=4",
                        "spring.jpa.hibernate.ddl-auto=none",
                        "tally.consumer.bootstrap-servers=" + KAFKA.bootstrapServers(),
                        "tally.consumer.group=access",
                        "tally.consumer.topics=" + topic,
                        "tally.consumer.retry-backoff-initial=20ms",
                        "tally.consumer.close-timeout=10s")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    OffsetStore store = new OffsetStore(db.dataSource());
                    await().atMost(Duration.ofSeconds(60)).until(() -> {
                        Map<TopicPartition, Long> stored = new HashMap<>();
                        store.positions("access").forEach((tp, p) -> stored.put(tp, p.nextOffset()));
                        return stored.equals(end);
                    });
                    FailingOnce handler = context.getBean(FailingOnce.class);
                    assertThat(handler.failures.get()).as("every batch failed once after writing").isPositive();
                    assertThat(handler.foreignSessions).as("writes on another database session than the batch's").isEmpty();
                });
        Map<String, Long> counts = new TreeMap<>();
        new JdbcTemplate(db.dataSource()).query("SELECT word, n FROM words", (ResultSet rs) -> {
            counts.put(rs.getString(1), rs.getLong(2));
        });
        Map<String, Long> expected = new TreeMap<>();
        WORDS.forEach(w -> expected.put(w, (long) EACH));
        assertThat(counts).isEqualTo(expected);
    }

    /**
     * Counts each batch's words through one kind of data access, checks that it runs on the
     * batch's own database session, and throws after writing on the first attempt of each batch.
     */
    abstract static class FailingOnce implements BatchHandler<String> {
        final AtomicInteger failures = new AtomicInteger();
        final Set<String> foreignSessions = ConcurrentHashMap.newKeySet();
        private final Set<Long> failedBatches = ConcurrentHashMap.newKeySet();

        @Override
        public void handle(Batch<String> batch, Connection connection) throws Exception {
            for (Message<String> m : batch) {
                count(m.value());
            }
            int batchSession = backendPid(connection);
            int session = backendPidThroughAccess();
            if (session != batchSession) {
                foreignSessions.add(session + " != " + batchSession);
            }
            Message<String> first = batch.iterator().next();
            if (failedBatches.add(first.partition() * 1_000_000L + first.offset())) {
                failures.incrementAndGet();
                throw new IllegalStateException("fails after writing, once per batch");
            }
        }

        abstract void count(String word);

        abstract int backendPidThroughAccess();

        private static int backendPid(Connection c) throws Exception {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class WithJdbcClient {
        @Bean
        FailingOnce handler(JdbcClient jdbc) {
            return new FailingOnce() {
                @Override
                void count(String word) {
                    jdbc.sql("INSERT INTO words (word, n) VALUES (?, 1) ON CONFLICT (word) DO UPDATE SET n = words.n + 1")
                            .param(word).update();
                }

                @Override
                int backendPidThroughAccess() {
                    return jdbc.sql("SELECT pg_backend_pid()").query(Integer.class).single();
                }
            };
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class WithJooq {
        @Bean
        FailingOnce handler(DSLContext dsl) {
            return new FailingOnce() {
                @Override
                void count(String word) {
                    var table = org.jooq.impl.DSL.table("words");
                    var wordField = org.jooq.impl.DSL.field("word", String.class);
                    var n = org.jooq.impl.DSL.field("n", Long.class);
                    dsl.insertInto(table, wordField, n).values(word, 1L)
                            .onConflict(wordField).doUpdate().set(n, org.jooq.impl.DSL.field("words.n", Long.class).plus(1))
                            .execute();
                }

                @Override
                int backendPidThroughAccess() {
                    return dsl.fetchValue(org.jooq.impl.DSL.field("pg_backend_pid()", Integer.class));
                }
            };
        }
    }

    /** A service whose methods are transactional, as an application's usually are. */
    static class Counts {
        private final JdbcTemplate jdbc;

        Counts(JdbcTemplate jdbc) {
            this.jdbc = jdbc;
        }

        @Transactional
        public void add(String word) {
            jdbc.update("INSERT INTO words (word, n) VALUES (?, 1) ON CONFLICT (word) DO UPDATE SET n = words.n + 1", word);
        }

        @Transactional
        public int session() {
            return jdbc.queryForObject("SELECT pg_backend_pid()", Integer.class);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @EnableTransactionManagement
    static class WithTransactionalService {
        @Bean
        Counts counts(JdbcTemplate jdbc) {
            return new Counts(jdbc);
        }

        @Bean
        FailingOnce handler(Counts counts) {
            return new FailingOnce() {
                @Override
                void count(String word) {
                    counts.add(word);
                }

                @Override
                int backendPidThroughAccess() {
                    return counts.session();
                }
            };
        }
    }

    @Configuration(proxyBeanMethods = false)
    @AutoConfigurationPackage
    static class WithJpa {
        @Bean
        FailingOnce handler(EntityManager entityManager) {
            return new FailingOnce() {
                @Override
                void count(String word) {
                    Word w = entityManager.find(Word.class, word);
                    if (w == null) {
                        entityManager.persist(new Word(word, 1));
                    } else {
                        w.increment();
                    }
                    // Written now, not at the end: the failure below must roll back rows that are in the database.
                    entityManager.flush();
                }

                @Override
                int backendPidThroughAccess() {
                    return ((Number) entityManager.createNativeQuery("SELECT pg_backend_pid()").getSingleResult()).intValue();
                }
            };
        }
    }
}
