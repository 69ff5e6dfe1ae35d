package db.migration;

import dev.tally.app.aggregate.Store;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import javax.sql.DataSource;

/** What the migration tests read back from a store, the same way on SQLite, PostgreSQL and MariaDB. */
final class StoreContents {

    private StoreContents() {}

    /** Each row's first column (as text) to its second; {@code ||} concatenates on MariaDB too. */
    static Map<String, Long> query(DataSource ds, String sql) throws Exception {
        Map<String, Long> rows = new TreeMap<>();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            if (Store.of(c) == Store.MYSQL) {
                s.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',PIPES_AS_CONCAT')");
            }
            try (ResultSet rs = s.executeQuery(sql)) {
                while (rs.next()) {
                    rows.put(rs.getString(1), rs.getLong(2));
                }
            }
        }
        return rows;
    }

    /** The names of the store's tables. */
    static Set<String> tables(DataSource ds) throws Exception {
        Set<String> names = new TreeSet<>();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            String sql = switch (Store.of(c)) {
                case SQLITE -> "SELECT name FROM sqlite_master WHERE type = 'table'";
                case MYSQL -> "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'";
                case POSTGRESQL -> "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()";
            };
            try (ResultSet rs = s.executeQuery(sql)) {
                while (rs.next()) {
                    names.add(rs.getString(1));
                }
            }
        }
        return names;
    }
}
