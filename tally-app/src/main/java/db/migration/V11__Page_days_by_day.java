package db.migration;

import dev.tally.app.aggregate.Store;
import java.sql.Connection;
import java.sql.Statement;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * On PostgreSQL, an index of {@code page_days} by day in every generation not dropped, so that
 * top pages and the page breakdown over a month read the month's rows, not the table's whole
 * history: their rows are summed over all pages of a site, and without it PostgreSQL scans every
 * day ever stored, and a month's answer gets slower with every month kept (see the README's
 * {@code bench --api}).
 *
 * <p>Nothing on SQLite: its planner walks the primary key ({@code page, day}) once per page of
 * the site, as fast with a year stored as with a month, and does not use such an index. MySQL and
 * MariaDB have no migration 11 (their {@code db/mysql}).
 * A later generation gets the index from generation 1's structure ({@code Generations}).
 */
public class V11__Page_days_by_day extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        if (Store.of(c) != Store.POSTGRESQL) {
            return;
        }
        try (Statement s = c.createStatement()) {
            for (int n : V6__Dimensions.liveGenerations(c)) {
                String g = n == 1 ? "" : "_g" + n;
                // Only the day: an update of the counters touches no indexed column and stays heap-only.
                s.execute("CREATE INDEX page_days_day" + g + " ON page_days" + g + " (day)");
            }
        }
    }
}
