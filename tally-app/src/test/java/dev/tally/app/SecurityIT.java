package dev.tally.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.broker.KafkaBroker;
import dev.tally.consumer.OffsetStore;
import dev.tally.testkit.PostgresDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka security passes through {@code --kafka} and the configuration file: the aggregator and
 * {@code lag} log in with SASL/SCRAM to a broker that demands it, and the password appears in no
 * output, not even when the login fails.
 */
class SecurityIT {

    private static final String PASSWORD = "pw-7f3c2e9a1b";
    private static KafkaBroker broker;

    @RegisterExtension
    final PostgresDatabase db = new PostgresDatabase();

    @TempDir
    Path dir;

    @BeforeAll
    static void startBroker() {
        broker = KafkaBroker.builder().scramUser("tally", PASSWORD).build().start();
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    private static String jaas(String password) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"tally\" password=\"" + password + "\";";
    }

    @Test
    void theAggregatorLogsInWithScramFromTheConfigurationFileAndNeverPrintsThePassword() throws Exception {
        String topic = "secure-pageviews";
        Properties admin = new Properties();
        admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        try (Admin a = Admin.create(admin)) {
            a.createTopics(List.of(new NewTopic(topic, 2, (short) 1), new NewTopic(topic + ".dlq", 1, (short) 1)))
                    .all().get(30, TimeUnit.SECONDS);
        }
        Path config = dir.resolve("tally.properties");
        Files.writeString(config, String.join("\n",
                "bootstrap-servers=" + broker.saslBootstrapServers(),
                "topic=" + topic,
                "aggregate.group=secure",
                "kafka.security.protocol=SASL_PLAINTEXT",
                "kafka.sasl.mechanism=SCRAM-SHA-256",
                "kafka.sasl.jaas.config=" + jaas(PASSWORD).replace("\\", "\\\\"),
                ""));
        try (TallyProcess aggregate = TallyProcess.start(dir, "aggregate", "--config", config.toString(), "--db", db.jdbcUrl())) {
            aggregate.await("aggregating", Duration.ofSeconds(60));
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
                for (int i = 0; i < 50; i++) {
                    producer.send(new ProducerRecord<>(topic, "/s" + (i % 5), "{\"path\":\"/s" + (i % 5) + "\"}"));
                }
            }
            OffsetStore store = new OffsetStore(db.dataSource());
            Awaitility.await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
                Map<TopicPartition, OffsetStore.Position> stored = store.positions("secure");
                return stored.values().stream().mapToLong(OffsetStore.Position::nextOffset).sum() == 50;
            });
            TallyProcess lag = TallyProcess.run(dir, "lag", "--config", config.toString(), "--db", db.jdbcUrl(), "--group", "secure", "--json");
            assertThat(lag.exitCode()).as(lag.stderr()).isZero();
            assertThat(lag.stdout()).contains("\"lag\":0");
            assertThat(lag.stdout() + lag.stderr()).doesNotContain(PASSWORD);
            aggregate.terminate(Duration.ofSeconds(30));
            assertThat(aggregate.stdout() + aggregate.stderr()).doesNotContain(PASSWORD);
        }

        TallyProcess wrong = TallyProcess.run(dir, "lag", "--bootstrap-servers", broker.saslBootstrapServers(), "--topic", topic,
                "--db", db.jdbcUrl(), "--kafka", "security.protocol=SASL_PLAINTEXT", "--kafka", "sasl.mechanism=SCRAM-SHA-256",
                "--kafka", "sasl.jaas.config=" + jaas("wrong-" + PASSWORD));
        assertThat(wrong.exitCode()).isEqualTo(1);
        String last = wrong.stderr().strip().substring(wrong.stderr().strip().lastIndexOf('\n') + 1);
        assertThat(last).startsWith("tally lag: cannot read " + topic).containsIgnoringCase("authentication");
        assertThat(wrong.stdout() + wrong.stderr()).doesNotContain(PASSWORD);
    }
}
