package dev.tally.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MariaDbDatabaseIT {

    @RegisterExtension
    final MariaDbDatabase db = new MariaDbDatabase();

    private static String previous;
    private static Connection leftOpen;

    @Test
    @Order(1)
    void eachTestHasADatabaseOfItsOwn() throws Exception {
        assertThat(db.name()).matches("tally_it_[0-9a-f]{16}");
        assertThat(db.jdbcUrl()).isEqualTo("jdbc:mariadb://127.0.0.1:3306/" + db.name() + "?user=root");
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE counts (word VARCHAR(20) PRIMARY KEY, n INT) ENGINE=InnoDB");
        }
        // A session of the test's own, left inside a transaction that holds a lock on the table.
        leftOpen = DriverManager.getConnection(db.jdbcUrl());
        leftOpen.setAutoCommit(false);
        try (Statement s = leftOpen.createStatement()) {
            s.execute("INSERT INTO counts VALUES ('a', 1)");
        }
        previous = db.name();
    }

    @Test
    @Order(2)
    void andTheDatabaseOfAnEarlierTestIsGoneEvenWithASessionLeftInATransaction() throws Exception {
        assertThat(db.name()).isNotEqualTo(previous);
        assertThat(exists(previous)).isFalse();
        assertThat(exists(db.name())).isTrue();
        assertThat(leftOpen.isValid(2)).as("the left-over session was ended").isFalse();
        leftOpen.close();
    }

    private boolean exists(String database) throws Exception {
        try (Connection c = db.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?")) {
            ps.setString(1, database);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1) == 1;
            }
        }
    }
}
