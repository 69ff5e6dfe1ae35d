package db.migration;

import dev.tally.app.aggregate.Generation;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * Visitors per segment, on SQLite and PostgreSQL alike, for every generation not dropped:
 *
 * <ul>
 *   <li>{@code segment_days.visitors}: the visitors whose first stored view of the page that day
 *       came with the segment;</li>
 *   <li>{@code segment_visitor_days}: the rows {@code segment_visitors} gained, per day and
 *       segment, a row per Kafka partition so that consumers never contend for one;</li>
 *   <li>{@code multi_segment_visitors}: the (day, visitor) pairs with more than one row in
 *       {@code segment_visitors}.</li>
 * </ul>
 */
public class V8__Segment_visitors extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        boolean sqlite = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT).contains("sqlite");
        String withoutRowid = sqlite ? " WITHOUT ROWID" : "";
        String bytes = sqlite ? "BLOB" : "BYTEA";
        // Counters are upserts that change only the count: room for heap-only updates, as migration 5 explains.
        String counters = sqlite ? withoutRowid : " WITH (fillfactor = " + V5__Room_for_updates.FILL_FACTOR + ")";
        List<Generation> generations = new ArrayList<>();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT generation FROM tally_generations WHERE state <> 'dropped' ORDER BY generation")) {
            while (rs.next()) {
                generations.add(new Generation(rs.getInt(1)));
            }
        }
        try (Statement s = c.createStatement()) {
            for (Generation g : generations) {
                s.execute("ALTER TABLE " + g.table("segment_days") + " ADD COLUMN visitors BIGINT NOT NULL DEFAULT 0");
                s.execute("CREATE TABLE " + g.table("segment_visitor_days") + " (day INTEGER NOT NULL, segment INTEGER NOT NULL,"
                        + " partition_id INTEGER NOT NULL, visitors BIGINT NOT NULL,"
                        + " PRIMARY KEY (day, segment, partition_id))" + counters);
                s.execute("CREATE TABLE " + g.table("multi_segment_visitors") + " (day INTEGER NOT NULL, visitor " + bytes + " NOT NULL,"
                        + " PRIMARY KEY (day, visitor))" + withoutRowid);
            }
        }
    }
}
