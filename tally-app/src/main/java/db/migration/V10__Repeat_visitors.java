package db.migration;

import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * The visitors {@code site_segment_days} counts more than once by one column, as counters, on
 * SQLite and PostgreSQL, for every generation not dropped: {@code repeat_referrer},
 * {@code repeat_source}, {@code repeat_medium} and {@code repeat_campaign}, each the visitors the
 * row's {@code visitors} holds who were already counted that day in another segment with the same
 * value of that column. A visitor with n segments of one referrer in a day is in n rows'
 * visitors and n - 1 rows' repeats, so the visitors of a referrer (or under a referrer filter) are
 * {@code SUM(visitors - repeat_referrer)}: no read of {@code multi_segment_visitors}. (What the
 * visitor hash fixes — browser, system, device, country — is the same in all of a visitor's
 * segments and needs no such column: {@code first_visitors} counts it.)
 *
 * <p>Filled from {@code multi_segment_visitors}, which holds every segment row of the visitors
 * with more than one: a row repeats a column when a segment of the same site with a smaller id of
 * the same visitor and day has the same value (one visitor hash may come from two sites). The counts go to partition 0's row.
 */
public class V10__Repeat_visitors extends BaseJavaMigration {

    /** The columns of {@code segments} whose values one visitor may have several of in a day. */
    public static final List<String> COLUMNS = List.of("referrer", "source", "medium", "campaign");

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        boolean sqlite = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT).contains("sqlite");
        try (Statement s = c.createStatement()) {
            for (int n : V6__Dimensions.liveGenerations(c)) {
                String g = n == 1 ? "" : "_g" + n;
                for (String column : COLUMNS) {
                    s.execute("ALTER TABLE site_segment_days" + g + " ADD COLUMN repeat_" + column + " BIGINT NOT NULL DEFAULT 0");
                }
                s.execute(fill("site_segment_days" + g, "multi_segment_visitors" + g, false));
            }
        }
    }

    /**
     * The statement that adds the repeats of {@code multi}'s rows to partition 0's rows of
     * {@code ssd}; {@code mysql} for MySQL's spelling of an upsert.
     */
    public static String fill(String ssd, String multi, boolean mysql) {
        StringBuilder sql = new StringBuilder("INSERT INTO " + ssd + " (day, segment, partition_id, views, visitors, first_visitors");
        COLUMNS.forEach(c -> sql.append(", repeat_").append(c));
        sql.append(") SELECT day, segment, 0, 0, 0, 0");
        COLUMNS.forEach(c -> sql.append(", SUM(").append(c).append(")"));
        // One join of each row with the visitor's rows of smaller segments that day, not a lookup per row and column.
        sql.append(" FROM (SELECT m.day, m.segment");
        COLUMNS.forEach(c -> sql.append(", MAX(CASE WHEN os.").append(c).append(" = s.").append(c).append(" THEN 1 ELSE 0 END) AS ").append(c));
        sql.append(" FROM ").append(multi).append(" m JOIN segments s ON s.id = m.segment")
                .append(" LEFT JOIN ").append(multi).append(" o ON o.day = m.day AND o.visitor = m.visitor AND o.segment < m.segment")
                .append(" LEFT JOIN segments os ON os.id = o.segment AND os.site = s.site")
                .append(" GROUP BY m.day, m.visitor, m.segment) r")
                // WHERE true: SQLite's grammar needs it before an upsert's ON CONFLICT after a SELECT.
                .append(" WHERE true GROUP BY day, segment");
        if (mysql) {
            sql.append(" ON DUPLICATE KEY UPDATE ");
            sql.append(String.join(", ", COLUMNS.stream().map(c -> "repeat_" + c + " = repeat_" + c + " + VALUES(repeat_" + c + ")").toList()));
        } else {
            sql.append(" ON CONFLICT (day, segment, partition_id) DO UPDATE SET ");
            sql.append(String.join(", ", COLUMNS.stream().map(c -> "repeat_" + c + " = " + ssd + ".repeat_" + c + " + excluded.repeat_" + c).toList()));
        }
        return sql.toString();
    }
}
