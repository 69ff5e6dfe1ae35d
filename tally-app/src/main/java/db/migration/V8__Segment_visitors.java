package db.migration;

import dev.tally.app.aggregate.Generation;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * Visitors per segment, on SQLite and PostgreSQL alike, for every generation not dropped:
 *
 * <ul>
 *   <li>{@code segment_days.visitors}: the visitors whose first stored view of the page that day
 *       came with the segment;</li>
 *   <li>{@code segment_visitor_days}: the rows {@code segment_visitors} gained, per day and
 *       segment, a row per Kafka partition so that consumers never contend for one;</li>
 *   <li>{@code multi_segment_visitors}: the (day, visitor) pairs with more than one row in
 *       {@code segment_visitors}.</li>
 * </ul>
 *
 * Each is filled from the rows there are: {@code segment_visitor_days} counts
 * {@code segment_visitors} in partition 0's row, {@code multi_segment_visitors} takes its
 * (day, visitor) pairs of more than one segment, and each {@code page_visitors} row adds one to
 * {@code segment_days.visitors} of the smallest segment among its visitor's segments of that day
 * that has a {@code segment_days} row for the page (which segment came first was never stored;
 * a {@code page_visitors} row with none adds nothing).
 */
public class V8__Segment_visitors extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        boolean sqlite = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT).contains("sqlite");
        String withoutRowid = sqlite ? " WITHOUT ROWID" : "";
        String bytes = sqlite ? "BLOB" : "BYTEA";
        // Counters are upserts that change only the count: room for heap-only updates, as migration 5 explains.
        String counters = sqlite ? withoutRowid : " WITH (fillfactor = " + V5__Room_for_updates.FILL_FACTOR + ")";
        List<Generation> generations = new ArrayList<>();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT generation FROM tally_generations WHERE state <> 'dropped' ORDER BY generation")) {
            while (rs.next()) {
                generations.add(new Generation(rs.getInt(1)));
            }
        }
        try (Statement s = c.createStatement()) {
            for (Generation g : generations) {
                s.execute("ALTER TABLE " + g.table("segment_days") + " ADD COLUMN visitors BIGINT NOT NULL DEFAULT 0");
                s.execute("CREATE TABLE " + g.table("segment_visitor_days") + " (day INTEGER NOT NULL, segment INTEGER NOT NULL,"
                        + " partition_id INTEGER NOT NULL, visitors BIGINT NOT NULL,"
                        + " PRIMARY KEY (day, segment, partition_id))" + counters);
                s.execute("CREATE TABLE " + g.table("multi_segment_visitors") + " (day INTEGER NOT NULL, visitor " + bytes + " NOT NULL,"
                        + " PRIMARY KEY (day, visitor))" + withoutRowid);

                s.executeUpdate("INSERT INTO " + g.table("segment_visitor_days") + " (day, segment, partition_id, visitors)"
                        + " SELECT day, segment, 0, COUNT(*) FROM " + g.table("segment_visitors") + " GROUP BY day, segment");
                s.executeUpdate("INSERT INTO " + g.table("multi_segment_visitors") + " (day, visitor)"
                        + " SELECT day, visitor FROM " + g.table("segment_visitors") + " GROUP BY day, visitor HAVING COUNT(*) > 1");
                // Counted into a temporary table first: the count reads segment_days itself, which the UPDATE then changes.
                s.execute("CREATE TEMPORARY TABLE v8_segment_day_visitors (page INTEGER NOT NULL, day INTEGER NOT NULL,"
                        + " segment INTEGER NOT NULL, visitors BIGINT NOT NULL, PRIMARY KEY (page, day, segment))");
                s.executeUpdate("INSERT INTO v8_segment_day_visitors (page, day, segment, visitors)"
                        + " SELECT page, day, segment, COUNT(*) FROM ("
                        + "SELECT v.page AS page, v.day AS day, MIN(sv.segment) AS segment FROM " + g.table("page_visitors") + " v"
                        + " JOIN " + g.table("segment_visitors") + " sv ON sv.day = v.day AND sv.visitor = v.visitor"
                        + " JOIN " + g.table("segment_days") + " d ON d.page = v.page AND d.day = v.day AND d.segment = sv.segment"
                        + " GROUP BY v.page, v.day, v.visitor) f GROUP BY page, day, segment");
                s.executeUpdate("UPDATE " + g.table("segment_days") + " SET visitors = f.visitors FROM v8_segment_day_visitors f"
                        + " WHERE f.page = " + g.table("segment_days") + ".page AND f.day = " + g.table("segment_days") + ".day"
                        + " AND f.segment = " + g.table("segment_days") + ".segment");
                s.execute("DROP TABLE v8_segment_day_visitors");
            }
        }
    }
}
