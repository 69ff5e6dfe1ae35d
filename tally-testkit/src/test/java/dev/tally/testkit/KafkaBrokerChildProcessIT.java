package dev.tally.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@Timeout(120)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KafkaBrokerChildProcessIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.childProcess();

    private static String topic;
    private static String bootstrap;

    @Test
    @Order(1)
    void aKilledAndRestartedBrokerKeepsItsRecordsAndAddress() throws Exception {
        topic = KAFKA.createTopic(KAFKA.uniqueTopic("kept"), 1);
        bootstrap = KAFKA.bootstrapServers();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(KAFKA.producerProperties())) {
            producer.send(new ProducerRecord<>(topic, "before")).get(30, TimeUnit.SECONDS);
        }
        KAFKA.process().kill();
        KAFKA.process().restart();
        assertThat(KAFKA.bootstrapServers()).isEqualTo(bootstrap);
        assertThat(read("g1", 1)).containsExactly("before");
        KAFKA.process().kill(); // and left dead for the next test
    }

    @Test
    @Order(2)
    void aBrokerLeftDeadByAnEarlierTestIsStartedAgain() throws Exception {
        assertThat(KAFKA.process().isAlive()).isTrue();
        assertThat(read("g2", 1)).containsExactly("before");
    }

    private static List<String> read(String group, int count) {
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(KAFKA.consumerProperties(group))) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (values.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
            }
        }
        return values;
    }
}
