package db.mysql;

import java.sql.Connection;
import java.sql.Statement;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * The tables of {@code db.migration.V9__Page_goals} on MySQL and MariaDB: InnoDB, patterns and
 * sites {@code VARBINARY} as pages' and sites' are here, visitors {@code BINARY(16)}.
 */
public class V9__Page_goals extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE page_goals (id INTEGER NOT NULL PRIMARY KEY, pattern VARBINARY(16384) NOT NULL) ENGINE=InnoDB");
            for (int n : db.migration.V6__Dimensions.liveGenerations(c)) {
                String g = n == 1 ? "" : "_g" + n;
                s.execute("CREATE TABLE goal_visitors" + g + " (goal INTEGER NOT NULL, site VARBINARY(256) NOT NULL, day INTEGER NOT NULL,"
                        + " visitor BINARY(16) NOT NULL, PRIMARY KEY (goal, site, day, visitor)) ENGINE=InnoDB");
                s.execute("CREATE TABLE goal_days" + g + " (goal INTEGER NOT NULL, site VARBINARY(256) NOT NULL, day INTEGER NOT NULL,"
                        + " partition_id INTEGER NOT NULL, visitors BIGINT NOT NULL, PRIMARY KEY (goal, site, day, partition_id)) ENGINE=InnoDB");
            }
        }
    }
}
