package dev.tally.app.collect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.app.event.PageViewDecoder;
import dev.tally.app.http.Metrics;
import dev.tally.app.http.WebServer;
import dev.tally.testkit.KafkaBrokerExtension;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * "Never 2xx for an event that was not stored": with the broker killed, beacons are answered 503
 * with Retry-After within the delivery timeout, none of them 202; after a restart beacons are
 * accepted again, and every beacon that got a 202 is in Kafka exactly once.
 */
class CollectorOutageIT {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.childProcess();

    @Test
    void aDeadBrokerIs503NeverAFalse202() throws Exception {
        String topic = KAFKA.createTopic(KAFKA.uniqueTopic("outage"), 2);
        List<String> acknowledged = new ArrayList<>();
        try (EventPublisher publisher = new EventPublisher(KAFKA.bootstrapServers(), topic, Map.of(), 1_000);
                WebServer web = new WebServer()) {
            publisher.warmUp();
            new Collector(publisher, new VisitorHash(null, Clock.systemUTC()), new BotFilter(), new RateLimiter(0),
                    Clock.systemUTC(), new Metrics().registry()).routes(web);
            web.start("127.0.0.1", 0);

            assertThat(CollectorIT.beacon(web, "{\"path\":\"/up\",\"id\":\"before\"}").statusCode()).isEqualTo(202);
            acknowledged.add("before");

            KAFKA.process().kill();
            List<CompletableFuture<HttpResponse<String>>> during = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                String id = "during-" + i;
                during.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return CollectorIT.beacon(web, "{\"path\":\"/down\",\"id\":\"" + id + "\"}");
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            for (CompletableFuture<HttpResponse<String>> f : during) {
                HttpResponse<String> r = f.get(EventPublisher.DELIVERY_TIMEOUT.toSeconds() + 15, TimeUnit.SECONDS);
                CollectorIT.assertRefused(r, 503, "Kafka cannot take the event now");
                assertThat(r.headers().firstValue("Retry-After")).contains("5");
            }

            KAFKA.process().restart();
            String last = null;
            long deadline = System.currentTimeMillis() + 60_000;
            while (System.currentTimeMillis() < deadline) {
                String id = "after-" + System.nanoTime();
                HttpResponse<String> r = CollectorIT.beacon(web, "{\"path\":\"/up\",\"id\":\"" + id + "\"}");
                if (r.statusCode() == 202) {
                    acknowledged.add(id);
                    last = id;
                    break;
                }
                assertThat(r.statusCode()).isEqualTo(503);
                Thread.sleep(500);
            }
            assertThat(last).as("a beacon accepted within 60 s of the restart").isNotNull();
        }
        List<String> stored = new ArrayList<>();
        PageViewDecoder decoder = new PageViewDecoder();
        for (ConsumerRecord<byte[], byte[]> r : KAFKA.readAll(topic)) {
            stored.add(decoder.decode(r).id());
        }
        // Each acknowledged beacon exactly once; an unacknowledged one may or may not have been stored.
        for (String id : acknowledged) {
            assertThat(stored).as("copies of %s", id).containsOnlyOnce(id);
        }
    }
}
