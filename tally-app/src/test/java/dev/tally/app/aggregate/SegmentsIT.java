package dev.tally.app.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.app.Databases;
import dev.tally.app.event.Dimensions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The segment dictionary against a real store: a batch of 5 000 new segments and 20 stored by
 * an earlier transaction but unknown to this process's cache gets the one id of each, the stored
 * ones their old ids; on PostgreSQL, with 50 000 segments stored, without a sequential scan of
 * {@code segments} ({@code pg_stat_xact_user_tables}): the insert hands back the new ones' ids,
 * and only the few it met are read, by key.
 */
class SegmentsIT {

    private static final int STORED = 50_000;

    @RegisterExtension
    final Databases stores = new Databases();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void newAndStoredSegmentsGetTheirOneIdByKey(String database) throws Exception {
        String url = Store.url(stores.jdbcUrl(database));
        Aggregator.migrate(url);
        try (Connection c = DriverManager.getConnection(url)) {
            c.setAutoCommit(false);
            List<Segments.Segment> stored = new ArrayList<>();
            for (int i = 0; i < STORED; i++) {
                stored.add(segment("r" + i + ".example", i % 3 == 0 ? "news" : null));
            }
            Map<Segments.Segment, Integer> first = new Segments().resolve(c, stored);
            c.commit();
            assertThat(new HashSet<>(first.values())).hasSize(STORED);

            List<Segments.Segment> batch = new ArrayList<>();
            for (int i = 0; i < STORED; i += 2_500) {
                batch.add(segment("r" + i + ".example", i % 3 == 0 ? "news" : null));
            }
            for (int i = 0; i < 5_000; i++) {
                batch.add(segment("n" + i + ".example", "ads"));
            }
            Map<Segments.Segment, Integer> second = new Segments().resolve(c, batch);
            long scans = database.equals("postgresql") ? seqScans(c) : 0;
            c.commit();
            for (int i = 0; i < STORED; i += 2_500) {
                Segments.Segment s = segment("r" + i + ".example", i % 3 == 0 ? "news" : null);
                assertThat(second.get(s)).as("the stored id of %s", s).isEqualTo(first.get(s));
            }
            assertThat(new HashSet<>(second.values())).hasSize(batch.size());
            assertThat(batch.stream().filter(s -> !first.containsKey(s)).map(second::get).toList())
                    .as("the new segments' ids").doesNotContainAnyElementsOf(first.values());
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM segments")) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(STORED + 5_000);
            }
            assertThat(scans).as("sequential scans of segments in the second transaction").isZero();
        }
    }

    private static Segments.Segment segment(String referrer, String source) {
        return new Segments.Segment("blog", referrer, new Dimensions(source, null, null, "Firefox", "132", null, null, "desktop", "DE"));
    }

    private static long seqScans(Connection c) throws Exception {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'segments'")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
