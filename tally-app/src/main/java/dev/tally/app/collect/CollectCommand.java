package dev.tally.app.collect;

import dev.tally.app.HttpOptions;
import dev.tally.app.KafkaOptions;
import dev.tally.app.Lifecycle;
import dev.tally.app.http.Health;
import dev.tally.app.http.Metrics;
import dev.tally.app.http.WebServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bin/tally collect}: only the HTTP collector, beacons in, Kafka records out. */
@Command(name = "collect", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Accepts page-view beacons over HTTP (POST /api/event) and writes them to Kafka; 202 only once stored with acks=all.")
public final class CollectCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    KafkaOptions kafka;

    @Mixin
    HttpOptions http;

    @Mixin
    CollectorOptions collector;

    @Option(names = "--partitions", description = "partitions of the topic when it has to be created (default ${DEFAULT-VALUE})")
    int partitions = 4;

    @Override
    public Integer call() throws Exception {
        collector.validate(spec);
        Lifecycle life = new Lifecycle("collect");
        WebServer web;
        try {
            EventPublisher publisher = collector.publisher(kafka, spec);
            // Stopped in reverse: no new beacons, the ones in flight get their ack, the producer flushes.
            life.started(publisher, () -> publisher.close(EventPublisher.DELIVERY_TIMEOUT));
            Admin admin = kafka.connect(partitions);
            life.started(admin, () -> admin.close(Duration.ofSeconds(2)));
            publisher.warmUp();
            Metrics metrics = new Metrics();
            WebServer server = new WebServer(http, metrics.registry());
            web = life.started(server, () -> server.close(Duration.ofSeconds(5)));
            collector.collector(publisher, metrics.registry()).routes(web);
            Health health = new Health().add("kafka", Health.kafka(admin));
            web.adminRoute("/health", r -> health.handle(server, r));
            web.adminRoute("/metrics", metrics::handle);
            web.start(http.bind, http.port);
        } catch (RuntimeException | Error e) {
            life.stopAll();
            throw e;
        }
        return life.awaitStop(() -> null, List.of("collecting on http://" + http.bind + ":" + web.port() + "/api/event into "
                + kafka.topic + " at " + kafka.bootstrapServers), null);
    }
}
