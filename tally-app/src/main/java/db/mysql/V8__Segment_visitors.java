package db.mysql;

import java.sql.Connection;
import java.sql.Statement;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * The changes of {@code db.migration.V8__Segment_visitors} on MySQL and MariaDB: InnoDB,
 * visitors {@code BINARY(16)}, for every generation not dropped.
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
            }
        }
    }
}
