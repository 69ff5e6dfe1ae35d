package dev.tally.app.collect;

import dev.tally.app.http.Replies;
import dev.tally.app.http.WebServer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import java.time.Clock;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /api/event}: beacons in, Kafka records out. A 202 is sent from Kafka's callback,
 * only once the record is stored with acks=all; no thread waits for it. Every refusal says why
 * in a JSON body. Bots are answered 202 like readers, but not produced.
 */
public final class Collector {

    private static final Logger LOG = LoggerFactory.getLogger(Collector.class);

    /** What became of a beacon; each outcome is a value of the {@code outcome} tag of {@code tally.collector.beacons}. */
    enum Outcome { ACCEPTED, BOT, INVALID, TOO_LARGE, UNSUPPORTED_TYPE, FORBIDDEN_SITE, FORBIDDEN_ORIGIN, RATE_LIMITED, UNAVAILABLE }

    private final EventPublisher publisher;
    private final VisitorHash visitors;
    private final BotFilter bots;
    private final RateLimiter rateLimiter;
    private final Set<String> allowedSites;
    private final Origins origins;
    private final ClientAddress clients;
    private final Countries countries;
    private final long maxAgeMs;
    private final Clock clock;
    private final Map<Outcome, Counter> outcomes = new EnumMap<>(Outcome.class);
    private final Timer ackTime;

    /**
     * A collector of any site, from any origin, with the client address from the TCP peer and the
     * default window for old beacons.
     */
    public Collector(EventPublisher publisher, VisitorHash visitors, BotFilter bots, RateLimiter rateLimiter,
            Clock clock, MeterRegistry registry) {
        this(publisher, visitors, bots, rateLimiter, Set.of(), Origins.of(List.of()), ClientAddress.direct(),
                Countries.NONE, Beacon.DEFAULT_MAX_AGE_MS, clock, registry);
    }

    /**
     * @param allowedSites the sites beacons may name; empty accepts any
     * @param origins the pages beacons may come from
     * @param clients where the client address is taken from (the TCP peer, or {@code X-Forwarded-For} behind proxies)
     * @param countries the country of a client address ({@link Countries#NONE} without {@code --geoip})
     * @param maxAgeMs how old a beacon's {@code ts} may be
     */
    Collector(EventPublisher publisher, VisitorHash visitors, BotFilter bots, RateLimiter rateLimiter,
            Set<String> allowedSites, Origins origins, ClientAddress clients, Countries countries, long maxAgeMs,
            Clock clock, MeterRegistry registry) {
        this.publisher = publisher;
        this.visitors = visitors;
        this.bots = bots;
        this.rateLimiter = rateLimiter;
        this.allowedSites = Set.copyOf(allowedSites);
        this.origins = origins;
        this.clients = clients;
        this.countries = countries;
        this.maxAgeMs = maxAgeMs;
        this.clock = clock;
        for (Outcome o : Outcome.values()) {
            outcomes.put(o, Counter.builder("tally.collector.beacons")
                    .description("beacons received, by what became of them")
                    .tag("outcome", o.name().toLowerCase(Locale.ROOT))
                    .register(registry));
        }
        this.ackTime = Timer.builder("tally.collector.ack")
                .description("time from a beacon's arrival to Kafka's acks=all acknowledgement")
                .publishPercentiles(0.5, 0.99)
                .register(registry);
        registry.gauge("tally.collector.in.flight", publisher, EventPublisher::inFlight);
    }

    public void routes(WebServer web) {
        web.route("/api/event", this::handle);
    }

    private void handle(HttpServerRequest request) {
        if (request.method() == HttpMethod.OPTIONS) {
            Replies.preflight(request, "POST");
            return;
        }
        Replies.allowAnyOrigin(request);
        if (request.method() != HttpMethod.POST) {
            Replies.methodNotAllowed(request, "POST, OPTIONS");
            return;
        }
        long arrived = System.nanoTime();
        String client = clientAddress(request);
        if (!rateLimiter.tryAcquire(client)) {
            request.response().putHeader("Retry-After", "1");
            refuse(request, Outcome.RATE_LIMITED, 429, "too many beacons from this client; slow down");
            return;
        }
        List<String> types = request.headers().getAll("Content-Type");
        String typeRefusal = types.size() > 1 ? "send one Content-Type" : types.isEmpty() ? null : ContentType.refusal(types.get(0));
        if (typeRefusal != null) {
            refuse(request, Outcome.UNSUPPORTED_TYPE, 415, typeRefusal);
            return;
        }
        String length = request.getHeader("Content-Length");
        if (length != null && parseLength(length) > Beacon.MAX_BODY) {
            tooLarge(request);
            return;
        }
        Buffer body = Buffer.buffer();
        boolean[] refused = {false};
        request.handler(chunk -> {
            if (refused[0]) {
                return;
            }
            if (body.length() + chunk.length() > Beacon.MAX_BODY) {
                refused[0] = true;
                tooLarge(request);
                return;
            }
            body.appendBuffer(chunk);
        });
        request.exceptionHandler(e -> LOG.debug("beacon body not received: {}", e.toString()));
        request.endHandler(v -> {
            if (!refused[0]) {
                accept(request, body.getBytes(), client, arrived);
            }
        });
    }

    private void accept(HttpServerRequest request, byte[] body, String client, long arrived) {
        long now = clock.millis();
        Beacon beacon;
        try {
            beacon = Beacon.parse(body, now, maxAgeMs);
        } catch (InvalidBeaconException e) {
            refuse(request, Outcome.INVALID, 400, e.getMessage());
            return;
        }
        if (!allowedSites.isEmpty() && !allowedSites.contains(beacon.site())) {
            refuse(request, Outcome.FORBIDDEN_SITE, 403, "site " + beacon.site() + " is not collected here");
            return;
        }
        String originRefusal = origins.refusal(request.getHeader("Origin"), beacon.origin());
        if (originRefusal != null) {
            refuse(request, Outcome.FORBIDDEN_ORIGIN, 403, originRefusal);
            return;
        }
        // Cut before anything looks at it: the robot patterns, the verdict cache's key, the hash.
        String userAgent = BotFilter.cut(request.getHeader("User-Agent"));
        Software software = bots.software(userAgent);
        if (software == Software.ROBOT) {
            outcomes.get(Outcome.BOT).increment();
            Replies.json(request, 202, "{\"status\":\"accepted\"}");
            return;
        }
        String visitor = visitors.hash(client, userAgent, beacon.site());
        Context context = Vertx.currentContext();
        byte[] event = beacon.toEvent(now, visitor, software, countries.of(client));
        // Custom events have a topic of their own: a consumer of page views never counts one as a view.
        EventPublisher.Send send = beacon.event() == null ? publisher::publish : publisher::publishEvent;
        send.publish(beacon.path(), event, error -> {
            Runnable answer = () -> {
                if (error == null) {
                    ackTime.record(System.nanoTime() - arrived, TimeUnit.NANOSECONDS);
                    outcomes.get(Outcome.ACCEPTED).increment();
                    Replies.json(request, 202, "{\"status\":\"accepted\"}");
                } else {
                    LOG.debug("beacon not stored: {}", error.toString());
                    request.response().putHeader("Retry-After", "5");
                    // Kafka's own text names brokers and topics: it stays in the log, /health says what is down.
                    refuse(request, Outcome.UNAVAILABLE, 503, "Kafka cannot take the event now; try again later");
                }
            };
            if (context != null) {
                context.runOnContext(v -> answer.run());
            } else {
                answer.run();
            }
        });
    }

    private void tooLarge(HttpServerRequest request) {
        request.response().putHeader("Connection", "close");
        refuse(request, Outcome.TOO_LARGE, 413, "the body is larger than " + Beacon.MAX_BODY + " bytes");
    }

    private void refuse(HttpServerRequest request, Outcome outcome, int status, String reason) {
        outcomes.get(outcome).increment();
        Replies.error(request, status, reason);
    }

    private String clientAddress(HttpServerRequest request) {
        String peer = request.remoteAddress() == null || request.remoteAddress().hostAddress() == null
                ? "unknown" : request.remoteAddress().hostAddress();
        int zone = peer.indexOf('%'); // an IPv6 scope (fe80::1%eth0) is not part of the address
        if (zone > 0) {
            peer = peer.substring(0, zone);
        }
        return clients.of(request.headers().getAll("X-Forwarded-For"), peer);
    }

    private static long parseLength(String header) {
        try {
            return Long.parseLong(header.trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
