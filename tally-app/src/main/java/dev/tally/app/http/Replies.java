package dev.tally.app.http;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The answers every endpoint shares: JSON bodies, JSON errors, CORS. */
public final class Replies {

    private static final Logger LOG = LoggerFactory.getLogger(Replies.class);

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
        r.setStatusCode(status).putHeader("Content-Type", "application/json; charset=utf-8").end(json);
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
        error(request, 405, request.method() + " is not allowed on " + request.path() + "; use " + allowed);
    }

    /** A failure of ours, or of the database behind us: 503, logged once, never a stack trace to the client. */
    public static void unavailable(HttpServerRequest request, Throwable cause) {
        LOG.warn("{} {} failed: {}", request.method(), request.path(), cause.toString());
        if (request.response().headWritten()) {
            request.response().reset();
            return;
        }
        request.response().putHeader("Retry-After", "5");
        error(request, 503, "temporarily unavailable: " + rootMessage(cause));
    }

    /** Lets any origin read the answer (the view counter on a blog, a beacon from another site). */
    public static void allowAnyOrigin(HttpServerRequest request) {
        request.response().putHeader("Access-Control-Allow-Origin", "*");
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

    static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }
}
