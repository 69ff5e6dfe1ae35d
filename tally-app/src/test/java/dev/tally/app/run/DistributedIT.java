package dev.tally.app.run;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.app.PageViewTruth;
import dev.tally.app.TallyProcess;
import dev.tally.testkit.KafkaBrokerExtension;
import dev.tally.testkit.PostgresDatabase;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The parts as separate processes, as beyond one machine: {@code collect}, two {@code aggregate}
 * processes in one group and {@code serve}, on PostgreSQL. The two aggregators share the
 * partitions; one is killed with kill -9 mid-stream and the other takes over; the API still
 * answers the ground truth exactly.
 */
class DistributedIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final PostgresDatabase postgres = new PostgresDatabase();

    @Test
    void collectTwoAggregatorsAndServeOnPostgresqlCountExactly(@TempDir Path dir) throws Exception {
        String topic = KAFKA.uniqueTopic("pageviews");
        String group = "aggregators-" + topic;
        String kafka = KAFKA.bootstrapServers();
        PageViewTruth truth = new PageViewTruth();
        try (TallyProcess collect = TallyProcess.start(dir, "collect", "--bootstrap-servers", kafka, "--topic", topic,
                        "--port", "0", "--rate-limit", "0", "--partitions", "6");
                TallyProcess serve = TallyProcess.start(dir, "serve", "--db", postgres.jdbcUrl(), "--port", "0")) {
            String collector = collect.await("collecting on (http://[^/]+)/api/event", Duration.ofSeconds(60));
            String api = serve.await("serving (http://[^/ ]+)/", Duration.ofSeconds(60));
            try (TallyProcess a1 = aggregate(dir, kafka, topic, group);
                    TallyProcess a2 = aggregate(dir, kafka, topic, group)) {
                a1.await("aggregating", Duration.ofSeconds(60));
                a2.await("aggregating", Duration.ofSeconds(60));
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() -> {
                    ConsumerGroupDescription g = KAFKA.admin().describeConsumerGroups(List.of(group))
                            .describedGroups().get(group).get();
                    assertThat(g.members()).hasSize(2);
                    for (MemberDescription m : g.members()) {
                        assertThat(m.assignment().topicPartitions()).as("partitions of %s", m.consumerId()).isNotEmpty();
                    }
                });

                truth.sendBeacons(collector, 200, 15);
                truth.produce(kafka, topic, 600, 15);
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                        .untilAsserted(() -> truth.assertApiMatches(api));

                // One member dies mid-stream; the other takes its partitions from the stored offsets.
                Thread producer = new Thread(() -> {
                    try {
                        truth.produce(kafka, topic, 3_000, 15);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                producer.start();
                Thread.sleep(300);
                a1.close();
                producer.join();
                truth.sendBeacons(collector, 100, 15);
                await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                        .untilAsserted(() -> truth.assertApiMatches(api));
                assertThat(a2.terminate(Duration.ofSeconds(60))).isEqualTo(143);
            }
            Set<String> dead = new HashSet<>();
            for (ConsumerRecord<byte[], byte[]> r : KAFKA.readAll(topic + ".dlq")) {
                dead.add(new String(r.value(), UTF_8));
            }
            assertThat(dead).isEqualTo(truth.invalid());
            assertThat(collect.terminate(Duration.ofSeconds(30))).isEqualTo(143);
            assertThat(serve.terminate(Duration.ofSeconds(30))).isEqualTo(143);
        }
    }

    private TallyProcess aggregate(Path dir, String kafka, String topic, String group) throws Exception {
        return TallyProcess.start(dir, "aggregate", "--bootstrap-servers", kafka, "--topic", topic, "--group", group,
                "--db", postgres.jdbcUrl());
    }
}
