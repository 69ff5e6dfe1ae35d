package dev.tally.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PostgresDatabasePerClassIT {

    @RegisterExtension
    static final PostgresDatabase DB = new PostgresDatabase();

    private static String name;

    @Test
    @Order(1)
    void aStaticFieldGivesTheClassOneDatabase() throws Exception {
        name = DB.name();
        PostgresDatabaseIT.execute(DB.dataSource(), "CREATE TABLE shared (n INT)");
        PostgresDatabaseIT.execute(DB.dataSource(), "INSERT INTO shared VALUES (1)");
    }

    @Test
    @Order(2)
    void thatTheNextTestSees() throws Exception {
        assertThat(DB.name()).isEqualTo(name);
        try (Connection c = DB.dataSource().getConnection(); Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT count(*) FROM shared")) {
            r.next();
            assertThat(r.getInt(1)).isEqualTo(1);
        }
    }

    @Nested
    class AndNestedClasses {
        @Test
        void seeItToo() {
            assertThat(DB.name()).isEqualTo(name);
        }
    }
}
