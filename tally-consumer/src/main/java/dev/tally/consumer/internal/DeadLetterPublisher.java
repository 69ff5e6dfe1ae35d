package dev.tally.consumer.internal;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
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
    public static final String ERROR_SQLSTATE = "tally.error.sqlstate";
    public static final String GROUP = "tally.group";
    /** On a letter whose record was too large for the dead-letter topic: what of it was cut. */
    public static final String CUT = "tally.cut";

    /** What a cut letter keeps of the value and of the key. */
    static final int CUT_VALUE_BYTES = 1024;
    static final int CUT_KEY_BYTES = 256;

    private static final int MAX_MESSAGE_BYTES = 4096;

    private final Properties config;
    private final Function<String, String> topicFor;
    private final String group;
    private volatile KafkaProducer<byte[], byte[]> producer;
    private Admin admin;

    public DeadLetterPublisher(Properties config, Function<String, String> topicFor, String group) {
        this.config = config;
        this.topicFor = topicFor;
        this.group = group;
    }

    /**
     * Sends every letter and waits until all are acknowledged or {@code timeout} passes. A letter
     * too large for the dead-letter topic (or the producer's {@code max.request.size}) is sent
     * again alone, and if still too large, {@linkplain #cut cut}: a record another producer wrote
     * must not stop its partition because it cannot be copied whole.
     */
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
        List<DeadLetter> tooLarge = new ArrayList<>();
        for (int i = 0; i < acks.size(); i++) {
            try {
                await(acks.get(i), deadline, timeout, letters);
            } catch (RecordTooLargeException e) {
                tooLarge.add(letters.get(i));
            }
        }
        for (DeadLetter letter : tooLarge) {
            try {
                // Alone: the broker refuses a whole batch, so a letter may have failed with its neighbour.
                await(p.send(toRecord(letter)), deadline, timeout, letters);
            } catch (RecordTooLargeException e) {
                await(p.send(cut(letter, e)), deadline, timeout, letters);
            }
        }
    }

    /** Waits for one acknowledgement; throws what Kafka said, unwrapped. */
    private void await(Future<RecordMetadata> ack, long deadline, Duration timeout, List<DeadLetter> letters) throws Exception {
        try {
            ack.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new TimeoutException("dead letters not acknowledged within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof TimeoutException || cause instanceof UnknownTopicOrPartitionException) {
                requireTopics(letters);
            }
            throw cause instanceof Exception c ? c : e;
        }
    }

    /**
     * A producer waits for a missing topic as for a broker that is down: both end in a timeout,
     * which is retried. Tell them apart, so that a topic the cluster will never create fails
     * as it should instead of stalling forever.
     */
    private void requireTopics(List<DeadLetter> letters) throws Exception {
        Set<String> topics = new TreeSet<>();
        letters.forEach(l -> topics.add(topicFor.apply(l.record().topic())));
        try {
            admin().describeTopics(topics).allTopicNames().get(5, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                // Not chained: Kafka calls its cause retriable, and here it is not.
                throw new IllegalStateException("dead-letter topic " + String.join(", ", topics) + " does not exist and the cluster"
                        + " did not create it (auto.create.topics.enable=false?): create it, then restart the consumer");
            }
            // Anything else (the cluster unreachable): not known to be missing; the timeout stands.
        } catch (java.util.concurrent.TimeoutException e) {
            // Unreachable: the producer's timeout stands.
        }
    }

    private synchronized Admin admin() {
        if (admin == null) {
            Properties p = new Properties();
            Set<String> names = AdminClientConfig.configNames();
            config.forEach((k, v) -> {
                if (names.contains(String.valueOf(k))) {
                    p.put(k, v);
                }
            });
            p.put(AdminClientConfig.CLIENT_ID_CONFIG, config.getProperty(ProducerConfig.CLIENT_ID_CONFIG, "tally-dlq") + "-admin");
            admin = Admin.create(p);
        }
        return admin;
    }

    private ProducerRecord<byte[], byte[]> toRecord(DeadLetter letter) {
        ConsumerRecord<byte[], byte[]> origin = letter.record();
        RecordHeaders headers = new RecordHeaders();
        for (Header h : origin.headers()) {
            headers.add(h);
        }
        addOwn(headers, letter, MAX_MESSAGE_BYTES / 4);
        // Stamped now, not with the origin's time: an old record's time may be refused by the dead-letter
        // topic's timestamp checks, or deleted by its retention at once. The origin time is in a header.
        return new ProducerRecord<>(topicFor.apply(origin.topic()), null, null, origin.key(), origin.value(), headers);
    }

    /** The headers the publisher itself writes: where the record came from and why it is here. */
    private void addOwn(RecordHeaders headers, DeadLetter letter, int messageChars) {
        ConsumerRecord<byte[], byte[]> origin = letter.record();
        headers.add(ORIGIN_TOPIC, utf8(origin.topic()));
        headers.add(ORIGIN_PARTITION, utf8(Integer.toString(origin.partition())));
        headers.add(ORIGIN_OFFSET, utf8(Long.toString(origin.offset())));
        headers.add(ORIGIN_TIMESTAMP, utf8(Long.toString(origin.timestamp())));
        headers.add(ERROR_CLASS, utf8(letter.errorClass()));
        headers.add(ERROR_MESSAGE, utf8(truncate(letter.errorMessage(), messageChars)));
        if (letter.sqlState() != null) {
            headers.add(ERROR_SQLSTATE, utf8(letter.sqlState()));
        }
        headers.add(GROUP, utf8(group));
    }

    /**
     * The letter as a record small enough for any dead-letter topic: the first
     * {@link #CUT_VALUE_BYTES} bytes of the value and {@link #CUT_KEY_BYTES} of the key, none of
     * the origin's headers, and {@link #CUT} saying what was left out. The whole record stays at
     * its origin offset (in the headers) for as long as the origin topic keeps it.
     */
    private ProducerRecord<byte[], byte[]> cut(DeadLetter letter, RecordTooLargeException refusal) {
        ConsumerRecord<byte[], byte[]> origin = letter.record();
        // Only the publisher's own headers: an origin header may be of any size, whatever its name.
        RecordHeaders headers = new RecordHeaders();
        addOwn(headers, letter, 256);
        int keyBytes = origin.key() == null ? 0 : origin.key().length;
        int valueBytes = origin.value() == null ? 0 : origin.value().length;
        headers.add(CUT, utf8("too large for the dead-letter topic (" + truncate(refusal.getMessage(), 256) + "): value of "
                + valueBytes + " bytes cut to " + Math.min(valueBytes, CUT_VALUE_BYTES) + ", key of " + keyBytes + " bytes cut to "
                + Math.min(keyBytes, CUT_KEY_BYTES) + ", " + origin.headers().toArray().length
                + " origin headers left out; the whole record is at the origin topic, partition and offset"));
        return new ProducerRecord<>(topicFor.apply(origin.topic()), null, null, prefix(origin.key(), CUT_KEY_BYTES),
                prefix(origin.value(), CUT_VALUE_BYTES),
                headers);
    }

    private static byte[] prefix(byte[] bytes, int max) {
        return bytes == null || bytes.length <= max ? bytes : Arrays.copyOf(bytes, max);
    }

    private static String truncate(String s, int chars) {
        if (s == null) {
            return "";
        }
        return s.length() <= chars ? s : s.substring(0, chars) + "…";
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
        synchronized (this) {
            if (admin != null) {
                admin.close(Duration.ZERO);
            }
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(5));
    }
}
