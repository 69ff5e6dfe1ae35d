package dev.tally.app.http;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.app.HttpOptions;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP front every command shares, on loopback: whatever a handler throws is a generic 503,
 * never the exception's text; HTTP/1.1 only unless HTTP/2 over cleartext is asked for; a
 * connection that does not send a whole request in time is closed, a slow answer is not; at most
 * {@code --max-connections}; {@code /health} and {@code /metrics} with the rest, on their own port
 * or off, GET and HEAD only; {@code nosniff} on every answer.
 */
class WebServerIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** What a failing handler would otherwise leak: SQL, a driver's words. */
    private static final String SECRET = "SELECT secret FROM users WHERE password = 'hunter2'";

    private final List<WebServer> servers = new ArrayList<>();
    private final List<Socket> sockets = new ArrayList<>();

    @AfterEach
    void stop() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        servers.forEach(WebServer::close);
    }

    @Test
    void anExceptionAnywhereInAHandlerIsAGeneric503() throws Exception {
        WebServer web = server(new HttpOptions());
        web.route("/throws", r -> {
            throw new IllegalStateException(SECRET);
        });
        web.route("/throws-error", r -> {
            throw new AssertionError(SECRET);
        });
        web.route("/work-throws", r -> web.blocking(r, () -> {
            throw new java.sql.SQLException(SECRET);
        }, v -> r.response().end()));
        web.route("/answer-throws", r -> web.blocking(r, () -> "read", v -> {
            throw new IllegalArgumentException(SECRET);
        }));
        String base = "http://127.0.0.1:" + web.start("127.0.0.1", 0);

        for (String path : List.of("/throws", "/throws-error", "/work-throws", "/answer-throws")) {
            HttpResponse<String> r = get(base + path);
            assertThat(r.statusCode()).as(path).isEqualTo(503);
            assertThat(r.headers().firstValue("Retry-After")).as(path).hasValue("5");
            assertThat(r.headers().firstValue("Content-Type")).as(path).hasValue("application/json; charset=utf-8");
            assertThat(r.headers().firstValue("X-Content-Type-Options")).as(path).hasValue("nosniff");
            assertThat(r.body()).as(path).isEqualTo("{\"error\":\"temporarily unavailable; try again later\"}");
        }
        HttpResponse<String> missing = get(base + "/x" + "y".repeat(500));
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
        assertThat(missing.body()).hasSizeLessThan(200);
    }

    @Test
    void speaksOnlyHttp1WithoutTlsUnlessAskedFor() throws Exception {
        WebServer web = server(new HttpOptions());
        web.route("/", r -> r.response().end("hello"));
        HttpOptions h2c = new HttpOptions();
        h2c.h2c = true;
        WebServer asked = server(h2c);
        asked.route("/", r -> r.response().end("hello"));
        // Java's client asks for HTTP/2 with "Upgrade: h2c"; the server must stay on HTTP/1.1
        // (cleartext HTTP/2 is a second protocol stack to harden, and there HEAD answers had bodies).
        HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
        URI plain = URI.create("http://127.0.0.1:" + web.start("127.0.0.1", 0) + "/");
        URI upgraded = URI.create("http://127.0.0.1:" + asked.start("127.0.0.1", 0) + "/");
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> r = h2.send(HttpRequest.newBuilder(plain).timeout(Duration.ofSeconds(20)).build(),
                    HttpResponse.BodyHandlers.ofString(UTF_8));
            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
            assertThat(r.body()).isEqualTo("hello");
        }
        HttpResponse<String> r = h2.send(HttpRequest.newBuilder(upgraded).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString(UTF_8));
        assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
    }

    @Test
    void closesAConnectionThatDoesNotSendAWholeRequestInTime() throws Exception {
        HttpOptions options = new HttpOptions();
        options.readTimeoutSeconds = 1;
        MeterRegistry registry = new SimpleMeterRegistry();
        WebServer web = server(options, registry);
        web.route("/", r -> r.response().end("hello"));
        // An answer slower than the read timeout is not cut: the deadline is for the client.
        web.route("/slow", r -> web.vertx().setTimer(2_500, id -> r.response().end("late")));
        web.route("/upload", r -> r.body().onSuccess(b -> r.response().end("got " + b.length())));
        int port = web.start("127.0.0.1", 0);

        Socket silent = open(port, "");
        Socket headers = open(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a");
        Socket body = open(port, "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n0123456789");
        Socket slow = open(port, "GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        Socket kept = open(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        for (Socket s : List.of(silent, headers, body)) {
            assertThat(readToEnd(s)).as("closed without an answer").isEmpty();
        }
        assertThat(readToEnd(slow)).startsWith("HTTP/1.1 200 OK").endsWith("late");
        // Kept alive after its answer, then idle: closed too.
        assertThat(readToEnd(kept)).startsWith("HTTP/1.1 200 OK").endsWith("hello");
        await().atMost(Duration.ofSeconds(10)).until(() -> web.openConnections() == 0);
        assertThat(closed(registry, "read_timeout")).as("all five, the slow one once answered and idle").isEqualTo(5);
        assertThat(get("http://127.0.0.1:" + port + "/").body()).isEqualTo("hello");
    }

    @Test
    void closesConnectionsBeyondTheCap() throws Exception {
        HttpOptions options = new HttpOptions();
        options.maxConnections = 5;
        options.readTimeoutSeconds = 120; // idle ones stay while the test looks
        MeterRegistry registry = new SimpleMeterRegistry();
        WebServer web = server(options, registry);
        web.route("/", r -> r.response().end("hello"));
        int port = web.start("127.0.0.1", 0);

        List<Socket> held = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            held.add(open(port, ""));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> web.openConnections() == 5);
        Socket sixth = open(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        assertThat(readToEnd(sixth)).as("closed at once, no answer").isEmpty();
        await().atMost(Duration.ofSeconds(10)).until(() -> web.openConnections() == 5); // its close is counted
        assertThat(closed(registry, "over_limit")).isEqualTo(1);
        assertThat(registry.get("tally.http.connections").tag("listener", "front").gauge().value()).isEqualTo(5);

        held.get(0).close();
        await().atMost(Duration.ofSeconds(10)).until(() -> web.openConnections() == 4);
        Socket next = open(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        assertThat(readToEnd(next)).startsWith("HTTP/1.1 200 OK").endsWith("hello");
    }

    @Test
    void healthAndMetricsAnswerGetAndHeadWithTheRestOnTheirOwnPortOrNowhere() throws Exception {
        Metrics metrics = new Metrics();
        Health health = new Health().add("always", () -> null);

        WebServer same = server(new HttpOptions(), metrics.registry());
        same.route("/", r -> r.response().end("hello"));
        same.adminRoute("/health", r -> health.handle(same, r));
        same.adminRoute("/metrics", metrics::handle);
        String base = "http://127.0.0.1:" + same.start("127.0.0.1", 0);
        assertThat(same.adminPort()).isEqualTo(-1);
        assertThat(get(base + "/health").body()).isEqualTo("{\"checks\":{\"always\":\"ok\"},\"status\":\"ready\"}");
        assertThat(get(base + "/metrics").body()).contains("jvm_memory", "tally_http_connections{listener=\"front\"}",
                "tally_http_connections_closed_total{listener=\"front\",reason=\"read_timeout\"}", "tally_http_reads_shed_total");
        for (String path : List.of("/health", "/metrics")) {
            HttpResponse<String> head = send("HEAD", base + path);
            assertThat(head.statusCode()).as(path).isEqualTo(200);
            assertThat(head.body()).as(path).isEmpty();
            for (String method : List.of("POST", "PUT", "DELETE", "OPTIONS", "TRACE", "X".repeat(3000))) {
                HttpResponse<String> refused = send(method, base + path);
                assertThat(refused.statusCode()).as("%s %s", method, path).isEqualTo(405);
                assertThat(refused.headers().firstValue("Allow")).as("%s %s", method, path).hasValue("GET, HEAD");
                assertThat(refused.body()).as("the method is cut, not echoed whole").hasSizeLessThan(300);
            }
        }

        HttpOptions apart = new HttpOptions();
        apart.adminPort = 0;
        WebServer separate = server(apart);
        separate.route("/", r -> r.response().end("hello"));
        separate.adminRoute("/health", r -> health.handle(separate, r));
        separate.adminRoute("/metrics", metrics::handle);
        String front = "http://127.0.0.1:" + separate.start("127.0.0.1", 0);
        String admin = "http://127.0.0.1:" + separate.adminPort();
        assertThat(separate.adminPort()).isPositive().isNotEqualTo(separate.port());
        assertThat(get(front + "/health").statusCode()).isEqualTo(404);
        assertThat(get(front + "/metrics").statusCode()).isEqualTo(404);
        assertThat(get(front + "/").body()).isEqualTo("hello");
        assertThat(get(admin + "/health").statusCode()).isEqualTo(200);
        assertThat(get(admin + "/metrics").body()).contains("jvm_memory");
        assertThat(get(admin + "/").statusCode()).isEqualTo(404);

        HttpOptions none = new HttpOptions();
        none.adminPort = HttpOptions.ADMIN_OFF;
        WebServer off = server(none);
        off.route("/", r -> r.response().end("hello"));
        off.adminRoute("/health", r -> health.handle(off, r));
        off.adminRoute("/metrics", metrics::handle);
        String only = "http://127.0.0.1:" + off.start("127.0.0.1", 0);
        assertThat(off.adminPort()).isEqualTo(-1);
        assertThat(get(only + "/health").statusCode()).isEqualTo(404);
        assertThat(get(only + "/metrics").statusCode()).isEqualTo(404);
    }

    @Test
    void probesArrivingWhileTheChecksRunShareOneEvaluation() throws Exception {
        AtomicInteger evaluations = new AtomicInteger();
        CountDownLatch slowDatabase = new CountDownLatch(1);
        Health health = new Health().add("db", () -> {
            evaluations.incrementAndGet();
            slowDatabase.await(20, TimeUnit.SECONDS);
            return null;
        });
        WebServer web = server(new HttpOptions());
        web.adminRoute("/health", r -> health.handle(web, r));
        URI uri = URI.create("http://127.0.0.1:" + web.start("127.0.0.1", 0) + "/health");

        List<CompletableFuture<HttpResponse<String>>> probes = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            probes.add(HTTP.sendAsync(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString(UTF_8)));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> evaluations.get() == 1);
        slowDatabase.countDown();
        for (CompletableFuture<HttpResponse<String>> p : probes) {
            assertThat(p.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        }
        // 40 probes, more than the 16 worker threads: one evaluation (later ones read its result).
        assertThat(evaluations).hasValue(1);
    }

    @Test
    void shedsBlockingReadsBeyondTheBoundWithA503() throws Exception {
        CountDownLatch slowStore = new CountDownLatch(1);
        MeterRegistry registry = new SimpleMeterRegistry();
        WebServer web = server(new HttpOptions(), registry);
        web.route("/read", r -> web.blocking(r, () -> slowStore.await(30, TimeUnit.SECONDS), v -> r.response().end("read")));
        URI uri = URI.create("http://127.0.0.1:" + web.start("127.0.0.1", 0) + "/read");

        List<CompletableFuture<HttpResponse<String>>> reads = new ArrayList<>();
        for (int i = 0; i < WebServer.MAX_BLOCKING + 20; i++) {
            reads.add(HTTP.sendAsync(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(40)).build(),
                    HttpResponse.BodyHandlers.ofString(UTF_8)));
        }
        // The 20 beyond the bound are answered while the others still wait for the store.
        await().atMost(Duration.ofSeconds(20)).until(() -> reads.stream().filter(CompletableFuture::isDone).count() == 20);
        slowStore.countDown();
        int shed = 0;
        for (CompletableFuture<HttpResponse<String>> f : reads) {
            HttpResponse<String> r = f.get(40, TimeUnit.SECONDS);
            if (r.statusCode() == 503) {
                shed++;
                assertThat(r.headers().firstValue("Retry-After")).hasValue("5");
                assertThat(r.body()).isEqualTo("{\"error\":\"temporarily unavailable; try again later\"}");
            } else {
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("read");
            }
        }
        assertThat(shed).isEqualTo(20);
        assertThat(registry.get("tally.http.reads.shed").counter().count()).isEqualTo(20);
        assertThat(get(uri.toString()).body()).as("itself again").isEqualTo("read");
    }

    private WebServer server(HttpOptions options) {
        return server(options, new SimpleMeterRegistry());
    }

    private WebServer server(HttpOptions options, MeterRegistry registry) {
        WebServer web = new WebServer(options, registry);
        servers.add(web);
        return web;
    }

    private static double closed(MeterRegistry registry, String reason) {
        return registry.get("tally.http.connections.closed").tag("listener", "front").tag("reason", reason).counter().count();
    }

    /** A connection that has sent {@code text}, closed by the test's end. */
    private Socket open(int port, String text) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        sockets.add(s);
        s.setSoTimeout(20_000);
        s.getOutputStream().write(text.getBytes(ISO_8859_1));
        s.getOutputStream().flush();
        return s;
    }

    /** What the server sends until it closes the connection (a reset counts as a close). */
    private static String readToEnd(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        StringBuilder text = new StringBuilder();
        byte[] buffer = new byte[4096];
        try {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                text.append(new String(buffer, 0, n, ISO_8859_1));
            }
        } catch (SocketException e) {
            // reset by the server
        }
        return text.toString();
    }

    private static HttpResponse<String> get(String uri) throws Exception {
        return send("GET", uri);
    }

    private static HttpResponse<String> send(String method, String uri) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(20))
                        .method(method, HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString(UTF_8));
    }
}
