package dev.tally.consumer.internal;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Publishes rejected records to their dead-letter topic and waits for the acknowledgement
 * ({@code acks=all}) before the batch's transaction commits: a record is never skipped without
 * being in the dead-letter topic. The producer is created on first use, as most batches have no
 * dead letters.
 */
public final class DeadLetterPublisher implements AutoCloseable {

    public static final String ORIGIN_TOPIC = "tally.origin.topic";
    public static final String ORIGIN_PARTITION = "tally.origin.partition";
    public static final String ORIGIN_OFFSET = "tally.origin.offset";
    public static final String ORIGIN_TIMESTAMP = "tally.origin.timestamp";
    public static final String ERROR_CLASS = "tally.error.class";
    public static final String ERROR_MESSAGE = "tally.error.message";
    public static final String GROUP = "tally.group";

    private static final int MAX_MESSAGE_BYTES = 4096;

    private final Properties config;
    private final Function<String, String> topicFor;
    private final String group;
    private volatile KafkaProducer<byte[], byte[]> producer;

    public DeadLetterPublisher(Properties config, Function<String, String> topicFor, String group) {
        this.config = config;
        this.topicFor = topicFor;
        this.group = group;
    }

    /** Sends every letter and waits until all are acknowledged or {@code timeout} passes. */
    public void publish(List<DeadLetter> letters, Duration timeout) throws Exception {
        if (letters.isEmpty()) {
            return;
        }
        KafkaProducer<byte[], byte[]> p = producer();
        List<Future<RecordMetadata>> acks = new ArrayList<>(letters.size());
        for (DeadLetter letter : letters) {
            acks.add(p.send(toRecord(letter)));
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Future<RecordMetadata> ack : acks) {
            try {
                ack.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof Exception cause ? cause : e;
            }
        }
    }

    private ProducerRecord<byte[], byte[]> toRecord(DeadLetter letter) {
        ConsumerRecord<byte[], byte[]> origin = letter.record();
        RecordHeaders headers = new RecordHeaders();
        for (Header h : origin.headers()) {
            headers.add(h);
        }
        headers.add(ORIGIN_TOPIC, utf8(origin.topic()));
        headers.add(ORIGIN_PARTITION, utf8(Integer.toString(origin.partition())));
        headers.add(ORIGIN_OFFSET, utf8(Long.toString(origin.offset())));
        headers.add(ORIGIN_TIMESTAMP, utf8(Long.toString(origin.timestamp())));
        headers.add(ERROR_CLASS, utf8(letter.errorClass()));
        headers.add(ERROR_MESSAGE, utf8(truncate(letter.errorMessage())));
        headers.add(GROUP, utf8(group));
        return new ProducerRecord<>(topicFor.apply(origin.topic()), null, origin.timestamp(), origin.key(), origin.value(), headers);
    }

    private static String truncate(String s) {
        if (s == null) {
            return "";
        }
        return s.length() <= MAX_MESSAGE_BYTES / 4 ? s : s.substring(0, MAX_MESSAGE_BYTES / 4) + "…";
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private KafkaProducer<byte[], byte[]> producer() {
        KafkaProducer<byte[], byte[]> p = producer;
        if (p == null) {
            synchronized (this) {
                p = producer;
                if (p == null) {
                    p = new KafkaProducer<>(config);
                    producer = p;
                }
            }
        }
        return p;
    }

    public void close(Duration timeout) {
        KafkaProducer<byte[], byte[]> p = producer;
        if (p != null) {
            p.close(timeout);
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(5));
    }
}
