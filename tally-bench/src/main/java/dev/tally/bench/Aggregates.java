package dev.tally.bench;

import dev.tally.app.event.Dimensions;
import dev.tally.app.event.PageView;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The application's aggregates, held in memory: views per page and hour, per page, per page and
 * day, per referrer host and day, per page, day and segment (the site, the referrer's host and
 * every dimension of event format v2), per site and day; and exact distinct visitors per page and
 * day, per segment and day, per site and day. It is the reference every exact contender is
 * compared with, the plain consumer's own state, and what is read back from a store
 * ({@link StoreReader}).
 */
final class Aggregates {

    record PageHour(String site, String path, long hour) {}

    record Page(String site, String path) {}

    record HostDay(String site, String host, long day) {}

    record PageDay(String site, String path, long day) {}

    record Visit(String site, String path, long day, String visitor) {}

    /** Everything a view arrives with that the dashboard filters by; {@code ""} for unknown. */
    record Segment(String site, String referrer, String source, String medium, String campaign, String browser,
            String browserVersion, String os, String osVersion, String device, String country) {

        static final int FIELDS = 11;

        static Segment of(PageView v, String host) {
            Dimensions d = v.dimensions();
            return new Segment(v.site(), text(host), text(d.source()), text(d.medium()), text(d.campaign()), text(d.browser()),
                    text(d.browserVersion()), text(d.os()), text(d.osVersion()), text(d.device()), text(d.country()));
        }

        /** The segment of {@link #key}'s fields, from {@code f[from]} on. */
        static Segment parse(String[] f, int from) {
            return new Segment(f[from], f[from + 1], f[from + 2], f[from + 3], f[from + 4], f[from + 5], f[from + 6],
                    f[from + 7], f[from + 8], f[from + 9], f[from + 10]);
        }

        /** The fields, tab-separated (no field of an accepted event holds a control character). */
        String key() {
            return String.join("\t", site, referrer, source, medium, campaign, browser, browserVersion, os, osVersion, device, country);
        }

        private static String text(String s) {
            return s == null ? "" : s;
        }
    }

    record SegmentView(String site, String path, long day, Segment segment) {}

    record SegmentDay(Segment segment, long day) {}

    record SegmentVisit(Segment segment, long day, String visitor) {}

    record SiteDay(String site, long day) {}

    record SiteVisit(String site, long day, String visitor) {}

    final Map<PageHour, long[]> hourly = new HashMap<>();
    final Map<Page, long[]> totals = new HashMap<>();
    final Map<PageDay, long[]> daily = new HashMap<>();
    final Map<HostDay, long[]> referrers = new HashMap<>();
    final Map<SegmentView, long[]> segments = new HashMap<>();
    final Map<SiteDay, long[]> sites = new HashMap<>();
    final Set<Visit> visits = new HashSet<>();
    final Set<SegmentVisit> segmentVisits = new HashSet<>();
    final Set<SiteVisit> siteVisits = new HashSet<>();
    /** Distinct visitors per page and day, when read from a store rather than built from visits. */
    final Map<PageDay, long[]> visitorCounts = new HashMap<>();
    /** The store's own count of distinct visitors per page and day ({@code page_days}), when read from a store. */
    final Map<PageDay, long[]> dailyVisitors = new HashMap<>();
    final Map<SegmentDay, long[]> segmentVisitorCounts = new HashMap<>();
    final Map<SiteDay, long[]> siteVisitorCounts = new HashMap<>();
    /** Read from a store, which keeps its own count of each page's visitors per day as well. */
    boolean fromStore;

    /** Counts one view whose referrer host is {@code host} ({@code null}: none). */
    void add(PageView v, String host) {
        long hour = v.timestamp() / Workload.HOUR * Workload.HOUR;
        long day = v.timestamp() / Workload.DAY * Workload.DAY;
        Segment segment = Segment.of(v, host);
        hourly.computeIfAbsent(new PageHour(v.site(), v.path(), hour), k -> new long[1])[0]++;
        totals.computeIfAbsent(new Page(v.site(), v.path()), k -> new long[1])[0]++;
        daily.computeIfAbsent(new PageDay(v.site(), v.path(), day), k -> new long[1])[0]++;
        segments.computeIfAbsent(new SegmentView(v.site(), v.path(), day, segment), k -> new long[1])[0]++;
        sites.computeIfAbsent(new SiteDay(v.site(), day), k -> new long[1])[0]++;
        if (host != null) {
            referrers.computeIfAbsent(new HostDay(v.site(), host, day), k -> new long[1])[0]++;
        }
        if (v.visitor() != null && !v.visitor().isEmpty()) {
            visits.add(new Visit(v.site(), v.path(), day, v.visitor()));
            segmentVisits.add(new SegmentVisit(segment, day, v.visitor()));
            siteVisits.add(new SiteVisit(v.site(), day, v.visitor()));
        }
    }

    /**
     * The keys a Kafka Streams application counts for one view: one per aggregate row it touches,
     * the type first ({@code h} hour, {@code t} total, {@code d} page-day, {@code s} segment-day,
     * {@code a} site-day, {@code r} referrer-day, {@code v}/{@code sv}/{@code av} a visitor of a
     * page, a segment, a site that day).
     */
    static List<String> streamKeys(PageView v) {
        long hour = v.timestamp() / Workload.HOUR * Workload.HOUR;
        long day = v.timestamp() / Workload.DAY * Workload.DAY;
        String host = v.referrerHost();
        String segment = Segment.of(v, host).key();
        List<String> keys = new ArrayList<>(10);
        keys.add("h\t" + v.site() + "\t" + v.path() + "\t" + hour);
        keys.add("t\t" + v.site() + "\t" + v.path());
        keys.add("d\t" + v.site() + "\t" + v.path() + "\t" + day);
        keys.add("s\t" + v.path() + "\t" + day + "\t" + segment);
        keys.add("a\t" + v.site() + "\t" + day);
        if (host != null) {
            keys.add("r\t" + v.site() + "\t" + host + "\t" + day);
        }
        if (v.visitor() != null && !v.visitor().isEmpty()) {
            keys.add("v\t" + v.site() + "\t" + v.path() + "\t" + day + "\t" + v.visitor());
            keys.add("sv\t" + day + "\t" + v.visitor() + "\t" + segment);
            keys.add("av\t" + v.site() + "\t" + day + "\t" + v.visitor());
        }
        return keys;
    }

    /** Adds what Kafka Streams counted under {@code key} (one of {@link #streamKeys}). */
    void addStreamCount(String key, long count) {
        String[] f = key.split("\t", -1);
        switch (f[0]) {
            case "h" -> add(hourly, new PageHour(f[1], f[2], Long.parseLong(f[3])), count);
            case "t" -> add(totals, new Page(f[1], f[2]), count);
            case "d" -> add(daily, new PageDay(f[1], f[2], Long.parseLong(f[3])), count);
            case "s" -> {
                Segment s = Segment.parse(f, 3);
                add(segments, new SegmentView(s.site(), f[1], Long.parseLong(f[2]), s), count);
            }
            case "a" -> add(sites, new SiteDay(f[1], Long.parseLong(f[2])), count);
            case "r" -> add(referrers, new HostDay(f[1], f[2], Long.parseLong(f[3])), count);
            case "v" -> add(visitorCounts, new PageDay(f[1], f[2], Long.parseLong(f[3])), 1);
            case "sv" -> add(segmentVisitorCounts, new SegmentDay(Segment.parse(f, 3), Long.parseLong(f[1])), 1);
            case "av" -> add(siteVisitorCounts, new SiteDay(f[1], Long.parseLong(f[2])), 1);
            default -> throw new IllegalStateException("unexpected key " + key);
        }
    }

    static void add(Map<?, long[]> map, Object key, long n) {
        @SuppressWarnings("unchecked")
        Map<Object, long[]> m = (Map<Object, long[]>) map;
        m.computeIfAbsent(key, k -> new long[1])[0] += n;
    }

    /** Distinct visitors per page and day. */
    Map<PageDay, Long> visitors() {
        Map<PageDay, Long> counts = new HashMap<>(plain(visitorCounts));
        for (Visit v : visits) {
            counts.merge(new PageDay(v.site(), v.path(), v.day()), 1L, Long::sum);
        }
        return counts;
    }

    Map<SegmentDay, Long> segmentVisitors() {
        Map<SegmentDay, Long> counts = new HashMap<>(plain(segmentVisitorCounts));
        for (SegmentVisit v : segmentVisits) {
            counts.merge(new SegmentDay(v.segment(), v.day()), 1L, Long::sum);
        }
        return counts;
    }

    Map<SiteDay, Long> siteVisitors() {
        Map<SiteDay, Long> counts = new HashMap<>(plain(siteVisitorCounts));
        for (SiteVisit v : siteVisits) {
            counts.merge(new SiteDay(v.site(), v.day()), 1L, Long::sum);
        }
        return counts;
    }

    long views() {
        return totals.values().stream().mapToLong(c -> c[0]).sum();
    }

    /** {@code null} when both hold the same aggregates, else what differs, in one line. */
    String difference(Aggregates actual) {
        String d = Objects.requireNonNullElse(compare("views_hourly", plain(hourly), plain(actual.hourly)), "");
        d += Objects.requireNonNullElse(compare("views_total", plain(totals), plain(actual.totals)), "");
        d += Objects.requireNonNullElse(compare("page_days", plain(daily), plain(actual.daily)), "");
        d += Objects.requireNonNullElse(compare("referrers_daily", plain(referrers), plain(actual.referrers)), "");
        d += Objects.requireNonNullElse(compare("segment_days", plain(segments), plain(actual.segments)), "");
        d += Objects.requireNonNullElse(compare("site_days", plain(sites), plain(actual.sites)), "");
        d += Objects.requireNonNullElse(compare("visitors_daily", visitors(), actual.visitors()), "");
        if (actual.fromStore) {
            d += Objects.requireNonNullElse(compare("page_days.visitors", visitors(), plain(actual.dailyVisitors)), "");
        }
        d += Objects.requireNonNullElse(compare("segment_visitors", segmentVisitors(), actual.segmentVisitors()), "");
        d += Objects.requireNonNullElse(compare("site_days.visitors", siteVisitors(), actual.siteVisitors()), "");
        return d.isEmpty() ? null : d.trim();
    }

    private static <K> Map<K, Long> plain(Map<K, long[]> counts) {
        Map<K, Long> m = new HashMap<>(counts.size() * 2);
        counts.forEach((k, v) -> m.put(k, v[0]));
        return m;
    }

    private static <K> String compare(String table, Map<K, Long> expected, Map<K, Long> actual) {
        if (expected.equals(actual)) {
            return null;
        }
        long wrong = 0;
        Object example = null;
        for (Map.Entry<K, Long> e : expected.entrySet()) {
            if (!e.getValue().equals(actual.get(e.getKey()))) {
                wrong++;
                if (example == null) {
                    example = e.getKey() + " expected " + e.getValue() + ", got " + actual.get(e.getKey());
                }
            }
        }
        long extra = actual.keySet().stream().filter(k -> !expected.containsKey(k)).count();
        return table + ": " + wrong + " wrong, " + extra + " unexpected keys (" + example + "); ";
    }
}
