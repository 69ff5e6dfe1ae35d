package db.migration;

import dev.tally.app.aggregate.VisitorId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * Narrow keys for the aggregate tables, on SQLite and PostgreSQL alike (a Java migration because
 * the two spell an auto-numbered key and a byte string differently, and because visitors are
 * converted with {@link VisitorId}, the aggregator's own derivation):
 *
 * <ul>
 *   <li>{@code pages}: the (site, path) dictionary, an integer id each;</li>
 *   <li>{@code page_hours} (page, hours since the epoch), {@code page_totals} (page) and
 *       {@code page_visitors} (page, days since the epoch, 16-byte visitor) replace
 *       {@code views_hourly}, {@code views_total} and {@code visitors_daily};</li>
 *   <li>the old names stay as read-only views with the old columns, for any reader of them.</li>
 * </ul>
 *
 * Existing rows are carried over. {@code referrers_daily} is unchanged (a few rows per host and day).
 */
public class V3__Narrow_keys extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        boolean sqlite = c.getMetaData().getDatabaseProductName().toLowerCase(java.util.Locale.ROOT).contains("sqlite");
        String withoutRowid = sqlite ? " WITHOUT ROWID" : "";
        try (Statement s = c.createStatement()) {
            s.execute(sqlite
                    ? "CREATE TABLE pages (id INTEGER PRIMARY KEY, site VARCHAR(256) NOT NULL, path VARCHAR(2048) NOT NULL, UNIQUE (site, path))"
                    : "CREATE TABLE pages (id SERIAL PRIMARY KEY, site VARCHAR(256) NOT NULL, path VARCHAR(2048) NOT NULL, UNIQUE (site, path))");
            s.execute("CREATE TABLE page_hours (page INTEGER NOT NULL, hour INTEGER NOT NULL, views BIGINT NOT NULL,"
                    + " PRIMARY KEY (page, hour))" + withoutRowid);
            // Site-wide ranges (top pages, views over time) read by hour.
            s.execute("CREATE INDEX page_hours_hour ON page_hours (hour)");
            s.execute("CREATE TABLE page_totals (page INTEGER PRIMARY KEY, views BIGINT NOT NULL)");
            s.execute("CREATE TABLE page_visitors (page INTEGER NOT NULL, day INTEGER NOT NULL, visitor "
                    + (sqlite ? "BLOB" : "BYTEA") + " NOT NULL, PRIMARY KEY (page, day, visitor))" + withoutRowid);

            s.execute("INSERT INTO pages (site, path) SELECT site, path FROM views_total"
                    + " UNION SELECT site, path FROM views_hourly UNION SELECT site, path FROM visitors_daily");
            s.execute("INSERT INTO page_totals (page, views) SELECT p.id, t.views FROM views_total t"
                    + " JOIN pages p ON p.site = t.site AND p.path = t.path");
            s.execute("INSERT INTO page_hours (page, hour, views) SELECT p.id, CAST(h.hour / 3600000 AS INTEGER), h.views"
                    + " FROM views_hourly h JOIN pages p ON p.site = h.site AND p.path = h.path");
        }
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT p.id, v.day, v.visitor FROM visitors_daily v"
                        + " JOIN pages p ON p.site = v.site AND p.path = v.path");
                PreparedStatement ins = c.prepareStatement(
                        "INSERT INTO page_visitors (page, day, visitor) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")) {
            int pending = 0;
            while (rs.next()) {
                ins.setInt(1, rs.getInt(1));
                ins.setInt(2, (int) (rs.getLong(2) / 86_400_000L));
                ins.setBytes(3, VisitorId.of(rs.getString(3)).bytes());
                ins.addBatch();
                if (++pending == 10_000) {
                    ins.executeBatch();
                    pending = 0;
                }
            }
            if (pending > 0) {
                ins.executeBatch();
            }
        }
        try (Statement s = c.createStatement()) {
            s.execute("DROP TABLE views_hourly");
            s.execute("DROP TABLE views_total");
            s.execute("DROP TABLE visitors_daily");
            s.execute("CREATE VIEW views_hourly AS SELECT p.site AS site, p.path AS path,"
                    + " CAST(h.hour AS BIGINT) * 3600000 AS hour, h.views AS views FROM page_hours h JOIN pages p ON p.id = h.page");
            s.execute("CREATE VIEW views_total AS SELECT p.site AS site, p.path AS path, t.views AS views"
                    + " FROM page_totals t JOIN pages p ON p.id = t.page");
            s.execute("CREATE VIEW visitors_daily AS SELECT p.site AS site, p.path AS path,"
                    + " CAST(v.day AS BIGINT) * 86400000 AS day, v.visitor AS visitor FROM page_visitors v JOIN pages p ON p.id = v.page");
        }
    }
}
