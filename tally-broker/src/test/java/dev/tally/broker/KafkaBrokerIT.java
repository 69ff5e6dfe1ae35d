package dev.tally.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class KafkaBrokerIT {

    @Test
    void producesAndConsumesARecord() throws Exception {
        try (KafkaBroker broker = KafkaBroker.builder().build().start()) {
            assertThat(broker.bootstrapServers()).isEqualTo("127.0.0.1:" + broker.port());
            Records.produce(broker.bootstrapServers(), "greetings", List.of("hello"));
            assertThat(Records.readFromStart(broker.bootstrapServers(), "greetings", 1, Duration.ofSeconds(30))).containsExactly("hello");
        }
    }

    @Test
    void aRestartOnTheSameDataDirectoryKeepsRecordsAndCommittedOffsets(@TempDir Path dir) throws Exception {
        int port;
        String clusterId;
        TopicPartition tp = new TopicPartition("kept", 0);
        try (KafkaBroker first = KafkaBroker.builder().dataDir(dir).build().start()) {
            port = first.port();
            clusterId = first.clusterId();
            Records.produce(first.bootstrapServers(), "kept", Records.numbered("v", 0, 10));
            try (KafkaConsumer<String, String> consumer = Records.consumer(first.bootstrapServers(), "keeper")) {
                consumer.assign(List.of(tp));
                consumer.seekToBeginning(List.of(tp));
                List<ConsumerRecord<String, String>> seen = new ArrayList<>();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (seen.size() < 10 && System.nanoTime() < deadline) {
                    consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
                }
                assertThat(seen).hasSize(10);
                consumer.commitSync(Map.of(tp, new OffsetAndMetadata(6)));
            }
            first.stop();
            assertThat(first.isRunning()).isFalse();
        }
        assertThat(dir.resolve("logs").resolve("meta.properties")).exists(); // a data directory given by the caller is kept

        // Another controller port on purpose: a lone node's static quorum does not remember it.
        try (KafkaBroker second = KafkaBroker.builder().dataDir(dir).port(port).build().start()) {
            assertThat(second.clusterId()).isEqualTo(clusterId);
            assertThat(Records.readFromStart(second.bootstrapServers(), "kept", 10, Duration.ofSeconds(30)))
                    .isEqualTo(Records.numbered("v", 0, 10));
            try (Admin admin = admin(second)) {
                Map<TopicPartition, OffsetAndMetadata> committed =
                        admin.listConsumerGroupOffsets("keeper").partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
                assertThat(committed.get(tp).offset()).isEqualTo(6);
            }
        }
    }

    @Test
    void shortSessionTimeoutsAreAllowedUnderBothGroupProtocols() throws Exception {
        try (KafkaBroker broker = KafkaBroker.builder().build().start(); Admin admin = admin(broker)) {
            Records.produce(broker.bootstrapServers(), "sessions", List.of("a"));
            // Classic protocol: the broker's minimum is 1 s instead of 6 s.
            assertThat(readWith(broker, "classic-group", Map.of(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "1500",
                    ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "500"))).containsExactly("a");
            // Consumer protocol (KIP-848): the broker owns the timeouts; a group may go down to 1 s.
            assertThat(readWith(broker, "consumer-group", Map.of(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer"))).containsExactly("a");
            ConfigResource group = new ConfigResource(ConfigResource.Type.GROUP, "consumer-group");
            admin.incrementalAlterConfigs(Map.of(group, List.of(
                    new AlterConfigOp(new ConfigEntry("consumer.session.timeout.ms", "2000"), AlterConfigOp.OpType.SET),
                    new AlterConfigOp(new ConfigEntry("consumer.heartbeat.interval.ms", "500"), AlterConfigOp.OpType.SET))))
                    .all().get(30, TimeUnit.SECONDS);
            assertThatThrownBy(() -> admin.incrementalAlterConfigs(Map.of(group, List.of(
                    new AlterConfigOp(new ConfigEntry("consumer.session.timeout.ms", "999"), AlterConfigOp.OpType.SET))))
                    .all().get(30, TimeUnit.SECONDS)).hasMessageContaining("consumer.session.timeout.ms");
        }
    }

    @Test
    void aPortInUseIsReportedInOneLine() throws Exception {
        try (KafkaBroker running = KafkaBroker.builder().build().start()) {
            KafkaBroker second = KafkaBroker.builder().port(running.port()).build();
            assertThatThrownBy(second::start).isInstanceOf(IllegalStateException.class)
                    .hasMessageStartingWith("port " + running.port() + " on 127.0.0.1 is in use");
            second.close();
        }
    }

    private static List<String> readWith(KafkaBroker broker, String group, Map<String, Object> settings) {
        Map<String, Object> config = new java.util.HashMap<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, group,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"));
        config.putAll(settings);
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of("sessions"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (values.isEmpty() && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
            }
        }
        return values;
    }

    private static Admin admin(KafkaBroker broker) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        return Admin.create(p);
    }
}
