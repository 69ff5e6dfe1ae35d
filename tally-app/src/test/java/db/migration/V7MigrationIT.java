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
 * Migration 7 over a store at version 6 with two live generations and a dropped one: the event
 * tables exist in each live generation and take their rows, none in the dropped one, and
 * {@code recent_visitors} exists once.
 */
class V7MigrationIT {

    @RegisterExtension
    final Databases stores = new Databases();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void createsTheEventTablesOfEveryLiveGeneration(String database) throws Exception {
        DataSource ds = stores.dataSource(database);
        String url = stores.jdbcUrl(database);
        Store store = Store.of(url);
        Flyway.configure().dataSource(Store.url(url), null, null).locations(store.migrations()).target("6").load().migrate();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO tally_generations (generation, state, created_at) VALUES (2, 'old', 0), (3, 'dropped', 0)");
        }

        // Up to 7 only: generation 2 here has no tables of migration 6 for later migrations to alter.
        Flyway.configure().dataSource(Store.url(url), null, null).locations(store.migrations()).target("7").load().migrate();

        String x = database.equals("postgresql") ? "'\\x" : "X'";
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            for (String g : new String[] {"", "_g2"}) {
                s.execute("INSERT INTO event_days" + g + " (page, day, segment, name, events) VALUES (1, 100, 0, 'signup', 2)");
                s.execute("INSERT INTO event_props" + g + " (site, day, partition_id, name, prop, value, events)"
                        + " VALUES ('default', 100, 3, 'signup', 'plan', 'pro', 2)");
                s.execute("INSERT INTO event_visitors" + g + " (site, day, name, visitor) VALUES ('default', 100, 'signup', "
                        + x + "01010101010101010101010101010101')");
                assertThatThrownBy(() -> s.execute("INSERT INTO event_visitors" + g + " (site, day, name, visitor)"
                        + " VALUES ('default', 100, 'signup', " + x + "01010101010101010101010101010101')"))
                        .as("one row per visitor").isInstanceOf(java.sql.SQLException.class);
            }
            s.execute("INSERT INTO recent_visitors (site, minute, visitor) VALUES ('default', 28000000, " + x + "01010101010101010101010101010101')");
        }
        Set<String> tables = StoreContents.tables(ds);
        assertThat(tables).contains("event_days", "event_props", "event_visitors", "event_days_g2", "event_props_g2", "event_visitors_g2",
                "recent_visitors");
        assertThat(tables).doesNotContain("event_days_g3", "event_props_g3", "event_visitors_g3", "recent_visitors_g2");
    }
}
