package db.mysql;

import java.sql.Connection;
import java.sql.Statement;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/** The columns of {@code db.migration.V10__Repeat_visitors} on MySQL and MariaDB, filled as there. */
public class V10__Repeat_visitors extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        try (Statement s = c.createStatement()) {
            for (int n : db.migration.V6__Dimensions.liveGenerations(c)) {
                String g = n == 1 ? "" : "_g" + n;
                s.execute("ALTER TABLE site_segment_days" + g + " " + String.join(", ", db.migration.V10__Repeat_visitors.COLUMNS.stream()
                        .map(column -> "ADD COLUMN repeat_" + column + " BIGINT NOT NULL DEFAULT 0").toList()));
                s.execute(db.migration.V10__Repeat_visitors.fill("site_segment_days" + g, "multi_segment_visitors" + g, true));
            }
        }
    }
}
