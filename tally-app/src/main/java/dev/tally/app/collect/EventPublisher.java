package dev.tally.app.collect;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.tally.app.KafkaOptions;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Writes page views to Kafka with the guarantee the collector's 202 promises: {@code acks=all}
 * and an idempotent producer, and an answer (ack or failure) within {@link #DELIVERY_TIMEOUT}.
 * At most {@code maxInFlight} records wait for their ack at once; beyond that a publish is refused
 * at once, which bounds memory while Kafka is down instead of queueing without end.
 */
public final class EventPublisher implements AutoCloseable {

    /** How long a record may wait for its ack before the client is told 503. */
    public static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(10);

    /** Settings that the collector's promise depends on; a pass-through property cannot change them. */
    private static final Set<String> FORCED = Set.of(ProducerConfig.ACKS_CONFIG, ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG);

    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final String eventsTopic;
    private final Semaphore inFlight;
    private final int maxInFlight;

    /**
     * @param kafka pass-through client properties (security settings, tuning); the ones a producer
     *     does not know are ignored, the ones the guarantee depends on are refused
     */
    public EventPublisher(String bootstrapServers, String topic, Map<String, String> kafka, int maxInFlight) {
        Properties p = new Properties();
        Set<String> known = ProducerConfig.configNames();
        for (Map.Entry<String, String> e : kafka.entrySet()) {
            if (FORCED.contains(e.getKey())) {
                throw new IllegalArgumentException("--kafka " + e.getKey() + " cannot be changed: the collector's 202 depends on it");
            }
            if (known.contains(e.getKey())) {
                p.put(e.getKey(), e.getValue());
            }
        }
        // Every 202 waits for its record's ack, so the linger is added to each beacon's answer, and
        // with a given number of clients waiting, beacons/s is their number over that time: 5 ms
        // (Kafka's default) left the collector idle at 0.17x its /health rate. Under load records
        // still share requests, as they pile up while earlier ones are in flight.
        p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "1");
        p.putIfAbsent(ProducerConfig.BATCH_SIZE_CONFIG, "65536");
        p.putIfAbsent(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.putIfAbsent(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, String.valueOf(DELIVERY_TIMEOUT.toMillis()));
        // send() runs on the HTTP event loop: it may wait for metadata only this long, never seconds.
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "200");
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        this.producer = new KafkaProducer<>(p);
        this.topic = topic;
        this.eventsTopic = KafkaOptions.eventsTopic(topic);
        this.inFlight = new Semaphore(maxInFlight);
        this.maxInFlight = maxInFlight;
    }

    /**
     * Fetches the topic's metadata now, so that the first beacon does not wait for it; retries for
     * up to 30 s, as a cluster that is electing leaders answers late.
     *
     * @throws org.apache.kafka.common.errors.TimeoutException if the metadata did not come
     */
    public void warmUp() {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            try {
                producer.partitionsFor(topic);
                return;
            } catch (org.apache.kafka.common.errors.TimeoutException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
            }
        }
    }

    /**
     * Sends one page view keyed by its path (so that one partition owns a page's rows).
     *
     * @param done called once, from a Kafka thread, with {@code null} when the record is stored
     *     with acks=all, or with the reason it is not
     */
    public void publish(String path, byte[] event, Consumer<Exception> done) {
        send(topic, path, event, done);
    }

    /** Sends one custom event to the events topic ({@code <topic>.events}), keyed by its page; as {@link #publish}. */
    public void publishEvent(String path, byte[] event, Consumer<Exception> done) {
        send(eventsTopic, path, event, done);
    }

    /** {@link #publish} or {@link #publishEvent}. */
    @FunctionalInterface
    interface Send {
        void publish(String path, byte[] event, Consumer<Exception> done);
    }

    private void send(String topic, String path, byte[] event, Consumer<Exception> done) {
        if (!inFlight.tryAcquire()) {
            done.accept(new IllegalStateException("too many events are waiting for Kafka"));
            return;
        }
        try {
            producer.send(new ProducerRecord<>(topic, path.getBytes(UTF_8), event), (metadata, error) -> {
                inFlight.release();
                done.accept(error);
            });
        } catch (RuntimeException e) {
            // send() throws (instead of calling back) when metadata or buffer space did not come in time.
            inFlight.release();
            done.accept(e);
        }
    }

    /** Records waiting for their ack. */
    public int inFlight() {
        return maxInFlight - inFlight.availablePermits();
    }

    /** Waits up to {@code timeout} for the records in flight, so that no accepted beacon is abandoned. */
    public void close(Duration timeout) {
        producer.close(timeout);
    }

    @Override
    public void close() {
        close(DELIVERY_TIMEOUT);
    }
}
