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
    /** The longest user agent used for the visitor hash and the bot check. */
    public static final int MAX_USER_AGENT = 512;

    /** What became of a beacon; each outcome is a value of the {@code outcome} tag of {@code tally.collector.beacons}. */
    enum Outcome { ACCEPTED, BOT, INVALID, TOO_LARGE, UNSUPPORTED_TYPE, FORBIDDEN_SITE, RATE_LIMITED, UNAVAILABLE }

    private final EventPublisher publisher;
    private final VisitorHash visitors;
    private final BotFilter bots;
    private final RateLimiter rateLimiter;
    private final Set<String> allowedSites;
    private final boolean trustProxy;
    private final Clock clock;
    private final Map<Outcome, Counter> outcomes = new EnumMap<>(Outcome.class);
    private final Timer ackTime;

    /**
     * @param allowedSites the sites beacons may name; empty accepts any
     * @param trustProxy whether the client address is the first one of {@code X-Forwarded-For}
     *     (only behind a proxy that sets it: anyone can send the header)
     */
    public Collector(EventPublisher publisher, VisitorHash visitors, BotFilter bots, RateLimiter rateLimiter,
            Set<String> allowedSites, boolean trustProxy, Clock clock, MeterRegistry registry) {
        this.publisher = publisher;
        this.visitors = visitors;
        this.bots = bots;
        this.rateLimiter = rateLimiter;
        this.allowedSites = Set.copyOf(allowedSites);
        this.trustProxy = trustProxy;
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
        String type = request.getHeader("Content-Type");
        if (type != null && !acceptable(type)) {
            refuse(request, Outcome.UNSUPPORTED_TYPE, 415, "send the beacon as text/plain or application/json, not " + type);
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
            beacon = Beacon.parse(body, now);
        } catch (InvalidBeaconException e) {
            refuse(request, Outcome.INVALID, 400, e.getMessage());
            return;
        }
        if (!allowedSites.isEmpty() && !allowedSites.contains(beacon.site())) {
            refuse(request, Outcome.FORBIDDEN_SITE, 403, "site " + Beacon.cut(beacon.site(), 64) + " is not collected here");
            return;
        }
        String userAgent = request.getHeader("User-Agent");
        if (bots.isBot(userAgent)) {
            outcomes.get(Outcome.BOT).increment();
            Replies.json(request, 202, "{\"status\":\"accepted\"}");
            return;
        }
        String visitor = visitors.hash(client, Beacon.cut(userAgent, MAX_USER_AGENT), beacon.site());
        Context context = Vertx.currentContext();
        publisher.publish(beacon.path(), beacon.toEvent(now, visitor), error -> {
            Runnable answer = () -> {
                if (error == null) {
                    ackTime.record(System.nanoTime() - arrived, TimeUnit.NANOSECONDS);
                    outcomes.get(Outcome.ACCEPTED).increment();
                    Replies.json(request, 202, "{\"status\":\"accepted\"}");
                } else {
                    LOG.debug("beacon not stored: {}", error.toString());
                    request.response().putHeader("Retry-After", "5");
                    refuse(request, Outcome.UNAVAILABLE, 503, "Kafka cannot take the event now: " + error.getMessage());
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
        if (trustProxy) {
            String forwarded = request.getHeader("X-Forwarded-For");
            if (forwarded != null && !forwarded.isBlank()) {
                int comma = forwarded.indexOf(',');
                return (comma < 0 ? forwarded : forwarded.substring(0, comma)).trim();
            }
        }
        return request.remoteAddress() == null ? "unknown" : request.remoteAddress().hostAddress();
    }

    private static boolean acceptable(String contentType) {
        String t = contentType.toLowerCase(Locale.ROOT);
        return t.startsWith("text/plain") || t.startsWith("application/json");
    }

    private static long parseLength(String header) {
        try {
            return Long.parseLong(header.trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
