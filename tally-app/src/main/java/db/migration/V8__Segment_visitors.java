package db.migration;

import dev.tally.app.aggregate.Generation;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * Filtered visitors as sums of counters, on SQLite and PostgreSQL alike, for every generation
 * not dropped:
 *
 * <ul>
 *   <li>{@code page_visitors.segment}: the segment of the visitor's first stored view of the page
 *       that day;</li>
 *   <li>{@code segment_days.visitors}: the page's visitors held in that segment; its index by
 *       {@code day} becomes one by {@code (segment, day)}, since site-wide reads by day go to
 *       {@code site_segment_days} now and a page breakdown under a filter reads a few segments;</li>
 *   <li>{@code site_segment_days}: per day and segment, a row per Kafka partition so that
 *       consumers never contend for one: views; visitors, the rows {@code segment_visitors}
 *       gained; first visitors, the rows {@code site_visitors} gained, in the segment of the
 *       visitor's first stored view of the site that day;</li>
 *   <li>{@code multi_segment_visitors}: the {@code segment_visitors} rows of the visitors with
 *       more than one that day.</li>
 * </ul>
 *
 * Each is filled from the rows there are: {@code site_segment_days} sums {@code segment_days}
 * and counts {@code segment_visitors} in partition 0's row (a visitor's first segment taken as
 * the smallest), {@code multi_segment_visitors} copies the rows of the visitors of more than one
 * segment, and each {@code page_visitors} row gets the
 * smallest of its visitor's segments that day that has a {@code segment_days} row for the page
 * (which segment came first was never stored; exact for what the visitor hash fixes), 0 if none,
 * and is counted there in {@code segment_days.visitors}.
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
        List<Generation> generations = V6__Dimensions.liveGenerations(c).stream().map(Generation::new).toList();
        try (Statement s = c.createStatement()) {
            for (Generation g : generations) {
                String suffix = g.number() == 1 ? "" : "_g" + g.number();
                String pv = g.table("page_visitors");
                String sd = g.table("segment_days");
                s.execute("ALTER TABLE " + pv + " ADD COLUMN segment INTEGER NOT NULL DEFAULT 0");
                s.execute("ALTER TABLE " + sd + " ADD COLUMN visitors BIGINT NOT NULL DEFAULT 0");
                String dayIndex = dayIndex(c, sqlite ? "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql LIKE '%(day)'"
                        : "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ? AND indexdef LIKE '%(day)'", sd);
                if (dayIndex != null) {
                    s.execute("DROP INDEX " + dayIndex);
                }
                s.execute("CREATE INDEX segment_days_segment" + suffix + " ON " + sd + " (segment, day)");
                s.execute("CREATE TABLE " + g.table("site_segment_days") + " (day INTEGER NOT NULL, segment INTEGER NOT NULL,"
                        + " partition_id INTEGER NOT NULL, views BIGINT NOT NULL, visitors BIGINT NOT NULL, first_visitors BIGINT NOT NULL,"
                        + " PRIMARY KEY (day, segment, partition_id))" + counters);
                s.execute("CREATE TABLE " + g.table("multi_segment_visitors") + " (day INTEGER NOT NULL, visitor " + bytes + " NOT NULL,"
                        + " segment INTEGER NOT NULL, PRIMARY KEY (day, visitor, segment))" + withoutRowid);

                for (String sql : fill(g.table("page_visitors"), sd, g.table("segment_visitors"), g.table("site_segment_days"),
                        g.table("multi_segment_visitors"), bytes, false)) {
                    s.execute(sql);
                }
            }
        }
    }

    /**
     * The name of {@code table}'s index on {@code (day)} alone, found by {@code query} (the
     * table's name its one parameter), or {@code null}: migration 6 named it, but a replay's copy
     * of the table may name it otherwise.
     */
    public static String dayIndex(Connection c, String query, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(query)) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /**
     * The statements that fill migration 8's columns and tables from the rows there are, in
     * order; {@code mysql} for MySQL's spelling of an update through a join.
     */
    public static List<String> fill(String pv, String sd, String sv, String ssd, String multi, String bytes, boolean mysql) {
        List<String> sql = new ArrayList<>();
        // A visitor's first segment of the day taken as the smallest (a visitor hash is the collector's for one site).
        sql.add("INSERT INTO " + ssd + " (day, segment, partition_id, views, visitors, first_visitors)"
                + " SELECT day, segment, 0, SUM(views), SUM(visitors), SUM(first_visitors) FROM ("
                + "SELECT day, segment, views, 0 AS visitors, 0 AS first_visitors FROM " + sd
                + " UNION ALL SELECT day, segment, 0, 1, 0 FROM " + sv
                + " UNION ALL SELECT day, MIN(segment), 0, 0, 1 FROM " + sv + " GROUP BY day, visitor) u GROUP BY day, segment");
        sql.add("INSERT INTO " + multi + " (day, visitor, segment) SELECT x.day, x.visitor, x.segment FROM " + sv + " x"
                + " JOIN (SELECT day, visitor FROM " + sv + " GROUP BY day, visitor HAVING COUNT(*) > 1) m"
                + " ON m.day = x.day AND m.visitor = x.visitor");
        // Chosen into temporary tables first: the choice reads segment_days, which the last update changes.
        sql.add("CREATE TEMPORARY TABLE v8_first_segments (page INTEGER NOT NULL, day INTEGER NOT NULL, visitor " + bytes + " NOT NULL,"
                + " segment INTEGER NOT NULL, PRIMARY KEY (page, day, visitor))");
        sql.add("INSERT INTO v8_first_segments (page, day, visitor, segment)"
                + " SELECT v.page, v.day, v.visitor, MIN(x.segment) FROM " + pv + " v"
                + " JOIN " + sv + " x ON x.day = v.day AND x.visitor = v.visitor"
                + " JOIN " + sd + " d ON d.page = v.page AND d.day = v.day AND d.segment = x.segment"
                + " GROUP BY v.page, v.day, v.visitor");
        sql.add("CREATE TEMPORARY TABLE v8_segment_day_visitors (page INTEGER NOT NULL, day INTEGER NOT NULL,"
                + " segment INTEGER NOT NULL, visitors BIGINT NOT NULL, PRIMARY KEY (page, day, segment))");
        sql.add("INSERT INTO v8_segment_day_visitors (page, day, segment, visitors)"
                + " SELECT page, day, segment, COUNT(*) FROM v8_first_segments GROUP BY page, day, segment");
        if (mysql) {
            sql.add("UPDATE " + pv + " v JOIN v8_first_segments f ON f.page = v.page AND f.day = v.day AND f.visitor = v.visitor"
                    + " SET v.segment = f.segment");
            sql.add("UPDATE " + sd + " d JOIN v8_segment_day_visitors f ON f.page = d.page AND f.day = d.day AND f.segment = d.segment"
                    + " SET d.visitors = f.visitors");
        } else {
            sql.add("UPDATE " + pv + " SET segment = f.segment FROM v8_first_segments f"
                    + " WHERE f.page = " + pv + ".page AND f.day = " + pv + ".day AND f.visitor = " + pv + ".visitor");
            sql.add("UPDATE " + sd + " SET visitors = f.visitors FROM v8_segment_day_visitors f"
                    + " WHERE f.page = " + sd + ".page AND f.day = " + sd + ".day AND f.segment = " + sd + ".segment");
        }
        sql.add("DROP " + (mysql ? "TEMPORARY " : "") + "TABLE v8_first_segments");
        sql.add("DROP " + (mysql ? "TEMPORARY " : "") + "TABLE v8_segment_day_visitors");
        return sql;
    }
}
