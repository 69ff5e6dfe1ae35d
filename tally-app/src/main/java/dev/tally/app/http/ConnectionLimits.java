package dev.tally.app.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one listener allows a connection: at most {@code max} open at once (one more is closed as
 * it opens), and a read deadline. Vert.x has only an idle timeout, which a client sending a byte
 * a second never reaches: a few hundred such clients ("slowloris") would hold every connection
 * the server can have. So a connection must deliver a whole request, headers and body, within
 * {@code readTimeout} of opening or of its previous answer's end, or it is closed; while its
 * answer is being prepared (a slow database) no deadline runs.
 *
 * <p>All the state of one connection lives on its event loop (Vert.x calls the connection, request,
 * response and timer handlers of a connection on the same one), so it needs no locking. A handler
 * must not replace the response's {@code endHandler}: it is how the deadline restarts.
 */
final class ConnectionLimits {

    private static final Logger LOG = LoggerFactory.getLogger(ConnectionLimits.class);
    private static final long WARN_EVERY_MS = 60_000;

    private final Vertx vertx;
    private final int max;
    private final long readTimeoutMs;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong lastWarned = new AtomicLong(-WARN_EVERY_MS);
    private final Map<HttpConnection, Deadline> deadlines = new ConcurrentHashMap<>();

    private final Counter overLimit;
    private final Counter timedOut;

    /**
     * @param listener the {@code listener} tag of this listener's meters ({@code front}, {@code admin})
     */
    ConnectionLimits(Vertx vertx, int max, long readTimeoutMs, MeterRegistry registry, String listener) {
        this.vertx = vertx;
        this.max = max;
        this.readTimeoutMs = readTimeoutMs;
        Gauge.builder("tally.http.connections", open, AtomicInteger::get)
                .description("open HTTP connections")
                .tag("listener", listener)
                .register(registry);
        this.overLimit = closed(registry, listener, "over_limit");
        this.timedOut = closed(registry, listener, "read_timeout");
    }

    private static Counter closed(MeterRegistry registry, String listener, String reason) {
        return Counter.builder("tally.http.connections.closed")
                .description("HTTP connections the server closed: beyond --max-connections, or no whole request within --read-timeout")
                .tag("listener", listener)
                .tag("reason", reason)
                .register(registry);
    }

    /** The server's connection handler. */
    void opened(HttpConnection connection) {
        int now = open.incrementAndGet();
        Deadline deadline = new Deadline(connection);
        connection.closeHandler(v -> {
            open.decrementAndGet();
            deadline.cancel();
            deadlines.remove(connection);
        });
        if (now > max) {
            overLimit.increment();
            warn("{} connections are open, the most --max-connections allows; closing new ones", max);
            connection.close();
            return;
        }
        deadlines.put(connection, deadline);
        deadline.arm();
    }

    /** Called for each request as its head arrives, before its handler. */
    void requested(HttpServerRequest request) {
        Deadline deadline = deadlines.get(request.connection());
        if (deadline != null) {
            deadline.requested(request);
        }
    }

    /** Connections open now (tests read it). */
    int open() {
        return open.get();
    }

    /** At most one line a minute: a flood must not become a flood of log lines. */
    private void warn(String format, Object argument) {
        long now = System.currentTimeMillis();
        long last = lastWarned.get();
        if (now - last >= WARN_EVERY_MS && lastWarned.compareAndSet(last, now)) {
            LOG.warn(format, argument);
        }
    }

    private final class Deadline {
        private final HttpConnection connection;
        private long timer = -1;
        private int answering;
        private HttpServerRequest last;

        Deadline(HttpConnection connection) {
            this.connection = connection;
        }

        void requested(HttpServerRequest request) {
            answering++;
            last = request;
            arm(); // the body must arrive in time too
            request.response().endHandler(v -> {
                if (--answering == 0) {
                    arm();
                }
            });
        }

        void arm() {
            cancel();
            timer = vertx.setTimer(readTimeoutMs, id -> {
                timer = -1;
                // Waiting for a request (none yet, or the previous one answered), or for the rest of one.
                if (answering == 0 || !last.isEnded()) {
                    // Not a warning: idle keep-alive connections and browsers' speculative ones end so too.
                    LOG.debug("closing {}: no whole request within {} ms", connection.remoteAddress(), readTimeoutMs);
                    timedOut.increment();
                    connection.close();
                }
            });
        }

        void cancel() {
            if (timer >= 0) {
                vertx.cancelTimer(timer);
                timer = -1;
            }
        }
    }
}
