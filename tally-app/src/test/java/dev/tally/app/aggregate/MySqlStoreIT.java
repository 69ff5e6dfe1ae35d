package dev.tally.app.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.testkit.MariaDbDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the day tables' visitors rely on with MySQL and MariaDB: a batch of
 * {@link Store#insertIfAbsent} on the aggregator's connection reports 1 for each row it added and
 * 0 for each row that was there (with the driver's default, found rows, it would be 1 for both).
 * And every table of db/mysql is InnoDB.
 */
class MySqlStoreIT {

    @RegisterExtension
    final MariaDbDatabase mariadb = new MariaDbDatabase();

    @Test
    void aBatchOfInsertsIfAbsentCountsTheRowsAddedOnly() throws Exception {
        String url = mariadb.jdbcUrl();
        Aggregator.migrate(url);
        byte[] v1 = new byte[16];
        byte[] v2 = new byte[16];
        java.util.Arrays.fill(v1, (byte) 1);
        java.util.Arrays.fill(v2, (byte) 2);
        try (Connection c = java.sql.DriverManager.getConnection(Aggregator.writeUrl(url));
                java.sql.PreparedStatement ps = c.prepareStatement(Store.MYSQL.insertIfAbsent("site_visitors", "site", "day", "visitor"))) {
            ps.setString(1, "default");
            ps.setInt(2, 1);
            ps.setBytes(3, v1);
            assertThat(ps.executeUpdate()).isEqualTo(1);
            Object[][] batch = {{1, v1}, {1, v2}, {2, v1}, {1, v2}};
            for (Object[] row : batch) {
                ps.setString(1, "default");
                ps.setInt(2, (Integer) row[0]);
                ps.setBytes(3, (byte[]) row[1]);
                ps.addBatch();
            }
            assertThat(ps.executeBatch()).containsExactly(0, 1, 1, 0);
        }
        assertThat(rows(mariadb.dataSource(), "SELECT COUNT(*) FROM site_visitors")).containsExactly("3");
        assertThat(rows(mariadb.dataSource(), "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
                + " AND table_type = 'BASE TABLE' AND engine <> 'InnoDB'")).isEmpty();
    }

    private static List<String> rows(DataSource ds, String sql) throws Exception {
        List<String> rows = new ArrayList<>();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                List<String> columns = new ArrayList<>();
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    columns.add(rs.getString(i));
                }
                rows.add(String.join(",", columns));
            }
        }
        return rows;
    }
}
