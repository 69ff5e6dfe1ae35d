package db.mysql;

import java.sql.Connection;
import java.sql.Statement;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * The tables of {@code db.migration.V6__Dimensions} on MySQL and MariaDB: the same columns and
 * keys, InnoDB, text as {@code VARBINARY} of the decoder's limits in bytes (four per character)
 * compared byte for byte, visitors {@code BINARY(16)}. {@code segments.hash} is
 * {@code BINARY(16)}, unique. The per-generation tables are created for every generation not
 * dropped and filled from the rows there are, as there.
 */
public class V6__Dimensions extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE segments (id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY, hash BINARY(16) NOT NULL,"
                    + " site VARBINARY(256) NOT NULL, referrer VARBINARY(255) NOT NULL,"
                    + " source VARBINARY(512) NOT NULL, medium VARBINARY(512) NOT NULL, campaign VARBINARY(512) NOT NULL,"
                    + " browser VARBINARY(256) NOT NULL, browser_version VARBINARY(32) NOT NULL, os VARBINARY(256) NOT NULL,"
                    + " os_version VARBINARY(32) NOT NULL, device VARBINARY(32) NOT NULL, country VARBINARY(8) NOT NULL,"
                    + " UNIQUE KEY segments_hash (hash), KEY segments_site (site)) ENGINE=InnoDB");
            s.execute("CREATE TABLE tally_retention (id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), done_before_day INTEGER NOT NULL)"
                    + " ENGINE=InnoDB");
            s.execute("INSERT INTO tally_retention (id, done_before_day) VALUES (1, 0)");
        }
        for (int n : db.migration.V6__Dimensions.liveGenerations(c)) {
            String g = n == 1 ? "" : "_g" + n;
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE page_days" + g + " (page INTEGER NOT NULL, day INTEGER NOT NULL, views BIGINT NOT NULL,"
                        + " visitors BIGINT NOT NULL, PRIMARY KEY (page, day)) ENGINE=InnoDB");
                // Site-wide ranges (breakdowns over all pages) read by day.
                s.execute("CREATE TABLE segment_days" + g + " (page INTEGER NOT NULL, day INTEGER NOT NULL, segment INTEGER NOT NULL,"
                        + " views BIGINT NOT NULL, PRIMARY KEY (page, day, segment), KEY segment_days_day" + g + " (day)) ENGINE=InnoDB");
                s.execute("CREATE TABLE segment_visitors" + g + " (day INTEGER NOT NULL, visitor BINARY(16) NOT NULL,"
                        + " segment INTEGER NOT NULL, PRIMARY KEY (day, visitor, segment)) ENGINE=InnoDB");
                s.execute("CREATE TABLE site_days" + g + " (site VARBINARY(256) NOT NULL, day INTEGER NOT NULL, partition_id INTEGER NOT NULL,"
                        + " views BIGINT NOT NULL, visitors BIGINT NOT NULL, PRIMARY KEY (site, day, partition_id)) ENGINE=InnoDB");
                s.execute("CREATE TABLE site_visitors" + g + " (site VARBINARY(256) NOT NULL, day INTEGER NOT NULL, visitor BINARY(16) NOT NULL,"
                        + " PRIMARY KEY (site, day, visitor)) ENGINE=InnoDB");

                s.executeUpdate("INSERT INTO page_days" + g + " (page, day, views, visitors)"
                        + " SELECT page, hour DIV 24, SUM(views), 0 FROM page_hours" + g + " GROUP BY page, hour DIV 24");
                s.executeUpdate("INSERT INTO page_days" + g + " (page, day, views, visitors)"
                        + " SELECT page, day, 0, COUNT(*) FROM page_visitors" + g + " GROUP BY page, day"
                        + " ON DUPLICATE KEY UPDATE visitors = VALUES(visitors)");
                s.executeUpdate("INSERT INTO site_visitors" + g + " (site, day, visitor)"
                        + " SELECT DISTINCT p.site, v.day, v.visitor FROM page_visitors" + g + " v JOIN pages p ON p.id = v.page");
                s.executeUpdate("INSERT INTO site_days" + g + " (site, day, partition_id, views, visitors)"
                        + " SELECT p.site, d.day, 0, SUM(d.views), 0 FROM page_days" + g + " d JOIN pages p ON p.id = d.page"
                        + " GROUP BY p.site, d.day");
                s.executeUpdate("INSERT INTO site_days" + g + " (site, day, partition_id, views, visitors)"
                        + " SELECT site, day, 0, 0, COUNT(*) FROM site_visitors" + g + " GROUP BY site, day"
                        + " ON DUPLICATE KEY UPDATE visitors = VALUES(visitors)");
            }
        }
    }
}
