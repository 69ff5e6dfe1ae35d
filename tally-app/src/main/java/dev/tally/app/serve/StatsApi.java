package dev.tally.app.serve;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.tally.app.aggregate.PageGoals;
import dev.tally.app.http.Replies;
import dev.tally.app.http.WebServer;
import dev.tally.app.serve.StatsQueries.Conversions;
import dev.tally.app.serve.StatsQueries.PageStats;
import dev.tally.app.serve.StatsQueries.PropValue;
import dev.tally.app.serve.StatsQueries.Ranked;
import dev.tally.app.serve.StatsQueries.Row;
import dev.tally.app.serve.StatsQueries.Totals;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * The read side of the page-view application: the stats API over the aggregate tables, the
 * tracking snippet blogs embed and the dashboard.
 *
 * <p>Each API request is checked on the event loop (a bad parameter is a 400 that never touches
 * the database), then read on a worker thread through {@link WebServer#blocking}, so that a slow
 * or failing store costs a worker, not the event loop, and turns into a generic 503. Every
 * {@code /api/*} answer may be read from any origin: a blog on another host shows its counter.
 */
public final class StatsApi {

    /** Counts change every few seconds; ten seconds of caching spares the store a front page's widgets. */
    static final String API_CACHE = "public, max-age=10, stale-while-revalidate=60";
    /** The same for answers behind a secret: no shared cache may keep them. */
    static final String PRIVATE_CACHE = "private, max-age=10";

    /** "Now" is the visitors of the last five minutes. */
    static final int NOW_MINUTES = 5;

    private static final JsonFactory JSON = new JsonFactory();
    private static final String JSON_TYPE = "application/json; charset=utf-8";
    private static final String CSV_TYPE = "text/csv; charset=utf-8";

    private final StatsQueries queries;
    private final Access access;
    private final Clock clock;
    private final List<Goal> goals;
    private final Buffer snippet = resource("/web/tally.js");
    private final Buffer dashboard = resource("/web/index.html");
    private final String dashboardPolicy = dashboardPolicy(dashboard.toString(StandardCharsets.UTF_8));

    /** What an endpoint answers once read: a body and its type. */
    private record Answer(String contentType, String body) {}

    /** Checks a request's parameters (throwing {@link BadParameterException}) and returns the read to run. */
    @FunctionalInterface
    private interface Endpoint {
        Callable<Answer> prepare(StatsParams params);
    }

    @FunctionalInterface
    private interface JsonBody {
        void write(JsonGenerator g) throws IOException;
    }

    /** The API over {@code store}, open to all. */
    public StatsApi(DataSource store) {
        this(store, Access.OPEN);
    }

    /**
     * @param access who may read the dashboard and every endpoint but {@code /api/views} (the
     *     widget a blog's readers load) and {@code /tally.js}, which stay open to all
     */
    public StatsApi(DataSource store, Access access) {
        this(store, access, Clock.systemUTC());
    }

    StatsApi(DataSource store, Clock clock) {
        this(store, Access.OPEN, clock);
    }

    /**
     * @param access who may read the dashboard and every endpoint but {@code /api/views}
     * @param goals the conversion goals of {@code /api/goals} ({@code --goal})
     */
    public StatsApi(DataSource store, Access access, List<Goal> goals) {
        this(store, access, goals, Clock.systemUTC());
    }

    StatsApi(DataSource store, Access access, Clock clock) {
        this(store, access, List.of(), clock);
    }

    StatsApi(DataSource store, Access access, List<Goal> goals, Clock clock) {
        this(store, access, goals, clock, StatsQueries.BY_KEY_SHARE);
    }

    /** As the store's tests need it: with {@link StatsQueries}' share of visitors looked up by key. */
    StatsApi(DataSource store, Access access, List<Goal> goals, Clock clock, double byKeyShare) {
        this.queries = new StatsQueries(store, registered(store, goals), byKeyShare);
        this.access = access;
        this.goals = List.copyOf(goals);
        this.clock = clock;
    }

    /**
     * Registers the page goals with the store, whose aggregators count them from then on (see
     * {@link PageGoals}): their ids by pattern.
     */
    private static Map<String, Integer> registered(DataSource store, List<Goal> goals) {
        List<String> patterns = goals.stream().filter(g -> g.kind().equals("page")).map(Goal::match).toList();
        if (patterns.isEmpty()) {
            return Map.of();
        }
        try (Connection c = store.getConnection()) {
            return PageGoals.register(c, patterns);
        } catch (SQLException e) {
            throw new IllegalStateException("registering the page goals failed: " + e.getMessage(), e);
        }
    }

    public void routes(WebServer web) {
        web.route("/api/views", api(web, this::views, false));
        web.route("/api/top", api(web, this::top, true));
        web.route("/api/series", api(web, this::series, true));
        web.route("/api/referrers", api(web, this::referrers, true));
        web.route("/api/summary", api(web, this::summary, true));
        web.route("/api/breakdown", api(web, this::breakdown, true));
        web.route("/api/goals", api(web, this::goals, true));
        web.route("/api/now", api(web, this::now, true));
        web.route("/api/props", api(web, this::props, true));
        web.route("/api/sites", sites(web));
        web.route("/tally.js", file(snippet, "application/javascript; charset=utf-8", "public, max-age=3600", false));
        web.route("/", file(dashboard, "text/html; charset=utf-8", "no-cache", true));
    }

    /**
     * Whether {@code request} may be answered; if not, it is answered 401 with a Basic challenge.
     * Checked before the parameters, so that without the secret nothing about them is told.
     */
    private boolean admitted(HttpServerRequest request) {
        if (access.isOpen()) {
            return true;
        }
        String site;
        try {
            site = QueryString.parse(request.query()).get("site");
        } catch (BadParameterException e) {
            site = "?"; // no site label: never a public one
        }
        if (access.allows(site, request.getHeader("Authorization"))) {
            return true;
        }
        request.response().putHeader("WWW-Authenticate", "Basic realm=\"Tally\", charset=\"UTF-8\"")
                .putHeader("Cache-Control", "no-store");
        Replies.error(request, 401, "these stats are private: give the dashboard password (HTTP Basic) or a token"
                + " (Authorization: Bearer)");
        return false;
    }

    /** {@code /api/views?path=&site=}: one page's counter. */
    private Callable<Answer> views(StatsParams p) {
        String path = p.path(true);
        String site = p.site();
        return () -> {
            PageStats s = queries.page(site, path);
            return json(g -> {
                g.writeStringField("path", path);
                g.writeStringField("site", site);
                g.writeNumberField("views", s.views());
                g.writeNumberField("visitors", s.visitors());
            });
        };
    }

    /** {@code /api/top?from=&to=&limit=&site=&format=}: the most viewed pages. */
    private Callable<Answer> top(StatsParams p) {
        String site = p.site();
        TimeRange range = p.ranking(Bucket.HOUR);
        int limit = p.limit();
        boolean csv = p.csv();
        return () -> {
            List<Ranked> pages = queries.top(site, range, limit);
            if (csv) {
                return csv(pages, "path");
            }
            return json(g -> {
                writeRange(g, range);
                writeRanking(g, "pages", "path", pages);
            });
        };
    }

    /**
     * {@code /api/series?path=&bucket=&from=&to=&site=&format=} and the filters: views per
     * bucket, every bucket, and with {@code bucket=day} the visitors of each day. Segment filters
     * are counted per day: with one, {@code bucket=hour} is a 400.
     */
    private Callable<Answer> series(StatsParams p) {
        String site = p.site();
        Filters filters = p.filters();
        String path = filters.page();
        Bucket bucket = p.bucket();
        if (bucket == Bucket.HOUR && filters.bySegment()) {
            throw new BadParameterException("bucket=hour cannot be filtered by referrer, source, medium, campaign, browser,"
                    + " os, device or country: those are counted per day; use bucket=day");
        }
        SeriesRange series = p.series(bucket);
        boolean csv = p.csv();
        boolean days = bucket == Bucket.DAY;
        return () -> {
            // Days from the day tables (a month is 30 rows of site_days, not 720 hours of every page).
            Map<Long, Long> views = days ? new HashMap<>() : queries.series(site, path, series);
            Map<Long, Long> visitors = new HashMap<>();
            if (days) {
                DayRange range = new DayRange(series.first() / Bucket.DAY.millis, series.end() / Bucket.DAY.millis);
                queries.daily(site, range, filters, true).forEach((day, n) -> {
                    long t = day * Bucket.DAY.millis;
                    views.put(t, n[0]);
                    visitors.put(t, n[1]);
                });
            }
            if (csv) {
                Csv table = days ? new Csv("t", "views", "visitors") : new Csv("t", "views");
                for (int i = 0; i < series.count(); i++) {
                    long t = series.start(i);
                    if (days) {
                        table.row(Instant.ofEpochMilli(t), views.getOrDefault(t, 0L), visitors.getOrDefault(t, 0L));
                    } else {
                        table.row(Instant.ofEpochMilli(t), views.getOrDefault(t, 0L));
                    }
                }
                return new Answer(CSV_TYPE, table.toString());
            }
            return json(g -> {
                g.writeStringField("path", path);
                g.writeStringField("bucket", series.bucket().label());
                g.writeArrayFieldStart("points");
                for (int i = 0; i < series.count(); i++) {
                    long t = series.start(i);
                    g.writeStartObject();
                    g.writeNumberField("t", t);
                    g.writeNumberField("views", views.getOrDefault(t, 0L));
                    if (days) {
                        g.writeNumberField("visitors", visitors.getOrDefault(t, 0L));
                    }
                    g.writeEndObject();
                }
                g.writeEndArray();
            });
        };
    }

    /**
     * {@code /api/summary?site=&from=&to=} and the filters: views, visitors and events of the
     * whole UTC days of the period and of as many days just before it.
     */
    private Callable<Answer> summary(StatsParams p) {
        String site = p.site();
        Filters filters = p.filters();
        DayRange days = p.days();
        DayRange before = days.previous();
        boolean csv = p.csv();
        return () -> {
            Totals now = queries.totals(site, days, filters);
            Totals then = queries.totals(site, before, filters);
            if (csv) {
                Csv table = new Csv("period", "from", "to", "views", "visitors", "events");
                table.row("current", Instant.ofEpochMilli(days.fromMillis()), Instant.ofEpochMilli(days.toMillis()),
                        now.views(), now.visitors(), now.events());
                table.row("previous", Instant.ofEpochMilli(before.fromMillis()), Instant.ofEpochMilli(before.toMillis()),
                        then.views(), then.visitors(), then.events());
                return new Answer(CSV_TYPE, table.toString());
            }
            return json(g -> {
                writeTotals(g, days, now);
                g.writeStringField("granularity", "day");
                g.writeObjectFieldStart("previous");
                writeTotals(g, before, then);
                g.writeEndObject();
            });
        };
    }

    /**
     * {@code /api/breakdown?dimension=&limit=&site=&from=&to=&format=} and the filters: the values
     * of one dimension with most views (events), with their visitors.
     */
    private Callable<Answer> breakdown(StatsParams p) {
        String site = p.site();
        Filters filters = p.filters();
        Dimension dimension = p.dimension();
        DayRange days = p.days();
        int limit = p.limit();
        boolean csv = p.csv();
        String count = dimension == Dimension.EVENT ? "events" : "views";
        return () -> {
            List<Row> rows = queries.breakdown(site, days, filters, dimension, limit);
            if (csv) {
                Csv table = new Csv(dimension.label(), count, "visitors");
                for (Row r : rows) {
                    table.row(shown(r.value()), r.count(), r.visitors());
                }
                return new Answer(CSV_TYPE, table.toString());
            }
            return json(g -> {
                g.writeStringField("dimension", dimension.label());
                g.writeNumberField("from", days.fromMillis());
                g.writeNumberField("to", days.toMillis());
                g.writeArrayFieldStart("rows");
                for (Row r : rows) {
                    g.writeStartObject();
                    g.writeStringField("value", shown(r.value()));
                    g.writeNumberField(count, r.count());
                    g.writeNumberField("visitors", r.visitors());
                    g.writeEndObject();
                }
                g.writeEndArray();
            });
        };
    }

    /** {@code /api/goals?site=&from=&to=&format=} and the filters: each {@code --goal}'s visitors and conversion rate. */
    private Callable<Answer> goals(StatsParams p) {
        String site = p.site();
        Filters filters = p.filters();
        DayRange days = p.days();
        boolean csv = p.csv();
        return () -> {
            List<Conversions> rows = queries.goals(site, days, filters, goals);
            if (csv) {
                Csv table = new Csv("name", "kind", "match", "visitors", "conversion");
                for (Conversions r : rows) {
                    table.row(r.goal().name(), r.goal().kind(), r.goal().match(), r.visitors(), rate(r));
                }
                return new Answer(CSV_TYPE, table.toString());
            }
            return json(g -> {
                g.writeNumberField("from", days.fromMillis());
                g.writeNumberField("to", days.toMillis());
                g.writeArrayFieldStart("goals");
                for (Conversions r : rows) {
                    g.writeStartObject();
                    g.writeStringField("name", r.goal().name());
                    g.writeStringField("kind", r.goal().kind());
                    g.writeStringField("match", r.goal().match());
                    g.writeNumberField("visitors", r.visitors());
                    g.writeNumberField("conversion", rate(r));
                    g.writeEndObject();
                }
                g.writeEndArray();
            });
        };
    }

    /** {@code /api/now?site=}: the distinct visitors of the last five minutes (this one included). */
    private Callable<Answer> now(StatsParams p) {
        String site = p.site();
        long minute = Math.floorDiv(clock.millis(), 60_000L);
        return () -> {
            long visitors = queries.recentVisitors(site, minute - NOW_MINUTES + 1, minute);
            return json(g -> {
                g.writeNumberField("visitors", visitors);
                g.writeNumberField("minutes", NOW_MINUTES);
            });
        };
    }

    /** At most this many rows in a {@code /api/props} answer, whatever the properties. */
    static final int MAX_PROP_ROWS = 10_000;

    /**
     * {@code /api/props?event=&prop=&site=&from=&to=&limit=&format=}: the properties of one custom
     * event and, per property, its values with most events (at most {@code limit} each) over the
     * whole UTC days of the period. Properties are counted per site, day and event only, so a page
     * or segment filter is a 400 rather than an answer that ignores it.
     */
    private Callable<Answer> props(StatsParams p) {
        String site = p.site();
        String event = p.event();
        String prop = p.prop();
        p.unfiltered("event properties");
        DayRange days = p.days();
        int limit = p.limit();
        boolean csv = p.csv();
        return () -> {
            List<PropValue> rows = queries.props(site, days, event, prop, limit, MAX_PROP_ROWS);
            if (csv) {
                Csv table = new Csv("prop", "value", "events");
                for (PropValue r : rows) {
                    table.row(r.prop(), r.value(), r.events());
                }
                return new Answer(CSV_TYPE, table.toString());
            }
            return json(g -> {
                g.writeStringField("event", event);
                g.writeNumberField("from", days.fromMillis());
                g.writeNumberField("to", days.toMillis());
                g.writeStringField("granularity", "day");
                g.writeArrayFieldStart("props");
                String open = null;
                for (PropValue r : rows) {
                    if (!r.prop().equals(open)) {
                        if (open != null) {
                            g.writeEndArray();
                            g.writeEndObject();
                        }
                        open = r.prop();
                        g.writeStartObject();
                        g.writeStringField("prop", r.prop());
                        g.writeNumberField("events", r.propEvents());
                        g.writeArrayFieldStart("values");
                    }
                    g.writeStartObject();
                    g.writeStringField("value", r.value());
                    g.writeNumberField("events", r.events());
                    g.writeEndObject();
                }
                if (open != null) {
                    g.writeEndArray();
                    g.writeEndObject();
                }
                g.writeEndArray();
                g.writeBooleanField("truncated", rows.size() >= MAX_PROP_ROWS);
            });
        };
    }

    /**
     * {@code /api/sites}: the sites with data, for the dashboard's site picker. The list names
     * every site, so it is the owner's: with a secret configured, a request without it gets only
     * the {@code --public-sites} among them, and a 401 when there are none (a dashboard open to
     * all because its site is public must not make the browser ask for a password).
     */
    private Handler<HttpServerRequest> sites(WebServer web) {
        return request -> {
            boolean owner = access.owner(request.getHeader("Authorization"));
            api(web, p -> () -> {
                List<String> all = queries.sites(StatsParams.MAX_LIMIT);
                List<String> sites = owner ? all : all.stream().filter(access::isPublic).toList();
                return json(g -> {
                    g.writeArrayFieldStart("sites");
                    for (String site : sites) {
                        g.writeString(site);
                    }
                    g.writeEndArray();
                });
            }, owner || access.hasPublicSites() ? Guard.OPEN : Guard.SITE,
                    access.isOpen() ? API_CACHE : PRIVATE_CACHE).handle(request);
        };
    }

    /** A share rounded to four places: 0.1234. */
    private static double rate(Conversions r) {
        return r.of() == 0 ? 0 : Math.round(10_000.0 * r.visitors() / r.of()) / 10_000.0;
    }

    /** A stored dimension value as answered: {@code (none)} for unknown. */
    private static String shown(String value) {
        return value == null || value.isEmpty() ? Dimension.NONE : value;
    }

    private static void writeTotals(JsonGenerator g, DayRange days, Totals t) throws IOException {
        g.writeNumberField("from", days.fromMillis());
        g.writeNumberField("to", days.toMillis());
        g.writeNumberField("views", t.views());
        g.writeNumberField("visitors", t.visitors());
        g.writeNumberField("events", t.events());
    }

    /** {@code /api/referrers?from=&to=&limit=&site=&format=}: the hosts readers came from. */
    private Callable<Answer> referrers(StatsParams p) {
        String site = p.site();
        TimeRange range = p.ranking(Bucket.DAY);
        int limit = p.limit();
        boolean csv = p.csv();
        return () -> {
            List<Ranked> hosts = queries.referrers(site, range, limit);
            return csv ? csv(hosts, "host") : json(g -> writeRanking(g, "referrers", "host", hosts));
        };
    }

    /** Who may call an endpoint. */
    private enum Guard {
        /** Everyone: the widget's counter. */
        OPEN,
        /** Whoever may read the {@code site} asked for ({@link Access#allows}). */
        SITE
    }

    private Handler<HttpServerRequest> api(WebServer web, Endpoint endpoint, boolean guarded) {
        return api(web, endpoint, guarded ? Guard.SITE : Guard.OPEN, null);
    }

    /** @param cacheControl the answer's, {@code null} for the endpoint's own (private behind a secret) */
    private Handler<HttpServerRequest> api(WebServer web, Endpoint endpoint, Guard guard, String cacheControl) {
        boolean guarded = guard == Guard.SITE;
        return request -> {
            Replies.allowAnyOrigin(request);
            if (request.method() == HttpMethod.OPTIONS) {
                Replies.preflight(request, "GET");
                return;
            }
            if (request.method() != HttpMethod.GET && request.method() != HttpMethod.HEAD) {
                Replies.methodNotAllowed(request, "GET, HEAD, OPTIONS");
                return;
            }
            if (guarded && !admitted(request)) {
                return;
            }
            String cache = cacheControl != null ? cacheControl : guarded && !access.isOpen() ? PRIVATE_CACHE : API_CACHE;
            Callable<Answer> read;
            try {
                read = endpoint.prepare(new StatsParams(QueryString.parse(request.query())::get, clock.millis()));
            } catch (BadParameterException e) {
                Replies.error(request, 400, e.getMessage());
                return;
            }
            web.blocking(request, read, answer -> {
                if (!request.response().ended() && !request.response().closed()) {
                    request.response()
                            .putHeader("Content-Type", answer.contentType())
                            .putHeader("Cache-Control", cache);
                    end(request, Buffer.buffer(answer.body()));
                }
            });
        };
    }

    /**
     * The dashboard's Content-Security-Policy: nothing but its own inline script and style (each
     * allowed by the hash of its text, so that markup slipped into the page could not run), the
     * API of this origin, and no other page may frame it (clickjacking).
     */
    static String dashboardPolicy(String html) {
        return "default-src 'none'; script-src " + hashes(html, "script") + "; style-src " + hashes(html, "style")
                + "; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    }

    /** The CSP sources of every inline {@code <tag>} element of {@code html}: {@code 'sha256-…'} of its text. */
    private static String hashes(String html, String tag) {
        Matcher m = Pattern.compile("<" + tag + ">(.*?)</" + tag + ">", Pattern.DOTALL).matcher(html);
        StringJoiner sources = new StringJoiner(" ");
        while (m.find()) {
            try {
                byte[] digest = MessageDigest.getInstance("SHA-256").digest(m.group(1).getBytes(StandardCharsets.UTF_8));
                sources.add("'sha256-" + Base64.getEncoder().encodeToString(digest) + "'");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every Java has SHA-256", e);
            }
        }
        return sources.length() == 0 ? "'none'" : sources.toString();
    }

    private Handler<HttpServerRequest> file(Buffer body, String contentType, String cacheControl, boolean guarded) {
        return request -> {
            if (request.method() != HttpMethod.GET && request.method() != HttpMethod.HEAD) {
                Replies.methodNotAllowed(request, "GET, HEAD");
                return;
            }
            if (guarded && !admitted(request)) {
                return;
            }
            request.response()
                    .putHeader("Content-Type", contentType)
                    .putHeader("Cache-Control", cacheControl);
            if (contentType.startsWith("text/html")) {
                request.response()
                        .putHeader("Content-Security-Policy", dashboardPolicy)
                        .putHeader("X-Frame-Options", "DENY"); // browsers without frame-ancestors
            }
            end(request, body);
        };
    }

    /** Ends with {@code body}, or for {@code HEAD} with its length only: Vert.x would send the body. */
    private static void end(HttpServerRequest request, Buffer body) {
        if (request.method() == HttpMethod.HEAD) {
            request.response().putHeader("Content-Length", String.valueOf(body.length())).end();
        } else {
            request.response().end(body);
        }
    }

    private static void writeRange(JsonGenerator g, TimeRange range) throws IOException {
        if (range == null) {
            g.writeNullField("from");
            g.writeNullField("to");
        } else {
            g.writeNumberField("from", range.from());
            g.writeNumberField("to", range.to());
        }
    }

    private static void writeRanking(JsonGenerator g, String field, String key, List<Ranked> rows) throws IOException {
        g.writeArrayFieldStart(field);
        for (Ranked r : rows) {
            g.writeStartObject();
            g.writeStringField(key, r.key());
            g.writeNumberField("views", r.views());
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private static Answer csv(List<Ranked> rows, String key) {
        Csv table = new Csv(key, "views");
        for (Ranked r : rows) {
            table.row(r.key(), r.views());
        }
        return new Answer(CSV_TYPE, table.toString());
    }

    /** One JSON object holding what {@code body} writes. */
    private static Answer json(JsonBody body) throws IOException {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            body.write(g);
            g.writeEndObject();
        }
        return new Answer(JSON_TYPE, out.toString());
    }

    /** A file of the jar, read once: the snippet and the dashboard are small and never change while running. */
    private static Buffer resource(String name) {
        try (InputStream in = StatsApi.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is missing from the classpath");
            }
            return Buffer.buffer(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
