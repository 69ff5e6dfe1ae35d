package dev.tally.app.serve;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tally.app.Databases;
import dev.tally.app.StoreOptions;
import dev.tally.app.aggregate.Aggregator;
import dev.tally.app.aggregate.Store;
import dev.tally.app.aggregate.VisitorId;
import dev.tally.app.http.Health;
import dev.tally.app.http.Metrics;
import dev.tally.app.http.RawHttp;
import dev.tally.app.http.WebServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The stats API, the snippet and the dashboard over a real store (SQLite and PostgreSQL, the same
 * SQL): known rows are written with plain SQL, and every answer is compared with the exact text
 * it must be, including zero-filled buckets, CSV quoting, CORS and caching headers, every 400 with
 * the parameter it names, and a generic 503 (the database's words stay in the log) once the store
 * fails or is gone.
 */
class ServeIT {

    private static final long HOUR = 3_600_000L;
    private static final long DAY = 24 * HOUR;
    /** 2026-11-25T00:00:00Z, the first day of the rows. */
    private static final long D = Instant.parse("2026-11-25T00:00:00Z").toEpochMilli();
    /** The server's clock: two and a half days after {@link #D}, not on a bucket boundary. */
    private static final Instant NOW = Instant.parse("2026-11-27T12:30:00Z");
    private static final String SNAPPED_PATH = "/c,\"q\"";

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @RegisterExtension
    final Databases stores = new Databases();

    private final List<WebServer> servers = new ArrayList<>();
    private final List<HikariDataSource> pools = new ArrayList<>();

    @AfterEach
    void stop() {
        servers.forEach(WebServer::close);
        pools.forEach(HikariDataSource::close);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void answersTheCountersRankingsAndSeriesExactly(String database) throws Exception {
        String base = serve(fill(database));

        // A page's counter; unknown pages are zeros, not errors; sites are apart.
        assertJson(get(base, "/api/views?path=/a"), "{\"path\":\"/a\",\"site\":\"default\",\"views\":12,\"visitors\":3}");
        assertJson(get(base, "/api/views?path=/nope"), "{\"path\":\"/nope\",\"site\":\"default\",\"views\":0,\"visitors\":0}");
        assertJson(get(base, "/api/views?path=/a&site=other"), "{\"path\":\"/a\",\"site\":\"other\",\"views\":100,\"visitors\":1}");
        assertJson(get(base, "/api/views?path=" + encode(SNAPPED_PATH)),
                "{\"path\":\"/c,\\\"q\\\"\",\"site\":\"default\",\"views\":2,\"visitors\":0}");
        assertJson(get(base, "/api/views?path=/a&site="), "{\"path\":\"/a\",\"site\":\"default\",\"views\":12,\"visitors\":3}");

        // Rankings: all time from views_total, ranged from views_hourly; views descending, then path.
        assertJson(get(base, "/api/top"), "{\"from\":null,\"to\":null,\"pages\":[{\"path\":\"/a\",\"views\":12},"
                + "{\"path\":\"/b\",\"views\":7},{\"path\":\"/d\",\"views\":7},{\"path\":\"/c,\\\"q\\\"\",\"views\":2}]}");
        assertJson(get(base, "/api/top?limit=2&from=&to="),
                "{\"from\":null,\"to\":null,\"pages\":[{\"path\":\"/a\",\"views\":12},{\"path\":\"/b\",\"views\":7}]}");
        assertJson(get(base, "/api/top?from=2026-11-25&to=2026-11-26"), "{\"from\":" + D + ",\"to\":" + (D + DAY)
                + ",\"pages\":[{\"path\":\"/a\",\"views\":8},{\"path\":\"/b\",\"views\":7}]}");
        assertJson(get(base, "/api/top?from=2026-11-25T10:00:00Z&to=" + (D + 11 * HOUR)), "{\"from\":" + (D + 10 * HOUR)
                + ",\"to\":" + (D + 11 * HOUR) + ",\"pages\":[{\"path\":\"/b\",\"views\":7},{\"path\":\"/a\",\"views\":5}]}");
        assertJson(get(base, "/api/top?from=2026-11-26"), "{\"from\":" + (D + DAY) + ",\"to\":" + (NOW.toEpochMilli() + HOUR)
                + ",\"pages\":[{\"path\":\"/d\",\"views\":7},{\"path\":\"/a\",\"views\":4},{\"path\":\"/c,\\\"q\\\"\",\"views\":2}]}");
        assertJson(get(base, "/api/top?to=2026-11-25"), "{\"from\":0,\"to\":" + D + ",\"pages\":[]}");
        assertJson(get(base, "/api/top?site=other"), "{\"from\":null,\"to\":null,\"pages\":[{\"path\":\"/a\",\"views\":100}]}");

        // Series: every bucket starting in [from, to), zeros included; days are sums of hours and
        // carry the day's visitors (site_days, page_days).
        assertJson(get(base, "/api/series?path=/a&bucket=hour&from=2026-11-25T09:00:00Z&to=2026-11-25T13:00:00Z"),
                "{\"path\":\"/a\",\"bucket\":\"hour\",\"points\":[{\"t\":" + (D + 9 * HOUR) + ",\"views\":0},{\"t\":"
                        + (D + 10 * HOUR) + ",\"views\":5},{\"t\":" + (D + 11 * HOUR) + ",\"views\":3},{\"t\":"
                        + (D + 12 * HOUR) + ",\"views\":0}]}");
        assertJson(get(base, "/api/series?bucket=day&from=2026-11-24&to=2026-11-28"),
                "{\"path\":null,\"bucket\":\"day\",\"points\":[{\"t\":" + (D - DAY) + ",\"views\":0,\"visitors\":0},{\"t\":" + D
                        + ",\"views\":15,\"visitors\":3},{\"t\":" + (D + DAY) + ",\"views\":6,\"visitors\":1},{\"t\":" + (D + 2 * DAY)
                        + ",\"views\":7,\"visitors\":0}]}");
        assertJson(get(base, "/api/series?bucket=day&path=/a&from=2026-11-26&to=2026-11-27&site=default"),
                "{\"path\":\"/a\",\"bucket\":\"day\",\"points\":[{\"t\":" + (D + DAY) + ",\"views\":4,\"visitors\":1}]}");
        assertJson(get(base, "/api/series?from=2026-11-25&to=2026-11-25"), "{\"path\":null,\"bucket\":\"hour\",\"points\":[]}");

        // Defaults: the 48 hours up to now (the hour in progress last), the 30 days up to today.
        Map<Long, Long> hours = points(get(base, "/api/series").body());
        assertThat(hours).hasSize(48);
        assertThat(hours.keySet()).first().isEqualTo(D + 13 * HOUR);
        assertThat(hours.keySet()).last().isEqualTo(D + 2 * DAY + 12 * HOUR);
        assertThat(hours.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(4 + 2 + 7);
        Map<Long, Long> days = points(get(base, "/api/series?bucket=day").body());
        assertThat(days).hasSize(30);
        assertThat(days.keySet()).last().isEqualTo(D + 2 * DAY);
        assertThat(days).containsEntry(D, 15L).containsEntry(D + DAY, 6L).containsEntry(D + 2 * DAY, 7L);
        assertThat(days.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(28);

        // Referrers: all time, or the days in the range.
        assertJson(get(base, "/api/referrers"), "{\"referrers\":[{\"host\":\"news.ycombinator.com\",\"views\":5},"
                + "{\"host\":\"example.com\",\"views\":4}]}");
        assertJson(get(base, "/api/referrers?from=2026-11-26"), "{\"referrers\":[{\"host\":\"example.com\",\"views\":4},"
                + "{\"host\":\"news.ycombinator.com\",\"views\":2}]}");
        assertJson(get(base, "/api/referrers?limit=1&site=other"), "{\"referrers\":[{\"host\":\"x.com\",\"views\":9}]}");
        assertJson(get(base, "/api/referrers?to=2026-11-25"), "{\"referrers\":[]}");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void answersCsvCorsAndCacheHeaders(String database) throws Exception {
        String base = serve(fill(database));

        assertCsv(get(base, "/api/top?format=csv"), "path,views\r\n/a,12\r\n/b,7\r\n/d,7\r\n\"/c,\"\"q\"\"\",2\r\n");
        assertCsv(get(base, "/api/series?path=/a&from=2026-11-25T10:00:00Z&to=2026-11-25T12:00:00Z&format=csv"),
                "t,views\r\n2026-11-25T10:00:00Z,5\r\n2026-11-25T11:00:00Z,3\r\n");
        assertCsv(get(base, "/api/series?bucket=day&from=2026-11-24&to=2026-11-26&format=csv"),
                "t,views,visitors\r\n2026-11-24T00:00:00Z,0,0\r\n2026-11-25T00:00:00Z,15,3\r\n");
        assertCsv(get(base, "/api/referrers?format=csv"), "host,views\r\nnews.ycombinator.com,5\r\nexample.com,4\r\n");
        assertCsv(get(base, "/api/top?format=csv&to=2026-11-25"), "path,views\r\n");
        assertJson(get(base, "/api/top?format=json&limit=1"),
                "{\"from\":null,\"to\":null,\"pages\":[{\"path\":\"/a\",\"views\":12}]}");

        HttpResponse<String> views = get(base, "/api/views?path=/a");
        assertThat(views.headers().firstValue("Access-Control-Allow-Origin")).hasValue("*");
        assertThat(views.headers().firstValue("Cache-Control")).hasValue("public, max-age=10, stale-while-revalidate=60");
        for (String api : new String[] {"/api/top", "/api/series", "/api/referrers", "/api/top?format=csv"}) {
            assertThat(get(base, api).headers().firstValue("Access-Control-Allow-Origin")).as(api).hasValue("*");
        }

        HttpResponse<String> preflight = send(base, "OPTIONS", "/api/views?path=/a");
        assertThat(preflight.statusCode()).isEqualTo(204);
        assertThat(preflight.headers().firstValue("Access-Control-Allow-Origin")).hasValue("*");
        assertThat(preflight.headers().firstValue("Access-Control-Allow-Methods")).hasValue("GET");

        HttpResponse<String> head = send(base, "HEAD", "/api/views?path=/a");
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(head.headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
        assertThat(head.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
        assertThat(preflight.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");

        HttpResponse<String> post = send(base, "POST", "/api/views?path=/a");
        assertError(post, 405, "POST is not allowed");
        assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD, OPTIONS");
        assertThat(post.headers().firstValue("Access-Control-Allow-Origin")).hasValue("*");
        assertError(send(base, "DELETE", "/api/top"), 405, "DELETE is not allowed");
        HttpResponse<String> missing = get(base, "/api/nothing");
        assertError(missing, 404, "no such resource: /api/nothing");
        assertThat(missing.headers().firstValue("Access-Control-Allow-Origin")).as("every /api/ answer").hasValue("*");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void refusesEveryBadParameterNamingIt(String database) throws Exception {
        String base = serve(fill(database));
        String longPath = "/" + "p".repeat(2048);
        String longSite = "s".repeat(257);
        Map<String, String> refusals = new LinkedHashMap<>();
        refusals.put("/api/views", "path is required");
        refusals.put("/api/views?path=", "path is required");
        refusals.put("/api/views?site=blog", "path is required");
        refusals.put("/api/views?path=a", "path must begin with /");
        refusals.put("/api/views?path=" + longPath, "path is longer than 2048 bytes of UTF-8");
        refusals.put("/api/views?path=/a&site=" + longSite, "site must be 1 to 64 of the characters");
        refusals.put("/api/top?from=yesterday", "from must be epoch milliseconds");
        refusals.put("/api/top?to=soon", "to must be epoch milliseconds");
        refusals.put("/api/top?from=2026-11-25T10:00:00", "from must be epoch milliseconds");
        refusals.put("/api/top?from=-5", "from must be epoch milliseconds");
        refusals.put("/api/top?from=2026-11-26&to=2026-11-25", "from must not be after to");
        refusals.put("/api/top?limit=0", "limit must be an integer from 1 to 1000");
        refusals.put("/api/top?limit=1001", "limit must be an integer from 1 to 1000");
        refusals.put("/api/top?limit=ten", "limit must be an integer from 1 to 1000");
        refusals.put("/api/top?format=xml", "format must be json or csv");
        refusals.put("/api/top?site=" + longSite, "site must be 1 to 64 of the characters");
        refusals.put("/api/series?bucket=week", "bucket must be hour or day");
        refusals.put("/api/series?format=tsv", "format must be json or csv");
        refusals.put("/api/series?path=posts", "path must begin with /");
        refusals.put("/api/series?path=" + longPath, "path is longer than 2048 bytes of UTF-8");
        refusals.put("/api/series?from=2026-11-28", "from must not be after to");
        refusals.put("/api/series?from=2026-11-25T10:00:00Z&to=2026-11-25T09:00:00Z", "from must not be after to");
        refusals.put("/api/series?from=0", "more than 5000; narrow the range or use bucket=day");
        refusals.put("/api/series?bucket=day&from=2000-01-01", "more than 5000");
        refusals.put("/api/series?to=1e9", "to must be epoch milliseconds");
        refusals.put("/api/referrers?limit=-1", "limit must be an integer from 1 to 1000");
        refusals.put("/api/referrers?format=pdf", "format must be json or csv");
        refusals.put("/api/referrers?from=then", "from must be epoch milliseconds");
        refusals.put("/api/referrers?from=2026-11-26&to=2026-11-25", "from must not be after to");
        for (Map.Entry<String, String> r : refusals.entrySet()) {
            HttpResponse<String> answer = get(base, r.getKey());
            assertError(answer, 400, r.getValue());
            assertThat(answer.headers().firstValue("Access-Control-Allow-Origin")).as(r.getKey()).hasValue("*");
            assertThat(answer.headers().firstValue("Cache-Control")).as(r.getKey()).hasValue("no-store");
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void refusesHostileQueryStringsOnEveryEndpointNamingTheParameter(String database) throws Exception {
        String base = serve(fill(database));
        int port = URI.create(base).getPort();
        // Each endpoint with a valid query, and the parameters it reads.
        Map<String, Map<String, String>> endpoints = new LinkedHashMap<>();
        endpoints.put("/api/views", query("path", "/a", "site", "default"));
        endpoints.put("/api/top", query("site", "default", "from", "2026-11-25", "to", "2026-11-27", "limit", "5",
                "format", "json"));
        endpoints.put("/api/top?format=csv", query("site", "default", "from", "2026-11-25", "limit", "5", "format", "csv"));
        endpoints.put("/api/series", query("path", "/a", "bucket", "day", "from", "2026-11-25", "to", "2026-11-27",
                "site", "default", "format", "json"));
        endpoints.put("/api/series?format=csv", query("path", "/a", "bucket", "hour", "to", "2026-11-27", "format", "csv"));
        endpoints.put("/api/referrers", query("site", "default", "from", "2026-11-25", "to", "2026-11-27", "limit", "5",
                "format", "json"));
        endpoints.put("/api/referrers?format=csv", query("to", "2026-11-27", "limit", "5", "format", "csv"));
        endpoints.put("/api/summary", query("site", "default", "from", "2026-11-25", "to", "2026-11-27", "page", "/a",
                "referrer", "news.example", "source", "news", "medium", "email", "campaign", "launch", "browser", "Firefox",
                "os", "Linux", "device", "mobile", "country", "DE", "event", "signup", "format", "json"));
        endpoints.put("/api/breakdown", query("dimension", "browser", "limit", "5", "site", "default", "format", "csv"));
        endpoints.put("/api/goals", query("from", "2026-11-25", "to", "2026-11-27", "country", "%28none%29"));
        endpoints.put("/api/now", query("site", "default"));
        // Appended (percent-encoded as sent) to a valid value: bad escapes, control characters,
        // bytes that are not UTF-8 (a lone continuation, an encoded surrogate, an over-long '/',
        // beyond U+10FFFF), and a value far over any limit.
        List<String> hostile = List.of("%zz", "%", "%4", "%g0", "%00", "%00x", "%0A", "%0d", "%09", "%1F", "%7F", "%C2%80",
                "%C2%9F", "%ff", "%C3%28", "%80", "%ED%A0%80", "%C0%AF", "%F4%90%80%80", "%E2%82", "x".repeat(3000));
        int asked = 0;
        for (Map.Entry<String, Map<String, String>> e : endpoints.entrySet()) {
            String path = e.getKey().replaceFirst("\\?.*", "");
            Map<String, String> valid = e.getValue();
            assertThat(RawHttp.get(port, path + "?" + join(valid)).status()).as("%s?%s", path, join(valid)).isEqualTo(200);
            for (String parameter : valid.keySet()) {
                for (String bad : hostile) {
                    Map<String, String> q = new LinkedHashMap<>(valid);
                    q.put(parameter, valid.get(parameter) + bad);
                    assertRefused(RawHttp.get(port, path + "?" + join(q)), parameter);
                    asked++;
                }
                // Given twice, even with the same value: which one would count?
                assertRefused(RawHttp.get(port, path + "?" + join(valid) + "&" + parameter + "=" + valid.get(parameter)), parameter);
            }
            // Parameters no endpoint reads are decoded by the same rules: a client that sends
            // garbage learns it, rather than a cache key of it being stored.
            assertRefused(RawHttp.get(port, path + "?" + join(valid) + "&utm_source=%ff"), "utm_source");
            assertRefused(RawHttp.get(port, path + "?" + join(valid) + "&x=1&x=2"), "x is given more than once");
            assertRefused(RawHttp.get(port, path + "?" + join(valid) + "&%zz=1"), "a parameter name");
            assertRefused(RawHttp.get(port, path + "?" + join(valid) + "&pa%00th=1"), "a parameter name");
        }
        assertThat(asked).isGreaterThan(1000);
        // Empty pieces and a name without '=' are harmless; '+' is a space, as forms send it.
        assertJson(get(base, "/api/views?&path=/a&&site=default&flag"),
                "{\"path\":\"/a\",\"site\":\"default\",\"views\":12,\"visitors\":3}");
        assertJson(get(base, "/api/views?path=/a+b%2Bc%20d"),
                "{\"path\":\"/a b+c d\",\"site\":\"default\",\"views\":0,\"visitors\":0}");
        assertJson(get(base, "/api/views?path=/caf%C3%A9%F0%9F%98%80"),
                "{\"path\":\"/café😀\",\"site\":\"default\",\"views\":0,\"visitors\":0}");
    }

    private static Map<String, String> query(String... pairs) {
        Map<String, String> q = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            q.put(pairs[i], pairs[i + 1]);
        }
        return q;
    }

    /** The query string of {@code q}, values as they are: the hostile ones are already percent-encoded. */
    private static String join(Map<String, String> q) {
        StringBuilder s = new StringBuilder();
        q.forEach((k, v) -> s.append(s.length() == 0 ? "" : "&").append(k).append('=').append(v));
        return s.toString();
    }

    /** A 400 naming {@code parameter}: never a 5xx, never a stack trace. */
    private static void assertRefused(RawHttp.Answer r, String parameter) throws IOException {
        assertThat(r.status()).as("%s", r).isEqualTo(400);
        assertThat(r.header("X-Content-Type-Options")).as("%s", r).isEqualTo("nosniff");
        assertThat(r.header("Content-Type")).as("%s", r).isEqualTo("application/json; charset=utf-8");
        assertThat(error(r.body())).as("%s", r).contains(parameter);
        assertThat(r.body()).as("%s", r).doesNotContain("Exception", "\tat ").hasSizeLessThan(400);
        assertThat(r.header("Access-Control-Allow-Origin")).as("%s", r).isEqualTo("*");
        assertThat(r.header("Cache-Control")).as("%s", r).isEqualTo("no-store");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void servesTheSnippetTheDashboardHealthAndMetrics(String database) throws Exception {
        String base = serve(fill(database));

        HttpResponse<String> js = get(base, "/tally.js");
        assertThat(js.statusCode()).isEqualTo(200);
        assertThat(js.headers().firstValue("Content-Type")).hasValue("application/javascript; charset=utf-8");
        assertThat(js.headers().firstValue("Cache-Control")).hasValue("public, max-age=3600");
        assertThat(js.body()).isEqualTo(resource("/web/tally.js")).contains("sendBeacon");
        assertThat(js.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");

        for (int i = 0; i < 3; i++) { // the same bytes every time
            HttpResponse<String> page = get(base, "/");
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
            assertThat(page.headers().firstValue("Cache-Control")).hasValue("no-cache");
            // Nothing but its own inline script and style (by their hashes), the API of its origin;
            // never in a frame. Inline handlers and style attributes would be refused: there are none.
            String html = resource("/web/index.html");
            assertThat(page.headers().firstValue("Content-Security-Policy")).hasValue("default-src 'none'; script-src '"
                    + sha256(html, "script") + "'; style-src '" + sha256(html, "style") + "'; connect-src 'self';"
                    + " img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
            assertThat(html).doesNotContain("style=\"").doesNotContainPattern("\\son[a-z]+=");
            assertThat(page.headers().firstValue("X-Frame-Options")).hasValue("DENY");
            assertThat(page.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
            assertThat(page.body()).isEqualTo(resource("/web/index.html"))
                    .contains("id=\"chart\"", "id=\"total-views\"", "id=\"total-visitors\"", "id=\"now\"", "id=\"top-pages\"",
                            "id=\"t-referrer\"", "id=\"t-country\"", "id=\"t-goals\"", "id=\"filters\"", "id=\"period\"",
                            "id=\"site\"", "id=\"status\"", "dataset.loaded")
                    .doesNotContain("innerHTML", "@import")
                    .doesNotContainPattern("(src|href)=\"(?!data:)");
        }
        assertError(send(base, "POST", "/"), 405, "POST is not allowed");

        HttpResponse<String> health = get(base, "/health");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).isEqualTo("{\"checks\":{\"db\":\"ok\"},\"status\":\"ready\"}");

        HttpResponse<String> metrics = get(base, "/metrics");
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body()).contains("jvm_memory");
        assertError(send(base, "POST", "/health"), 405, "POST is not allowed");
        assertError(send(base, "DELETE", "/metrics"), 405, "DELETE is not allowed");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql"})
    void answers503WithTheReasonWhenTheStoreIsGone(String database) throws Exception {
        if (database.equals("sqlite")) {
            // A store whose every connection fails: its directory does not exist.
            Path missing = Files.createTempDirectory("tally-serve-gone-").resolve("gone").resolve("tally.db");
            HikariConfig config = new HikariConfig();
            config.setJdbcUrl("jdbc:sqlite:" + missing);
            config.setConnectionTimeout(1_000);
            config.setInitializationFailTimeout(-1);
            HikariDataSource gone = new HikariDataSource(config);
            pools.add(gone);
            String base = serve(gone);
            assertGone(base, "Unable to open the database file");
        } else {
            StoreOptions store = new StoreOptions();
            store.db = stores.jdbcUrl("postgresql");
            Aggregator.migrate(store.db);
            HikariDataSource pool = store.openPool("serve-it", 2);
            pools.add(pool);
            pool.getHikariConfigMXBean().setConnectionTimeout(1_000); // fail fast once the database is gone
            String base = serve(pool);
            assertJson(get(base, "/api/views?path=/a"), "{\"path\":\"/a\",\"site\":\"default\",\"views\":0,\"visitors\":0}");
            assertThat(get(base, "/health").statusCode()).isEqualTo(200);
            String server = stores.jdbcUrl("postgresql").replace("/" + stores.postgres().name() + "?", "/postgres?");
            try (Connection c = DriverManager.getConnection(server); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE " + stores.postgres().name() + " WITH (FORCE)");
            }
            assertGone(base, "does not exist");
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void answersAGeneric503WhenAQueryFails(String database) throws Exception {
        DataSource store = fill(database);
        String base = serve(store);
        assertJson(get(base, "/api/views?path=/a"), "{\"path\":\"/a\",\"site\":\"default\",\"views\":12,\"visitors\":3}");
        try (Connection c = store.getConnection(); Statement s = c.createStatement()) {
            for (String view : List.of("views_total", "views_hourly", "visitors_daily")) {
                s.execute("DROP VIEW " + view);
            }
            for (String table : List.of("page_totals", "page_hours", "page_visitors", "referrers_daily", "pages")) {
                s.execute("DROP TABLE " + table);
            }
        }
        for (String api : List.of("/api/views?path=/a", "/api/top", "/api/top?from=2026-11-25", "/api/series",
                "/api/series?bucket=day&path=/a", "/api/referrers", "/api/referrers?from=2026-11-25",
                "/api/top?format=csv", "/api/series?format=csv", "/api/referrers?format=csv")) {
            assertUnavailable(get(base, api), "views_", "no such table", "does not exist");
        }
        assertUnavailable(send(base, "HEAD", "/api/top"));
    }

    /**
     * A 503 that tells the client only to come back later: the database's words (table names, SQL,
     * the driver's message, a stack trace) stay in the log.
     */
    private static void assertUnavailable(HttpResponse<String> r, String... secrets) {
        assertThat(r.statusCode()).as("%s: %s", r.uri(), r.body()).isEqualTo(503);
        assertThat(r.headers().firstValue("Retry-After")).as("%s", r.uri()).hasValue("5");
        assertThat(r.headers().firstValue("Access-Control-Allow-Origin")).as("%s", r.uri()).hasValue("*");
        assertThat(r.headers().firstValue("X-Content-Type-Options")).as("%s", r.uri()).hasValue("nosniff");
        if (r.request().method().equals("HEAD")) {
            assertThat(r.body()).isEmpty();
            return;
        }
        assertThat(r.headers().firstValue("Content-Type")).as("%s", r.uri()).hasValue("application/json; charset=utf-8");
        assertThat(r.body()).as("%s", r.uri())
                .doesNotContainIgnoringCase("sql")
                .doesNotContain("Exception", "\tat ", "jdbc", "org.", "table")
                .doesNotContain(secrets)
                .isEqualTo("{\"error\":\"temporarily unavailable; try again later\"}");
    }

    private static void assertGone(String base, String reason) throws Exception {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            HttpResponse<String> health = get(base, "/health");
            assertThat(health.statusCode()).isEqualTo(503);
            assertThat(health.body()).isEqualTo("{\"checks\":{\"db\":\"failing; see the log\"},\"status\":\"unready\"}");
        });
        assertUnavailable(get(base, "/api/views?path=/a"), reason);
        assertUnavailable(get(base, "/api/top?limit=5"), reason);
        // Parameters are still checked first: a bad request is the client's fault even now.
        assertError(get(base, "/api/top?limit=0"), 400, "limit");
        assertThat(get(base, "/tally.js").statusCode()).isEqualTo(200);
    }

    /**
     * Writes known rows with plain SQL into the tables of schema version 2 (text keys), then
     * migrates the store to the newest version: every answer below also proves that the
     * migration carried the rows over.
     */
    private DataSource fill(String database) throws Exception {
        if (database.equals("mariadb")) {
            return fillNarrow(stores.dataSource(database), stores.jdbcUrl(database));
        }
        DataSource ds = stores.dataSource(database);
        String url = stores.jdbcUrl(database);
        Flyway.configure().dataSource(url, null, null).locations("classpath:db/migration").target("2").load().migrate();
        try (Connection c = ds.getConnection()) {
            insert(c, "INSERT INTO views_hourly (site, path, hour, views) VALUES (?, ?, ?, ?)",
                    new Object[] {"default", "/a", D + 10 * HOUR, 5L},
                    new Object[] {"default", "/a", D + 11 * HOUR, 3L},
                    new Object[] {"default", "/a", D + DAY + 2 * HOUR, 4L},
                    new Object[] {"default", "/b", D + 10 * HOUR, 7L},
                    new Object[] {"default", "/d", D + 2 * DAY + HOUR, 7L},
                    new Object[] {"default", SNAPPED_PATH, D + DAY + 5 * HOUR, 2L},
                    new Object[] {"other", "/a", D + 10 * HOUR, 100L});
            insert(c, "INSERT INTO views_total (site, path, views) VALUES (?, ?, ?)",
                    new Object[] {"default", "/a", 12L},
                    new Object[] {"default", "/b", 7L},
                    new Object[] {"default", "/d", 7L},
                    new Object[] {"default", SNAPPED_PATH, 2L},
                    new Object[] {"other", "/a", 100L});
            insert(c, "INSERT INTO visitors_daily (site, path, day, visitor) VALUES (?, ?, ?, ?)",
                    new Object[] {"default", "/a", D, "v1"},
                    new Object[] {"default", "/a", D, "v2"},
                    new Object[] {"default", "/a", D + DAY, "v1"}, // the same reader the next day: a new hash
                    new Object[] {"default", "/b", D, "v3"},
                    new Object[] {"other", "/a", D, "v9"});
            insert(c, "INSERT INTO referrers_daily (site, host, day, views) VALUES (?, ?, ?, ?)",
                    new Object[] {"default", "news.ycombinator.com", D, 3L},
                    new Object[] {"default", "news.ycombinator.com", D + DAY, 2L},
                    new Object[] {"default", "example.com", D + DAY, 4L},
                    new Object[] {"other", "x.com", D, 9L});
        }
        Aggregator.migrate(url);
        return ds;
    }

    /**
     * The rows of {@link #fill} written into the narrow tables of schema version 5 (MySQL and
     * MariaDB never had the tables of schema version 2, see db/mysql), then migrated to the newest
     * version: the day tables' answers prove that db/mysql's V6 carried the rows over.
     */
    private static DataSource fillNarrow(DataSource ds, String url) throws Exception {
        Flyway.configure().dataSource(Store.url(url), null, null).locations(Store.MYSQL.migrations()).target("5").load().migrate();
        try (Connection c = ds.getConnection()) {
            insert(c, "INSERT INTO pages (site, path) VALUES (?, ?)",
                    new Object[] {"default", "/a"}, new Object[] {"default", "/b"}, new Object[] {"default", "/d"},
                    new Object[] {"default", SNAPPED_PATH}, new Object[] {"other", "/a"});
            String page = "(SELECT id FROM pages WHERE site = ? AND path = ?)";
            insert(c, "INSERT INTO page_hours (page, hour, views) VALUES (" + page + ", ?, ?)",
                    new Object[] {"default", "/a", (D + 10 * HOUR) / HOUR, 5L},
                    new Object[] {"default", "/a", (D + 11 * HOUR) / HOUR, 3L},
                    new Object[] {"default", "/a", (D + DAY + 2 * HOUR) / HOUR, 4L},
                    new Object[] {"default", "/b", (D + 10 * HOUR) / HOUR, 7L},
                    new Object[] {"default", "/d", (D + 2 * DAY + HOUR) / HOUR, 7L},
                    new Object[] {"default", SNAPPED_PATH, (D + DAY + 5 * HOUR) / HOUR, 2L},
                    new Object[] {"other", "/a", (D + 10 * HOUR) / HOUR, 100L});
            insert(c, "INSERT INTO page_totals (page, views) SELECT page, SUM(views) FROM page_hours GROUP BY page");
            insert(c, "INSERT INTO page_visitors (page, day, visitor) VALUES (" + page + ", ?, ?)",
                    new Object[] {"default", "/a", D / DAY, VisitorId.of("v1").bytes()},
                    new Object[] {"default", "/a", D / DAY, VisitorId.of("v2").bytes()},
                    new Object[] {"default", "/a", D / DAY + 1, VisitorId.of("v1").bytes()},
                    new Object[] {"default", "/b", D / DAY, VisitorId.of("v3").bytes()},
                    new Object[] {"other", "/a", D / DAY, VisitorId.of("v9").bytes()});
            insert(c, "INSERT INTO referrers_daily (site, host, day, views) VALUES (?, ?, ?, ?)",
                    new Object[] {"default", "news.ycombinator.com", D, 3L},
                    new Object[] {"default", "news.ycombinator.com", D + DAY, 2L},
                    new Object[] {"default", "example.com", D + DAY, 4L},
                    new Object[] {"other", "x.com", D, 9L});
        }
        Aggregator.migrate(url);
        return ds;
    }

    private static void insert(Connection c, String sql, Object[]... rows) throws Exception {
        if (rows.length == 0) {
            try (Statement s = c.createStatement()) {
                s.executeUpdate(sql);
            }
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (Object[] row : rows) {
                for (int i = 0; i < row.length; i++) {
                    ps.setObject(i + 1, row[i]);
                }
                ps.executeUpdate();
            }
        }
    }

    /** A server as {@code serve} builds it, on a free port, with the clock at {@link #NOW}. */
    private String serve(DataSource store) {
        WebServer web = new WebServer();
        servers.add(web);
        new StatsApi(store, Clock.fixed(NOW, ZoneOffset.UTC)).routes(web);
        Health health = new Health().add("db", Health.database(store));
        Metrics metrics = new Metrics();
        web.adminRoute("/health", r -> health.handle(web, r));
        web.adminRoute("/metrics", metrics::handle);
        return "http://127.0.0.1:" + web.start("127.0.0.1", 0);
    }

    private static HttpResponse<String> get(String base, String pathAndQuery) throws Exception {
        return send(base, "GET", pathAndQuery);
    }

    private static HttpResponse<String> send(String base, String method, String pathAndQuery) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + pathAndQuery))
                .timeout(Duration.ofSeconds(30))
                .method(method, HttpRequest.BodyPublishers.noBody())
                .build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString(UTF_8));
    }

    private static void assertJson(HttpResponse<String> r, String json) {
        assertThat(r.statusCode()).as("%s: %s", r.uri(), r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("X-Content-Type-Options")).as("%s", r.uri()).hasValue("nosniff");
        assertThat(r.headers().firstValue("Content-Type")).as("%s", r.uri()).hasValue("application/json; charset=utf-8");
        assertThat(r.body()).as("%s", r.uri()).isEqualTo(json);
    }

    private static void assertCsv(HttpResponse<String> r, String csv) {
        assertThat(r.statusCode()).as("%s: %s", r.uri(), r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("X-Content-Type-Options")).as("%s", r.uri()).hasValue("nosniff");
        assertThat(r.headers().firstValue("Content-Type")).as("%s", r.uri()).hasValue("text/csv; charset=utf-8");
        assertThat(r.body()).as("%s", r.uri()).isEqualTo(csv);
    }

    /** A JSON error answer: {@code {"error": "…"}} holding {@code reason}. */
    private static void assertError(HttpResponse<String> r, int status, String reason) throws IOException {
        assertThat(r.statusCode()).as("%s: %s", r.uri(), r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("X-Content-Type-Options")).as("%s", r.uri()).hasValue("nosniff");
        assertThat(r.headers().firstValue("Content-Type")).as("%s", r.uri()).hasValue("application/json; charset=utf-8");
        assertThat(r.body()).as("%s", r.uri()).startsWith("{\"error\":\"").endsWith("\"}").contains(reason);
        assertThat(error(r.body())).as("%s", r.uri()).contains(reason);
    }

    /** The {@code error} of a JSON answer, read with Jackson's streaming parser (the only JSON kit here). */
    private static String error(String json) throws IOException {
        try (JsonParser p = new JsonFactory().createParser(json)) {
            assertThat(p.nextToken()).isEqualTo(JsonToken.START_OBJECT);
            assertThat(p.nextFieldName()).isEqualTo("error");
            String error = p.nextTextValue();
            assertThat(p.nextToken()).isEqualTo(JsonToken.END_OBJECT);
            return error;
        }
    }

    /** The points of a series answer, in order: bucket start → views. */
    private static Map<Long, Long> points(String json) throws IOException {
        Map<Long, Long> points = new LinkedHashMap<>();
        try (JsonParser p = new JsonFactory().createParser(json)) {
            long t = -1;
            for (JsonToken token = p.nextToken(); token != null; token = p.nextToken()) {
                if (token == JsonToken.FIELD_NAME && p.currentName().equals("t")) {
                    t = p.nextLongValue(-1);
                } else if (token == JsonToken.FIELD_NAME && p.currentName().equals("views")) {
                    points.put(t, p.nextLongValue(-1));
                }
            }
        }
        return points;
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = ServeIT.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), UTF_8);
        }
    }

    /** The CSP source of the one inline {@code <tag>} of {@code html}. */
    private static String sha256(String html, String tag) throws Exception {
        int start = html.indexOf("<" + tag + ">") + tag.length() + 2;
        assertThat(html.indexOf("<" + tag + ">", start)).as("one %s", tag).isNegative();
        String text = html.substring(start, html.indexOf("</" + tag + ">", start));
        return "sha256-" + Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(text.getBytes(UTF_8)));
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, UTF_8);
    }
}
