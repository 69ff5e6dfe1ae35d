package example;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.tally.consumer.Message;
import dev.tally.consumer.TallyConsumer;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** The README's quick start, compiled with the tests so that it stays true. */
public class WordCount {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:sqlite:words.db";
        try (var c = DriverManager.getConnection(url)) {
            c.createStatement().execute(
                "CREATE TABLE IF NOT EXISTS word_counts (word TEXT PRIMARY KEY, n BIGINT NOT NULL)");
        }
        TallyConsumer<String> consumer = TallyConsumer.<String>builder(
                // Decode on the polling thread; a decoder that throws sends the record to words.dlq.
                record -> new String(record.value(), UTF_8).trim().toLowerCase(),
                // Handle one batch inside the transaction that will also store the offsets.
                (batch, connection) -> {
                    Map<String, Long> counts = new HashMap<>();
                    for (Message<String> m : batch) {
                        if (m.value().isEmpty()) {
                            batch.reject(m, "empty word");          // to words.dlq, not counted
                        } else {
                            counts.merge(m.value(), 1L, Long::sum); // aggregate in memory first
                        }
                    }
                    try (PreparedStatement ps = connection.prepareStatement(
                            "INSERT INTO word_counts (word, n) VALUES (?, ?) "
                          + "ON CONFLICT (word) DO UPDATE SET n = word_counts.n + excluded.n")) {
                        for (var e : counts.entrySet()) {
                            ps.setString(1, e.getKey());
                            ps.setLong(2, e.getValue());
                            ps.addBatch();
                        }
                        ps.executeBatch();                          // no commit: Tally commits
                    }
                })
            .bootstrapServers("127.0.0.1:9092")
            .groupId("word-count")
            .topics("words")
            .jdbcUrl(url)              // Tally opens a pool: WAL, busy timeout, BEGIN IMMEDIATE
            .shutdownHook(true)        // Ctrl-C / SIGTERM: bounded, graceful close
            .build()
            .start();
        consumer.awaitTermination(Duration.ofDays(365));
    }
}
