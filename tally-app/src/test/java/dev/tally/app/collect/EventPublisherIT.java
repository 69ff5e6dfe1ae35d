package dev.tally.app.collect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.testkit.KafkaBrokerExtension;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A collector restarted while the cluster elects leaders (the chaos harness found it exiting at
 * once) waits for the topic's metadata instead of giving up after the producer's short block time.
 */
class EventPublisherIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess().property("auto.create.topics.enable", "false");

    @Test
    void warmUpWaitsForMetadataThatComesLate() throws Exception {
        String topic = KAFKA.uniqueTopic("late");
        try (EventPublisher publisher = new EventPublisher(KAFKA.bootstrapServers(), topic, Map.of(), 10)) {
            CompletableFuture<Void> warm = CompletableFuture.runAsync(publisher::warmUp);
            Thread.sleep(2_000);
            assertThat(warm).as("no metadata yet: still waiting").isNotDone();
            KAFKA.createTopic(topic, 2);
            warm.get(30, TimeUnit.SECONDS);
        }
    }
}
