package dev.tally.bench;

import dev.tally.app.aggregate.Aggregator;
import dev.tally.app.aggregate.PageGoals;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code bin/tally bench --api}: the answer times of the stats API over a month of a busy site.
 * A fresh PostgreSQL database gets the rows the aggregator would have written for {@code days}
 * days of {@code viewsPerDay} views over 10 000 pages (Zipf), 3 000 segments and a third as many
 * visitors as views — written by SQL, because counting that many events first would take the
 * better part of an hour — and its page goal registered as {@code serve} registers it (counted
 * from those rows), and {@code bin/tally serve} on it answers each dashboard query, one
 * at a time, {@link #TIMED} times after {@link #WARM_UP}. It reports; it asserts no time.
 */
final class ApiBench {

    static final int WARM_UP = 5;
    static final int TIMED = 50;
    /** How long one query may take in all before it is timed no more (after 5 timed requests). */
    static final long BUDGET_NANOS = 30_000_000_000L;
    private static final int PAGES = 10_000;
    private static final int SEGMENTS = 3_000;
    private static final String PAGE_GOAL = "/posts/1*";
    /** The sum of 1/p over the pages: a page's share of the views is 1 / (p * H). */
    private static final double H = harmonic(PAGES);

    private final PrintStream out;
    private final Path dir;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    ApiBench(PrintStream out, Path dir) {
        this.out = out;
        this.dir = dir;
    }

    /** 0 when every query answered 200, 1 otherwise. */
    int run(String postgres, int days, long viewsPerDay) throws Exception {
        out.printf("%n== api: %d days of %,d views/day, 10,000 pages, %,d segments, PostgreSQL; %d timed requests each, one at a time ==%n",
                days, viewsPerDay, SEGMENTS, TIMED);
        long today = System.currentTimeMillis() / Workload.DAY;
        long first = today - days + 1;
        try (Store store = Store.create(Store.Kind.POSTGRESQL, postgres, dir)) {
            Aggregator.migrate(store.jdbcUrl);
            long start = System.nanoTime();
            Map<String, Long> rows = fill(store.jdbcUrl, first, today, viewsPerDay);
            out.printf("  filled in %.0f s: %s%n", (System.nanoTime() - start) / 1e9, rows);
            try (CollectorBench.Server serve = new CollectorBench(out, dir).startServe(store.jdbcUrl,
                    "--goal", "Signup=event:signup", "--goal", "Pricing=page:" + PAGE_GOAL)) {
                String range = "site=blog&from=" + first * Workload.DAY + "&to=" + (today + 1) * Workload.DAY;
                boolean ok = true;
                out.printf("  %-72s %8s %8s %8s%n", "query (30-day range unless said)", "p50 ms", "p99 ms", "max ms");
                for (String q : queries(range)) {
                    ok &= time(serve.base(), q);
                }
                return ok ? 0 : 1;
            }
        }
    }

    private static List<String> queries(String range) {
        String page = "page=" + enc("/posts/1-a-title");
        return List.of(
                "/api/summary?" + range,
                "/api/summary?" + range + "&country=DE",
                "/api/summary?" + range + "&" + page + "&browser=Firefox",
                "/api/series?" + range + "&bucket=day",
                "/api/series?" + range + "&bucket=day&source=newsletter",
                "/api/top?" + range,
                "/api/breakdown?" + range + "&dimension=page",
                "/api/breakdown?" + range + "&dimension=referrer",
                "/api/breakdown?" + range + "&dimension=source",
                "/api/breakdown?" + range + "&dimension=browser",
                "/api/breakdown?" + range + "&dimension=os",
                "/api/breakdown?" + range + "&dimension=device",
                "/api/breakdown?" + range + "&dimension=country",
                "/api/breakdown?" + range + "&dimension=browser&country=DE",
                "/api/breakdown?" + range + "&dimension=page&referrer=ref-7.example",
                "/api/breakdown?" + range + "&dimension=event",
                "/api/goals?" + range,
                // Under filters a goal reads visitor rows: seconds, not milliseconds (see the README).
                "/api/goals?" + range + "&source=newsletter",
                "/api/goals?" + range + "&" + page,
                "/api/now?site=blog",
                "/api/views?site=blog&path=" + enc("/posts/1-a-title"));
    }

    private boolean time(URI base, String query) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(base.resolve(query)).timeout(Duration.ofSeconds(60)).build();
        long[] millis = new long[TIMED];
        int status = 0;
        int timed = 0;
        long deadline = System.nanoTime() + BUDGET_NANOS;
        // A slow query gets fewer timed requests (at least 5), so that one cannot hold the run for an hour.
        for (int i = -WARM_UP; i < TIMED && (i < 5 || System.nanoTime() < deadline); i++) {
            long start = System.nanoTime();
            HttpResponse<byte[]> r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
            long took = System.nanoTime() - start;
            status = r.statusCode();
            if (status != 200) {
                out.printf("  %-72s answered %d: %s%n", query, status, new String(r.body(), StandardCharsets.UTF_8));
                return false;
            }
            if (i >= 0) {
                millis[i] = took / 1_000_000;
                timed = i + 1;
            }
        }
        Arrays.sort(millis, 0, timed);
        out.printf("  %-72s %8d %8d %8d%s%n", query.replaceAll("from=\\d+&to=\\d+&?", "").replace("site=blog&", ""),
                millis[timed / 2], millis[(int) Math.ceil(timed * 0.99) - 1], millis[timed - 1], timed < TIMED ? "  (" + timed + " requests)" : "");
        return true;
    }

    /**
     * The rows of the aggregate tables for days {@code first}..{@code last}: page p gets
     * viewsPerDay / (p H) views a day, spread evenly over its hours and over up to 300 segments;
     * a day has viewsPerDay / 3 visitors, each with a first page and segment (in their site row, as
     * migration 12 keeps them) and one in 33 with a second segment, and
     * each page's visitors are 90 % of its views. Consistent enough for the queries to do their real work; not a workload to
     * check counts against.
     */
    private static Map<String, Long> fill(String jdbcUrl, long first, long last, long viewsPerDay) throws Exception {
        long visitorsPerDay = viewsPerDay / 3;
        double hourly = viewsPerDay / 24.0 / H;
        double daily = viewsPerDay / H;
        String days = "generate_series(" + first + ", " + last + ") d";
        String[] sql = {
            "INSERT INTO pages (site, path) SELECT 'blog', '/posts/' || p || '-a-title' FROM generate_series(1, " + PAGES + ") p",
            "INSERT INTO segments (hash, site, referrer, source, medium, campaign, browser, browser_version, os, os_version, device, country)"
                + " SELECT decode(md5(i::text), 'hex'), 'blog', CASE WHEN i % 3 = 0 THEN '' ELSE 'ref-' || (i % 200) || '.example' END,"
                + " CASE WHEN i % 13 = 0 THEN 'newsletter' ELSE '' END, CASE WHEN i % 13 = 0 THEN 'email' ELSE '' END,"
                + " CASE WHEN i % 26 = 0 THEN 'Winter Sale' ELSE '' END,"
                + " (ARRAY['Chrome','Firefox','Safari','Edge','Mobile Safari','Chrome Mobile'])[1 + i % 6], (120 + i % 12)::text,"
                + " (ARRAY['Windows','Mac OS X','Linux','Android','iOS'])[1 + (i / 6) % 5], '',"
                + " (ARRAY['desktop','mobile','tablet'])[1 + (i / 30) % 3],"
                + " (ARRAY['US','DE','GB','FR','IN','CA','NL','BR','JP','SE'])[1 + (i / 90) % 10]"
                + " FROM generate_series(1, " + SEGMENTS + ") i",
            "INSERT INTO page_hours (page, hour, views) SELECT p, h, round(" + hourly + " / p) FROM generate_series(1, " + PAGES + ") p,"
                + " generate_series(" + first * 24 + ", " + (last * 24 + 23) + ") h WHERE round(" + hourly + " / p) > 0",
            "INSERT INTO page_days (page, day, views, visitors) SELECT p, d, round(" + daily + " / p), ceil(0.9 * round(" + daily + " / p))"
                + " FROM generate_series(1, " + PAGES + ") p, " + days + " WHERE round(" + daily + " / p) > 0",
            "INSERT INTO page_totals (page, views) SELECT page, SUM(views) FROM page_days GROUP BY page",
            db.migration.V13__Page_weeks.fill("page_days", "page_weeks"),
            "INSERT INTO segment_days (page, day, segment, views, visitors) SELECT page, day, 1 + (page * 31 + k * 97) % " + SEGMENTS + ","
                + " greatest(1, views / least(views, 300)), ceil(0.9 * greatest(1, views / least(views, 300)))"
                + " FROM page_days, generate_series(1, least(views, 300)::int) k",
            "INSERT INTO page_visitors (page, day, visitor, segment) SELECT page, day, decode(md5(day || ':' || ((page::bigint * 7919 + k::bigint * 104729) % "
                + visitorsPerDay + ")), 'hex'), 1 + (page * 31 + (1 + k % 300) * 97) % " + SEGMENTS
                + " FROM page_days, generate_series(1, visitors::int) k",
            // A visitor's first page and segment of the day are in their site row (migration 12), pages
            // drawn about as often as they are viewed (log-uniform, so page p with a weight of 1 / p).
            "INSERT INTO site_visitors (site, day, visitor, page, segment) SELECT 'blog', d, decode(md5(d || ':' || v), 'hex'),"
                + " least(" + PAGES + ", floor(exp(ln(" + PAGES + " + 1) * ((v::bigint * 7919 + d::bigint * 104729) % 100003) / 100003.0)))::int,"
                + " 1 + v % " + SEGMENTS + " FROM " + days + ", generate_series(0, " + (visitorsPerDay - 1) + ") v",
            // One visitor in 33 also came with a second segment that day: segment_visitors holds that one.
            "INSERT INTO segment_visitors (day, visitor, segment) SELECT d, decode(md5(d || ':' || v), 'hex'), 1 + (7 * v + 1) % " + SEGMENTS
                + " FROM " + days + ", generate_series(0, " + (visitorsPerDay - 1) + ", 33) v",
            "INSERT INTO site_segment_days (day, segment, partition_id, views, visitors, first_visitors)"
                + " SELECT day, segment, 0, SUM(views), SUM(visitors), SUM(first_visitors) FROM (SELECT day, segment, views, 0 AS visitors,"
                + " 0 AS first_visitors FROM segment_days UNION ALL SELECT day, segment, 0, 1, 0 FROM segment_visitors"
                + " UNION ALL SELECT day, segment, 0, 1, 1 FROM site_visitors) u GROUP BY day, segment",
            "INSERT INTO multi_segment_visitors (day, visitor, segment) SELECT day, visitor, segment FROM segment_visitors"
                + " UNION SELECT f.day, f.visitor, f.segment FROM site_visitors f JOIN segment_visitors x ON x.day = f.day AND x.visitor = f.visitor",
            "INSERT INTO site_days (site, day, partition_id, views, visitors) SELECT 'blog', d, q, " + viewsPerDay / 4 + ", "
                + visitorsPerDay / 4 + " FROM " + days + ", generate_series(0, 3) q",
            "INSERT INTO referrers_daily (site, host, day, views) SELECT 'blog', 'ref-' || r || '.example', d::bigint * " + Workload.DAY
                + ", " + viewsPerDay / 300 + " FROM " + days + ", generate_series(0, 199) r",
            "INSERT INTO event_days (page, day, segment, name, events) SELECT 1 + (d * 7 + k) % 50, d, 1 + k * 11, 'signup', 20 + k"
                + " FROM " + days + ", generate_series(1, 40) k",
            "INSERT INTO event_visitors (site, day, name, visitor) SELECT 'blog', d, 'signup', decode(md5(d || ':' || v), 'hex')"
                + " FROM " + days + ", generate_series(0, " + visitorsPerDay / 100 + ") v",
        };
        Map<String, Long> counts = new LinkedHashMap<>();
        try (Connection c = DriverManager.getConnection(jdbcUrl); Statement s = c.createStatement()) {
            for (String q : sql) {
                String table = q.substring("INSERT INTO ".length(), q.indexOf(' ', "INSERT INTO ".length()));
                counts.merge(table, (long) s.executeUpdate(q), Long::sum);
            }
            // The repeat counters from the visitors of several segments, as migration 10 fills them.
            s.executeUpdate(db.migration.V10__Repeat_visitors.fill("site_segment_days", "multi_segment_visitors", false));
            // The page goal of the run's --goal, registered and counted as serve would do it.
            PageGoals.register(c, List.of(PAGE_GOAL));
            s.execute("VACUUM ANALYZE");
        }
        return counts;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static double harmonic(int n) {
        double h = 0;
        for (int i = 1; i <= n; i++) {
            h += 1.0 / i;
        }
        return h;
    }
}
