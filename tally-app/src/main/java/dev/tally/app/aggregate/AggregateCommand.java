package dev.tally.app.aggregate;

import dev.tally.app.KafkaOptions;
import dev.tally.app.Lifecycle;
import dev.tally.app.StoreOptions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code bin/tally aggregate}: the exactly-once aggregator, one member (or several) of the consumer group. */
@Command(name = "aggregate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Counts page views from Kafka into the store, exactly once. Several processes with the same --group share the partitions.")
public final class AggregateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    KafkaOptions kafka;

    @Mixin
    StoreOptions store;

    @Mixin
    RetainOptions retain;

    @Option(names = "--group", description = "consumer group (default ${DEFAULT-VALUE})")
    String group = Aggregator.DEFAULT_GROUP;

    @Option(names = "--threads", description = "group members in this process (default ${DEFAULT-VALUE})")
    int threads = 1;

    @Option(names = "--partitions", description = "partitions of the topic when it has to be created (default ${DEFAULT-VALUE})")
    int partitions = 4;

    @Override
    public Integer call() throws Exception {
        if (threads < 1) {
            throw new ParameterException(spec.commandLine(), "--threads must be at least 1");
        }
        store.validate(spec);
        retain.validate(spec);
        try (Admin admin = kafka.connect(partitions)) {
            // Connected once to fail fast with a clear reason; the consumers keep their own clients.
        }
        Lifecycle life = new Lifecycle("aggregate");
        Aggregator aggregator = Aggregator.start(kafka.bootstrapServers, kafka.topic, group, store.db, threads, kafka.kafka);
        retain.applyTo(aggregator, store.db);
        life.started(aggregator, () -> aggregator.close(Duration.ofSeconds(20)));
        return life.awaitStop(
                () -> aggregator.failed() ? "a consumer stopped after a failure it would not skip; see the log above" : null,
                List.of("aggregating " + kafka.topic + " into " + store.redacted() + " as group " + group), null);
    }
}
