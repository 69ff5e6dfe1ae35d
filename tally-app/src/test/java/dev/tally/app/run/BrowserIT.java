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
import java.net.http.HttpResponse;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
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
        tally = TallyProcess.start(dir, "run", "--port", "0", "--kafka-port", String.valueOf(kafkaPort), "--rate-limit", "0",
                "--goal", "Signup=event:signup", "--goal", "Read the docs=page:/docs/*");
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
                if (e.get("site").asText().equals("dash")) {
                    continue; // the dashboard test's demo blog
                }
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

    /**
     * The owner's dashboard over two weeks of a blog's views (event format v2 records, as a
     * collector with --geoip writes them): the cards show the exact figures and the change
     * against the week before; a click on a browser filters every card, table and chart and puts
     * the filter in the address; a reload keeps it, the CSV link downloads the filtered table,
     * the back button removes it. Screenshots at desktop and phone width go to
     * {@code target/browser/}, and to the directory of {@code -Dtally.screenshots=DIR} (the
     * README's, by {@code bin/dashboard-screenshots}).
     */
    @Test
    void theDashboardShowsFiltersComparesAndDownloadsExactly() throws Exception {
        List<Hit> hits = blogTraffic();
        long today = Math.floorDiv(System.currentTimeMillis(), DAY);
        long weekViews = hits.stream().filter(h -> h.event == null && h.day >= today - 6).count();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            JsonNode all = PageViewTruth.get(base + "/api/summary?site=dash&from=" + (today - 13) * DAY);
            assertThat(all.get("views").asLong()).isEqualTo(hits.stream().filter(h -> h.event == null).count());
            assertThat(all.get("events").asLong()).isEqualTo(hits.stream().filter(h -> h.event != null).count());
        });
        java.util.function.Predicate<Hit> week = h -> h.event == null && h.day >= today - 6;
        java.util.function.Predicate<Hit> firefox = week.and(h -> h.browser.equals("Firefox"));

        try (DevTools page = DevTools.start(CHROMIUM, dir, List.of("--window-size=1280,1000"))) {
            page.navigate(base + "/?site=dash");
            awaitLoaded(page);
            assertThat(number(page.text("document.getElementById('total-views').textContent"))).isEqualTo(weekViews);
            assertThat(number(page.text("document.getElementById('total-visitors').textContent"))).isEqualTo(visitors(hits, week));
            long before = hits.stream().filter(h -> h.event == null && h.day >= today - 13 && h.day < today - 6).count();
            assertThat(page.text("document.getElementById('views-change').textContent"))
                    .contains("vs previous period (" + String.format(java.util.Locale.US, "%,d", before) + ")");
            assertThat(page.eval("document.querySelectorAll('#chart svg rect.bar').length").asInt()).isGreaterThan(1);
            assertThat(page.eval("document.querySelectorAll('#chart svg polyline.visitors').length").asInt()).isEqualTo(1);
            assertThat(page.text("document.querySelector('#t-goals tbody').textContent")).contains("Signup").contains("Read the docs");
            assertThat(number(page.text("document.getElementById('now').textContent"))).isPositive();

            // A click on Firefox filters everything, and the address says so.
            page.eval("document.querySelector('#t-browser button[data-value=\"Firefox\"]').click()");
            awaitFigure(page, "total-views", hits.stream().filter(firefox).count());
            assertThat(page.text("location.search")).contains("browser=Firefox").contains("site=dash");
            assertFiltered(page, hits, firefox);
            assertThat(page.text("document.getElementById('filters').textContent")).contains("Browser: Firefox");
            assertThat(number(page.text("document.getElementById('total-events').textContent"))).isEqualTo(hits.stream()
                    .filter(h -> h.event != null && h.day >= today - 6 && h.browser.equals("Firefox")).count());

            // A reload restores the filter from the address.
            page.reload();
            awaitLoaded(page);
            assertThat(number(page.text("document.getElementById('total-views').textContent"))).isEqualTo(hits.stream().filter(firefox).count());
            assertFiltered(page, hits, firefox);

            // The CSV link is the country table with the same filter.
            String href = page.text("document.querySelector('section[data-dims=country] a').href");
            assertThat(href).contains("browser=Firefox").contains("format=csv");
            HttpResponse<String> csv = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create(href)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(csv.headers().firstValue("Content-Type")).hasValue("text/csv; charset=utf-8");
            Map<String, Long> byCountry = hits.stream().filter(firefox).collect(Collectors.groupingBy(
                    h -> h.country.isEmpty() ? "(none)" : h.country, Collectors.counting()));
            List<String> lines = csv.body().lines().toList();
            assertThat(lines.get(0)).isEqualTo("country,views,visitors");
            assertThat(lines.subList(1, lines.size()).stream().collect(Collectors.toMap(l -> l.split(",")[0],
                    l -> Long.parseLong(l.split(",")[1])))).isEqualTo(byCountry);

            // A second filter combines; the chip removes it; back goes to the unfiltered page.
            page.eval("document.querySelector('#t-country button[data-value=\"DE\"]').click()");
            awaitFigure(page, "total-views", hits.stream().filter(firefox.and(h -> h.country.equals("DE"))).count());
            assertThat(page.text("location.search")).contains("browser=Firefox").contains("country=DE");
            page.eval("document.querySelector('#filters button[data-filter=country]').click()");
            awaitFigure(page, "total-views", hits.stream().filter(firefox).count());
            page.eval("history.go(-3)");
            awaitFigure(page, "total-views", weekViews);
            assertThat(page.text("location.search")).doesNotContain("browser=");

            // The site picker lists the sites with data, this one chosen.
            JsonNode sites = PageViewTruth.get(base + "/api/sites").get("sites");
            assertThat(sites.toString()).contains("\"dash\"");
            JsonNode options = page.eval("Array.from(document.querySelectorAll('#sites option')).map(o => o.value)");
            List<String> listed = new ArrayList<>();
            options.forEach(o -> listed.add(o.asText()));
            List<String> expected = new ArrayList<>();
            sites.forEach(o -> expected.add(o.asText()));
            expected.add("*other");
            assertThat(listed).isEqualTo(expected);
            assertThat(page.text("document.getElementById('sites').value")).isEqualTo("dash");
            assertThat(page.eval("document.getElementById('sites').hidden || document.getElementById('site').hidden === false").asBoolean())
                    .as("the select shows, the text box waits for Other").isFalse();

            // A click on an event filters by it and shows its properties, with the focus on them.
            assertThat(page.eval("document.getElementById('props-card').hidden").asBoolean()).isTrue();
            page.eval("document.querySelector('#t-event button[data-value=\"signup\"]').click()");
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).untilAsserted(() ->
                    assertThat(page.eval("document.getElementById('props-card').hidden").asBoolean()).isFalse());
            assertThat(page.text("document.getElementById('h-props').textContent")).isEqualTo("Properties of signup");
            assertThat(page.text("document.activeElement.id")).isEqualTo("h-props");
            Map<String, Long> plans = hits.stream().filter(h -> "signup".equals(h.event) && h.day >= today - 6)
                    .collect(Collectors.groupingBy(h -> propsOf(h).get("plan"), Collectors.counting()));
            Map<String, Long> shownPlans = new java.util.HashMap<>();
            page.eval("Array.from(document.querySelectorAll('#t-props tbody[data-prop=plan] tr')).slice(1)"
                    + ".map(tr => [tr.cells[0].textContent, tr.cells[2].textContent])")
                    .forEach(r -> shownPlans.put(r.get(0).asText(), number(r.get(1).asText())));
            assertThat(shownPlans).as("the plans of this week's signups").isEqualTo(plans);
            assertThat(page.eval("document.querySelectorAll('#t-props tbody').length").asInt()).as("only the plan").isEqualTo(1);
            String propsCsv = page.text("document.getElementById('csv-props').href");
            assertThat(propsCsv).contains("/api/props?").contains("event=signup").contains("format=csv").contains("site=dash");
            HttpResponse<String> propsTable = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create(propsCsv)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(propsTable.body().lines().toList()).startsWith("prop,value,events").hasSize(1 + plans.size());
            page.eval("document.getElementById('t-event').scrollIntoView()");
            JsonNode shot = page.call("Page.captureScreenshot", new ObjectMapper().createObjectNode().put("format", "png"));
            Files.createDirectories(Path.of("target", "browser"));
            Files.write(Path.of("target", "browser", "dashboard-props.png"), java.util.Base64.getDecoder().decode(shot.path("data").asText()));
            page.eval("history.back()");
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).untilAsserted(() ->
                    assertThat(page.eval("document.getElementById('props-card').hidden").asBoolean()).isTrue());

            // The period picker: today by hour, then custom days (the week before), in the address too.
            page.eval("(() => { const s = document.getElementById('period'); s.value = 'today'; s.dispatchEvent(new Event('change')); })()");
            awaitFigure(page, "total-views", hits.stream().filter(h -> h.event == null && h.day == today).count());
            assertThat(page.text("location.search")).contains("period=today");
            assertThat(page.text("document.querySelector('#chart svg').getAttribute('aria-label')")).isEqualTo("views per hour");
            page.eval("(() => { const s = document.getElementById('period'); s.value = 'custom'; s.dispatchEvent(new Event('change')); })()");
            String from = java.time.LocalDate.ofEpochDay(today - 13).toString();
            String to = java.time.LocalDate.ofEpochDay(today - 7).toString();
            page.eval("document.getElementById('from').value = '" + from + "'; document.getElementById('to').value = '" + to + "';"
                    + " document.getElementById('apply').click()");
            awaitFigure(page, "total-views", before);
            assertThat(page.text("location.search")).contains("period=custom").contains("from=" + from).contains("to=" + to);

            // Screenshots of the dashboard with this data: desktop, and a phone (one column).
            page.navigate(base + "/?site=dash");
            awaitLoaded(page);
            String phoneColumns = "getComputedStyle(document.querySelector('main')).gridTemplateColumns.split(' ').length";
            page.viewport(390, 844, true);
            Thread.sleep(500);
            assertThat(page.eval(phoneColumns).asInt()).as("one column on a phone").isEqualTo(1);
            page.viewport(1280, 1000, false);
        }
        Path shots = Path.of("target", "browser").toAbsolutePath();
        String dashboard = base + "/?site=dash";
        List<Path> targets = new ArrayList<>(List.of(shots));
        String docs = System.getProperty("tally.screenshots");
        if (docs != null && !docs.isBlank()) {
            targets.add(Path.of(docs).toAbsolutePath());
        }
        for (Path target : targets) {
            Files.createDirectories(target);
            Path desktop = target.resolve("dashboard-desktop.png");
            Path phone = target.resolve("dashboard-phone.png");
            browse(dashboard, "--screenshot=" + desktop, "--window-size=1280,1900", "--hide-scrollbars");
            browse(dashboard, "--screenshot=" + phone, "--window-size=390,3000", "--hide-scrollbars");
            assertThat(Files.size(desktop)).isGreaterThan(20_000);
            assertThat(Files.size(phone)).isGreaterThan(20_000);
        }
    }

    private static final long DAY = 86_400_000L;

    /** One record of the demo blog: a view, or (with a name) a custom event. */
    record Hit(long day, long ts, String path, String visitor, String referrer, String source, String medium, String campaign,
            String browser, String os, String device, String country, String event) {}

    /** Two weeks of a small blog, growing: realistic enough for the screenshots, exact for the checks. */
    private static List<Hit> blogTraffic() throws Exception {
        java.util.Random random = new java.util.Random(2026);
        String[] pages = {"/", "/posts/exactly-once-with-kafka", "/posts/sqlite-in-production", "/posts/cookieless-analytics",
            "/about", "/docs/start", "/docs/api"};
        String[][] software = {{"Firefox", "Linux", "desktop"}, {"Firefox", "Windows", "desktop"}, {"Chrome", "Windows", "desktop"},
            {"Chrome", "Android", "mobile"}, {"Safari", "Mac OS X", "desktop"}, {"Mobile Safari", "iOS", "mobile"},
            {"Mobile Safari", "iOS", "tablet"}, {"Edge", "Windows", "desktop"}};
        String[] countries = {"DE", "US", "US", "FR", "GB", "NZ", "JP", "", "DE", "US"};
        String[] referrers = {"", "", "https://news.ycombinator.com/item?id=1", "https://www.google.com/", "https://lobste.rs/s/x",
            "https://mastodon.social/@tally"};
        long now = System.currentTimeMillis();
        long today = Math.floorDiv(now, DAY);
        List<Hit> hits = new ArrayList<>();
        for (long day = today - 13; day <= today; day++) {
            int readers = 20 + (int) (day - today + 13) * 3 + random.nextInt(10);
            for (int r = 0; r < readers; r++) {
                String visitor = "reader-" + day + "-" + r;
                String[] sw = software[random.nextInt(software.length)];
                String country = countries[random.nextInt(countries.length)];
                boolean mail = random.nextInt(6) == 0;
                String referrer = mail ? "" : referrers[random.nextInt(referrers.length)];
                int views = 1 + random.nextInt(3);
                for (int v = 0; v < views; v++) {
                    long start = day * DAY;
                    long ts = day == today ? now - random.nextInt((int) Math.max(1, Math.min(now - start, 3 * 3600_000L))) : start + random.nextInt((int) DAY);
                    if (day == today && r < 3) {
                        ts = now - 20_000; // readers right now
                    }
                    hits.add(new Hit(day, ts, pages[random.nextInt(pages.length)], visitor, referrer, mail ? "newsletter" : "",
                            mail ? "email" : "", mail ? "launch-week" : "", sw[0], sw[1], sw[2], country, null));
                    if (random.nextInt(10) == 0) {
                        hits.add(new Hit(day, ts, "/", visitor, referrer, mail ? "newsletter" : "", mail ? "email" : "",
                                mail ? "launch-week" : "", sw[0], sw[1], sw[2], country, random.nextBoolean() ? "signup" : "download"));
                    }
                }
            }
        }
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", "127.0.0.1:" + kafkaPort);
        p.put("acks", "all");
        ObjectMapper json = new ObjectMapper();
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(p,
                new org.apache.kafka.common.serialization.ByteArraySerializer(), new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            for (Hit h : hits) {
                var record = json.createObjectNode().put("path", h.path).put("ts", h.ts).put("site", "dash").put("visitor", h.visitor)
                        .put("browser", h.browser).put("os", h.os).put("device", h.device);
                if (!h.referrer.isEmpty()) {
                    record.put("referrer", h.referrer);
                }
                if (!h.source.isEmpty()) {
                    record.put("source", h.source).put("medium", h.medium).put("campaign", h.campaign);
                }
                if (!h.country.isEmpty()) {
                    record.put("country", h.country);
                }
                if (h.event != null) {
                    record.put("event", h.event);
                    var props = record.putObject("props");
                    propsOf(h).forEach(props::put);
                }
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(h.event == null ? "pageviews" : "pageviews.events",
                        h.path.getBytes(UTF_8), json.writeValueAsBytes(record)));
            }
            producer.flush();
        }
        return hits;
    }

    /** The properties a demo event is sent with: a signup's plan, a download's file. */
    private static Map<String, String> propsOf(Hit h) {
        return h.event.equals("signup")
                ? Map.of("plan", Math.floorMod(h.ts, 3) == 0 ? "pro" : "free")
                : Map.of("file", Math.floorMod(h.ts, 2) == 0 ? "guide.pdf" : "tally.zip");
    }

    private static long visitors(List<Hit> hits, java.util.function.Predicate<Hit> which) {
        return hits.stream().filter(which).map(h -> h.day + " " + h.visitor).distinct().count();
    }

    private static long number(String shown) {
        return Long.parseLong(shown.replace(",", "").strip());
    }

    private static void awaitLoaded(DevTools page) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).untilAsserted(() ->
                assertThat(page.text("document.readyState + ' ' + document.body.dataset.loaded")).isEqualTo("complete true"));
    }

    private static void awaitFigure(DevTools page, String id, long expected) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).untilAsserted(() ->
                assertThat(number(page.text("document.getElementById('" + id + "').textContent"))).isEqualTo(expected));
    }

    /** Every card, table and the chart show only what {@code filter} lets through. */
    private static void assertFiltered(DevTools page, List<Hit> hits, java.util.function.Predicate<Hit> filter) throws Exception {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            assertThat(number(page.text("document.getElementById('total-visitors').textContent"))).isEqualTo(visitors(hits, filter));
            long chart = page.eval("Array.from(document.querySelectorAll('#chart rect.bar title')).map(t => +t.textContent"
                    + ".replace(/.*: ([0-9,]+) views.*/, '$1').replace(/,/g, '')).reduce((a, b) => a + b, 0)").asLong();
            assertThat(chart).as("the chart's bars").isEqualTo(hits.stream().filter(filter).count());
            Map<String, Long> shown = new java.util.HashMap<>();
            JsonNode rows = page.eval("Array.from(document.querySelectorAll('#t-os tbody tr')).map(tr => [tr.cells[0].textContent,"
                    + " tr.cells[2].textContent])");
            rows.forEach(r -> shown.put(r.get(0).asText(), number(r.get(1).asText())));
            Map<String, Long> truth = hits.stream().filter(filter).collect(Collectors.groupingBy(h -> h.os, Collectors.counting()));
            assertThat(shown).as("the OS table").isEqualTo(truth);
            JsonNode browsers = page.eval("Array.from(document.querySelectorAll('#t-browser tbody tr')).map(tr => tr.cells[0].textContent)");
            Set<String> names = new java.util.HashSet<>();
            browsers.forEach(b -> names.add(b.asText()));
            assertThat(names).isEqualTo(hits.stream().filter(filter).map(h -> h.browser).collect(Collectors.toSet()));
            long pages = page.eval("Array.from(document.querySelectorAll('#top-pages tbody tr')).map(tr => +tr.cells[2].textContent"
                    + ".replace(/,/g, '')).reduce((a, b) => a + b, 0)").asLong();
            assertThat(pages).as("the pages table").isEqualTo(hits.stream().filter(filter).count());
        });
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
