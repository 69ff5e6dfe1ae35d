package dev.tally.app.aggregate;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bin/tally aggregate}: the exactly-once aggregator, one member (or several) of the consumer group. */
@Command(name = "aggregate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Counts page views from Kafka into the store, exactly once. Several processes with the same --group share the partitions.")
public final class AggregateCommand implements Callable<Integer> {

    @Option(names = "--bootstrap-servers", description = "Kafka cluster (default ${DEFAULT-VALUE})")
    String bootstrapServers = "127.0.0.1:9092";

    @Option(names = "--topic", description = "topic of page views (default ${DEFAULT-VALUE})")
    String topic = "pageviews";

    @Option(names = "--db", description = "JDBC URL of the store (default ${DEFAULT-VALUE}); jdbc:postgresql://… beyond one machine")
    String db = "jdbc:sqlite:tally-data/tally.db";

    @Option(names = "--group", description = "consumer group (default ${DEFAULT-VALUE})")
    String group = "tally-aggregator";

    @Option(names = "--threads", description = "group members in this process (default ${DEFAULT-VALUE})")
    int threads = 1;

    @Option(names = "--kafka", paramLabel = "KEY=VALUE", description = "any Kafka client property, e.g. security.protocol=SASL_SSL; repeatable")
    Map<String, String> kafka = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        if (threads < 1) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--threads must be at least 1");
        }
        if (!db.startsWith("jdbc:sqlite:") && !db.startsWith("jdbc:postgresql:")) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                    "--db must be a jdbc:sqlite: or jdbc:postgresql: URL, not " + redact(db));
        }
        if (db.startsWith("jdbc:sqlite:tally-data/")) {
            Files.createDirectories(Path.of("tally-data"));
        }
        Aggregator aggregator = Aggregator.start(bootstrapServers, topic, group, db, threads, kafka);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            aggregator.close(Duration.ofSeconds(20));
            stopped.countDown();
        }, "aggregate-shutdown"));
        System.out.println("aggregating " + topic + " into " + redact(db) + " as group " + group);
        System.out.flush();
        while (!stopped.await(1, java.util.concurrent.TimeUnit.SECONDS)) {
            if (aggregator.failed()) {
                System.err.println("tally aggregate: a consumer stopped after a failure it would not skip; see the log above");
                aggregator.close(Duration.ofSeconds(20));
                return 1;
            }
        }
        return 0;
    }

    /** JDBC URLs may carry a password; never print it. */
    static String redact(String url) {
        return url.replaceAll("(?i)(password=)[^&;]*", "$1***");
    }
}
