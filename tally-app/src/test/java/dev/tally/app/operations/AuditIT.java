package dev.tally.app.operations;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.app.StoredOffsets;
import dev.tally.app.TallyProcess;
import dev.tally.app.aggregate.Aggregator;
import dev.tally.testkit.KafkaBrokerExtension;
import dev.tally.testkit.PostgresDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Instant;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/tally audit}: the store against the topic, equal when untouched, the tampered row named when not. */
class AuditIT {

    private static final long HOUR = 3_600_000L;
    private static final long H0 = Instant.parse("2026-11-20T10:00:00Z").toEpochMilli();

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final PostgresDatabase db = new PostgresDatabase();

    @TempDir
    Path dir;

    private TallyProcess audit(String topic, String... extra) throws Exception {
        String[] base = {"audit", "--bootstrap-servers", KAFKA.bootstrapServers(), "--topic", topic, "--db", db.jdbcUrl(), "--group", "audit-it"};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return TallyProcess.run(dir, args);
    }

    @Test
    void anUntouchedStoreIsEqualAndATamperedRowIsNamed() throws Exception {
        String topic = KAFKA.uniqueTopic("audit");
        KAFKA.createTopic(topic, 3);
        KAFKA.createTopic(topic + ".dlq", 1);
        try (KafkaProducer<String, String> p = new KafkaProducer<>(KAFKA.producerProperties())) {
            for (int i = 0; i < 600; i++) {
                String path = "/post-" + (i % 4);
                long ts = H0 + (i % 3) * HOUR + i;
                // A custom event on the page-view topic is a dead letter too, never a view.
                String event = i % 20 == 9 ? ",\"event\":\"signup\"" : "";
                String value = i % 20 == 19 ? "{\"path\":\"no-slash\"}"
                        : "{\"path\":\"" + path + "\",\"ts\":" + ts + ",\"site\":\"" + (i % 2 == 0 ? "blog" : "docs") + "\"" + event + "}";
                p.send(new ProducerRecord<>(topic, path, value));
            }
            p.flush();
        }
        try (Aggregator aggregator = Aggregator.start(KAFKA.bootstrapServers(), topic, "audit-it", db.jdbcUrl(), 1, Map.of())) {
            StoredOffsets.awaitCaughtUp(db.dataSource(), "audit-it", KAFKA.bootstrapServers(), topic);
            // Audited while the aggregator runs: the snapshot and the topic are read to the same offsets.
            TallyProcess equal = audit(topic);
            assertThat(equal.exitCode()).as(equal.stdout() + equal.stderr()).isZero();
            assertThat(equal.stdout()).contains("12 page-hours compared, 0 differ", "540 views recomputed", "AUDIT: EQUAL");
        }

        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate(Tamper.oneHour("blog", "/post-0", H0));
        }
        TallyProcess different = audit(topic);
        assertThat(different.exitCode()).isEqualTo(1);
        assertThat(different.stdout()).contains("AUDIT: DIFFERENT", "1 differ")
                .containsPattern("blog +/post-0 +2026-11-20T10:00:00Z +\\d+ +\\d+");

        TallyProcess otherHour = audit(topic, "--from", "2026-11-20T11:00:00Z", "--to", "2026-11-20T13:00:00Z");
        assertThat(otherHour.exitCode()).as("the tampered hour is outside the range").isZero();
        assertThat(otherHour.stdout()).contains("8 page-hours compared, 0 differ");

        TallyProcess otherSite = audit(topic, "--site", "docs");
        assertThat(otherSite.exitCode()).isZero();

        TallyProcess bad = audit(topic, "--from", "yesterday");
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.stderr()).contains("--from").contains("ISO-8601");
    }

    /** The SQL that adds 5 views to one stored page-hour, behind the aggregator's back. */
    static final class Tamper {
        static String oneHour(String site, String path, long hour) {
            return "UPDATE page_hours SET views = views + 5 WHERE hour = " + hour / HOUR
                    + " AND page = (SELECT id FROM pages WHERE site = '" + site + "' AND path = '" + path + "')";
        }
    }
}
