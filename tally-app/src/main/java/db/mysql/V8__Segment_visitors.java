package db.mysql;

import java.sql.Connection;
import java.sql.Statement;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * The changes of {@code db.migration.V8__Segment_visitors} on MySQL and MariaDB: InnoDB,
 * visitors {@code BINARY(16)}, for every generation not dropped, filled from the rows there are
 * as there.
 */
public class V8__Segment_visitors extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        try (Statement s = c.createStatement()) {
            for (int n : V6__Dimensions.generations(c)) {
                String g = n == 1 ? "" : "_g" + n;
                s.execute("ALTER TABLE segment_days" + g + " ADD COLUMN visitors BIGINT NOT NULL DEFAULT 0");
                s.execute("CREATE TABLE segment_visitor_days" + g + " (day INTEGER NOT NULL, segment INTEGER NOT NULL,"
                        + " partition_id INTEGER NOT NULL, visitors BIGINT NOT NULL,"
                        + " PRIMARY KEY (day, segment, partition_id)) ENGINE=InnoDB");
                s.execute("CREATE TABLE multi_segment_visitors" + g + " (day INTEGER NOT NULL, visitor BINARY(16) NOT NULL,"
                        + " PRIMARY KEY (day, visitor)) ENGINE=InnoDB");

                s.executeUpdate("INSERT INTO segment_visitor_days" + g + " (day, segment, partition_id, visitors)"
                        + " SELECT day, segment, 0, COUNT(*) FROM segment_visitors" + g + " GROUP BY day, segment");
                s.executeUpdate("INSERT INTO multi_segment_visitors" + g + " (day, visitor)"
                        + " SELECT day, visitor FROM segment_visitors" + g + " GROUP BY day, visitor HAVING COUNT(*) > 1");
                // Counted into a temporary table first: the count reads segment_days itself, which the UPDATE then changes.
                s.execute("CREATE TEMPORARY TABLE v8_segment_day_visitors (page INTEGER NOT NULL, day INTEGER NOT NULL,"
                        + " segment INTEGER NOT NULL, visitors BIGINT NOT NULL, PRIMARY KEY (page, day, segment))");
                s.executeUpdate("INSERT INTO v8_segment_day_visitors (page, day, segment, visitors)"
                        + " SELECT page, day, segment, COUNT(*) FROM ("
                        + "SELECT v.page AS page, v.day AS day, MIN(sv.segment) AS segment FROM page_visitors" + g + " v"
                        + " JOIN segment_visitors" + g + " sv ON sv.day = v.day AND sv.visitor = v.visitor"
                        + " JOIN segment_days" + g + " d ON d.page = v.page AND d.day = v.day AND d.segment = sv.segment"
                        + " GROUP BY v.page, v.day, v.visitor) f GROUP BY page, day, segment");
                s.executeUpdate("UPDATE segment_days" + g + " d JOIN v8_segment_day_visitors f"
                        + " ON f.page = d.page AND f.day = d.day AND f.segment = d.segment SET d.visitors = f.visitors");
                s.execute("DROP TEMPORARY TABLE v8_segment_day_visitors");
            }
        }
    }
}
