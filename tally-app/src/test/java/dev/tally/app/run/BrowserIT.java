package dev.tally.app.run;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.tally.app.PageViewTruth;
import dev.tally.app.TallyProcess;
import dev.tally.testkit.KafkaBrokerExtension;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real browser (Debian's headless Chromium) on a demo blog served from another origin that
 * embeds {@code tally.js}: the view is counted, a single-page navigation is counted, the widget
 * shows the count, an owner's own visit is not counted, and the dashboard renders its chart and
 * tables; a page's custom events, outbound link, download and 404 reach the events topic, and a
 * reader with Global Privacy Control sends nothing where the tag respects it. A screenshot of the dashboard is kept in {@code target/browser/}.
 */
class BrowserIT {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    /** A desktop browser's agent: the headless one names itself, and robots are not counted. */
    private static final String USER_AGENT =
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

    static Path dir;
    static TallyProcess tally;
    static String base;
    static HttpServer blog;
    static String blogBase;
    static int kafkaPort;

    @BeforeAll
    static void start() throws Exception {
        if (!Files.isExecutable(CHROMIUM)) {
            if ("true".equals(System.getenv("CI"))) {
                throw new IllegalStateException("chromium is not installed; .ci/run installs it (apt-get install chromium)");
            }
            Assumptions.abort("chromium is not installed (apt-get install chromium); the browser test is skipped");
        }
        dir = Files.createTempDirectory("tally-browser-");
        kafkaPort = TallyProcess.freeKafkaPort();
        tally = TallyProcess.start(dir, "run", "--port", "0", "--kafka-port", String.valueOf(kafkaPort), "--rate-limit", "0");
        base = tally.await("dashboard:\\s+(http://\\S+)/", Duration.ofSeconds(120));
        blog = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        blog.createContext("/", exchange -> {
            String page = switch (exchange.getRequestURI().getPath()) {
                case "/private" -> "private.html";
                case "/pricing" -> "events.html";
                case "/dnt" -> "dnt.html";
                default -> "post.html";
            };
            byte[] body;
            try (InputStream in = BrowserIT.class.getResourceAsStream("/demo-blog/" + page)) {
                body = new String(in.readAllBytes(), UTF_8).replace("{{TALLY}}", base).getBytes(UTF_8);
            }
            exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        blog.start();
        blogBase = "http://127.0.0.1:" + blog.getAddress().getPort();
    }

    @AfterAll
    static void stop() throws Exception {
        if (blog != null) {
            blog.stop(0);
        }
        if (tally != null) {
            tally.close();
        }
    }

    @Test
    void aReadersVisitIsCountedAndShownAndTheDashboardDrawsIt() throws Exception {
        String first = browse(blogBase + "/post/hello", "--dump-dom");
        assertThat(first).contains("Counting page views exactly once");
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
            assertThat(views("/post/hello")).isEqualTo(1);
            assertThat(views("/post/spa")).as("the single-page navigation").isEqualTo(1);
        });

        // The second visit's widget shows the count: at least the first visit, at most both.
        String second = browse(blogBase + "/post/hello", "--dump-dom");
        String shown = second.replaceAll("(?s).*<span id=\"views\" data-tally-views=\"/post/hello\">([^<]*)</span>.*", "$1");
        assertThat(shown).matches("[12]");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(views("/post/hello")).isEqualTo(2));

        // The owner's visit (localStorage.tally_ignore) sends nothing; a reader's visit after it is counted.
        browse(blogBase + "/private", "--dump-dom");
        browse(blogBase + "/post/hello", "--dump-dom");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(views("/post/hello")).isEqualTo(3);
            assertThat(views("/post/spa")).isEqualTo(3);
        });
        assertThat(views("/private")).isZero();

        String dashboard = browse(base + "/", "--dump-dom");
        assertThat(dashboard).contains("data-loaded=\"true\"");
        assertThat(dashboard.replaceAll("(?s).*(<[^>]*id=\"chart\".*?</svg>).*", "$1")).contains("<svg");
        String topPages = dashboard.replaceAll("(?s).*<table[^>]*id=\"top-pages\"(.*?)</table>.*", "$1");
        assertThat(topPages).contains("/post/hello").contains("/post/spa");
        // Every visit to the post also navigated to /post/spa: 3 + 3.
        assertThat(dashboard.replaceAll("(?s).*<[^>]*id=\"total-views\"[^>]*>([^<]*)<.*", "$1").strip()).isEqualTo("6");

        Path shots = Path.of("target", "browser");
        Files.createDirectories(shots);
        Path png = shots.resolve("dashboard.png").toAbsolutePath();
        Files.deleteIfExists(png);
        browse(base + "/", "--screenshot=" + png, "--window-size=1280,1000");
        assertThat(png).exists();
        assertThat(Files.size(png)).isGreaterThan(10_000);
    }

    @Test
    void customEventsOutboundLinksDownloadsAndNotFoundPagesAreSentAndGlobalPrivacyControlIsRespected() throws Exception {
        browse(blogBase + "/dnt", "--dump-dom");
        browse(blogBase + "/pricing", "--dump-dom");
        ObjectMapper json = new ObjectMapper();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
            assertThat(PageViewTruth.get(base + "/api/views?site=shop&path=/pricing").get("views").asLong()).isEqualTo(1);
            List<String> events = new ArrayList<>();
            for (var r : KafkaBrokerExtension.readAll("127.0.0.1:" + kafkaPort, "pageviews.events")) {
                JsonNode e = json.readTree(r.value());
                assertThat(e.get("site").asText()).isEqualTo("shop");
                events.add(e.get("event").asText() + " " + e.path("props"));
            }
            assertThat(events).containsExactlyInAnyOrder(
                    "404 {\"path\":\"/pricing\"}",
                    "newsletter {\"list\":\"weekly\",\"issue\":\"12\"}",
                    "signup {\"plan\":\"pro\"}",
                    "outbound {\"url\":\"https://elsewhere.example/read?x=1\"}",
                    "download {\"url\":\"" + blogBase + "/files/guide.pdf\"}");
        });
        // The reader with Global Privacy Control sent neither a view nor an event.
        assertThat(PageViewTruth.get(base + "/api/views?site=shop&path=/dnt").get("views").asLong()).isZero();
    }

    private static long views(String path) throws Exception {
        return PageViewTruth.get(base + "/api/views?path=" + path).get("views").asLong();
    }

    /** One fresh headless Chromium: loads the page, lets its scripts and requests run, and does {@code action}. */
    private static String browse(String url, String... action) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory(dir, "chromium-");
        List<String> cmd = new ArrayList<>(List.of(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-quic", "--no-first-run", "--disable-component-update",
                "--disable-sync", "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--user-agent=" + USER_AGENT,
                "--virtual-time-budget=5000"));
        cmd.addAll(List.of(action));
        cmd.add(url);
        Path err = profile.resolve("stderr.log");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("chromium did not finish " + url + " within 60 s");
        }
        assertThat(p.exitValue()).as("chromium on %s: %s", url, Files.readString(err)).isZero();
        return new String(out, UTF_8);
    }
}
