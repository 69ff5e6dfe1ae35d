package dev.tally.app.collect;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.app.KafkaOptions;
import dev.tally.app.event.Dimensions;
import dev.tally.app.event.PageView;
import dev.tally.app.event.PageViewDecoder;
import dev.tally.app.http.Metrics;
import dev.tally.app.http.WebServer;
import dev.tally.testkit.KafkaBrokerExtension;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The collector against a real broker: what it accepts is in Kafka as event format v1 (keyed by
 * path, visitor hashed, no address), and every refusal has its status and a JSON reason.
 */
class CollectorIT {

    static final String BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0";

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static String topic;
    static EventPublisher publisher;
    static Metrics metrics;
    static WebServer open;
    static WebServer strict;
    static WebServer guarded;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        topic = KAFKA.createTopic(KAFKA.uniqueTopic("beacons"), 4);
        KAFKA.createTopic(KafkaOptions.eventsTopic(topic), 2);
        publisher = new EventPublisher(KAFKA.bootstrapServers(), topic, Map.of(), 1_000);
        publisher.warmUp();
        metrics = new Metrics();
        open = new WebServer();
        Path geoip = dir.resolve("countries.mmdb");
        new MmdbWriter("GeoLite2-Country").put("127.0.0.0", 8, Map.of("country", Map.of("iso_code", "NZ"))).write(geoip);
        new Collector(publisher, new VisitorHash(null, Clock.systemUTC()), new BotFilter(), new RateLimiter(0), Set.of(),
                Origins.of(List.of()), ClientAddress.direct(), Countries.open(geoip), Beacon.DEFAULT_MAX_AGE_MS,
                Clock.systemUTC(), metrics.registry()).routes(open);
        open.route("/metrics", metrics::handle);
        open.start("127.0.0.1", 0);
        strict = new WebServer();
        new Collector(publisher, new VisitorHash(null, Clock.systemUTC()), new BotFilter(), new RateLimiter(1),
                Set.of("blog"), Origins.of(List.of()), ClientAddress.direct(), Countries.NONE, Beacon.DEFAULT_MAX_AGE_MS, Clock.systemUTC(),
                new Metrics().registry()).routes(strict);
        strict.start("127.0.0.1", 0);
        guarded = new WebServer();
        new Collector(publisher, new VisitorHash(null, Clock.systemUTC()), new BotFilter(), new RateLimiter(2),
                Set.of(), Origins.of(List.of("https://myblog.example")), ClientAddress.behindProxies(1, List.of()),
                Countries.NONE, Beacon.DEFAULT_MAX_AGE_MS, Clock.systemUTC(), new Metrics().registry()).routes(guarded);
        guarded.start("127.0.0.1", 0);
    }

    @AfterAll
    static void stop() {
        open.close();
        strict.close();
        guarded.close();
        publisher.close();
    }

    static HttpResponse<String> post(WebServer web, String contentType, HttpRequest.BodyPublisher body, String userAgent)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + web.port() + "/api/event"))
                .timeout(Duration.ofSeconds(30))
                .POST(body);
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        if (userAgent != null) {
            b.header("User-Agent", userAgent);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> beacon(WebServer web, String json) throws Exception {
        return post(web, "text/plain;charset=UTF-8", HttpRequest.BodyPublishers.ofString(json), BROWSER);
    }

    @Test
    void acceptedBeaconsAreInKafkaAsV1EventsKeyedByPathWithAHashedVisitor() throws Exception {
        long before = System.currentTimeMillis();
        HttpResponse<String> r1 = beacon(open, "{\"url\":\"https://blog.example/posts/kafka?utm=x#top\",\"referrer\":\"https://news.example/item\",\"id\":\"a-1\"}");
        HttpResponse<String> r2 = post(open, "application/json", HttpRequest.BodyPublishers.ofString(
                "{\"path\":\"/about\",\"site\":\"blog\",\"id\":\"a-2\"}"), BROWSER);
        assertThat(r1.statusCode()).isEqualTo(202);
        assertThat(r2.statusCode()).isEqualTo(202);
        assertThat(r1.headers().firstValue("Access-Control-Allow-Origin")).contains("*");

        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : KAFKA.readAll(topic)) {
            String value = new String(r.value(), UTF_8);
            if (value.contains("\"a-1\"") || value.contains("\"a-2\"")) {
                records.add(r);
                assertThat(value).doesNotContain("127.0.0.1").doesNotContain("Gecko").doesNotContain("X11");
            }
        }
        assertThat(records).hasSize(2);
        PageViewDecoder decoder = new PageViewDecoder();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            PageView v = decoder.decode(r);
            assertThat(new String(r.key(), UTF_8)).isEqualTo(v.path());
            assertThat(v.visitor()).hasSize(22);
            assertThat(v.timestamp()).isBetween(before, System.currentTimeMillis());
            if (v.id().equals("a-1")) {
                assertThat(v).extracting(PageView::path, PageView::site, PageView::referrer)
                        .containsExactly("/posts/kafka", "default", "https://news.example/item");
            } else {
                assertThat(v).extracting(PageView::path, PageView::site).containsExactly("/about", "blog");
            }
        }
    }

    @Test
    void campaignsSoftwareAndCountryTravelAsV2AndCustomEventsHaveTheirOwnTopic() throws Exception {
        String chrome = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
        assertThat(post(open, "text/plain", HttpRequest.BodyPublishers.ofString(
                "{\"url\":\"https://blog.example/launch?utm_source=news&utm_medium=email&utm_campaign=Winter+Sale#x\",\"id\":\"v2-1\"}"),
                chrome).statusCode()).isEqualTo(202);
        assertThat(post(open, "text/plain", HttpRequest.BodyPublishers.ofString(
                "{\"url\":\"https://blog.example/pricing\",\"event\":\"signup\",\"props\":{\"plan\":\"pro\",\"seats\":3},\"id\":\"v2-2\"}"),
                BROWSER).statusCode()).isEqualTo(202);

        PageViewDecoder decoder = new PageViewDecoder();
        List<String> views = KAFKA.readAll(topic).stream().map(r -> new String(r.value(), UTF_8)).filter(v -> v.contains("\"v2-")).toList();
        assertThat(views).hasSize(1);
        assertThat(views.get(0)).startsWith("{\"v\":2,").doesNotContain("Android 10; K").doesNotContain("127.0.0.1");
        PageView view = decoder.decode(views.get(0).getBytes(UTF_8), 0);
        assertThat(view.path()).isEqualTo("/launch");
        assertThat(view.event()).isNull();
        assertThat(view.dimensions()).isEqualTo(new Dimensions("news", "email", "Winter Sale", "Chrome Mobile", "131",
                "Android", "10", "mobile", "NZ"));

        List<ConsumerRecord<byte[], byte[]>> events = KAFKA.readAll(KafkaOptions.eventsTopic(topic));
        assertThat(events).hasSize(1);
        assertThat(new String(events.get(0).key(), UTF_8)).isEqualTo("/pricing");
        PageView event = decoder.decode(events.get(0));
        assertThat(event.event()).isEqualTo("signup");
        assertThat(event.props()).isEqualTo(Map.of("plan", "pro", "seats", "3"));
        assertThat(event.dimensions()).extracting(Dimensions::browser, Dimensions::device, Dimensions::country)
                .containsExactly("Firefox", "desktop", "NZ");
    }

    @Test
    void botsAreAnswered202ButNotProduced() throws Exception {
        double bots = metrics.registry().counter("tally.collector.beacons", "outcome", "bot").count();
        assertThat(post(open, "text/plain", HttpRequest.BodyPublishers.ofString("{\"path\":\"/bot\",\"id\":\"bot-1\"}"),
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)").statusCode()).isEqualTo(202);
        // Without a User-Agent header of ours, Java's client sends its own: a library, not a reader.
        assertThat(post(open, "text/plain", HttpRequest.BodyPublishers.ofString("{\"path\":\"/bot\",\"id\":\"bot-2\"}"),
                null).statusCode()).isEqualTo(202);
        assertThat(beacon(open, "{\"path\":\"/bot\",\"id\":\"reader-1\"}").statusCode()).isEqualTo(202);
        List<String> ids = KAFKA.readAll(topic).stream().map(r -> new String(r.value(), UTF_8))
                .filter(v -> v.contains("\"/bot\"")).toList();
        assertThat(ids).hasSize(1).allMatch(v -> v.contains("reader-1"));
        assertThat(metrics.registry().counter("tally.collector.beacons", "outcome", "bot").count()).isEqualTo(bots + 2);
        assertThat(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + open.port() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body()).contains("tally_collector_beacons_total{outcome=\"bot\"}");
    }

    @Test
    void invalidBeaconsAre400WithAJsonReason() throws Exception {
        assertRefused(beacon(open, "{\"path\":"), 400, "invalid JSON");
        assertRefused(beacon(open, "{\"path\":\"no-slash\"}"), 400, "must begin with /");
        assertRefused(beacon(open, "{\"path\":\"/" + "a".repeat(2048) + "\"}"), 400, "longer than 2048 bytes");
        assertRefused(beacon(open, "{\"path\":\"/x\",\"ts\":" + (System.currentTimeMillis() + 3_600_000) + "}"), 400, "in the future");
        assertRefused(beacon(open, "{}"), 400, "url or path is required");
        assertRefused(beacon(open, "{\"path\":\"/a\\u0000b\"}"), 400, "control character");
        assertRefused(beacon(open, "{\"path\":\"/x\",\"site\":\"a\\u0007\"}"), 400, "control character");
        assertRefused(beacon(open, "{\"path\":\"/x\",\"id\":\"\\ud800\"}"), 400, "lone surrogate");
        assertRefused(beacon(open, "{\"path\":\"/" + "\u00e9".repeat(2000) + "\"}"), 400, "2048 bytes");
        assertRefused(beacon(open, "{\"path\":\"/x\",\"ts\":" + (System.currentTimeMillis() - 7_200_000) + "}"), 400, "old");
        byte[] malformed = "{\"path\":\"/\u00e9\"}".getBytes(UTF_8);
        malformed[malformed.length - 3] = (byte) 0xFF;
        assertRefused(post(open, "text/plain", HttpRequest.BodyPublishers.ofByteArray(malformed), BROWSER), 400, "not valid UTF-8");
    }

    @Test
    void bodiesOver16KbAre413WithOrWithoutAContentLength() throws Exception {
        String big = "{\"path\":\"/x\",\"pad\":\"" + "a".repeat(17 * 1024) + "\"}";
        assertRefused(beacon(open, big), 413, "larger than 16384 bytes");
        assertRefused(post(open, "text/plain", HttpRequest.BodyPublishers.ofInputStream(
                () -> new ByteArrayInputStream(big.getBytes(UTF_8))), BROWSER), 413, "larger than 16384 bytes");
        String fits = "{\"path\":\"/fits\",\"pad\":\"" + "a".repeat(16 * 1024 - 40) + "\"}";
        assertThat(fits.length()).isLessThanOrEqualTo(16 * 1024);
        assertThat(beacon(open, fits).statusCode()).isEqualTo(202);
    }

    @Test
    void otherMediaTypesMethodsAndResourcesAreRefused() throws Exception {
        assertRefused(post(open, "application/x-www-form-urlencoded", HttpRequest.BodyPublishers.ofString("path=/x"), BROWSER),
                415, "text/plain or application/json");
        assertRefused(post(open, "text/plainx", HttpRequest.BodyPublishers.ofString("{\"path\":\"/x\"}"), BROWSER),
                415, "text/plain or application/json");
        assertRefused(post(open, "application/json-patch", HttpRequest.BodyPublishers.ofString("{\"path\":\"/x\"}"), BROWSER),
                415, "text/plain or application/json");
        assertRefused(post(open, "text/plain; charset=ISO-8859-1", HttpRequest.BodyPublishers.ofString("{\"path\":\"/x\"}"), BROWSER),
                415, "must be UTF-8");
        assertThat(post(open, "text/plain; charset=\"utf-8\"", HttpRequest.BodyPublishers.ofString("{\"path\":\"/x\"}"), BROWSER)
                .statusCode()).isEqualTo(202);
        HttpResponse<String> get = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + open.port() + "/api/event")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertRefused(get, 405, "not allowed");
        assertThat(get.headers().firstValue("Allow")).contains("POST, OPTIONS");
        HttpResponse<String> missing = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + open.port() + "/nope")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertRefused(missing, 404, "no such resource");
    }

    @Test
    void corsPreflightAllowsJsonBeaconsFromOtherOrigins() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + open.port() + "/api/event"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("Origin", "https://blog.example")
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "content-type")
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(204);
        assertThat(r.headers().firstValue("Access-Control-Allow-Origin")).contains("*");
        assertThat(r.headers().firstValue("Access-Control-Allow-Methods")).hasValueSatisfying(m -> assertThat(m).contains("POST"));
        assertThat(r.headers().firstValue("Access-Control-Allow-Headers")).hasValueSatisfying(h -> assertThat(h).containsIgnoringCase("content-type"));
    }

    @Test
    void aClientOverItsRateIs429AndASiteOutsideTheAllowlistIs403() throws Exception {
        assertRefused(beacon(strict, "{\"path\":\"/x\",\"site\":\"elsewhere\"}"), 403, "not collected here");
        int accepted = 0;
        HttpResponse<String> limited = null;
        for (int i = 0; i < 20 && limited == null; i++) {
            HttpResponse<String> r = beacon(strict, "{\"path\":\"/x\",\"site\":\"blog\"}");
            if (r.statusCode() == 429) {
                limited = r;
            } else {
                assertThat(r.statusCode()).isEqualTo(202);
                accepted++;
            }
        }
        assertThat(limited).as("a 429 within 20 beacons at 1/s").isNotNull();
        assertRefused(limited, 429, "too many beacons");
        assertThat(limited.headers().firstValue("Retry-After")).contains("1");
        assertThat(accepted).isBetween(3, 6);
    }

    static void assertRefused(HttpResponse<String> r, int status, String reason) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
        assertThat(r.body()).startsWith("{\"error\":\"").contains(reason);
    }

    static HttpResponse<String> send(WebServer web, String json, String... headers) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + web.port() + "/api/event"))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "text/plain").header("User-Agent", BROWSER)
                .headers(headers).POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void withOriginsOnlyBeaconsFromTheBlogsPagesAreCollected() throws Exception {
        assertThat(send(guarded, "{\"url\":\"https://myblog.example/p\"}", "X-Forwarded-For", "198.51.100.1",
                "Origin", "https://myblog.example").statusCode()).isEqualTo(202);
        assertRefused(send(guarded, "{\"url\":\"https://copycat.example/p\"}", "X-Forwarded-For", "198.51.100.2"),
                403, "https://copycat.example");
        assertRefused(send(guarded, "{\"url\":\"https://myblog.example/p\"}", "X-Forwarded-For", "198.51.100.3",
                "Origin", "https://copycat.example"), 403, "https://copycat.example");
        assertRefused(send(guarded, "{\"path\":\"/p\"}", "X-Forwarded-For", "198.51.100.4"), 403, "name their page");
    }

    @Test
    void behindAProxyTheClientIsTheRightmostForwardedAddressSoASpoofedOneDoesNotEscapeTheLimit() throws Exception {
        int accepted = 0;
        HttpResponse<String> limited = null;
        for (int i = 0; i < 30 && limited == null; i++) {
            // The client writes a new address each time on the left; the proxy appends the real one.
            HttpResponse<String> r = send(guarded, "{\"url\":\"https://myblog.example/spoof\"}",
                    "X-Forwarded-For", "203.0.113." + i + ", 192.0.2.77");
            if (r.statusCode() == 429) {
                limited = r;
            } else {
                assertThat(r.statusCode()).isEqualTo(202);
                accepted++;
            }
        }
        assertThat(limited).as("rate-limited after the burst").isNotNull();
        assertThat(accepted).isBetween(10, 12);
        // A whole IPv6 /64 is one client.
        HttpResponse<String> v6 = null;
        for (int i = 0; i < 30 && (v6 == null || v6.statusCode() != 429); i++) {
            v6 = send(guarded, "{\"url\":\"https://myblog.example/v6\"}", "X-Forwarded-For", "2001:db8:5:6::" + Integer.toHexString(i + 1));
        }
        assertThat(v6.statusCode()).isEqualTo(429);
    }

    @Test
    void aHugeUserAgentIsCutNotRefusedAndTheReferrerLosesItsQuery() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + open.port() + "/api/event"))
                .header("Content-Type", "text/plain").header("User-Agent", BROWSER + " " + "x".repeat(6_000))
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"path\":\"/ua\",\"id\":\"ua-1\",\"referrer\":\"https://news.example/s?q=secret#frag\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(202);
        List<String> values = KAFKA.readAll(topic).stream().map(x -> new String(x.value(), UTF_8))
                .filter(v -> v.contains("ua-1")).toList();
        assertThat(values).hasSize(1);
        assertThat(values.get(0)).contains("\"referrer\":\"https://news.example/s\"").doesNotContain("secret").doesNotContain("frag");
    }
}
