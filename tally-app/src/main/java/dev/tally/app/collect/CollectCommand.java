package dev.tally.app.collect;

import dev.tally.app.HttpOptions;
import dev.tally.app.KafkaOptions;
import dev.tally.app.http.Health;
import dev.tally.app.http.Metrics;
import dev.tally.app.http.WebServer;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
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
        EventPublisher publisher;
        try {
            publisher = collector.publisher(kafka);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        Admin admin;
        try {
            admin = kafka.connect(partitions);
        } catch (RuntimeException e) {
            publisher.close(Duration.ZERO);
            throw e;
        }
        publisher.warmUp();
        Metrics metrics = new Metrics();
        WebServer web = new WebServer(http, metrics.registry());
        collector.collector(publisher, metrics.registry()).routes(web);
        Health health = new Health().add("kafka", Health.kafka(admin));
        web.adminRoute("/health", r -> health.handle(web, r));
        web.adminRoute("/metrics", metrics::handle);
        try {
            web.start(http.bind, http.port);
        } catch (RuntimeException e) {
            web.close(Duration.ZERO);
            publisher.close(Duration.ZERO);
            admin.close(Duration.ZERO);
            throw e;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            // Stop taking beacons, let the ones in flight get their ack, then flush the producer.
            web.close(Duration.ofSeconds(5));
            publisher.close(EventPublisher.DELIVERY_TIMEOUT);
            admin.close(Duration.ofSeconds(2));
            stopped.countDown();
        }, "collect-shutdown"));
        System.out.println("collecting on http://" + http.bind + ":" + web.port() + "/api/event into "
                + kafka.topic + " at " + kafka.bootstrapServers);
        System.out.flush();
        stopped.await();
        return 0;
    }
}
