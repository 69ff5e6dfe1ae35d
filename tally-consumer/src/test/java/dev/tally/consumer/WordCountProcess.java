package dev.tally.consumer;

import dev.tally.broker.ChildJvm;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * A word-count consumer as a process of its own, so that tests can kill -9, SIGSTOP and SIGTERM
 * it. Arguments are {@code key=value}: bootstrap, topic, group, jdbc, mode ({@code tally} or
 * {@code naive}), protocol ({@code classic} or {@code consumer}), slowMs (a pause inside each
 * transaction, so that kills land mid-transaction), decodePauseMs (a pause while decoding every
 * 500th record, outside any transaction). It prints {@code BEGIN}/{@code HANDLED} around each
 * handler call, {@code DECODING} before a decode pause and {@code ERROR <phase>} per reported
 * failure.
 */
public final class WordCountProcess {

    /** Starts this program as a child process (a small JVM, started quickly) with {@code key=value} arguments. */
    static ChildJvm start(List<String> args, String... more) {
        List<String> all = new ArrayList<>(args);
        all.addAll(List.of(more));
        return ChildJvm.builder(WordCountProcess.class.getName())
                .jvmArgs("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
                .args(all)
                .start();
    }

    /** How many lines the child printed that begin with {@code prefix} ({@code "ERROR FENCED"}, {@code "BEGIN"}, …). */
    static int count(ChildJvm child, String prefix) {
        return (int) child.lines().stream().filter(l -> l.startsWith(prefix)).count();
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            a.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        long slowMs = Long.parseLong(a.getOrDefault("slowMs", "0"));
        if ("naive".equals(a.get("mode"))) {
            naive(a, slowMs);
            return;
        }
        long decodePauseMs = Long.parseLong(a.getOrDefault("decodePauseMs", "0"));
        RecordDecoder<String> decoder = record -> {
            if (decodePauseMs > 0 && record.offset() % 500 == 0) {
                say("DECODING " + record.partition() + "@" + record.offset());
                Thread.sleep(decodePauseMs);
            }
            return Words.DECODER.decode(record);
        };
        TallyConsumer.Builder<String> b = TallyConsumer.builder(decoder, (batch, connection) -> {
            say("BEGIN " + batch.size());
            Words.handler().handle(batch, connection);
            if (slowMs > 0) {
                Thread.sleep(slowMs);
            }
            say("HANDLED " + batch.size());
        })
                .bootstrapServers(a.get("bootstrap"))
                .groupId(a.get("group"))
                .topics(a.get("topic"))
                .jdbcUrl(a.get("jdbc"))
                .maxBatchRecords(2_000)
                .closeTimeout(Duration.ofSeconds(10))
                .shutdownHook(true)
                .retryBackoff(Duration.ofMillis(50), Duration.ofSeconds(1))
                .errorListener(e -> say("ERROR " + e.phase() + " " + e.describe()));
        if ("consumer".equals(a.get("protocol"))) {
            b.kafkaProperty("group.protocol", "consumer");
        } else {
            b.kafkaProperty("session.timeout.ms", "6000");
            b.kafkaProperty("heartbeat.interval.ms", "1000");
        }
        TallyConsumer<String> consumer = b.build().start();
        say("STARTED");
        consumer.awaitTermination(Duration.ofDays(1));
    }

    /**
     * What most consumers do: write each poll's counts in a transaction, and let Kafka commit
     * the offsets later (auto-commit). A crash between the two counts records twice.
     */
    private static void naive(Map<String, String> a, long slowMs) throws Exception {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, a.get("bootstrap"));
        p.put(ConsumerConfig.GROUP_ID_CONFIG, a.get("group"));
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "true");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "6000");
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        CountDownLatch stopped = new CountDownLatch(1);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p);
                Connection c = DriverManager.getConnection(a.get("jdbc"), sqliteSettings())) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                consumer.wakeup();
                try {
                    stopped.await();
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }));
            consumer.subscribe(java.util.List.of(a.get("topic")));
            say("STARTED");
            try {
                while (true) {
                    ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
                    if (records.isEmpty()) {
                        continue;
                    }
                    say("BEGIN " + records.count());
                    Map<String, Long> counts = new HashMap<>();
                    for (ConsumerRecord<byte[], byte[]> r : records) {
                        String w = new String(r.value(), java.nio.charset.StandardCharsets.UTF_8);
                        if (!w.startsWith("!") && !w.startsWith("?")) {
                            counts.merge(w, 1L, Long::sum);
                        }
                    }
                    c.setAutoCommit(false);
                    Words.upsert(c, counts);
                    if (slowMs > 0) {
                        Thread.sleep(slowMs);
                    }
                    c.commit();
                    say("HANDLED " + records.count());
                }
            } catch (org.apache.kafka.common.errors.WakeupException e) {
                // shutting down
            } finally {
                stopped.countDown();
            }
        }
    }

    /** WAL and a busy timeout, so that the test reading the counts does not make writes fail. */
    private static Properties sqliteSettings() {
        Properties p = new Properties();
        p.put("journal_mode", "WAL");
        p.put("busy_timeout", "10000");
        return p;
    }

    private static synchronized void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
