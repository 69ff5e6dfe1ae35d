package dev.tally.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SqliteDatabaseIT {

    @RegisterExtension
    final SqliteDatabase db = new SqliteDatabase();

    private static Path previous;

    @Test
    @Order(1)
    void eachTestHasAFileOfItsOwnInWalMode() throws Exception {
        assertThat(db.jdbcUrl()).isEqualTo("jdbc:sqlite:" + db.file());
        PostgresDatabaseIT.execute(db.dataSource(), "CREATE TABLE counts (word TEXT PRIMARY KEY, n INT)");
        PostgresDatabaseIT.execute(db.dataSource(), "INSERT INTO counts VALUES ('a', 1)");
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
                ResultSet r = s.executeQuery("PRAGMA journal_mode")) {
            r.next();
            assertThat(r.getString(1)).isEqualToIgnoringCase("wal");
        }
        try (Connection c = DriverManager.getConnection(db.jdbcUrl()); Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT n FROM counts WHERE word = 'a'")) {
            r.next();
            assertThat(r.getInt(1)).isEqualTo(1);
        }
        assertThat(db.file()).exists();
        previous = db.file();
    }

    @Test
    @Order(2)
    void andTheFileOfAnEarlierTestIsGone() throws Exception {
        assertThat(db.file()).isNotEqualTo(previous);
        assertThat(Files.exists(previous)).isFalse();
        assertThat(Files.exists(previous.getParent())).isFalse();
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT count(*) FROM sqlite_master WHERE name = 'counts'")) {
            r.next();
            assertThat(r.getInt(1)).isZero();
        }
    }
}
