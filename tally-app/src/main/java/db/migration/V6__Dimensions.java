package db.migration;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * The tables that count event format v2's dimensions, on SQLite and PostgreSQL:
 *
 * <ul>
 *   <li>{@code segments}, shared by every generation: one id per combination of site, referrer
 *       host, campaign (source, medium, campaign), browser and its major version, operating
 *       system and its major version, device and country ({@code ''} when unknown), found by
 *       {@code hash}, the first 16 bytes of SHA-256 over the combination;</li>
 *   <li>per generation: {@code page_days} (views and exact visitors per page and day),
 *       {@code segment_days} (views per page, day and segment), {@code segment_visitors} (who came
 *       with which segment that day), {@code site_days} (views and visitors per site, day and
 *       Kafka partition) and {@code site_visitors} (who visited the site that day);</li>
 *   <li>{@code tally_retention}: the day before which {@code --retain} has deleted per-visitor rows.</li>
 * </ul>
 *
 * The per-generation tables are created for every generation not dropped (the current one may be
 * a replay's). {@code page_days}, {@code site_visitors} and {@code site_days} are filled from the
 * rows there are ({@code page_hours}, {@code page_visitors}); the segment tables start empty: the
 * dimensions of earlier views were never stored. On PostgreSQL the counter tables leave room for
 * heap-only updates, as {@link V5__Room_for_updates} does for the older ones.
 */
public class V6__Dimensions extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        boolean sqlite = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT).contains("sqlite");
        String blob = sqlite ? "BLOB" : "BYTEA";
        String withoutRowid = sqlite ? " WITHOUT ROWID" : "";
        String counters = sqlite ? "" : " WITH (fillfactor = " + V5__Room_for_updates.FILL_FACTOR + ")";
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE segments (id " + (sqlite ? "INTEGER PRIMARY KEY" : "SERIAL PRIMARY KEY")
                    + ", hash " + blob + " NOT NULL UNIQUE, site VARCHAR(64) NOT NULL, referrer VARCHAR(255) NOT NULL,"
                    + " source VARCHAR(128) NOT NULL, medium VARCHAR(128) NOT NULL, campaign VARCHAR(128) NOT NULL,"
                    + " browser VARCHAR(64) NOT NULL, browser_version VARCHAR(8) NOT NULL, os VARCHAR(64) NOT NULL,"
                    + " os_version VARCHAR(8) NOT NULL, device VARCHAR(8) NOT NULL, country VARCHAR(2) NOT NULL)");
            s.execute("CREATE INDEX segments_site ON segments (site)");
            s.execute("CREATE TABLE tally_retention (id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), done_before_day INTEGER NOT NULL)");
            s.execute("INSERT INTO tally_retention (id, done_before_day) VALUES (1, 0)");
        }
        for (int n : liveGenerations(c)) {
            String g = n == 1 ? "" : "_g" + n;
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE page_days" + g + " (page INTEGER NOT NULL, day INTEGER NOT NULL, views BIGINT NOT NULL,"
                        + " visitors BIGINT NOT NULL, PRIMARY KEY (page, day))" + withoutRowid + counters);
                s.execute("CREATE TABLE segment_days" + g + " (page INTEGER NOT NULL, day INTEGER NOT NULL, segment INTEGER NOT NULL,"
                        + " views BIGINT NOT NULL, PRIMARY KEY (page, day, segment))" + withoutRowid + counters);
                // Site-wide ranges (breakdowns over all pages) read by day.
                s.execute("CREATE INDEX segment_days_day" + g + " ON segment_days" + g + " (day)");
                s.execute("CREATE TABLE segment_visitors" + g + " (day INTEGER NOT NULL, visitor " + blob + " NOT NULL,"
                        + " segment INTEGER NOT NULL, PRIMARY KEY (day, visitor, segment))" + withoutRowid);
                s.execute("CREATE TABLE site_days" + g + " (site VARCHAR(64) NOT NULL, day INTEGER NOT NULL, partition_id INTEGER NOT NULL,"
                        + " views BIGINT NOT NULL, visitors BIGINT NOT NULL, PRIMARY KEY (site, day, partition_id))" + withoutRowid + counters);
                s.execute("CREATE TABLE site_visitors" + g + " (site VARCHAR(64) NOT NULL, day INTEGER NOT NULL, visitor " + blob + " NOT NULL,"
                        + " PRIMARY KEY (site, day, visitor))" + withoutRowid);

                s.executeUpdate("INSERT INTO page_days" + g + " (page, day, views, visitors)"
                        + " SELECT page, hour / 24, SUM(views), 0 FROM page_hours" + g + " GROUP BY page, hour / 24");
                // WHERE true: SQLite's grammar needs it before an upsert's ON CONFLICT after a SELECT.
                s.executeUpdate("INSERT INTO page_days" + g + " (page, day, views, visitors)"
                        + " SELECT page, day, 0, COUNT(*) FROM page_visitors" + g + " WHERE true GROUP BY page, day"
                        + " ON CONFLICT (page, day) DO UPDATE SET visitors = excluded.visitors");
                // Sites of more than 64 characters were never accepted by event format v1's rules.
                s.executeUpdate("INSERT INTO site_visitors" + g + " (site, day, visitor)"
                        + " SELECT DISTINCT p.site, v.day, v.visitor FROM page_visitors" + g + " v JOIN pages p ON p.id = v.page"
                        + " WHERE LENGTH(p.site) <= 64");
                s.executeUpdate("INSERT INTO site_days" + g + " (site, day, partition_id, views, visitors)"
                        + " SELECT p.site, d.day, 0, SUM(d.views), 0 FROM page_days" + g + " d JOIN pages p ON p.id = d.page"
                        + " WHERE LENGTH(p.site) <= 64 GROUP BY p.site, d.day");
                s.executeUpdate("INSERT INTO site_days" + g + " (site, day, partition_id, views, visitors)"
                        + " SELECT site, day, 0, 0, COUNT(*) FROM site_visitors" + g + " WHERE true GROUP BY site, day"
                        + " ON CONFLICT (site, day, partition_id) DO UPDATE SET visitors = excluded.visitors");
            }
        }
    }

    /**
     * The generations not dropped, in order: a migration that makes or changes an aggregate table
     * does so in each (see {@code Generation}), on every database.
     */
    public static List<Integer> liveGenerations(Connection c) throws SQLException {
        List<Integer> generations = new ArrayList<>();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT generation FROM tally_generations WHERE state <> 'dropped' ORDER BY generation")) {
            while (rs.next()) {
                generations.add(rs.getInt(1));
            }
        }
        return generations;
    }
}
