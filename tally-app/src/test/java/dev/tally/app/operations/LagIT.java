package dev.tally.app.operations;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tally.app.StoredOffsets;
import dev.tally.app.TallyProcess;
import dev.tally.app.aggregate.Aggregator;
import dev.tally.testkit.KafkaBrokerExtension;
import dev.tally.testkit.PostgresDatabase;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/tally lag}: the stored offsets against the log, per partition, with the owner, as a table and as JSON. */
class LagIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final PostgresDatabase db = new PostgresDatabase();

    @TempDir
    Path dir;

    private void produce(String topic, int n) {
        try (KafkaProducer<String, String> p = new KafkaProducer<>(KAFKA.producerProperties())) {
            for (int i = 0; i < n; i++) {
                p.send(new ProducerRecord<>(topic, "/p" + i, "{\"path\":\"/p" + i + "\"}"));
            }
            p.flush();
        }
    }

    private JsonNode lagJson(String topic) throws Exception {
        TallyProcess lag = TallyProcess.run(dir, "lag", "--json", "--bootstrap-servers", KAFKA.bootstrapServers(),
                "--topic", topic, "--db", db.jdbcUrl(), "--group", "lag-it");
        assertThat(lag.exitCode()).as(lag.stderr()).isZero();
        return new ObjectMapper().readTree(lag.stdout().strip().getBytes(UTF_8));
    }

    @Test
    void lagComesFromTheStoredOffsetsAndNamesTheOwner() throws Exception {
        String topic = KAFKA.uniqueTopic("lag");
        KAFKA.createTopic(topic, 2);
        KAFKA.createTopic(topic + ".dlq", 1);
        produce(topic, 100);
        try (Aggregator aggregator = Aggregator.start(KAFKA.bootstrapServers(), topic, "lag-it", db.jdbcUrl(), 1, Map.of())) {
            StoredOffsets.awaitCaughtUp(db.dataSource(), "lag-it", KAFKA.bootstrapServers(), topic);
            JsonNode running = lagJson(topic);
            assertThat(running.get("lag").asLong()).isZero();
            assertThat(running.get("partitions")).hasSize(2).allSatisfy(p -> {
                assertThat(p.get("stored").asLong()).isEqualTo(p.get("end").asLong());
                assertThat(p.get("owner").asText()).startsWith("tally-lag-it-");
                assertThat(p.get("lastProgress").asText()).isNotEmpty();
            });

            TallyProcess table = TallyProcess.run(dir, "lag", "--bootstrap-servers", KAFKA.bootstrapServers(),
                    "--topic", topic, "--db", db.jdbcUrl(), "--group", "lag-it");
            assertThat(table.exitCode()).isZero();
            assertThat(table.stdout()).contains("partition", "stored", "owner", "total lag 0");
        }
        produce(topic, 30); // nobody counts these
        JsonNode stopped = lagJson(topic);
        assertThat(stopped.get("lag").asLong()).isEqualTo(30);
        assertThat(stopped.get("partitions")).allSatisfy(p -> assertThat(p.get("owner").isNull()).isTrue());

        JsonNode otherGroup = new ObjectMapper().readTree(TallyProcess.run(dir, "lag", "--json", "--bootstrap-servers",
                KAFKA.bootstrapServers(), "--topic", topic, "--db", db.jdbcUrl(), "--group", "nobody").stdout().strip());
        assertThat(otherGroup.get("lag").asLong()).as("a group that stored nothing has everything to read").isEqualTo(130);
        assertThat(otherGroup.get("partitions")).allSatisfy(p -> assertThat(p.get("stored").isNull()).isTrue());
    }

    @Test
    void anUnreachableSideIsExitOneWithOneLine() throws Exception {
        TallyProcess noKafka = TallyProcess.run(dir, "lag", "--bootstrap-servers", "127.0.0.1:1", "--db", db.jdbcUrl());
        assertThat(noKafka.exitCode()).isEqualTo(1);
        assertThat(lastLine(noKafka.stderr())).startsWith("tally lag: cannot read pageviews from Kafka at 127.0.0.1:1");
        assertThat(noKafka.stderr()).doesNotContain("\tat ");
        TallyProcess noDb = TallyProcess.run(dir, "lag", "--bootstrap-servers", KAFKA.bootstrapServers(),
                "--db", "jdbc:postgresql://127.0.0.1:1/nowhere");
        assertThat(noDb.exitCode()).isEqualTo(1);
        assertThat(lastLine(noDb.stderr())).contains("tally lag: cannot open the database");
    }

    private static String lastLine(String s) {
        String t = s.strip();
        return t.substring(t.lastIndexOf('\n') + 1);
    }
}
