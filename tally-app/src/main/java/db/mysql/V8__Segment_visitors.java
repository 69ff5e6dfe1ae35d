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
            for (int n : db.migration.V6__Dimensions.liveGenerations(c)) {
                String g = n == 1 ? "" : "_g" + n;
                s.execute("ALTER TABLE page_visitors" + g + " ADD COLUMN segment INTEGER NOT NULL DEFAULT 0");
                String dayIndex = db.migration.V8__Segment_visitors.dayIndex(c, "SELECT index_name FROM information_schema.statistics"
                        + " WHERE table_schema = DATABASE() AND table_name = ? AND index_name <> 'PRIMARY'"
                        + " GROUP BY index_name HAVING COUNT(*) = 1 AND MAX(column_name) = 'day'", "segment_days" + g);
                s.execute("ALTER TABLE segment_days" + g + " ADD COLUMN visitors BIGINT NOT NULL DEFAULT 0,"
                        + (dayIndex == null ? "" : " DROP INDEX " + dayIndex + ",") + " ADD INDEX segment_days_segment" + g + " (segment, day)");
                s.execute("CREATE TABLE site_segment_days" + g + " (day INTEGER NOT NULL, segment INTEGER NOT NULL,"
                        + " partition_id INTEGER NOT NULL, views BIGINT NOT NULL, visitors BIGINT NOT NULL, first_visitors BIGINT NOT NULL,"
                        + " PRIMARY KEY (day, segment, partition_id)) ENGINE=InnoDB");
                s.execute("CREATE TABLE multi_segment_visitors" + g + " (day INTEGER NOT NULL, visitor BINARY(16) NOT NULL,"
                        + " segment INTEGER NOT NULL, PRIMARY KEY (day, visitor, segment)) ENGINE=InnoDB");
                for (String sql : db.migration.V8__Segment_visitors.fill("page_visitors" + g, "segment_days" + g, "segment_visitors" + g,
                        "site_segment_days" + g, "multi_segment_visitors" + g, "BINARY(16)", true)) {
                    s.execute(sql);
                }
            }
        }
    }
}
