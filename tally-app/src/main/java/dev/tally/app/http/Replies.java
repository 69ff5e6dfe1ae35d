package dev.tally.app.http;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The answers every endpoint shares: JSON bodies, JSON errors, CORS. */
public final class Replies {

    private static final Logger LOG = LoggerFactory.getLogger(Replies.class);
    private static final AtomicLong lastFailureLogged = new AtomicLong();
    private static final AtomicLong unlogged = new AtomicLong();

    // Header names and values encoded once, not for every answer.
    private static final CharSequence CONTENT_TYPE = HttpHeaders.createOptimized("Content-Type");
    private static final CharSequence JSON = HttpHeaders.createOptimized("application/json; charset=utf-8");
    private static final CharSequence ALLOW_ORIGIN = HttpHeaders.createOptimized("Access-Control-Allow-Origin");
    private static final CharSequence ANY = HttpHeaders.createOptimized("*");
    static final CharSequence NOSNIFF_NAME = HttpHeaders.createOptimized("X-Content-Type-Options");
    static final CharSequence NOSNIFF = HttpHeaders.createOptimized("nosniff");

    private Replies() {}

    /** A JSON string literal, quotes included. */
    public static String quote(String s) {
        if (s == null) {
            return "null";
        }
        return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(s)) + "\"";
    }

    /** Answers {@code status} with a JSON body. */
    public static void json(HttpServerRequest request, int status, String json) {
        HttpServerResponse r = request.response();
        if (r.ended() || r.closed()) {
            return;
        }
        r.setStatusCode(status).putHeader(CONTENT_TYPE, JSON).end(json);
    }

    /** Answers {@code status} with {@code {"error": reason}}: every 4xx and 5xx says why. */
    public static void error(HttpServerRequest request, int status, String reason) {
        HttpServerResponse r = request.response();
        if (r.ended() || r.closed()) {
            return;
        }
        r.putHeader("Cache-Control", "no-store");
        json(request, status, "{\"error\":" + quote(reason) + "}");
    }

    /** Answers 405 naming the allowed methods. */
    public static void methodNotAllowed(HttpServerRequest request, String allowed) {
        request.response().putHeader("Allow", allowed);
        error(request, 405, cut(request.method().name()) + " is not allowed on " + cut(request.path()) + "; use " + allowed);
    }

    /** The whole body of every 503 that {@link #unavailable} answers. */
    static final String UNAVAILABLE = "temporarily unavailable; try again later";

    /**
     * A failure of ours, or of the database or broker behind us: 503 with {@code Retry-After} and
     * a generic reason. What failed (SQL, a driver's or Kafka's message, which may name tables,
     * hosts or users) is logged, never sent: the server is public.
     */
    public static void unavailable(HttpServerRequest request, Throwable cause) {
        // At most a line a second: a store that is down, or a flood, must not flood the log too.
        long now = System.currentTimeMillis();
        long last = lastFailureLogged.get();
        if (now - last >= 1_000 && lastFailureLogged.compareAndSet(last, now)) {
            long more = unlogged.getAndSet(0);
            LOG.warn("{} {} failed: {}{}", request.method(), cut(request.path()), cause.toString(),
                    more == 0 ? "" : " (and " + more + " more failures since the last line)");
        } else {
            unlogged.incrementAndGet();
        }
        LOG.debug("{} {} failed", request.method(), cut(request.path()), cause);
        HttpServerResponse r = request.response();
        if (r.headWritten()) {
            r.reset(); // half an answer is worse than none: the client sees the connection fail
            return;
        }
        if (r.ended() || r.closed()) {
            return;
        }
        r.putHeader("Retry-After", "5");
        error(request, 503, UNAVAILABLE);
    }

    /** Lets any origin read the answer (the view counter on a blog, a beacon from another site). */
    public static void allowAnyOrigin(HttpServerRequest request) {
        request.response().putHeader(ALLOW_ORIGIN, ANY);
    }

    /**
     * Answers a CORS preflight: {@code methods} from any origin, with a {@code Content-Type}
     * header, cached for a day by the browser.
     */
    public static void preflight(HttpServerRequest request, String methods) {
        request.response()
                .putHeader("Access-Control-Allow-Origin", "*")
                .putHeader("Access-Control-Allow-Methods", methods)
                .putHeader("Access-Control-Allow-Headers", "Content-Type")
                .putHeader("Access-Control-Max-Age", "86400")
                .setStatusCode(204)
                .end();
    }

    /** Enough of a client's input to recognise it in an answer, never a whole 8 KB line echoed back. */
    public static String cut(String value) {
        return value.length() > 64 ? value.substring(0, 64) + "…" : value;
    }

    static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }
}
