package dev.tally.app.collect;

import dev.tally.app.KafkaOptions;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashSet;
import java.util.Set;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** The collector's options, shared by {@code collect} and {@code run}. */
public final class CollectorOptions {

    @Option(names = "--sites", split = ",", paramLabel = "SITE,...",
            description = "only these values of a beacon's site are collected; others get 403 (default: any)")
    Set<String> sites = new LinkedHashSet<>();

    @Option(names = "--rate-limit", paramLabel = "PER_SECOND",
            description = "beacons a second per client address, bursts of 5x (default ${DEFAULT-VALUE}; 0 turns it off)")
    long rateLimit = 20;

    @Option(names = "--trust-proxy", description = "take the client address from X-Forwarded-For (only behind a proxy that sets it)")
    boolean trustProxy;

    @Option(names = "--salt-file", paramLabel = "FILE",
            description = "where today's visitor-hash salt is kept, readable by its owner only (default: tally-data/visitor-salt)")
    Path saltFile;

    @Option(names = "--max-in-flight", paramLabel = "N",
            description = "beacons waiting for Kafka's ack at once; more get 503 (default ${DEFAULT-VALUE})")
    int maxInFlight = 10_000;

    /** Where the salt is kept when {@code --salt-file} is not given. */
    public void defaultSaltFile(Path file) {
        if (saltFile == null) {
            saltFile = file;
        }
    }

    /** Refuses values that cannot work, as bad usage. */
    public void validate(CommandSpec spec) {
        if (rateLimit < 0) {
            throw new ParameterException(spec.commandLine(), "--rate-limit must be 0 (off) or positive");
        }
        if (maxInFlight < 1) {
            throw new ParameterException(spec.commandLine(), "--max-in-flight must be at least 1");
        }
    }

    /**
     * A publisher for {@code kafka}'s topic; the caller closes it.
     *
     * @throws IllegalArgumentException when a {@code --kafka} property would break the collector's promise
     */
    public EventPublisher publisher(KafkaOptions kafka) {
        return new EventPublisher(kafka.bootstrapServers, kafka.topic, kafka.kafka, maxInFlight);
    }

    public Collector collector(EventPublisher publisher, MeterRegistry registry) {
        defaultSaltFile(Path.of("tally-data", "visitor-salt"));
        return new Collector(publisher, new VisitorHash(saltFile, Clock.systemUTC()), new BotFilter(),
                new RateLimiter(rateLimit), sites, trustProxy, Clock.systemUTC(), registry);
    }
}
