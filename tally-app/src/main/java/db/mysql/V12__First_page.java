package db.mysql;

import java.sql.Connection;
import java.sql.Statement;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/** The columns of {@code db.migration.V12__First_page} on MySQL and MariaDB. */
public class V12__First_page extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        try (Statement s = c.createStatement()) {
            for (int n : db.migration.V6__Dimensions.liveGenerations(c)) {
                String g = n == 1 ? "" : "_g" + n;
                s.execute("ALTER TABLE site_visitors" + g + " ADD COLUMN page INTEGER, ADD COLUMN segment INTEGER");
            }
        }
    }
}
