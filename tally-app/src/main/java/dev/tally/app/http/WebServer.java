package dev.tally.app.http;

import dev.tally.app.StartupException;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import java.net.BindException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The HTTP front of {@code collect}, {@code serve} and {@code run}: one Vert.x {@link HttpServer}
 * dispatching on the exact request path. Handlers run on the event loop and must not block;
 * database reads go through {@link #blocking}. Routes are fixed before {@link #start}.
 */
public final class WebServer implements AutoCloseable {

    private final Vertx vertx;
    private final Map<String, Handler<HttpServerRequest>> routes = new LinkedHashMap<>();
    private HttpServer server;

    public WebServer() {
        // Two event loops match the machine; the worker pool serves blocking database reads.
        this.vertx = Vertx.vertx(new VertxOptions()
                .setEventLoopPoolSize(Math.max(2, Runtime.getRuntime().availableProcessors()))
                .setWorkerPoolSize(16)
                .setMaxEventLoopExecuteTime(2)
                .setMaxEventLoopExecuteTimeUnit(TimeUnit.SECONDS));
    }

    /** Serves {@code path} (exact match, no query) with {@code handler}. */
    public WebServer route(String path, Handler<HttpServerRequest> handler) {
        if (server != null) {
            throw new IllegalStateException("routes are fixed once the server started");
        }
        if (routes.putIfAbsent(path, handler) != null) {
            throw new IllegalArgumentException("two handlers for " + path);
        }
        return this;
    }

    public Vertx vertx() {
        return vertx;
    }

    /**
     * Listens on {@code host:port} ({@code port} 0 picks a free one).
     *
     * @return the port listened on
     * @throws StartupException if the port is in use or the address cannot be bound
     */
    public int start(String host, int port) {
        HttpServerOptions options = new HttpServerOptions()
                .setHost(host)
                .setPort(port)
                .setIdleTimeout(60)
                .setMaxInitialLineLength(8192)
                .setMaxHeaderSize(16 * 1024)
                // Vert.x answers "Upgrade: h2c" and the HTTP/2 preface by default: a second
                // protocol to harden (over h2c, HEAD answers carried their bodies). Off.
                .setHttp2ClearTextEnabled(false)
                .setCompressionSupported(true);
        HttpServer s = vertx.createHttpServer(options).requestHandler(this::dispatch);
        try {
            server = s.listen().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            return server.actualPort();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof BindException || String.valueOf(cause.getMessage()).contains("Address already in use")) {
                throw new StartupException("port " + port + " on " + host + " is in use; pick another with --port", cause);
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

    /**
     * Runs blocking work (a database read) on a worker thread, then {@code done} on the event loop
     * with its result; when either throws, answers 503 ({@link Replies#unavailable}).
     */
    public <T> void blocking(HttpServerRequest request, java.util.concurrent.Callable<T> work, Handler<T> done) {
        vertx.<T>executeBlocking(work, false).onComplete(ar -> {
            if (ar.succeeded()) {
                answering(request, () -> done.handle(ar.result()));
            } else {
                Replies.unavailable(request, ar.cause());
            }
        });
    }

    private void dispatch(HttpServerRequest request) {
        Handler<HttpServerRequest> handler = routes.get(request.path());
        if (handler == null) {
            Replies.error(request, 404, "no such resource: " + Replies.cut(request.path()));
            return;
        }
        answering(request, () -> handler.handle(request));
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
            if (server != null) {
                server.shutdown(timeout).toCompletionStage().toCompletableFuture()
                        .get(timeout.toMillis() + 1_000, TimeUnit.MILLISECONDS);
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
