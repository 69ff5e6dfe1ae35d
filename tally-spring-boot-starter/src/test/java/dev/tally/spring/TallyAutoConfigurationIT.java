package dev.tally.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.consumer.Batch;
import dev.tally.consumer.ConsumerError;
import dev.tally.consumer.Message;
import dev.tally.consumer.OffsetStore;
import dev.tally.consumer.TallyConsumer;
import dev.tally.testkit.KafkaBrokerExtension;
import dev.tally.testkit.PostgresDatabase;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.JdbcTemplateAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Transactional;

/**
 * The starter in a real application context, on a real broker and PostgreSQL: a
 * {@code @TallyListener} writing through {@code JdbcTemplate} counts exactly once, stops with the
 * context and goes on where it stopped; health, metrics and error events tell what happens.
 */
class TallyAutoConfigurationIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final PostgresDatabase db = new PostgresDatabase();

    private static final List<String> WORDS = List.of("alpha", "beta", "gamma", "delta", "epsilon");

    @Test
    void countsExactlyOnceThroughJdbcTemplateStopsWithTheContextAndGoesOnWhereItStopped() throws Exception {
        String topic = KAFKA.createTopic(KAFKA.uniqueTopic("words"), 3);
        createTable();
        produce(topic, 100, true);
        AtomicReference<TallyConsumer<?>> first = new AtomicReference<>();
        runner(topic, "counter").withUserConfiguration(Counting.class).run(context -> {
            assertThat(context).hasNotFailed();
            awaitStored("counter", topic);
            assertThat(counts()).isEqualTo(expected(100));

            MeterRegistry registry = context.getBean(MeterRegistry.class);
            assertThat(registry.get("tally.consumer.records").tag("outcome", "processed").counter().count()).isEqualTo(500.0);
            assertThat(registry.get("tally.consumer.records").tag("outcome", "dead_lettered").counter().count()).isEqualTo(3.0);
            assertThat(registry.get("tally.consumer.batches").tag("outcome", "committed").counter().count()).isPositive();
            assertThat(registry.get("tally.consumer.lag").gauges()).hasSize(3);

            List<ConsumerError> errors = context.getBean(ErrorEvents.class).errors;
            await().atMost(Duration.ofSeconds(10)).until(() -> errors.size() >= 3);
            assertThat(errors).extracting(ConsumerError::phase).containsOnly(ConsumerError.Phase.REJECT);
            assertThat(errors).allSatisfy(e -> assertThat(e.topic()).isEqualTo(topic));
            assertThat(errors).extracting(e -> e.cause().getMessage()).allSatisfy(m -> assertThat(m).contains("not a word"));
            assertThat(KAFKA.readAll(topic + ".dlq")).hasSize(3);

            Health health = context.getBean(TallyHealthIndicator.class).health();
            assertThat(health.getStatus()).isEqualTo(Status.UP);
            assertThat(health.getDetails()).containsEntry("state", "RUNNING").containsEntry("group", "counter")
                    .containsEntry("totalLag", 0L).containsEntry("haltedPartitions", Map.of()).containsEntry("backingOff", false)
                    .containsKey("lastProgress");
            assertThat((List<?>) health.getDetails().get("assignment")).hasSize(3);
            assertThat(((Map<?, ?>) health.getDetails().get("lag")).keySet()).map(Object::toString).hasSize(3).contains(topic + "-0");
            TallyConsumer<?> before = context.getBean(ManagedTallyConsumer.class).consumer().orElseThrow();

            // Stopping and starting the context closes the consumer and runs a new one.
            context.stop();
            assertThat(before.state()).isEqualTo(TallyConsumer.State.CLOSED);
            assertThat(context.getBean(TallyHealthIndicator.class).health().getStatus()).isEqualTo(Status.OUT_OF_SERVICE);
            produce(topic, 10, false);
            context.start();
            awaitStored("counter", topic);
            assertThat(counts()).isEqualTo(expected(110));
            first.set(context.getBean(ManagedTallyConsumer.class).consumer().orElseThrow());
            assertThat(first.get()).isNotSameAs(before);
        });
        assertThat(first.get().state()).as("closed with the context").isEqualTo(TallyConsumer.State.CLOSED);

        // Another start of the application reads on from the stored offsets: nothing counted twice.
        produce(topic, 10, false);
        runner(topic, "counter").withUserConfiguration(Counting.class).run(context -> {
            assertThat(context).hasNotFailed();
            awaitStored("counter", topic);
            assertThat(counts()).isEqualTo(expected(120));
        });
    }

    @Test
    void aHandlerThatKeepsFailingLeavesNothingWrittenStopsAndSaysSo() throws Exception {
        String topic = KAFKA.createTopic(KAFKA.uniqueTopic("failing"), 2);
        createTable();
        produce(topic, 10, false);
        runner(topic, "failing").withUserConfiguration(Failing.class)
                .withPropertyValues("tally.consumer.max-batch-attempts=2", "tally.consumer.retry-backoff-initial=50ms")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    TallyConsumer<?> consumer = context.getBean(ManagedTallyConsumer.class).consumer().orElseThrow();
                    await().atMost(Duration.ofSeconds(60)).until(() -> consumer.state() == TallyConsumer.State.FAILED);
                    assertThat(counts()).as("the handler's writes were rolled back").isEmpty();
                    assertThat(new OffsetStore(db.dataSource()).positions("failing").values())
                            .allSatisfy(p -> assertThat(p.nextOffset()).isZero());

                    Health health = context.getBean(TallyHealthIndicator.class).health();
                    assertThat(health.getStatus()).isEqualTo(Status.DOWN);
                    assertThat(health.getDetails()).containsEntry("state", "FAILED");

                    List<ConsumerError> errors = context.getBean(ErrorEvents.class).errors;
                    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(errors)
                            .extracting(ConsumerError::phase).contains(ConsumerError.Phase.COMMIT, ConsumerError.Phase.FATAL));
                    assertThat(context.getBean(MeterRegistry.class).get("tally.consumer.errors").tag("phase", "COMMIT")
                            .counter().count()).isGreaterThanOrEqualTo(2.0);
                });
    }

    @Test
    void aTransactionalMethodThatFailsInsideTheHandlerRollsTheBatchBackEvenWhenTheHandlerSwallowsIt() throws Exception {
        String topic = KAFKA.createTopic(KAFKA.uniqueTopic("swallowing"), 1);
        createTable();
        produce(topic, 2, false);
        runner(topic, "swallowing").withUserConfiguration(Swallowing.class)
                .withConfiguration(AutoConfigurations.of(DataSourceTransactionManagerAutoConfiguration.class))
                .withPropertyValues("tally.consumer.max-batch-attempts=2", "tally.consumer.retry-backoff-initial=50ms")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    TallyConsumer<?> consumer = context.getBean(ManagedTallyConsumer.class).consumer().orElseThrow();
                    await().atMost(Duration.ofSeconds(60)).until(() -> consumer.state() == TallyConsumer.State.FAILED);
                    assertThat(counts()).as("written before the failure, rolled back with the batch").isEmpty();
                    List<ConsumerError> errors = context.getBean(ErrorEvents.class).errors;
                    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(errors)
                            .filteredOn(e -> e.phase() == ConsumerError.Phase.COMMIT)
                            .extracting(e -> e.cause().getMessage()).anySatisfy(m -> assertThat(m).contains("rollback-only")));
                });
    }

    @Test
    void aHaltedPartitionTakesTheHealthDownWithItsReasonWhileTheOthersGoOn() throws Exception {
        String topic = KAFKA.createTopic(KAFKA.uniqueTopic("halting"), 2);
        createTable();
        produce(topic, 10, false);
        OffsetStore store = new OffsetStore(db.dataSource());
        store.createTableIfAbsent();
        // A stored offset past the log's end: going on would skip whatever is written up to it.
        store.rewind("halting", new org.apache.kafka.common.TopicPartition(topic, 1), 1_000_000);
        runner(topic, "halting").withUserConfiguration(Counting.class).run(context -> {
            assertThat(context).hasNotFailed();
            TallyHealthIndicator indicator = context.getBean(TallyHealthIndicator.class);
            await().atMost(Duration.ofSeconds(60)).until(() -> indicator.health().getStatus().equals(Status.DOWN));
            Health health = indicator.health();
            assertThat(health.getDetails()).containsEntry("state", "RUNNING");
            @SuppressWarnings("unchecked")
            Map<String, String> halted = (Map<String, String>) health.getDetails().get("haltedPartitions");
            assertThat(halted).containsOnlyKeys(topic + "-1");
            assertThat(halted.get(topic + "-1")).contains("1000000");
            await().atMost(Duration.ofSeconds(60)).until(() -> store.positions("halting")
                    .get(new org.apache.kafka.common.TopicPartition(topic, 0)).nextOffset() == KAFKA.endOffsets(topic)
                    .get(new org.apache.kafka.common.TopicPartition(topic, 0)));
            assertThat(context.getBean(ErrorEvents.class).errors).extracting(ConsumerError::phase).contains(ConsumerError.Phase.HALTED);
        });
    }

    @Test
    void anApplicationWithoutAHandlerDoesNotStartAndOneWithTheConsumerOffHasNone() {
        runner("t", "g").withUserConfiguration(Events.class).run(context -> assertThat(context).hasFailed()
                .getFailure().rootCause().hasMessageContaining("exactly one handler"));
        runner("t", "g").withUserConfiguration(Counting.class).withPropertyValues("tally.consumer.enabled=false")
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(ManagedTallyConsumer.class));
    }

    private ApplicationContextRunner runner(String topic, String group) {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class, JdbcTemplateAutoConfiguration.class,
                        TallyAutoConfiguration.class))
                .withPropertyValues(
                        "spring.datasource.url=" + db.jdbcUrl(),
                        "spring.datasource.hikari.maximum-pool-size=4",
                        "tally.consumer.bootstrap-servers=" + KAFKA.bootstrapServers(),
                        "tally.consumer.group=" + group,
                        "tally.consumer.topics=" + topic,
                        "tally.consumer.close-timeout=10s");
    }

    private void createTable() throws Exception {
        try (var c = db.dataSource().getConnection(); var s = c.createStatement()) {
            s.execute("CREATE TABLE words (word text PRIMARY KEY, n bigint NOT NULL)");
        }
    }

    /** {@code each} records of every word, and three records no word counts. */
    private static void produce(String topic, int each, boolean withBad) {
        try (KafkaProducer<String, String> p = new KafkaProducer<>(KAFKA.producerProperties())) {
            for (int i = 0; i < each; i++) {
                for (String w : WORDS) {
                    p.send(new ProducerRecord<>(topic, w + i % 7, w));
                }
            }
            if (withBad) {
                for (int i = 0; i < 3; i++) {
                    p.send(new ProducerRecord<>(topic, "bad" + i, "bad"));
                }
            }
        }
    }

    private static Map<String, Long> expected(long each) {
        Map<String, Long> m = new java.util.TreeMap<>();
        WORDS.forEach(w -> m.put(w, each));
        return m;
    }

    private Map<String, Long> counts() {
        Map<String, Long> m = new java.util.TreeMap<>();
        new JdbcTemplate(db.dataSource()).query("SELECT word, n FROM words", rs -> {
            m.put(rs.getString(1), rs.getLong(2));
        });
        return m;
    }

    private void awaitStored(String group, String topic) {
        Map<org.apache.kafka.common.TopicPartition, Long> end = KAFKA.endOffsets(topic);
        OffsetStore store = new OffsetStore(db.dataSource());
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            Map<org.apache.kafka.common.TopicPartition, Long> stored = new java.util.HashMap<>();
            store.positions(group).forEach((tp, p) -> stored.put(tp, p.nextOffset()));
            return stored.equals(end);
        });
    }

    /** Collects the consumer's error events. */
    static class ErrorEvents {
        final List<ConsumerError> errors = new CopyOnWriteArrayList<>();

        @EventListener
        void on(TallyErrorEvent event) {
            errors.add(event.getError());
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class Events {
        @Bean
        ErrorEvents errorEvents() {
            return new ErrorEvents();
        }

        @Bean
        SimpleMeterRegistry meterRegistry() {
            return new SimpleMeterRegistry();
        }
    }

    /** Counts words with JdbcTemplate; "bad" is not a word. */
    static class WordCounter {
        private final JdbcTemplate jdbc;

        WordCounter(JdbcTemplate jdbc) {
            this.jdbc = jdbc;
        }

        @TallyListener
        void count(Batch<String> batch) {
            for (Message<String> m : batch) {
                if ("bad".equals(m.value())) {
                    batch.reject(m, "not a word");
                } else {
                    jdbc.update("INSERT INTO words (word, n) VALUES (?, 1) ON CONFLICT (word) DO UPDATE SET n = words.n + 1", m.value());
                }
            }
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class Counting extends Events {
        @Bean
        WordCounter wordCounter(JdbcTemplate jdbc) {
            return new WordCounter(jdbc);
        }
    }

    /** A transactional service that fails after writing. */
    static class Writer {
        private final JdbcTemplate jdbc;

        Writer(JdbcTemplate jdbc) {
            this.jdbc = jdbc;
        }

        @Transactional
        public void writeAndFail(String word) {
            jdbc.update("INSERT INTO words (word, n) VALUES (?, 1) ON CONFLICT (word) DO NOTHING", word);
            throw new IllegalStateException("fails after writing");
        }
    }

    /** Calls the failing service and swallows its exception: a mistake the batch must survive. */
    @Configuration(proxyBeanMethods = false)
    @EnableTransactionManagement
    static class Swallowing extends Events {
        @Bean
        Writer writer(JdbcTemplate jdbc) {
            return new Writer(jdbc);
        }

        @Bean
        dev.tally.consumer.BatchHandler<String> swallowingHandler(Writer writer) {
            return (batch, connection) -> {
                for (Message<String> m : batch) {
                    try {
                        writer.writeAndFail(m.value());
                    } catch (IllegalStateException swallowed) {
                        // the mistake
                    }
                }
            };
        }
    }

    /** Writes through JdbcTemplate, then fails, every time. */
    @Configuration(proxyBeanMethods = false)
    static class Failing extends Events {
        @Bean
        dev.tally.consumer.BatchHandler<String> failingHandler(JdbcTemplate jdbc) {
            return (batch, connection) -> {
                jdbc.update("INSERT INTO words (word, n) VALUES ('written', 1)");
                throw new IllegalStateException("fails after writing");
            };
        }
    }
}
