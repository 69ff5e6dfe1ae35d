package dev.tally.app.http;

import dev.tally.app.HttpOptions;
import dev.tally.app.StartupException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import java.net.BindException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP front of {@code collect}, {@code serve} and {@code run}: Vert.x {@link HttpServer}s
 * dispatching on the exact request path. Handlers run on the event loop and must not block;
 * database reads go through {@link #blocking}. Routes are fixed before {@link #start}.
 *
 * <p>It faces the internet, so it is configured for that ({@link HttpOptions}): HTTP/1.1 only
 * unless {@code --h2c}; request lines of at most 8 KB (else 414) and headers of at most 16 KB
 * (else 431); a connection cap and a read deadline ({@link ConnectionLimits}); every answer
 * {@code X-Content-Type-Options: nosniff}; whatever a handler throws, a generic 503; at most
 * {@link #MAX_BLOCKING} blocking reads at once. The admin routes ({@code /health},
 * {@code /metrics}) are served with the others, on a port of their own, or not at all
 * ({@code --admin-port}). A handler must not replace its response's {@code endHandler}: the read
 * deadline restarts from it.
 */
public final class WebServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(WebServer.class);

    /** Blocking reads queued or running at most: eight times the worker threads, a few seconds of a slow store. */
    static final int MAX_BLOCKING = 128;

    private final HttpOptions options;
    private final MeterRegistry registry;
    private final Counter shed;
    private final AtomicInteger blocking = new AtomicInteger();
    private final Vertx vertx;
    private final Map<String, Handler<HttpServerRequest>> routes = new LinkedHashMap<>();
    private final Map<String, Handler<HttpServerRequest>> adminRoutes = new LinkedHashMap<>();
    private final List<ConnectionLimits> limits = new ArrayList<>();
    private HttpServer server;
    private HttpServer admin;

    /** A server with the defaults of {@link HttpOptions}, its meters nowhere. */
    public WebServer() {
        this(new HttpOptions());
    }

    /** A server with its meters nowhere (tests). */
    public WebServer(HttpOptions options) {
        this(options, new SimpleMeterRegistry());
    }

    /**
     * @param registry where the server's meters go: {@code tally.http.connections} (open),
     *     {@code tally.http.connections.closed{reason=over_limit|read_timeout}} and
     *     {@code tally.http.reads.shed}
     */
    public WebServer(HttpOptions options, MeterRegistry registry) {
        this.options = options;
        this.registry = registry;
        this.shed = Counter.builder("tally.http.reads.shed")
                .description("requests answered 503 at once because " + MAX_BLOCKING + " blocking reads already waited")
                .register(registry);
        // Two event loops match the machine; the worker pool serves blocking database reads.
        this.vertx = Vertx.vertx(new VertxOptions()
                .setEventLoopPoolSize(Math.max(2, Runtime.getRuntime().availableProcessors()))
                .setWorkerPoolSize(16)
                .setMaxEventLoopExecuteTime(2)
                .setMaxEventLoopExecuteTimeUnit(TimeUnit.SECONDS));
    }

    /** Serves {@code path} (exact match, no query) with {@code handler}. */
    public WebServer route(String path, Handler<HttpServerRequest> handler) {
        return add(routes, path, handler);
    }

    /**
     * Serves {@code path} for operators ({@code /health}, {@code /metrics}): where
     * {@code --admin-port} says, with the other routes by default.
     */
    public WebServer adminRoute(String path, Handler<HttpServerRequest> handler) {
        return add(adminRoutes, path, handler);
    }

    private WebServer add(Map<String, Handler<HttpServerRequest>> table, String path, Handler<HttpServerRequest> handler) {
        if (server != null) {
            throw new IllegalStateException("routes are fixed once the server started");
        }
        if (routes.containsKey(path) || adminRoutes.containsKey(path)) {
            throw new IllegalArgumentException("two handlers for " + path);
        }
        table.put(path, handler);
        return this;
    }

    public Vertx vertx() {
        return vertx;
    }

    /**
     * Listens on {@code host:port} ({@code port} 0 picks a free one), and on the admin port when
     * {@code --admin-port} gives one.
     *
     * @return the port listened on
     * @throws StartupException if a port is in use or an address cannot be bound
     */
    public int start(String host, int port) {
        Map<String, Handler<HttpServerRequest>> front = new LinkedHashMap<>(routes);
        if (options.adminPort == HttpOptions.ADMIN_SAME) {
            front.putAll(adminRoutes);
        } else if (options.adminPort >= 0) {
            admin = listen(options.adminBind, options.adminPort, "--admin-port", "admin", adminRoutes);
        }
        server = listen(host, port, "--port", "front", front);
        return server.actualPort();
    }

    private HttpServer listen(String host, int port, String option, String listener,
            Map<String, Handler<HttpServerRequest>> table) {
        HttpServerOptions settings = new HttpServerOptions()
                .setHost(host)
                .setPort(port)
                .setIdleTimeout(60)
                .setMaxInitialLineLength(8192)
                .setMaxHeaderSize(16 * 1024)
                // Vert.x answers "Upgrade: h2c" and the HTTP/2 preface by default: a second
                // protocol to harden (over h2c, HEAD answers carried their bodies). Asked for only.
                .setHttp2ClearTextEnabled(options.h2c)
                // No route is a WebSocket: without these, a handler negotiating WebSocket
                // extensions looks at every request and answer (some 8 % of a beacon's CPU).
                .setPerFrameWebSocketCompressionSupported(false)
                .setPerMessageWebSocketCompressionSupported(false)
                .setCompressionSupported(true);
        ConnectionLimits guard = new ConnectionLimits(vertx, options.maxConnections, options.readTimeout().toMillis(),
                registry, listener);
        limits.add(guard);
        HttpServer s = vertx.createHttpServer(settings)
                .connectionHandler(guard::opened)
                .exceptionHandler(e -> LOG.debug("connection failed: {}", e.toString()))
                .requestHandler(request -> {
                    guard.requested(request);
                    dispatch(table, request);
                });
        try {
            return s.listen().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof BindException || String.valueOf(cause.getMessage()).contains("Address already in use")) {
                throw new StartupException("port " + port + " on " + host + " is in use; pick another with " + option, cause);
            }
            throw new StartupException("cannot listen on " + host + ":" + port + ": " + cause.getMessage(), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StartupException("interrupted while starting the HTTP server", e);
        } catch (TimeoutException e) {
            throw new StartupException("the HTTP server did not start within 30 s", e);
        }
    }

    /** The port listened on, once started. */
    public int port() {
        return server.actualPort();
    }

    /** The port of the admin listener once started, or {@code -1} without one (admin routes with the others, or off). */
    public int adminPort() {
        return admin == null ? -1 : admin.actualPort();
    }

    /** Connections open now on every listener. */
    int openConnections() {
        return limits.stream().mapToInt(ConnectionLimits::open).sum();
    }

    /**
     * Runs blocking work (a database read) on a worker thread, then {@code done} on the event loop
     * with its result; when either throws, answers 503 ({@link Replies#unavailable}). When
     * {@link #MAX_BLOCKING} pieces of work are already queued or running (a store slower than the
     * requests coming in, or a flood of them), answers 503 at once instead of queueing without
     * bound: the answer stays quick, and the server is itself again as soon as the load falls.
     */
    public <T> void blocking(HttpServerRequest request, java.util.concurrent.Callable<T> work, Handler<T> done) {
        if (blocking.incrementAndGet() > MAX_BLOCKING) {
            blocking.decrementAndGet();
            shed.increment();
            Replies.unavailable(request, new IllegalStateException(MAX_BLOCKING + " blocking reads already wait; shedding load"));
            return;
        }
        vertx.<T>executeBlocking(work, false).onComplete(ar -> {
            blocking.decrementAndGet();
            if (ar.succeeded()) {
                answering(request, () -> done.handle(ar.result()));
            } else {
                Replies.unavailable(request, ar.cause());
            }
        });
    }

    private static void dispatch(Map<String, Handler<HttpServerRequest>> table, HttpServerRequest request) {
        // Browsers must not guess another type than the one given (JSON read as HTML, say).
        request.response().putHeader(Replies.NOSNIFF_NAME, Replies.NOSNIFF);
        answering(request, () -> {
            Handler<HttpServerRequest> handler = table.get(request.path());
            if (handler == null) {
                if (request.path().startsWith("/api/")) {
                    Replies.allowAnyOrigin(request); // a page elsewhere may read why, as from every /api/ answer
                }
                Replies.error(request, 404, "no such resource: " + Replies.cut(request.path()));
            } else {
                handler.handle(request);
            }
        });
    }

    /** Runs a handler's code; whatever it throws is a 503 for the client and a line in the log. */
    private static void answering(HttpServerRequest request, Runnable code) {
        try {
            code.run();
        } catch (Exception | LinkageError | AssertionError | StackOverflowError e) {
            Replies.unavailable(request, e);
        }
    }

    /** Stops accepting, lets answers in flight finish for up to {@code timeout}, then stops Vert.x. */
    public void close(Duration timeout) {
        try {
            for (HttpServer s : new HttpServer[] {server, admin}) {
                if (s != null) {
                    s.shutdown(timeout).toCompletionStage().toCompletableFuture()
                            .get(timeout.toMillis() + 1_000, TimeUnit.MILLISECONDS);
                }
            }
        } catch (Exception e) {
            // Shutting down regardless: closing Vert.x below releases the port.
        }
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(10));
    }
}
