package db.migration;

import dev.tally.app.aggregate.Generation;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * Custom events and "Now", on SQLite and PostgreSQL alike (a Java migration because the per-generation
 * tables are created for every generation that is not dropped: after a replay the current one may be
 * generation 2 or later):
 *
 * <ul>
 *   <li>{@code event_days}: events per page, day, segment (the {@code segments} dictionary) and name;</li>
 *   <li>{@code event_props}: events per site, day, name, property and value, a row per partition
 *       so that consumers never contend for one;</li>
 *   <li>{@code event_visitors}: who sent an event of a name on a site that day (goal conversions);</li>
 *   <li>{@code recent_visitors}: visitors per site and minute of the last hour, for "Now"; not per
 *       generation (nothing of it is recomputed).</li>
 * </ul>
 *
 * Days are days since the epoch, minutes minutes since the epoch, visitors 16 bytes.
 */
public class V7__Custom_events extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        boolean sqlite = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT).contains("sqlite");
        String withoutRowid = sqlite ? " WITHOUT ROWID" : "";
        String bytes = sqlite ? "BLOB" : "BYTEA";
        // Counters are upserts that change only the count: room for heap-only updates, as migration 5 explains.
        String counters = sqlite ? withoutRowid : " WITH (fillfactor = " + V5__Room_for_updates.FILL_FACTOR + ")";
        List<Generation> generations = V6__Dimensions.liveGenerations(c).stream().map(Generation::new).toList();
        try (Statement s = c.createStatement()) {
            for (Generation g : generations) {
                String suffix = g.number() == 1 ? "" : "_g" + g.number();
                s.execute("CREATE TABLE " + g.table("event_days") + " (page INTEGER NOT NULL, day INTEGER NOT NULL,"
                        + " segment INTEGER NOT NULL, name VARCHAR(64) NOT NULL, events BIGINT NOT NULL,"
                        + " PRIMARY KEY (page, day, segment, name))" + counters);
                // Site-wide ranges (events over time, breakdowns) read by day.
                s.execute("CREATE INDEX event_days_day" + suffix + " ON " + g.table("event_days") + " (day)");
                s.execute("CREATE TABLE " + g.table("event_props") + " (site VARCHAR(64) NOT NULL, day INTEGER NOT NULL,"
                        + " partition_id INTEGER NOT NULL, name VARCHAR(64) NOT NULL, prop VARCHAR(64) NOT NULL,"
                        + " value VARCHAR(256) NOT NULL, events BIGINT NOT NULL,"
                        + " PRIMARY KEY (site, day, name, prop, value, partition_id))" + counters);
                s.execute("CREATE TABLE " + g.table("event_visitors") + " (site VARCHAR(64) NOT NULL, day INTEGER NOT NULL,"
                        + " name VARCHAR(64) NOT NULL, visitor " + bytes + " NOT NULL,"
                        + " PRIMARY KEY (site, day, name, visitor))" + withoutRowid);
            }
            s.execute("CREATE TABLE recent_visitors (site VARCHAR(64) NOT NULL, minute INTEGER NOT NULL, visitor " + bytes + " NOT NULL,"
                    + " PRIMARY KEY (site, minute, visitor))" + withoutRowid);
            // The once-a-minute prune deletes by minute alone.
            s.execute("CREATE INDEX recent_visitors_minute ON recent_visitors (minute)");
        }
    }
}
