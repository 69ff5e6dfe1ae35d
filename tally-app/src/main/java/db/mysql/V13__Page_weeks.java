package db.mysql;

import java.sql.Connection;
import java.sql.Statement;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/** {@code db.migration.V13__Page_weeks} on MySQL and MariaDB. */
public class V13__Page_weeks extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        try (Statement s = c.createStatement()) {
            for (int n : db.migration.V6__Dimensions.liveGenerations(c)) {
                String g = n == 1 ? "" : "_g" + n;
                s.execute("CREATE TABLE page_weeks" + g + " (page INTEGER NOT NULL, week INTEGER NOT NULL, views BIGINT NOT NULL,"
                        + " visitors BIGINT NOT NULL, PRIMARY KEY (page, week), KEY page_weeks_week" + g + " (week)) ENGINE=InnoDB");
                s.executeUpdate(db.migration.V13__Page_weeks.fill("page_days" + g, "page_weeks" + g));
            }
        }
    }
}
