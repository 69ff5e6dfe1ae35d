package example.counter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.testkit.KafkaBrokerExtension;
import dev.tally.testkit.PostgresDatabase;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

/** The example application, as it starts, on a real broker and PostgreSQL: every view counted once. */
class PageViewCounterIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final PostgresDatabase db = new PostgresDatabase();

    @Test
    void countsEveryPageViewOnce() {
        String topic = KAFKA.createTopic(KAFKA.uniqueTopic("pageviews"), 2);
        try (KafkaProducer<String, String> p = new KafkaProducer<>(KAFKA.producerProperties())) {
            for (int i = 0; i < 300; i++) {
                p.send(new ProducerRecord<>(topic, "/post-" + i % 3));
            }
            p.send(new ProducerRecord<>(topic, "not a path"));
        }
        Map<String, Long> expected = new TreeMap<>(Map.of("/post-0", 100L, "/post-1", 100L, "/post-2", 100L));
        try (ConfigurableApplicationContext app = SpringApplication.run(PageViewCounter.class,
                "--spring.datasource.url=" + db.jdbcUrl(),
                "--tally.consumer.bootstrap-servers=" + KAFKA.bootstrapServers(),
                "--tally.consumer.topics=" + topic)) {
            await().atMost(Duration.ofSeconds(60)).until(() -> views().equals(expected));
        }
        assertThat(KAFKA.readAll(topic + ".dlq")).hasSize(1);
    }

    private Map<String, Long> views() {
        Map<String, Long> m = new TreeMap<>();
        new JdbcTemplate(db.dataSource()).query("SELECT path, views FROM page_views", rs -> {
            m.put(rs.getString(1), rs.getLong(2));
        });
        return m;
    }
}
