package db.mysql;

import java.sql.Connection;
import java.sql.Statement;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * The tables of {@code db.migration.V7__Custom_events} on MySQL and MariaDB: InnoDB, names,
 * properties, values and sites as {@code VARBINARY} of the decoder's limits in bytes (four per
 * character; {@code event_props}' key is 1,800 bytes, within InnoDB's 3,072), visitors
 * {@code BINARY(16)}; the per-generation ones for every generation not dropped.
 */
public class V7__Custom_events extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        try (Statement s = c.createStatement()) {
            for (int n : db.migration.V6__Dimensions.liveGenerations(c)) {
                String g = n == 1 ? "" : "_g" + n;
                // Site-wide ranges (events over time, breakdowns) read by day.
                s.execute("CREATE TABLE event_days" + g + " (page INTEGER NOT NULL, day INTEGER NOT NULL,"
                        + " segment INTEGER NOT NULL, name VARBINARY(256) NOT NULL, events BIGINT NOT NULL,"
                        + " PRIMARY KEY (page, day, segment, name), KEY event_days_day" + g + " (day)) ENGINE=InnoDB");
                s.execute("CREATE TABLE event_props" + g + " (site VARBINARY(256) NOT NULL, day INTEGER NOT NULL,"
                        + " partition_id INTEGER NOT NULL, name VARBINARY(256) NOT NULL, prop VARBINARY(256) NOT NULL,"
                        + " value VARBINARY(1024) NOT NULL, events BIGINT NOT NULL,"
                        + " PRIMARY KEY (site, day, name, prop, value, partition_id)) ENGINE=InnoDB");
                s.execute("CREATE TABLE event_visitors" + g + " (site VARBINARY(256) NOT NULL, day INTEGER NOT NULL,"
                        + " name VARBINARY(256) NOT NULL, visitor BINARY(16) NOT NULL,"
                        + " PRIMARY KEY (site, day, name, visitor)) ENGINE=InnoDB");
            }
            // The once-a-minute prune deletes by minute alone.
            s.execute("CREATE TABLE recent_visitors (site VARBINARY(256) NOT NULL, minute INTEGER NOT NULL, visitor BINARY(16) NOT NULL,"
                    + " PRIMARY KEY (site, minute, visitor), KEY recent_visitors_minute (minute)) ENGINE=InnoDB");
        }
    }
}
