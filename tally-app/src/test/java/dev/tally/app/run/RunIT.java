package dev.tally.app.run;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tally.app.PageViewTruth;
import dev.tally.app.TallyProcess;
import dev.tally.testkit.KafkaBrokerExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/tally run} as a blogger runs it, in an empty directory: beacons over HTTP and records
 * from a plain Kafka producer (some invalid) are counted exactly, the invalid ones are in the
 * dead-letter topic, SIGTERM stops it cleanly, and a restart keeps every count.
 */
class RunIT {

    @Test
    void countsExactlyAndSurvivesARestart(@TempDir Path dir) throws Exception {
        int kafkaPort = TallyProcess.freeKafkaPort();
        PageViewTruth truth = new PageViewTruth();
        String base;
        try (TallyProcess run = TallyProcess.start(dir, "run", "--port", "0", "--kafka-port", String.valueOf(kafkaPort),
                "--rate-limit", "0")) {
            base = run.await("dashboard:\\s+(http://\\S+)/", Duration.ofSeconds(120));
            assertThat(run.await("(<script defer src=\"http://\\S+/tally.js\"></script>)", Duration.ofSeconds(5))).isNotBlank();
            String kafka = "127.0.0.1:" + kafkaPort;
            assertThat(run.stdout()).contains("Kafka:      " + kafka);

            truth.sendBeacons(base, 300, 12);
            truth.produce(kafka, "pageviews", 500, 12);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                    .untilAsserted(() -> truth.assertApiMatches(base));

            Set<String> dead = new HashSet<>();
            for (ConsumerRecord<byte[], byte[]> r : KafkaBrokerExtension.readAll(kafka, "pageviews.dlq")) {
                dead.add(new String(r.value(), UTF_8));
            }
            assertThat(dead).isEqualTo(truth.invalid());

            JsonNode health = PageViewTruth.get(base + "/health");
            assertThat(health.get("status").asText()).isEqualTo("ready");
            assertThat(health.get("checks").get("kafka").asText()).isEqualTo("ok");
            assertThat(health.get("checks").get("db").asText()).isEqualTo("ok");

            // 143: stopped by SIGTERM after the shutdown hook ran, as for any JVM.
            assertThat(run.terminate(Duration.ofSeconds(60))).isEqualTo(143);
            assertThat(run.stderr()).contains("tally: stopping");
            assertThat(run.stderr()).doesNotContain("\tat ");
        }
        assertThat(dir.resolve("tally-data").resolve("tally.db")).exists();
        assertThat(Files.isDirectory(dir.resolve("tally-data").resolve("kafka"))).isTrue();

        // The same directory again: the counts are there at once, and new views add to them exactly.
        try (TallyProcess again = TallyProcess.start(dir, "run", "--port", "0", "--kafka-port", String.valueOf(kafkaPort),
                "--rate-limit", "0")) {
            String base2 = again.await("dashboard:\\s+(http://\\S+)/", Duration.ofSeconds(120));
            truth.assertApiMatches(base2);
            truth.sendBeacons(base2, 50, 12);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                    .untilAsserted(() -> truth.assertApiMatches(base2));
            assertThat(again.terminate(Duration.ofSeconds(60))).isEqualTo(143);
        }
    }

    @Test
    void aPortInUseIsOneLineAndExitOne(@TempDir Path dir) throws Exception {
        try (java.net.ServerSocket busy = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            TallyProcess run = TallyProcess.run(dir, "run", "--port", String.valueOf(busy.getLocalPort()));
            assertThat(run.exitCode()).isEqualTo(1);
            assertThat(run.stderr().strip()).isEqualTo("tally run: port " + busy.getLocalPort()
                    + " on 127.0.0.1 is in use; pick another with --port");
        }
    }
}
