package dev.tally.app.collect;

import dev.tally.app.KafkaOptions;
import dev.tally.app.event.EventFields;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
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

    @Option(names = "--trust-proxy",
            description = "take the client address from the right of X-Forwarded-For (only behind proxies that append to it)")
    boolean trustProxy;

    @Option(names = "--trusted-hops", paramLabel = "N",
            description = "with --trust-proxy: how many proxies append to X-Forwarded-For; the client is the entry N from the right (default ${DEFAULT-VALUE})")
    int trustedHops = 1;

    @Option(names = "--trusted-proxies", split = ",", paramLabel = "CIDR,...",
            description = "with --trust-proxy: the proxies' networks; the client is the rightmost X-Forwarded-For entry outside them (instead of --trusted-hops)")
    List<String> trustedProxies = new ArrayList<>();

    @Option(names = "--origins", split = ",", paramLabel = "ORIGIN,...",
            description = "only beacons from pages of these origins (https://myblog.example) are collected; others get 403 (default: any)")
    List<String> origins = new ArrayList<>();

    @Option(names = "--max-age", paramLabel = "DURATION",
            description = "beacons whose ts is older than this are refused (ISO-8601 such as PT1H, or 90s, 30m, 2h; default 1h)")
    String maxAge = "1h";

    @Option(names = "--salt-file", paramLabel = "FILE",
            description = "where the day's visitor-hash salt is kept, as FILE.<yyyy-mm-dd>, readable by its owner only (default: tally-data/visitor-salt)")
    Path saltFile;

    @Option(names = "--geoip", paramLabel = "FILE",
            description = "a country database in MaxMind's format (GeoLite2 or DB-IP Lite Country or City): each beacon's country is looked up in it"
                    + " and only the country code is kept (default: none, countries unknown)")
    Path geoip;

    private Countries countries = Countries.NONE;

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
        for (String site : sites) {
            if (!EventFields.isSite(site)) {
                throw new ParameterException(spec.commandLine(), "--sites: " + site + " is not a site label (1 to "
                        + EventFields.MAX_SITE + " of A-Z a-z 0-9 . _ -)");
            }
        }
        if (!trustProxy && (!trustedProxies.isEmpty() || trustedHops != 1)) {
            throw new ParameterException(spec.commandLine(), "--trusted-hops and --trusted-proxies need --trust-proxy");
        }
        try {
            clientAddress();
            Origins.of(origins);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        if (maxAgeMs() <= 0) {
            throw new ParameterException(spec.commandLine(), "--max-age must be a positive duration such as 1h, 30m or PT2H, not " + maxAge);
        }
        if (geoip != null && countries == Countries.NONE) {
            try {
                countries = Countries.open(geoip);
            } catch (IOException | RuntimeException e) {
                throw new ParameterException(spec.commandLine(), "--geoip: " + geoip + " cannot be read as a MaxMind-format database ("
                        + e.getMessage() + ")");
            }
        }
    }

    private ClientAddress clientAddress() {
        return trustProxy ? ClientAddress.behindProxies(trustedHops, trustedProxies) : ClientAddress.direct();
    }

    /** {@code --max-age} in milliseconds; 0 or less when it is not a positive duration. */
    long maxAgeMs() {
        String v = maxAge.trim().toLowerCase(Locale.ROOT);
        try {
            if (v.startsWith("p")) {
                return Duration.parse(v.toUpperCase(Locale.ROOT)).toMillis();
            }
            long n = Long.parseLong(v.substring(0, v.length() - 1));
            return switch (v.charAt(v.length() - 1)) {
                case 's' -> Duration.ofSeconds(n).toMillis();
                case 'm' -> Duration.ofMinutes(n).toMillis();
                case 'h' -> Duration.ofHours(n).toMillis();
                case 'd' -> Duration.ofDays(n).toMillis();
                default -> -1;
            };
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /**
     * A publisher for {@code kafka}'s topic; the caller closes it.
     *
     * @throws IllegalArgumentException when a {@code --kafka} property would break the collector's promise
     */
    /**
     * The producer of beacons.
     *
     * @throws ParameterException when a pass-through Kafka property is one the collector will not take (bad usage)
     */
    public EventPublisher publisher(KafkaOptions kafka, CommandSpec spec) {
        try {
            return new EventPublisher(kafka.bootstrapServers, kafka.topic, kafka.kafka, maxInFlight);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    public Collector collector(EventPublisher publisher, MeterRegistry registry) {
        defaultSaltFile(Path.of("tally-data", "visitor-salt"));
        VisitorHash visitors = new VisitorHash(saltFile, Clock.systemUTC());
        visitors.startDailyRotation();
        return new Collector(publisher, visitors, new BotFilter(), new RateLimiter(rateLimit), sites,
                Origins.of(origins), clientAddress(), countries, maxAgeMs(), Clock.systemUTC(), registry);
    }
}
