package dev.tally.app.run;

import com.zaxxer.hikari.HikariDataSource;
import dev.tally.app.HttpOptions;
import dev.tally.app.KafkaOptions;
import dev.tally.app.Lifecycle;
import dev.tally.app.StartupException;
import dev.tally.app.StoreOptions;
import dev.tally.app.aggregate.Aggregator;
import dev.tally.app.aggregate.RetainOptions;
import dev.tally.app.collect.CollectorOptions;
import dev.tally.app.collect.EventPublisher;
import dev.tally.app.http.Health;
import dev.tally.app.http.Metrics;
import dev.tally.app.http.WebServer;
import dev.tally.app.serve.Access;
import dev.tally.app.serve.AccessOptions;
import dev.tally.app.serve.Goal;
import dev.tally.app.serve.GoalOptions;
import dev.tally.app.serve.StatsApi;
import dev.tally.broker.KafkaBroker;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code bin/tally run}: the whole application in one process, for one machine. A real Kafka
 * broker (KRaft) and an SQLite store under {@code --data-dir}, the collector, one aggregator, the
 * API and the dashboard on one port. Ctrl-C stops taking beacons, answers the ones in flight,
 * lets the aggregator commit, and stops the broker; a restart continues from the stored offsets.
 */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Runs everything on this machine: a Kafka broker, the collector, the aggregator, the API and the dashboard.")
public final class RunCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    HttpOptions http;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "where the broker's log and the store live (default ${DEFAULT-VALUE})")
    Path dataDir = Path.of("tally-data");

    @Option(names = "--kafka-port", paramLabel = "PORT",
            description = "port of the embedded broker on 127.0.0.1, for kcat and other producers (default ${DEFAULT-VALUE}; its controller uses the next one)")
    int kafkaPort = 9092;

    @Option(names = "--db", paramLabel = "JDBC_URL", description = "the store (default: an SQLite file in the data directory)")
    String db;

    @Option(names = "--topic", description = "topic of page views (default ${DEFAULT-VALUE})")
    String topic = "pageviews";

    @Option(names = "--partitions", description = "partitions of a new topic (default ${DEFAULT-VALUE})")
    int partitions = 4;

    @Mixin
    CollectorOptions collector;

    @Mixin
    AccessOptions access;

    @Mixin
    GoalOptions goals;

    @Mixin
    RetainOptions retain;

    @Override
    public Integer call() throws Exception {
        if (kafkaPort < 1 || kafkaPort > 65534) {
            throw new ParameterException(spec.commandLine(), "--kafka-port must be between 1 and 65534");
        }
        collector.validate(spec);
        Access readers = access.access(spec);
        List<Goal> conversions = goals.goals(spec);
        if (partitions < 1) {
            throw new ParameterException(spec.commandLine(), "--partitions must be at least 1");
        }
        StoreOptions store = new StoreOptions();
        store.db = db != null ? db : "jdbc:sqlite:" + dataDir.resolve("tally.db");
        store.validate(spec);
        retain.validate(spec);
        collector.defaultSaltFile(dataDir.resolve("visitor-salt"));
        // Fail in a second, not after the broker started, when the HTTP port is taken.
        requireFree(http.bind, http.port, "--port");
        if (http.adminPort >= 0) {
            requireFree(http.adminBind, http.adminPort, "--admin-port");
        }

        Lifecycle life = new Lifecycle("run");
        try {
            KafkaBroker broker;
            try {
                broker = KafkaBroker.builder().port(kafkaPort).controllerPort(kafkaPort + 1)
                        .dataDir(dataDir.resolve("kafka")).build().start();
            } catch (IllegalStateException e) {
                throw new StartupException(e.getMessage() + " (another 'bin/tally run' or broker? try --kafka-port)", e);
            }
            life.started(broker, broker::stop);

            KafkaOptions kafka = new KafkaOptions();
            kafka.bootstrapServers = broker.bootstrapServers();
            kafka.topic = topic;
            Admin admin = kafka.connect(partitions);
            life.started(admin, () -> admin.close(Duration.ofSeconds(2)));

            Metrics metrics = new Metrics();
            Aggregator aggregator = Aggregator.start(kafka.bootstrapServers, topic, Aggregator.DEFAULT_GROUP, store.db, 1,
                    kafka.kafka, metrics.registry());
            life.started(aggregator, () -> aggregator.close(Duration.ofSeconds(20)));
            retain.applyTo(aggregator, store.db);

            EventPublisher publisher = collector.publisher(kafka, spec);
            life.started(publisher, () -> publisher.close(EventPublisher.DELIVERY_TIMEOUT));
            publisher.warmUp();

            HikariDataSource reads = store.openPool("tally-serve", 4);
            life.started(reads, reads::close);

            WebServer web = new WebServer(http, metrics.registry());
            life.started(web, () -> web.close(Duration.ofSeconds(5)));
            collector.collector(publisher, metrics.registry()).routes(web);
            new StatsApi(reads, readers, conversions).routes(web);
            Health health = new Health()
                    .add("kafka", Health.kafka(admin))
                    .add("db", Health.database(reads))
                    .add("aggregator", aggregator::problem);
            web.adminRoute("/health", r -> health.handle(web, r));
            web.adminRoute("/metrics", metrics::handle);
            int port = web.start(http.bind, http.port);

            String base = "http://" + (http.bind.equals("0.0.0.0") ? InetAddress.getLoopbackAddress().getHostAddress() : http.bind)
                    + ":" + port;
            List<String> ready = new ArrayList<>(List.of(
                    "Tally is running; the data lives in " + dataDir.toAbsolutePath() + ".",
                    "",
                    "  dashboard:  " + base + "/",
                    "  Kafka:      " + kafka.bootstrapServers + " (topic " + topic + ")"));
            if (web.adminPort() >= 0) {
                ready.add("  health:     http://" + http.adminBind + ":" + web.adminPort() + "/health and /metrics");
            }
            ready.addAll(List.of("",
                    "Add this line to every page of your blog:",
                    "",
                    "  <script defer src=\"" + base + "/tally.js\"></script>",
                    "",
                    "Show a page's count with <span data-tally-views=\"/the/path\"></span>. Ctrl-C stops Tally."));
            return life.awaitStop(
                    () -> aggregator.failed() ? "the aggregator stopped after a failure it would not skip; see the log above" : null,
                    ready, "stopping (answering beacons in flight, committing, stopping the broker)...");
        } catch (RuntimeException | Error e) {
            life.stopAll();
            throw e;
        }
    }

    private static void requireFree(String host, int port, String option) {
        if (port == 0) {
            return;
        }
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getByName(host))) {
            s.setReuseAddress(true);
        } catch (IOException e) {
            throw new StartupException("port " + port + " on " + host + " is in use; pick another with " + option);
        }
    }
}
