package db.migration;

import java.sql.Connection;
import java.sql.Statement;
import java.util.Locale;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * Page goals counted as they happen, on SQLite and PostgreSQL:
 *
 * <ul>
 *   <li>{@code page_goals}, shared by every generation: the page patterns of {@code --goal}
 *       ({@code /docs/*}), each with an id, registered by the process that serves the API;</li>
 *   <li>per generation not dropped: {@code goal_visitors}, who reached a goal on a site that day,
 *       and {@code goal_days}, how many (the rows {@code goal_visitors} gained) per goal, site, day
 *       and Kafka partition of the view that counted them, so that consumers never contend for one
 *       row.</li>
 * </ul>
 *
 * The tables start empty: registering a goal fills them from {@code page_visitors}.
 */
public class V9__Page_goals extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        boolean sqlite = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT).contains("sqlite");
        String withoutRowid = sqlite ? " WITHOUT ROWID" : "";
        String counters = sqlite ? withoutRowid : " WITH (fillfactor = " + V5__Room_for_updates.FILL_FACTOR + ")";
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE page_goals (id INTEGER NOT NULL PRIMARY KEY, pattern VARCHAR(4096) NOT NULL)");
            for (int n : V6__Dimensions.liveGenerations(c)) {
                String g = n == 1 ? "" : "_g" + n;
                s.execute("CREATE TABLE goal_visitors" + g + " (goal INTEGER NOT NULL, site VARCHAR(64) NOT NULL, day INTEGER NOT NULL,"
                        + " visitor " + (sqlite ? "BLOB" : "BYTEA") + " NOT NULL, PRIMARY KEY (goal, site, day, visitor))" + withoutRowid);
                s.execute("CREATE TABLE goal_days" + g + " (goal INTEGER NOT NULL, site VARCHAR(64) NOT NULL, day INTEGER NOT NULL,"
                        + " partition_id INTEGER NOT NULL, visitors BIGINT NOT NULL, PRIMARY KEY (goal, site, day, partition_id))" + counters);
            }
        }
    }
}
