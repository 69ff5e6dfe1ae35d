package dev.tally.app.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP front every command shares, on loopback: whatever a handler throws is a generic 503,
 * never the exception's text; HTTP/1.1 only unless HTTP/2 over cleartext is asked for.
 */
class WebServerIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** What a failing handler would otherwise leak: SQL, a driver's words. */
    private static final String SECRET = "SELECT secret FROM users WHERE password = 'hunter2'";

    private final List<WebServer> servers = new ArrayList<>();

    @AfterEach
    void stop() {
        servers.forEach(WebServer::close);
    }

    @Test
    void anExceptionAnywhereInAHandlerIsAGeneric503() throws Exception {
        WebServer web = new WebServer();
        servers.add(web);
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
            assertThat(r.body()).as(path).isEqualTo("{\"error\":\"temporarily unavailable; try again later\"}");
        }
    }

    @Test
    void speaksOnlyHttp1WithoutTls() throws Exception {
        WebServer web = new WebServer();
        servers.add(web);
        web.route("/", r -> r.response().end("hello"));
        URI uri = URI.create("http://127.0.0.1:" + web.start("127.0.0.1", 0) + "/");
        // Java's client asks for HTTP/2 with "Upgrade: h2c"; the server must stay on HTTP/1.1
        // (cleartext HTTP/2 is a second protocol stack to harden, and there HEAD answers had bodies).
        HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> r = h2.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20)).build(),
                    HttpResponse.BodyHandlers.ofString(UTF_8));
            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
            assertThat(r.body()).isEqualTo("hello");
        }
    }

    private static HttpResponse<String> get(String uri) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString(UTF_8));
    }
}
