package dev.tally.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@Timeout(120)
class KafkaBrokerExtensionIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess().property("num.partitions", "2");

    @Test
    void createdTopicsHaveLeadersAndTheConvenienceMapsWork() throws Exception {
        String topic = KAFKA.createTopic(KAFKA.uniqueTopic("words"), 3);
        List<TopicPartitionInfo> partitions = KAFKA.admin().describeTopics(List.of(topic)).allTopicNames()
                .get(10, TimeUnit.SECONDS).get(topic).partitions();
        assertThat(partitions).hasSize(3).allMatch(p -> p.leader() != null);

        try (KafkaProducer<String, String> producer = new KafkaProducer<>(KAFKA.producerProperties())) {
            producer.send(new ProducerRecord<>(topic, "k", "hello")).get(30, TimeUnit.SECONDS);
        }
        assertThat(read(topic, "g1", 1)).containsExactly("hello");
        assertThat(KAFKA.admin()).isSameAs(KAFKA.admin());
    }

    @Test
    void propertiesReachTheBrokerAndCannotChangeOnceItRuns() throws Exception {
        String topic = KAFKA.uniqueTopic("auto");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(KAFKA.producerProperties())) {
            producer.send(new ProducerRecord<>(topic, "auto-created")).get(30, TimeUnit.SECONDS);
        }
        assertThat(KAFKA.admin().describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic).partitions())
                .hasSize(2);
        assertThatThrownBy(() -> KAFKA.property("num.partitions", "5")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(KAFKA::process).hasMessageContaining("childProcess()");
    }

    @Test
    void uniqueTopicsAreUniqueAndLegal() {
        String a = KAFKA.uniqueTopic("my topic/1");
        assertThat(a).matches("my-topic-1-[0-9a-f]{8}").isNotEqualTo(KAFKA.uniqueTopic("my topic/1"));
    }

    @Nested
    class NestedClasses {
        @Test
        void shareTheOuterBroker() {
            assertThat(KAFKA.bootstrapServers()).startsWith("127.0.0.1:");
            assertThat(KAFKA.createTopic(KAFKA.uniqueTopic("nested"), 1)).startsWith("nested-");
        }
    }

    private static List<String> read(String topic, String group, int count) {
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
