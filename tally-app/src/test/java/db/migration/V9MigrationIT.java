package db.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.app.Databases;
import dev.tally.app.aggregate.Store;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Set;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Migration 9 over a store at version 8 with two live generations and a dropped one: the goal
 * tables exist in each live generation and take their rows, one per key, none in the dropped one,
 * and {@code page_goals} exists once.
 */
class V9MigrationIT {

    @RegisterExtension
    final Databases stores = new Databases();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void createsTheGoalTablesOfEveryLiveGeneration(String database) throws Exception {
        DataSource ds = stores.dataSource(database);
        String url = stores.jdbcUrl(database);
        Store store = Store.of(url);
        Flyway.configure().dataSource(Store.url(url), null, null).locations(store.migrations()).target("8").load().migrate();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO tally_generations (generation, state, created_at) VALUES (2, 'old', 0), (3, 'dropped', 0)");
        }

        Flyway.configure().dataSource(Store.url(url), null, null).locations(store.migrations()).target("9").load().migrate();

        String x = database.equals("postgresql") ? "'\\x" : "X'";
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO page_goals (id, pattern) VALUES (1, '/docs/*')");
            for (String g : new String[] {"", "_g2"}) {
                s.execute("INSERT INTO goal_visitors" + g + " (goal, site, day, visitor) VALUES (1, 'default', 100, "
                        + x + "01010101010101010101010101010101')");
                assertThatThrownBy(() -> s.execute("INSERT INTO goal_visitors" + g + " (goal, site, day, visitor)"
                        + " VALUES (1, 'default', 100, " + x + "01010101010101010101010101010101')"))
                        .as("one row per visitor").isInstanceOf(java.sql.SQLException.class);
                s.execute("INSERT INTO goal_days" + g + " (goal, site, day, partition_id, visitors) VALUES (1, 'default', 100, 3, 1)");
            }
        }
        Set<String> tables = StoreContents.tables(ds);
        assertThat(tables).contains("page_goals", "goal_visitors", "goal_days", "goal_visitors_g2", "goal_days_g2");
        assertThat(tables).doesNotContain("goal_visitors_g3", "goal_days_g3", "page_goals_g2");
    }
}
