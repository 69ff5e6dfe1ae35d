package dev.tally.app.aggregate;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.app.Databases;
import dev.tally.app.event.PageView;
import dev.tally.app.event.PageViewDecoder;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Two consumers add a segment each, both of one source, to a visitor the site already has that
 * day, at the same moment, from other pages, referrers and partitions (so that no counter row of
 * theirs is shared): the second waits for the first's commit and counts its own as a repeat, so
 * the visitor counts once under the source, and {@code multi_segment_visitors} holds all three of
 * the visitor's segments; and two that see one new visitor on one page count them once there.
 * (SQLite has one writer at a time: nothing to race.)
 */
class RepeatVisitorsIT {

    private static final long TS = 1_700_000_000_000L;

    @RegisterExtension
    final Databases stores = new Databases();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"postgresql", "mariadb"})
    void twoBatchesAddingSegmentsToOneVisitorAtOnceSeeEachOther(String database) throws Exception {
        DataSource ds = stores.dataSource(database);
        // The aggregator's own connections: on MariaDB an insert that meets its row must count 0 (Store.url).
        String url = Store.url(stores.jdbcUrl(database));
        Aggregator.migrate(url);
        try (Connection c = DriverManager.getConnection(url)) {
            write(c, view("/c", "https://c.example/", "ads", "v1"), 2);
            c.commit();
            // The pages and segments exist already (another visitor's), so that the two batches
            // below add nothing to the dictionaries either.
            write(c, view("/a", "https://a.example/", "news", "v2"), 0);
            c.commit();
            write(c, view("/b", "https://b.example/", "news", "v2"), 1);
            c.commit();
        }
        try (Connection first = DriverManager.getConnection(url); Connection second = DriverManager.getConnection(url)) {
            write(first, view("/a", "https://a.example/", "news", "v1"), 0);
            CompletableFuture<Void> other = CompletableFuture.runAsync(() -> {
                try {
                    write(second, view("/b", "https://b.example/", "news", "v1"), 1);
                    second.commit();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            // The second batch is well under way (waiting, with the lock) before the first commits.
            Thread.sleep(1_000);
            first.commit();
            other.get(30, TimeUnit.SECONDS);
        }
        assertThat(one(ds, "SELECT SUM(v.visitors - v.repeat_source) FROM site_segment_days v JOIN segments s ON s.id = v.segment"
                + " WHERE s.source = 'news'")).as("visitors from the news").isEqualTo(2);
        assertThat(one(ds, "SELECT SUM(v.visitors - v.repeat_source) FROM site_segment_days v JOIN segments s ON s.id = v.segment"
                + " WHERE s.source = 'ads'")).as("visitors from ads").isEqualTo(1);
        assertThat(one(ds, "SELECT COUNT(*) FROM multi_segment_visitors")).as("v1's three segments, v2's two").isEqualTo(5);
    }

    /**
     * Two consumers see one new visitor at the same moment on the same page, the second on
     * another page too: the first's site row holds that page as the visitor's first (no
     * {@code page_visitors} row), the second waits for its commit and adds only the other page.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"postgresql", "mariadb"})
    void twoBatchesWithOneNewVisitorOnOnePageCountThemOnce(String database) throws Exception {
        DataSource ds = stores.dataSource(database);
        String url = Store.url(stores.jdbcUrl(database));
        Aggregator.migrate(url);
        try (Connection first = DriverManager.getConnection(url); Connection second = DriverManager.getConnection(url)) {
            write(first, view("/a", "https://a.example/", "news", "v1"), 0);
            CompletableFuture<Void> other = CompletableFuture.runAsync(() -> {
                try {
                    second.setAutoCommit(false);
                    new PageViewAggregator().write(List.of(view("/a", "https://b.example/", "ads", "v1"),
                            view("/b", "https://b.example/", "ads", "v1")), 1, second);
                    second.commit();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(1_000);
            first.commit();
            other.get(30, TimeUnit.SECONDS);
        }
        assertThat(one(ds, "SELECT SUM(visitors) FROM page_days d JOIN pages p ON p.id = d.page WHERE p.path = '/a'")).isEqualTo(1);
        assertThat(one(ds, "SELECT SUM(visitors) FROM page_days d JOIN pages p ON p.id = d.page WHERE p.path = '/b'")).isEqualTo(1);
        assertThat(one(ds, "SELECT SUM(visitors) FROM site_days")).isEqualTo(1);
        assertThat(one(ds, "SELECT COUNT(*) FROM site_visitors v JOIN pages p ON p.id = v.page WHERE p.path = '/a'")).isEqualTo(1);
        assertThat(one(ds, "SELECT COUNT(*) FROM page_visitors v JOIN pages p ON p.id = v.page WHERE p.path = '/b'")).isEqualTo(1);
        assertThat(one(ds, "SELECT COUNT(*) FROM page_visitors")).isEqualTo(1);
    }

    private static PageView view(String path, String referrer, String source, String visitor) throws Exception {
        String json = "{\"v\":2,\"path\":\"" + path + "\",\"ts\":" + TS + ",\"visitor\":\"" + visitor + "\",\"referrer\":\"" + referrer + "\",\"source\":\"" + source + "\"}";
        return new PageViewDecoder().decode(json.getBytes(UTF_8), TS);
    }

    /** One batch's writes on {@code c} of a record of {@code partition}, left uncommitted. */
    private static void write(Connection c, PageView view, int partition) throws Exception {
        c.setAutoCommit(false);
        new PageViewAggregator().write(List.of(view), partition, c);
    }

    private static long one(DataSource ds, String sql) throws Exception {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
