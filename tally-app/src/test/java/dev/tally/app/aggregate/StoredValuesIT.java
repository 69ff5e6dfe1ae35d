package dev.tally.app.aggregate;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.app.Databases;
import dev.tally.app.StoredOffsets;
import dev.tally.testkit.KafkaBrokerExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The values the decoder accepts against every store's columns: the store holds them exactly,
 * or the decoder refuses them first. Nothing is cut, merged or lost on the way.
 */
class StoredValuesIT {

    private static final long BASE = 1_700_000_000_000L;

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.inProcess();

    @RegisterExtension
    final Databases stores = new Databases();

    /**
     * Whatever the decoder accepts fits every column and comes back as it went in: paths that
     * differ only in case, in a trailing space or in their last character of 2048 bytes, 4-byte
     * characters (emoji) in a path, a referrer and a visitor, the longest site. A path one byte
     * too long is a dead letter, never a value the store cuts.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql", "mariadb"})
    void storesEveryAcceptedValueExactly(String database) throws Exception {
        DataSource ds = stores.dataSource(database);
        String url = stores.jdbcUrl(database);
        String topic = KAFKA.uniqueTopic("exact");
        KAFKA.createTopic(topic, 1);
        String emoji = "\uD83D\uDE00"; // 4 bytes of UTF-8
        String longest = "/" + emoji.repeat(511) + "abc"; // 1 + 2044 + 3 = 2048 bytes
        String site = "s".repeat(63) + "9";
        List<String> paths = List.of("/A", "/a", "/a ", "/caf\u00e9", "/" + emoji, longest, longest.substring(0, longest.length() - 1) + "d");
        List<String> events = new ArrayList<>();
        Map<String, Long> expected = new TreeMap<>();
        for (String path : paths) {
            events.add("{\"path\":" + json(path) + ",\"ts\":" + BASE + ",\"site\":\"" + site + "\",\"visitor\":" + json(emoji.repeat(64))
                    + ",\"referrer\":" + json("https://b\u00fccher.example/" + emoji) + "}");
            expected.put(site + "|" + path, 1L);
        }
        String tooLong = longest + "x";
        events.add("{\"path\":" + json(tooLong) + ",\"ts\":" + BASE + "}");
        Properties p = new Properties();
        p.put("bootstrap.servers", KAFKA.bootstrapServers());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (String e : events) {
                producer.send(new ProducerRecord<>(topic, e.getBytes(UTF_8))).get(30, TimeUnit.SECONDS);
            }
        }
        Aggregator.migrate(url);
        try (Aggregator a = Aggregator.start(KAFKA.bootstrapServers(), topic, "exact-" + database, url, 1, Map.of())) {
            StoredOffsets.awaitCaughtUp(ds, "exact-" + database, KAFKA.bootstrapServers(), topic);
            assertThat(a.failed()).isFalse();
        }
        Map<String, Long> stored = new TreeMap<>();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT site, path, views FROM views_total")) {
            while (rs.next()) {
                stored.put(rs.getString(1) + "|" + rs.getString(2), rs.getLong(3));
            }
        }
        assertThat(stored).isEqualTo(expected);
        assertThat(query(ds, "SELECT host, views FROM referrers_daily")).containsExactly(Map.entry("xn--bcher-kva.example", (long) paths.size()));
        assertThat(query(ds, "SELECT path, COUNT(*) FROM visitors_daily GROUP BY path")).hasSize(paths.size()).containsValues(1L);
        List<String> dead = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : KAFKA.readAll(topic + ".dlq")) {
            dead.add(new String(r.value(), UTF_8));
        }
        assertThat(dead).containsExactly(events.get(events.size() - 1));
    }

    private static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        s.codePoints().forEach(cp -> {
            if (cp == '"' || cp == '\\') {
                b.append('\\');
            }
            b.appendCodePoint(cp);
        });
        return b.append('"').toString();
    }

    private static Map<String, Long> query(DataSource ds, String sql) throws Exception {
        Map<String, Long> rows = new TreeMap<>();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                rows.put(rs.getString(1), rs.getLong(2));
            }
        }
        return rows;
    }
}
