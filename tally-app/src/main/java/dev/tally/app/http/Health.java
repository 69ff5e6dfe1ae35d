package dev.tally.app.http;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import java.sql.Connection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /health}: 200 when every dependency answers, 503 otherwise, with one line per check
 * ({@code "ok"}, a reason of ours, or {@code "failing; see the log"} when a check threw: a
 * driver's message stays in the log). Checks run on a worker thread, each bounded to a few
 * seconds; probes share the evaluation under way, and a result is reused for a second, so that a
 * probe storm does not become a database storm.
 */
public final class Health {

    private static final Logger LOG = LoggerFactory.getLogger(Health.class);

    /**
     * Returns {@code null} when healthy, otherwise why not, in words fit for anyone to read; a
     * check that throws is answered {@code "failing; see the log"} and its exception logged.
     */
    @FunctionalInterface
    public interface Check extends Callable<String> {}

    private final Map<String, Check> checks = new LinkedHashMap<>();
    private volatile long checkedAt;
    private volatile Answer last;
    private final AtomicReference<Future<Answer>> running = new AtomicReference<>();

    private record Answer(int status, String json) {}

    public Health add(String name, Check check) {
        checks.put(name, check);
        return this;
    }

    /** The broker answers a cluster description within 3 s. */
    public static Check kafka(Admin admin) {
        return () -> {
            int nodes = admin.describeCluster(new DescribeClusterOptions().timeoutMs(3_000)).nodes()
                    .get(4, TimeUnit.SECONDS).size();
            return nodes > 0 ? null : "no Kafka broker is available";
        };
    }

    /** A connection is valid within 3 s. */
    public static Check database(DataSource dataSource) {
        return () -> {
            try (Connection c = dataSource.getConnection()) {
                return c.isValid(3) ? null : "the database did not answer within 3 s";
            }
        };
    }

    /** Answers {@code GET} and {@code HEAD}; another method is a 405. */
    public void handle(WebServer web, HttpServerRequest request) {
        if (request.method() != HttpMethod.GET && request.method() != HttpMethod.HEAD) {
            Replies.methodNotAllowed(request, "GET, HEAD");
            return;
        }
        Answer cached = last;
        if (cached != null && System.currentTimeMillis() - checkedAt < 1_000) {
            reply(request, cached);
            return;
        }
        Context context = Vertx.currentContext();
        evaluation(web).onComplete(ar -> context.runOnContext(v -> {
            if (ar.succeeded()) {
                reply(request, ar.result());
            } else {
                Replies.unavailable(request, ar.cause());
            }
        }));
    }

    /**
     * The evaluation under way, or a new one: probes that arrive while the checks run (a slow
     * database takes seconds) wait for the same answer, so that a flood of them holds one worker
     * thread, not every one of them.
     */
    private Future<Answer> evaluation(WebServer web) {
        Promise<Answer> mine = Promise.promise();
        Future<Answer> running = this.running.compareAndExchange(null, mine.future());
        if (running != null) {
            return running;
        }
        web.vertx().executeBlocking(this::evaluate, false).onComplete(ar -> {
            this.running.set(null);
            mine.handle(ar);
        });
        return mine.future();
    }

    private Answer evaluate() {
        StringBuilder json = new StringBuilder("{\"checks\":{");
        boolean ready = true;
        boolean first = true;
        for (Map.Entry<String, Check> c : checks.entrySet()) {
            String problem;
            try {
                problem = c.getValue().call();
            } catch (Exception e) {
                // The driver's or the client's words may name hosts, users or files: log only.
                LOG.warn("health check {} failed: {}", c.getKey(), Replies.rootMessage(e));
                problem = "failing; see the log";
            }
            ready &= problem == null;
            json.append(first ? "" : ",").append(Replies.quote(c.getKey())).append(':')
                    .append(Replies.quote(problem == null ? "ok" : problem));
            first = false;
        }
        json.append("},\"status\":").append(ready ? "\"ready\"" : "\"unready\"").append('}');
        Answer a = new Answer(ready ? 200 : 503, json.toString());
        last = a;
        checkedAt = System.currentTimeMillis();
        return a;
    }

    private static void reply(HttpServerRequest request, Answer a) {
        request.response().putHeader("Cache-Control", "no-store");
        Replies.json(request, a.status(), a.json());
    }
}
