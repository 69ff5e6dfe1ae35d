package dev.tally.app.serve;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tally.app.Databases;
import dev.tally.app.aggregate.Aggregator;
import dev.tally.app.http.WebServer;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The dashboard's endpoints ({@code /api/summary}, {@code /api/breakdown}, {@code /api/series} by
 * day, {@code /api/goals}, {@code /api/now}, {@code /api/props}, {@code /api/sites}) over a real store (SQLite and PostgreSQL): random but
 * seeded views and events are written into the day tables with plain SQL, as the aggregator
 * would, and every answer, under every filter alone and in combination, is compared with the
 * truth counted here from the same views.
 */
class StatsDimensionsIT {

    private static final long DAY = 86_400_000L;
    /** The server's clock: 2026-11-27T12:30Z; day {@link #TODAY}. */
    private static final Instant NOW = Instant.parse("2026-11-27T12:30:00Z");
    private static final long TODAY = NOW.toEpochMilli() / DAY;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> DIMENSIONS = List.of("page", "referrer", "source", "medium", "campaign", "browser",
            "os", "device", "country");

    /** A segment: the dimensions a view came with ({@code ''} unknown), in the order of the segments columns. */
    record Segment(String referrer, String source, String medium, String campaign, String browser, String os,
            String device, String country) {

        String get(String dimension) {
            return switch (dimension) {
                case "referrer" -> referrer;
                case "source" -> source;
                case "medium" -> medium;
                case "campaign" -> campaign;
                case "browser" -> browser;
                case "os" -> os;
                case "device" -> device;
                case "country" -> country;
                default -> throw new IllegalArgumentException(dimension);
            };
        }
    }

    /** A view or (with a name) a custom event. */
    record Hit(String site, String page, long day, Segment segment, int visitor, String event) {

        String get(String dimension) {
            return dimension.equals("page") ? page : segment.get(dimension);
        }

        /** The day and visitor: what a visitor unique per day is. */
        List<Long> who() {
            return List.of(day, (long) visitor);
        }
    }

    @RegisterExtension
    final Databases stores = new Databases();

    private final List<WebServer> servers = new ArrayList<>();
    private final List<Hit> views = new ArrayList<>();
    private final List<Hit> events = new ArrayList<>();

    @AfterEach
    void stop() {
        servers.forEach(WebServer::close);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void everyFigureUnderEveryFilterIsTheTruth(String database) throws Exception {
        DataSource store = fill(database);
        String base = serve(store);
        // The goals' and events' visitors are matched with the filtered visitors in two ways, chosen by their numbers: both asked.
        List<String> bothWays = List.of(serve(store, 0), serve(store, 1));
        String week = "from=" + (TODAY - 6) * DAY + "&to=" + NOW.toEpochMilli();
        List<Map<String, String>> filterSets = new ArrayList<>();
        filterSets.add(Map.of());
        filterSets.add(Map.of("page", "/a"));
        filterSets.add(Map.of("browser", "firefox"));
        filterSets.add(Map.of("country", "(none)"));
        filterSets.add(Map.of("source", "news", "device", "mobile"));
        filterSets.add(Map.of("page", "/b", "os", "linux"));
        filterSets.add(Map.of("referrer", "(none)", "campaign", "launch", "medium", "email"));
        filterSets.add(Map.of("browser", "no such"));

        for (Map<String, String> filters : filterSets) {
            String q = week + query(filters);
            Predicate<Hit> match = matching(filters);
            Set<List<Long>> allowed = allowed(filters, TODAY - 6, TODAY + 1);

            JsonNode summary = get(base, "/api/summary?" + q);
            assertThat(summary.get("from").asLong()).isEqualTo((TODAY - 6) * DAY);
            assertThat(summary.get("to").asLong()).isEqualTo((TODAY + 1) * DAY);
            assertThat(summary.get("views").asLong()).as("views %s", filters).isEqualTo(count(views, match, TODAY - 6, TODAY + 1));
            assertThat(summary.get("visitors").asLong()).as("visitors %s", filters).isEqualTo(allowed.size());
            assertThat(summary.get("events").asLong()).as("events %s", filters).isEqualTo(count(events, match, TODAY - 6, TODAY + 1));
            JsonNode previous = summary.get("previous");
            assertThat(previous.get("from").asLong()).isEqualTo((TODAY - 13) * DAY);
            assertThat(previous.get("views").asLong()).as("previous views %s", filters).isEqualTo(count(views, match, TODAY - 13, TODAY - 6));
            assertThat(previous.get("visitors").asLong()).as("previous visitors %s", filters)
                    .isEqualTo(allowed(filters, TODAY - 13, TODAY - 6).size());

            for (String dimension : DIMENSIONS) {
                Map<String, List<Long>> truth = new HashMap<>();
                Map<String, List<Hit>> byValue = views.stream().filter(match).filter(v -> v.day() >= TODAY - 6)
                        .collect(Collectors.groupingBy(v -> v.get(dimension)));
                byValue.forEach((value, hits) -> {
                    Set<List<Long>> who = breakdownVisitors(filters, dimension, value, TODAY - 6, TODAY + 1);
                    truth.put(value.isEmpty() ? "(none)" : value, List.of((long) hits.size(), (long) who.size()));
                });
                JsonNode answer = get(base, "/api/breakdown?dimension=" + dimension + "&limit=1000&" + q);
                assertThat(answer.get("dimension").asText()).isEqualTo(dimension);
                Map<String, List<Long>> rows = new HashMap<>();
                long last = Long.MAX_VALUE;
                for (JsonNode r : answer.get("rows")) {
                    rows.put(r.get("value").asText(), List.of(r.get("views").asLong(), r.get("visitors").asLong()));
                    assertThat(r.get("views").asLong()).as("most views first").isLessThanOrEqualTo(last);
                    last = r.get("views").asLong();
                }
                assertThat(rows).as("%s by %s", filters, dimension).isEqualTo(truth);
                JsonNode two = get(base, "/api/breakdown?dimension=" + dimension + "&limit=2&" + q).get("rows");
                assertThat(two.size()).isEqualTo(Math.min(2, truth.size()));
            }

            Map<String, List<Long>> eventTruth = new HashMap<>();
            events.stream().filter(match).filter(e -> e.day() >= TODAY - 6).collect(Collectors.groupingBy(Hit::event))
                    .forEach((name, hits) -> eventTruth.put(name, List.of((long) hits.size(),
                            (long) eventVisitors(name, filters.isEmpty() ? null : allowed, TODAY - 6, TODAY + 1).size())));
            for (String b : bothWays) {
                Map<String, List<Long>> eventRows = new HashMap<>();
                for (JsonNode r : get(b, "/api/breakdown?dimension=event&" + q).get("rows")) {
                    eventRows.put(r.get("value").asText(), List.of(r.get("events").asLong(), r.get("visitors").asLong()));
                }
                assertThat(eventRows).as("events %s", filters).isEqualTo(eventTruth);
            }

            // Series by day: views and visitors of each day.
            JsonNode points = get(base, "/api/series?bucket=day&" + q).get("points");
            assertThat(points.size()).isEqualTo(7);
            for (int i = 0; i < 7; i++) {
                long day = TODAY - 6 + i;
                assertThat(points.get(i).get("t").asLong()).isEqualTo(day * DAY);
                assertThat(points.get(i).get("views").asLong()).as("%s day %s", filters, i).isEqualTo(count(views, match, day, day + 1));
                assertThat(points.get(i).get("visitors").asLong()).as("%s day %s", filters, i)
                        .isEqualTo(allowed(filters, day, day + 1).size());
            }

            // Goals: visitors who sent the event or viewed a page matching the pattern, among those the filters allow.
            for (String b : bothWays) {
                JsonNode goals = get(b, "/api/goals?" + q).get("goals");
                assertThat(goals.size()).isEqualTo(2);
                long signups = eventVisitors("signup", filters.isEmpty() ? null : allowed, TODAY - 6, TODAY + 1).size();
                Set<List<Long>> readers = views.stream().filter(v -> v.site().equals("default") && v.page().startsWith("/docs/")
                        && v.day() >= TODAY - 6).map(Hit::who).collect(Collectors.toSet());
                readers.retainAll(allowed);
                assertThat(goals.get(0).get("name").asText()).isEqualTo("Signup");
                assertThat(goals.get(0).get("visitors").asLong()).as("signups %s", filters).isEqualTo(signups);
                assertThat(goals.get(0).get("conversion").asDouble())
                        .isEqualTo(allowed.isEmpty() ? 0 : Math.round(10_000.0 * signups / allowed.size()) / 10_000.0);
                assertThat(goals.get(1).get("kind").asText()).isEqualTo("page");
                assertThat(goals.get(1).get("match").asText()).isEqualTo("/docs/*");
                assertThat(goals.get(1).get("visitors").asLong()).as("docs readers %s", filters).isEqualTo(readers.size());
            }
        }

        // The event filter narrows only the event figures.
        JsonNode signup = get(base, "/api/summary?" + week + "&event=signup");
        assertThat(signup.get("views").asLong()).isEqualTo(count(views, matching(Map.of()), TODAY - 6, TODAY + 1));
        assertThat(signup.get("events").asLong())
                .isEqualTo(events.stream().filter(e -> e.site().equals("default") && e.day() >= TODAY - 6 && e.event().equals("signup")).count());
        JsonNode onlySignup = get(base, "/api/breakdown?dimension=event&event=signup&" + week).get("rows");
        assertThat(onlySignup.size()).isEqualTo(1);
        assertThat(onlySignup.get(0).get("value").asText()).isEqualTo("signup");

        // CSV: the same rows, the unknown value named.
        String csv = text(base, "/api/breakdown?dimension=country&limit=1000&format=csv&" + week + "&browser=firefox");
        assertThat(csv).startsWith("country,views,visitors\r\n");
        JsonNode rows = get(base, "/api/breakdown?dimension=country&limit=1000&" + week + "&browser=firefox").get("rows");
        StringBuilder expected = new StringBuilder("country,views,visitors\r\n");
        rows.forEach(r -> expected.append(r.get("value").asText()).append(',').append(r.get("views").asLong()).append(',')
                .append(r.get("visitors").asLong()).append("\r\n"));
        assertThat(csv).isEqualTo(expected.toString()).contains("(none),");
        assertThat(text(base, "/api/goals?format=csv&" + week)).startsWith("name,kind,match,visitors,conversion\r\nSignup,event,signup,");
        assertThat(text(base, "/api/summary?format=csv&" + week)).startsWith("period,from,to,views,visitors,events\r\ncurrent,");

        // Now: the visitors of the last five minutes, each once.
        JsonNode now = get(base, "/api/now");
        assertThat(now.get("visitors").asLong()).isEqualTo(3);
        assertThat(now.get("minutes").asInt()).isEqualTo(5);
        assertThat(get(base, "/api/now?site=other").get("visitors").asLong()).isEqualTo(1);

        // Another site is apart.
        assertThat(get(base, "/api/summary?site=other&" + week).get("views").asLong())
                .isEqualTo(views.stream().filter(v -> v.site().equals("other") && v.day() >= TODAY - 6).count());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite"})
    void badParametersAreA400NamingThem(String database) throws Exception {
        String base = serve(fill(database));
        Map<String, String> refusals = new LinkedHashMap<>();
        refusals.put("/api/breakdown", "dimension must be one of");
        refusals.put("/api/breakdown?dimension=hat", "dimension must be one of");
        refusals.put("/api/breakdown?dimension=page&limit=0", "limit must be");
        refusals.put("/api/summary?browser=" + "x".repeat(65), "browser must be at most 64 characters");
        refusals.put("/api/summary?country=xx", "country must be");
        refusals.put("/api/goals?device=phone", "device must be");
        refusals.put("/api/series?browser=firefox", "bucket=hour cannot be filtered");
        refusals.put("/api/series?bucket=day&page=nope", "page must begin with /");
        refusals.put("/api/summary?from=2026-11-28&to=2026-11-27", "from must not be after to");
        refusals.put("/api/summary?format=xml", "format must be json or csv");
        refusals.put("/api/now?site=no%20site", "site must be");
        refusals.put("/api/breakdown?dimension=event&event=" + "e".repeat(65), "event must be at most 64 bytes");
        for (var r : refusals.entrySet()) {
            HttpResponse<String> answer = send(base, r.getKey());
            assertThat(answer.statusCode()).as("%s: %s", r.getKey(), answer.body()).isEqualTo(400);
            assertThat(answer.body()).as(r.getKey()).contains(r.getValue());
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void underAPageOfAPageGoalEveryVisitorConvertsAlsoOnDaysWhoseVisitorRowsAreDeleted(String database) throws Exception {
        DataSource store = fill(database);
        String base = serve(store);
        // As --retain does for the days before TODAY - 2, once the goal is counted: the visitor rows go, the counters stay.
        try (Connection c = store.getConnection(); java.sql.Statement s = c.createStatement()) {
            for (String table : List.of("page_visitors", "segment_visitors", "site_visitors", "multi_segment_visitors", "goal_visitors",
                    "event_visitors")) {
                s.executeUpdate("DELETE FROM " + table + " WHERE day < " + (TODAY - 2));
            }
        }
        String week = "from=" + (TODAY - 6) * DAY + "&to=" + NOW.toEpochMilli();
        for (Map<String, String> filters : List.of(Map.of("page", "/docs/api"), Map.of("page", "/docs/start", "browser", "firefox"))) {
            long visitors = allowed(filters, TODAY - 6, TODAY + 1).size();
            JsonNode docs = get(base, "/api/goals?" + week + query(filters)).get("goals").get(1);
            assertThat(docs.get("match").asText()).isEqualTo("/docs/*");
            assertThat(docs.get("visitors").asLong()).as("%s", filters).isEqualTo(visitors).isGreaterThan(
                    allowed(filters, TODAY - 2, TODAY + 1).size());
            assertThat(docs.get("conversion").asDouble()).isEqualTo(1.0);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void topPagesAndThePageBreakdownOverWholeWeeksAndTheDaysAroundThemAreTheTruth(String database) throws Exception {
        String base = serve(fill(database));
        // Weeks of page_weeks begin on days that are multiples of 7; TODAY - 1 is one.
        assertThat((TODAY - 1) % 7).isZero();
        for (List<Long> days : List.of(List.of(TODAY - 13, TODAY + 1), List.of(TODAY - 8, TODAY - 1), List.of(TODAY - 9, TODAY - 1),
                List.of(TODAY - 13, TODAY - 7))) {
            long first = days.get(0);
            long end = days.get(1);
            Map<String, List<Long>> truth = new HashMap<>();
            views.stream().filter(v -> v.site().equals("default") && v.day() >= first && v.day() < end).collect(Collectors.groupingBy(Hit::page))
                    .forEach((page, hits) -> truth.put(page, List.of((long) hits.size(), hits.stream().map(Hit::who).distinct().count())));
            String range = "from=" + first * DAY + "&to=" + end * DAY;
            Map<String, List<Long>> rows = new HashMap<>();
            for (JsonNode r : get(base, "/api/breakdown?dimension=page&limit=1000&" + range).get("rows")) {
                rows.put(r.get("value").asText(), List.of(r.get("views").asLong(), r.get("visitors").asLong()));
            }
            assertThat(rows).as("pages of days %s", days).isEqualTo(truth);
            JsonNode one = get(base, "/api/breakdown?dimension=page&page=%2Fa&" + range).get("rows");
            assertThat(one.size()).isEqualTo(1);
            assertThat(List.of(one.get(0).get("views").asLong(), one.get(0).get("visitors").asLong())).isEqualTo(truth.get("/a"));
            Map<String, Long> top = new HashMap<>();
            for (JsonNode r : get(base, "/api/top?limit=100&" + range).get("pages")) {
                top.put(r.get("path").asText(), r.get("views").asLong());
            }
            Map<String, Long> topTruth = new HashMap<>();
            truth.forEach((page, counts) -> topTruth.put(page, counts.get(0)));
            assertThat(top).as("top pages of days %s", days).isEqualTo(topTruth);
        }
    }

    /** One custom event's property as the aggregator counts it: a row of event_props. */
    record PropHit(String site, long day, int partition, String event, String prop, String value) {}

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void eventPropertiesAndSitesAreTheTruth(String database) throws Exception {
        DataSource store = fill(database);
        Random random = new Random(17);
        List<PropHit> props = new ArrayList<>();
        for (int i = 0; i < 700; i++) {
            String event = pick(random, "signup", "download", "outbound");
            String prop = pick(random, "plan", "source", "file,\"x\"");
            props.add(new PropHit(random.nextInt(8) == 0 ? "other" : "default", TODAY - random.nextInt(14), random.nextInt(3), event,
                    prop, pick(random, "free", "pro", "team", "é \"quoted\", comma", "")));
        }
        try (Connection c = store.getConnection()) {
            group(props.stream().map(h -> new Hit(h.site(), h.prop() + "\n" + h.value(), h.day(), null, h.partition(), h.event())).toList(),
                    h -> List.of(h.site(), h.day(), h.visitor(), h.event(), h.page()), (k, hits) -> {
                        String[] pv = ((String) k.get(4)).split("\n", -1);
                        insert(c, "INSERT INTO event_props (site, day, partition_id, name, prop, value, events) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                k.get(0), k.get(1), k.get(2), k.get(3), pv[0], pv[1], (long) hits.size());
                    });
            insert(c, "INSERT INTO pages (id, site, path) VALUES (?, ?, ?)", 999, "archive", "/old");
        }
        String base = serve(store);
        String week = "from=" + (TODAY - 6) * DAY + "&to=" + NOW.toEpochMilli();
        for (String site : List.of("default", "other")) {
            for (String event : List.of("signup", "download", "outbound", "nothing")) {
                Map<String, Map<String, Long>> truth = new HashMap<>();
                props.stream().filter(h -> h.site().equals(site) && h.event().equals(event) && h.day() >= TODAY - 6)
                        .forEach(h -> truth.computeIfAbsent(h.prop(), k -> new HashMap<>()).merge(h.value(), 1L, Long::sum));
                JsonNode answer = get(base, "/api/props?site=" + site + "&event=" + event + "&limit=1000&" + week);
                assertThat(answer.get("event").asText()).isEqualTo(event);
                assertThat(answer.get("from").asLong()).isEqualTo((TODAY - 6) * DAY);
                assertThat(answer.get("truncated").asBoolean()).isFalse();
                Map<String, Map<String, Long>> answered = new HashMap<>();
                for (JsonNode p : answer.get("props")) {
                    Map<String, Long> values = new HashMap<>();
                    long last = Long.MAX_VALUE;
                    for (JsonNode v : p.get("values")) {
                        values.put(v.get("value").asText(), v.get("events").asLong());
                        assertThat(v.get("events").asLong()).as("most events first").isLessThanOrEqualTo(last);
                        last = v.get("events").asLong();
                    }
                    assertThat(p.get("events").asLong()).isEqualTo(values.values().stream().mapToLong(Long::longValue).sum());
                    answered.put(p.get("prop").asText(), values);
                }
                assertThat(answered).as("%s %s", site, event).isEqualTo(truth);

                // One property; the top value of each.
                JsonNode plan = get(base, "/api/props?site=" + site + "&event=" + event + "&prop=plan&" + week).get("props");
                assertThat(plan.size()).isEqualTo(truth.containsKey("plan") ? 1 : 0);
                for (JsonNode p : get(base, "/api/props?site=" + site + "&event=" + event + "&limit=1&" + week).get("props")) {
                    Map<String, Long> values = truth.get(p.get("prop").asText());
                    assertThat(p.get("values").size()).isEqualTo(1);
                    assertThat(p.get("values").get(0).get("events").asLong()).isEqualTo(values.values().stream().max(Long::compare).get());
                    assertThat(p.get("events").asLong()).as("all the property's events, not just the shown")
                            .isEqualTo(values.values().stream().mapToLong(Long::longValue).sum());
                }
            }
        }
        // CSV: a row per property and value, quoted where it must be.
        String csv = text(base, "/api/props?event=signup&limit=1000&format=csv&" + week);
        assertThat(csv).startsWith("prop,value,events\r\n").contains("\"file,\"\"x\"\"\",\"é \"\"quoted\"\", comma\",");
        assertThat(csv.split("\r\n")).hasSize(1 + (int) props.stream().filter(h -> h.site().equals("default")
                && h.event().equals("signup") && h.day() >= TODAY - 6).map(h -> List.of(h.prop(), h.value())).distinct().count());

        // Sites: those with data in site_days, and those of the pages dictionary.
        JsonNode sites = get(base, "/api/sites").get("sites");
        assertThat(sites.toString()).isEqualTo("[\"archive\",\"default\",\"other\"]");

        // Hostile parameters, and filters that cannot apply.
        Map<String, String> refusals = new LinkedHashMap<>();
        refusals.put("/api/props", "event is required");
        refusals.put("/api/props?event=", "event is required");
        refusals.put("/api/props?event=" + "é".repeat(33), "event must be at most 64 bytes");
        refusals.put("/api/props?event=signup&prop=" + "p".repeat(65), "prop must be at most 64 bytes");
        refusals.put("/api/props?event=signup&browser=firefox", "browser cannot filter event properties");
        refusals.put("/api/props?event=signup&country=DE", "country cannot filter event properties");
        refusals.put("/api/props?event=signup&page=/a", "page cannot filter event properties");
        refusals.put("/api/props?event=signup&path=/a", "path cannot filter event properties");
        refusals.put("/api/props?event=signup&limit=1001", "limit must be");
        refusals.put("/api/props?event=signup&format=xml", "format must be json or csv");
        refusals.put("/api/props?event=signup&from=2026-11-28&to=2026-11-27", "from must not be after to");
        refusals.put("/api/props?event=signup&from=1970-01-01", "narrow the range");
        refusals.put("/api/props?event=signup&site=a%20b", "site must be");
        refusals.put("/api/props?event=signup&prop=a&prop=b", "prop");
        for (var r : refusals.entrySet()) {
            HttpResponse<String> answer = send(base, r.getKey());
            assertThat(answer.statusCode()).as("%s: %s", r.getKey(), answer.body()).isEqualTo(400);
            assertThat(answer.body()).as(r.getKey()).contains(r.getValue());
        }
    }

    private static String query(Map<String, String> filters) {
        StringBuilder q = new StringBuilder();
        filters.forEach((k, v) -> q.append('&').append(k).append('=').append(URLEncoder.encode(v, UTF_8)));
        return q.toString();
    }

    private static Predicate<Hit> matching(Map<String, String> filters) {
        return h -> h.site().equals("default") && filters.entrySet().stream()
                .allMatch(f -> h.get(f.getKey()).equals(f.getValue().equals("(none)") ? "" : f.getValue()));
    }

    private static long count(List<Hit> hits, Predicate<Hit> match, long from, long to) {
        return hits.stream().filter(match).filter(h -> h.day() >= from && h.day() < to).count();
    }

    /**
     * The (day, visitor) pairs the filters let through: those with a view that matches the
     * segment filters; with a page filter, those with a view of the page that day whose first
     * view of it that day (in the order stored) matches the segment filters.
     */
    private Set<List<Long>> allowed(Map<String, String> filters, long from, long to) {
        Map<String, String> segment = new HashMap<>(filters);
        String page = segment.remove("page");
        if (page == null) {
            return views.stream().filter(matching(segment)).filter(v -> v.day() >= from && v.day() < to)
                    .map(Hit::who).collect(Collectors.toCollection(HashSet::new));
        }
        Map<List<Long>, Hit> first = new LinkedHashMap<>();
        views.stream().filter(matching(Map.of("page", page))).forEach(v -> first.putIfAbsent(v.who(), v));
        return first.values().stream().filter(matching(segment)).filter(v -> v.day() >= from && v.day() < to)
                .map(Hit::who).collect(Collectors.toCollection(HashSet::new));
    }

    private Set<List<Long>> breakdownVisitors(Map<String, String> filters, String dimension, String value, long from, long to) {
        Map<String, String> narrowed = new HashMap<>(filters);
        narrowed.put(dimension, value.isEmpty() ? "(none)" : value);
        return allowed(narrowed, from, to);
    }

    private Set<List<Long>> eventVisitors(String name, Set<List<Long>> allowed, long from, long to) {
        Set<List<Long>> who = events.stream().filter(e -> e.site().equals("default") && e.event().equals(name)
                && e.day() >= from && e.day() < to).map(Hit::who).collect(Collectors.toCollection(HashSet::new));
        if (allowed != null) {
            who.retainAll(allowed);
        }
        return who;
    }

    /** Seeded random views and events over the last 14 days, written into the tables as the aggregator would. */
    private DataSource fill(String database) throws Exception {
        DataSource ds = stores.dataSource(database);
        Aggregator.migrate(stores.jdbcUrl(database));
        Random random = new Random(13);
        List<String> pages = List.of("/a", "/b", "/docs/start", "/docs/api", "/c,\"q\"");
        // Acquisitions at random; what the visitor hash fixes (browser, system, device, country) is the visitor's own.
        List<Segment> acquisitions = new ArrayList<>();
        while (acquisitions.size() < 8) {
            acquisitions.add(new Segment(pick(random, "", "news.example", "search.example"), pick(random, "", "news", "mail"),
                    pick(random, "", "email", "social"), pick(random, "", "launch"), "", "", "", ""));
            acquisitions = new ArrayList<>(new java.util.LinkedHashSet<>(acquisitions));
        }
        List<Segment> profiles = new ArrayList<>();
        for (int v = 0; v < 25; v++) {
            profiles.add(new Segment("", "", "", "", pick(random, "firefox", "chrome", "safari"), pick(random, "linux", "windows", "ios"),
                    pick(random, "desktop", "mobile", "tablet"), pick(random, "", "DE", "FR", "US")));
        }
        Set<Segment> seen = new java.util.LinkedHashSet<>();
        for (int i = 0; i < 900; i++) {
            String site = random.nextInt(10) == 0 ? "other" : "default";
            long day = TODAY - random.nextInt(14);
            int visitor = random.nextInt(25);
            Segment a = acquisitions.get(random.nextInt(acquisitions.size()));
            Segment p = profiles.get(visitor);
            Segment segment = new Segment(a.referrer(), a.source(), a.medium(), a.campaign(), p.browser(), p.os(), p.device(), p.country());
            seen.add(segment);
            views.add(new Hit(site, pages.get(random.nextInt(pages.size())), day, segment, visitor, null));
            if (random.nextInt(4) == 0) {
                events.add(new Hit(site, pages.get(random.nextInt(pages.size())), day, segment, visitor,
                        pick(random, "signup", "download", "outbound")));
            }
        }
        List<Segment> segments = new ArrayList<>(seen);
        Map<String, Integer> pageIds = new HashMap<>();
        Map<Segment, Map<String, Integer>> segmentIds = new HashMap<>();
        int[] segmentCount = {0};
        try (Connection c = ds.getConnection()) {
            for (String site : List.of("default", "other")) {
                for (String page : pages) {
                    pageIds.put(site + page, pageIds.size() + 1);
                    insert(c, "INSERT INTO pages (id, site, path) VALUES (?, ?, ?)", pageIds.size(), site, page);
                }
                for (Segment s : segments) {
                    int id = ++segmentCount[0];
                    segmentIds.computeIfAbsent(s, k -> new HashMap<>()).put(site, id);
                    insert(c, "INSERT INTO segments (id, hash, site, referrer, source, medium, campaign, browser, browser_version,"
                            + " os, os_version, device, country) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, '', ?, ?)", id,
                            sha(site + s), site, s.referrer(), s.source(), s.medium(), s.campaign(), s.browser(), s.os(),
                            s.device(), s.country());
                }
            }
            Function<Hit, Integer> page = h -> pageIds.get(h.site() + h.page());
            Function<Hit, Integer> segment = h -> segmentIds.get(h.segment()).get(h.site());
            group(views, h -> List.of(page.apply(h), h.day()), (k, hits) -> insert(c,
                    "INSERT INTO page_days (page, day, views, visitors) VALUES (?, ?, ?, ?)", k.get(0), k.get(1), (long) hits.size(),
                    hits.stream().map(Hit::visitor).distinct().count()));
            try (java.sql.Statement s = c.createStatement()) {
                s.executeUpdate(db.migration.V13__Page_weeks.fill("page_days", "page_weeks"));
            }
            // A page's visitor holds the segment of their first view of it that day; segment_days
            // counts them there. The first page of a visitor's day is held by their site row.
            Map<List<?>, Hit> firstOfSite = new HashMap<>();
            group(views, h -> List.of(h.site(), h.day(), h.visitor()), (k, hits) -> firstOfSite.put(k, hits.get(0)));
            Map<List<?>, Long> firstSegments = new HashMap<>();
            group(views, h -> List.of(page.apply(h), h.day(), h.visitor()), (k, hits) -> {
                if (!page.apply(firstOfSite.get(List.of(hits.get(0).site(), k.get(1), k.get(2)))).equals(k.get(0))) {
                    insert(c, "INSERT INTO page_visitors (page, day, visitor, segment) VALUES (?, ?, ?, ?)", k.get(0), k.get(1),
                            visitor((int) k.get(2)), segment.apply(hits.get(0)));
                }
                firstSegments.merge(List.of(k.get(0), k.get(1), segment.apply(hits.get(0))), 1L, Long::sum);
            });
            group(views, h -> List.of(page.apply(h), h.day() * 24 + 7), (k, hits) -> insert(c,
                    "INSERT INTO page_hours (page, hour, views) VALUES (?, ?, ?)", k.get(0), k.get(1), (long) hits.size()));
            group(views, h -> List.of(page.apply(h), h.day(), segment.apply(h)), (k, hits) -> insert(c,
                    "INSERT INTO segment_days (page, day, segment, views, visitors) VALUES (?, ?, ?, ?, ?)", k.get(0), k.get(1), k.get(2),
                    (long) hits.size(), firstSegments.getOrDefault(k, 0L)));
            // And the first segment of a visitor's day by their site row.
            group(views, h -> List.of(h.day(), h.visitor(), segment.apply(h)), (k, hits) -> {
                if (!segment.apply(firstOfSite.get(List.of(hits.get(0).site(), k.get(0), k.get(1)))).equals(k.get(2))) {
                    insert(c, "INSERT INTO segment_visitors (day, visitor, segment) VALUES (?, ?, ?)", k.get(0), visitor((int) k.get(1)), k.get(2));
                }
            });
            // Two partitions' rows of a day and segment: read as their sum.
            // A visitor's first view of the site that day: their first segment.
            Map<List<?>, Long> firsts = new HashMap<>();
            group(views, h -> List.of(h.site(), h.day(), h.visitor()), (k, hits) ->
                    firsts.merge(List.of(k.get(1), segment.apply(hits.get(0)), hits.get(0).visitor() % 2), 1L, Long::sum));
            // A visitor's segment row repeats a column when one of their segments of the site that
            // day with a smaller id has the same value.
            String[] repeated = {"referrer", "source", "medium", "campaign"};
            Map<List<?>, long[]> repeats = new HashMap<>();
            group(views, h -> List.of(h.site(), h.day(), h.visitor()), (k, hits) -> {
                Map<Integer, Segment> of = new TreeMap<>();
                hits.forEach(h -> of.put(segment.apply(h), h.segment()));
                List<Segment> before = new ArrayList<>();
                for (Map.Entry<Integer, Segment> e : of.entrySet()) {
                    long[] r = repeats.computeIfAbsent(List.of(k.get(1), e.getKey(), (int) k.get(2) % 2), x -> new long[repeated.length]);
                    for (int i = 0; i < repeated.length; i++) {
                        String column = repeated[i];
                        if (before.stream().anyMatch(b -> b.get(column).equals(e.getValue().get(column)))) {
                            r[i]++;
                        }
                    }
                    before.add(e.getValue());
                }
            });
            group(views, h -> List.of(h.day(), segment.apply(h), h.visitor() % 2), (k, hits) -> {
                long[] r = repeats.getOrDefault(k, new long[repeated.length]);
                insert(c, "INSERT INTO site_segment_days (day, segment, partition_id, views, visitors, first_visitors, repeat_referrer,"
                        + " repeat_source, repeat_medium, repeat_campaign) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        k.get(0), k.get(1), k.get(2), (long) hits.size(), hits.stream().map(Hit::visitor).distinct().count(),
                        firsts.getOrDefault(k, 0L), r[0], r[1], r[2], r[3]);
            });
            group(views, h -> List.of(h.day(), h.visitor()), (k, hits) -> {
                List<Integer> of = hits.stream().map(segment).distinct().toList();
                if (of.size() > 1) {
                    for (int s : of) {
                        insert(c, "INSERT INTO multi_segment_visitors (day, visitor, segment) VALUES (?, ?, ?)", k.get(0),
                                visitor((int) k.get(1)), s);
                    }
                }
            });
            // Two partitions' rows of a site and day: read as their sum.
            group(views, h -> List.of(h.site(), h.day(), h.visitor() % 2), (k, hits) -> insert(c,
                    "INSERT INTO site_days (site, day, partition_id, views, visitors) VALUES (?, ?, ?, ?, ?)", k.get(0), k.get(1),
                    k.get(2), (long) hits.size(), hits.stream().map(Hit::visitor).distinct().count()));
            group(views, h -> List.of(h.site(), h.day(), h.visitor()), (k, hits) -> insert(c,
                    "INSERT INTO site_visitors (site, day, visitor, page, segment) VALUES (?, ?, ?, ?, ?)", k.get(0), k.get(1),
                    visitor((int) k.get(2)), page.apply(hits.get(0)), segment.apply(hits.get(0))));
            group(events, h -> List.of(page.apply(h), h.day(), segment.apply(h), h.event()), (k, hits) -> insert(c,
                    "INSERT INTO event_days (page, day, segment, name, events) VALUES (?, ?, ?, ?, ?)", k.get(0), k.get(1), k.get(2),
                    k.get(3), (long) hits.size()));
            group(events, h -> List.of(h.site(), h.day(), h.event(), h.visitor()), (k, hits) -> insert(c,
                    "INSERT INTO event_visitors (site, day, name, visitor) VALUES (?, ?, ?, ?)", k.get(0), k.get(1), k.get(2),
                    visitor((int) k.get(3))));
            long minute = NOW.toEpochMilli() / 60_000L;
            insert(c, "INSERT INTO recent_visitors (site, minute, visitor) VALUES (?, ?, ?)", "default", minute, visitor(1));
            insert(c, "INSERT INTO recent_visitors (site, minute, visitor) VALUES (?, ?, ?)", "default", minute - 1, visitor(1));
            insert(c, "INSERT INTO recent_visitors (site, minute, visitor) VALUES (?, ?, ?)", "default", minute - 2, visitor(2));
            insert(c, "INSERT INTO recent_visitors (site, minute, visitor) VALUES (?, ?, ?)", "default", minute - 4, visitor(3));
            insert(c, "INSERT INTO recent_visitors (site, minute, visitor) VALUES (?, ?, ?)", "default", minute - 5, visitor(4));
            insert(c, "INSERT INTO recent_visitors (site, minute, visitor) VALUES (?, ?, ?)", "other", minute, visitor(1));
        }
        return ds;
    }

    @FunctionalInterface
    private interface Rows {
        void write(List<?> key, List<Hit> hits) throws Exception;
    }

    private static void group(List<Hit> hits, Function<Hit, List<?>> key, Rows rows) throws Exception {
        for (var e : hits.stream().collect(Collectors.groupingBy(key, LinkedHashMap::new, Collectors.toList())).entrySet()) {
            rows.write(e.getKey(), e.getValue());
        }
    }

    private static String pick(Random random, String... values) {
        return values[random.nextInt(values.length)];
    }

    private static byte[] visitor(int n) {
        return ByteBuffer.allocate(16).putInt(12, n).array();
    }

    private static byte[] sha(String s) throws Exception {
        byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(UTF_8));
        return java.util.Arrays.copyOf(d, 16);
    }

    private static void insert(Connection c, String sql, Object... values) throws Exception {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < values.length; i++) {
                ps.setObject(i + 1, values[i]);
            }
            ps.executeUpdate();
        }
    }

    private String serve(DataSource store) {
        return serve(store, StatsQueries.BY_KEY_SHARE);
    }

    private String serve(DataSource store, double byKeyShare) {
        WebServer web = new WebServer();
        servers.add(web);
        List<Goal> goals = List.of(Goal.parse("Signup=event:signup"), Goal.parse("Docs=page:/docs/*"));
        new StatsApi(store, Access.OPEN, goals, Clock.fixed(NOW, ZoneOffset.UTC), byKeyShare).routes(web);
        return "http://127.0.0.1:" + web.start("127.0.0.1", 0);
    }

    private static HttpResponse<String> send(String base, String pathAndQuery) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + pathAndQuery)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString(UTF_8));
    }

    private static JsonNode get(String base, String pathAndQuery) throws Exception {
        HttpResponse<String> r = send(base, pathAndQuery);
        assertThat(r.statusCode()).as("%s: %s", pathAndQuery, r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private static String text(String base, String pathAndQuery) throws Exception {
        HttpResponse<String> r = send(base, pathAndQuery);
        assertThat(r.statusCode()).as("%s: %s", pathAndQuery, r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/csv; charset=utf-8");
        return r.body();
    }
}
