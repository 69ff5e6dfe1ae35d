package dev.tally.bench;

import dev.tally.app.event.PageView;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The application's aggregates, held in memory: views per page and hour, views per page, views
 * per referrer host and day, and exact distinct visitors per page and day. It is the reference
 * every exact contender is compared with, the plain consumer's own state, and what is read back
 * from a store ({@link StoreReader}).
 */
final class Aggregates {

    record PageHour(String site, String path, long hour) {}

    record Page(String site, String path) {}

    record HostDay(String site, String host, long day) {}

    record PageDay(String site, String path, long day) {}

    record Visit(String site, String path, long day, String visitor) {}

    final Map<PageHour, long[]> hourly = new HashMap<>();
    final Map<Page, long[]> totals = new HashMap<>();
    final Map<HostDay, long[]> referrers = new HashMap<>();
    final Set<Visit> visits = new HashSet<>();
    /** Distinct visitors per page and day, when read from a store rather than built from visits. */
    final Map<PageDay, long[]> visitorCounts = new HashMap<>();

    /** Counts one view whose referrer host is {@code host} ({@code null}: none). */
    void add(PageView v, String host) {
        long hour = v.timestamp() / Workload.HOUR * Workload.HOUR;
        long day = v.timestamp() / Workload.DAY * Workload.DAY;
        hourly.computeIfAbsent(new PageHour(v.site(), v.path(), hour), k -> new long[1])[0]++;
        totals.computeIfAbsent(new Page(v.site(), v.path()), k -> new long[1])[0]++;
        if (host != null) {
            referrers.computeIfAbsent(new HostDay(v.site(), host, day), k -> new long[1])[0]++;
        }
        if (v.visitor() != null && !v.visitor().isEmpty()) {
            visits.add(new Visit(v.site(), v.path(), day, v.visitor()));
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

    long views() {
        return totals.values().stream().mapToLong(c -> c[0]).sum();
    }

    /** {@code null} when both hold the same aggregates, else what differs, in one line. */
    String difference(Aggregates actual) {
        String d = Objects.requireNonNullElse(compare("views_hourly", plain(hourly), plain(actual.hourly)), "");
        d += Objects.requireNonNullElse(compare("views_total", plain(totals), plain(actual.totals)), "");
        d += Objects.requireNonNullElse(compare("referrers_daily", plain(referrers), plain(actual.referrers)), "");
        d += Objects.requireNonNullElse(compare("visitors_daily", visitors(), actual.visitors()), "");
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
