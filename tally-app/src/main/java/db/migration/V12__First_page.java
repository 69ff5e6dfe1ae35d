package db.migration;

import dev.tally.app.aggregate.Generation;
import dev.tally.app.aggregate.Store;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * {@code site_visitors.page} and {@code site_visitors.segment}, in every generation not dropped:
 * the page and segment of the visitor's first view of the site that day. A visitor's first page
 * and first segment then need no {@code page_visitors} and {@code segment_visitors} rows of their
 * own (most visitors of a day see one page, with one segment): the site row holds them, and those
 * tables hold the visitor's other pages and segments. Every reader of a page's or a segment's
 * visitors reads both (see {@link Generation#legacyViews}).
 *
 * <p>Both columns are empty in the rows there are, whose pages and segments are all in the other
 * two tables: nothing is copied, and an empty first page or segment matches none. The schema-2
 * view {@code visitors_daily} is pointed at both tables here (on MySQL and MariaDB, where DDL
 * commits by itself, the aggregator does it at its start).
 */
public class V12__First_page extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        Store store = Store.of(c);
        try (Statement s = c.createStatement()) {
            for (int n : V6__Dimensions.liveGenerations(c)) {
                String table = new Generation(n).table("site_visitors");
                s.execute("ALTER TABLE " + table + " ADD COLUMN page INTEGER");
                s.execute("ALTER TABLE " + table + " ADD COLUMN segment INTEGER");
            }
            if (store != Store.MYSQL) {
                for (Map.Entry<String, String> v : Generation.current(c).legacyViews().entrySet()) {
                    for (String sql : store.replaceView(v.getKey(), v.getValue())) {
                        s.execute(sql);
                    }
                }
            }
        }
    }
}
