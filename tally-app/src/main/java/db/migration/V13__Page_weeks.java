package db.migration;

import dev.tally.app.aggregate.Store;
import java.sql.Connection;
import java.sql.Statement;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * {@code page_weeks} in every generation not dropped, on SQLite and PostgreSQL: a page's views
 * and visitors (unique per day, summed over the days) per block of seven days, {@code week}
 * being the block's first day since the epoch (a multiple of 7), written in the transaction that
 * writes {@code page_days}. Top pages and the page breakdown over a month read its whole weeks
 * from here and only the days at either end from {@code page_days}: for a site of 10 000 pages a
 * day, 60 000 to 120 000 rows instead of 300 000. Filled from {@code page_days}; on PostgreSQL
 * indexed by week as {@link V11__Page_days_by_day} indexes {@code page_days} by day.
 */
public class V13__Page_weeks extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        boolean sqlite = Store.of(c) == Store.SQLITE;
        String counters = sqlite ? " WITHOUT ROWID" : " WITH (fillfactor = " + V5__Room_for_updates.FILL_FACTOR + ")";
        try (Statement s = c.createStatement()) {
            for (int n : V6__Dimensions.liveGenerations(c)) {
                String g = n == 1 ? "" : "_g" + n;
                s.execute("CREATE TABLE page_weeks" + g + " (page INTEGER NOT NULL, week INTEGER NOT NULL, views BIGINT NOT NULL,"
                        + " visitors BIGINT NOT NULL, PRIMARY KEY (page, week))" + counters);
                if (!sqlite) {
                    s.execute("CREATE INDEX page_weeks_week" + g + " ON page_weeks" + g + " (week)");
                }
                s.executeUpdate(fill("page_days" + g, "page_weeks" + g));
            }
        }
    }

    /** The statement that fills empty {@code weeks} from {@code days}, on every store. */
    public static String fill(String days, String weeks) {
        return "INSERT INTO " + weeks + " (page, week, views, visitors) SELECT page, day - day % 7, SUM(views), SUM(visitors) FROM " + days
                + " GROUP BY page, day - day % 7";
    }
}
