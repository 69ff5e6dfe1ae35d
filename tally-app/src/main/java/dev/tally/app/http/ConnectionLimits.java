package dev.tally.app.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
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
 * <p>All the state of one connection lives on its event loop (Vert.x calls the connection, request
 * and response handlers of a connection on the same one), so it needs no locking; only the time
 * its deadline is due is read by the sweep, which runs once every tenth of the timeout (a second
 * at most) over all connections instead of a timer per request. A handler
 * must not replace the response's {@code endHandler}: it is how the deadline restarts.
 */
final class ConnectionLimits {

    private static final Logger LOG = LoggerFactory.getLogger(ConnectionLimits.class);
    private static final long WARN_EVERY_MS = 60_000;

    private final int max;
    private final long readTimeoutMs;
    private final long readTimeoutNanos;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong lastWarned = new AtomicLong(-WARN_EVERY_MS);
    private final Map<HttpConnection, Deadline> deadlines = new ConcurrentHashMap<>();

    private final Counter overLimit;
    private final Counter timedOut;

    /**
     * @param listener the {@code listener} tag of this listener's meters ({@code front}, {@code admin})
     */
    ConnectionLimits(Vertx vertx, int max, long readTimeoutMs, MeterRegistry registry, String listener) {
        this.max = max;
        this.readTimeoutMs = readTimeoutMs;
        this.readTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(readTimeoutMs);
        Gauge.builder("tally.http.connections", open, AtomicInteger::get)
                .description("open HTTP connections")
                .tag("listener", listener)
                .register(registry);
        this.overLimit = closed(registry, listener, "over_limit");
        this.timedOut = closed(registry, listener, "read_timeout");
        // A deadline is closed at most a tenth of the timeout (at most a second) late.
        vertx.setPeriodic(Math.max(10, Math.min(1_000, readTimeoutMs / 10)), id -> sweep());
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
        Deadline deadline = new Deadline(connection, Vertx.currentContext());
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

    /** Asks every armed deadline whether it has passed; from the one periodic timer of this listener. */
    private void sweep() {
        long now = System.nanoTime();
        for (Deadline d : deadlines.values()) {
            d.sweep(now);
        }
    }

    /**
     * The read deadline of one connection. Arming it per request is two writes, not a timer: a
     * Vert.x timer set and cancelled twice per request cost as much as a small answer. The
     * listener's sweep finds deadlines that passed, and the connection's own event loop decides.
     */
    private final class Deadline {
        private final HttpConnection connection;
        private final Context context;
        private volatile long due;
        private volatile boolean armed;
        private int answering;
        private HttpServerRequest last;

        Deadline(HttpConnection connection, Context context) {
            this.connection = connection;
            this.context = context;
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
            due = System.nanoTime() + readTimeoutNanos;
            armed = true;
        }

        void cancel() {
            armed = false;
        }

        /** On the sweeper's thread: hands a passed deadline to the connection's event loop. */
        void sweep(long now) {
            if (armed && now - due >= 0) {
                if (context == null) {
                    expire();
                } else {
                    context.runOnContext(v -> expire());
                }
            }
        }

        /** On the connection's event loop: whether the deadline still stands (it may have been re-armed meanwhile). */
        private void expire() {
            if (!armed || System.nanoTime() - due < 0) {
                return;
            }
            armed = false;
            // Waiting for a request (none yet, or the previous one answered), or for the rest of one.
            if (answering == 0 || !last.isEnded()) {
                // Not a warning: idle keep-alive connections and browsers' speculative ones end so too.
                LOG.debug("closing {}: no whole request within {} ms", connection.remoteAddress(), readTimeoutMs);
                timedOut.increment();
                connection.close();
            }
        }
    }
}
