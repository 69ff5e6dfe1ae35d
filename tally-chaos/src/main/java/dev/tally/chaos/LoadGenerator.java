package dev.tally.chaos;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The known ground truth: page views with unique ids, sent as beacons over HTTP to the collector
 * and as records straight to Kafka (about 1 % of them poison), remembering which ones were
 * acknowledged (a 202, a producer ack). A failed send is never retried under the same id, so an
 * id is at most once in Kafka unless something duplicated it.
 */
final class LoadGenerator {

    static final String SITE = "chaos";
    static final String BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0";

    final Set<String> ackedBeacons = ConcurrentHashMap.newKeySet();
    final Set<String> ackedRecords = ConcurrentHashMap.newKeySet();
    final Set<String> ackedPoison = ConcurrentHashMap.newKeySet();
    final AtomicLong sentBeacons = new AtomicLong();
    final AtomicLong sentRecords = new AtomicLong();
    final AtomicLong sentPoison = new AtomicLong();

    private final Topology topology;
    private final int beaconsPerSecond;
    private final int recordsPerSecond;
    private final long seed;
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running = true;
    private KafkaProducer<byte[], byte[]> producer;

    LoadGenerator(Topology topology, int beaconsPerSecond, int recordsPerSecond, long seed) {
        this.topology = topology;
        this.beaconsPerSecond = beaconsPerSecond;
        this.recordsPerSecond = recordsPerSecond;
        this.seed = seed;
    }

    void start() {
        Properties p = new Properties();
        p.put("bootstrap.servers", topology.bootstrapServers());
        p.put("acks", "all");
        p.put("enable.idempotence", "true");
        p.put("linger.ms", "5");
        producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        for (int t = 0; t < 2; t++) {
            int lane = t;
            threads.add(new Thread(() -> beacons(lane), "load-beacons-" + t));
        }
        threads.add(new Thread(this::records, "load-records"));
        threads.forEach(Thread::start);
    }

    void stop() throws InterruptedException {
        running = false;
        for (Thread t : threads) {
            t.join();
        }
        producer.close(Duration.ofMinutes(2));
    }

    private void beacons(int lane) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).version(HttpClient.Version.HTTP_1_1).build();
        // Beacons are answered after Kafka's ack: many are in flight at once, as from many readers.
        Semaphore inFlight = new Semaphore(32);
        Random random = new Random(seed * 31 + lane);
        long interval = 2_000_000_000L / Math.max(1, beaconsPerSecond);
        long next = System.nanoTime();
        long n = 0;
        while (running) {
            String id = "b" + lane + "-" + (n++);
            String body = "{\"path\":\"/p/" + random.nextInt(60) + "\",\"site\":\"" + SITE + "\",\"id\":\"" + id + "\"}";
            try {
                inFlight.acquire();
            } catch (InterruptedException e) {
                return;
            }
            sentBeacons.incrementAndGet();
            http.sendAsync(HttpRequest.newBuilder(URI.create(topology.collectorUrl()))
                    .timeout(Duration.ofSeconds(20))
                    .header("Content-Type", "text/plain")
                    .header("User-Agent", BROWSER)
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.discarding())
                    .whenComplete((r, e) -> {
                        // Anything but a 202 is not acknowledged: the event may or may not be in Kafka.
                        if (e == null && r.statusCode() == 202) {
                            ackedBeacons.add(id);
                        }
                        inFlight.release();
                    });
            next = pace(next, interval);
        }
        inFlight.acquireUninterruptibly(32);
    }

    private void records() {
        Random random = new Random(seed * 17 + 5);
        long interval = 1_000_000_000L / Math.max(1, recordsPerSecond);
        long next = System.nanoTime();
        long n = 0;
        while (running) {
            String id;
            String path;
            String value;
            boolean poison = random.nextInt(100) == 0;
            if (poison) {
                id = "x-" + (n++);
                path = "poison";
                value = "{\"path\":\"no-slash-" + id + "\",\"id\":\"" + id + "\"}";
                sentPoison.incrementAndGet();
            } else {
                id = "r-" + (n++);
                path = "/p/" + random.nextInt(60);
                value = "{\"path\":\"" + path + "\",\"site\":\"" + SITE + "\",\"ts\":" + System.currentTimeMillis()
                        + ",\"id\":\"" + id + "\"}";
                sentRecords.incrementAndGet();
            }
            String acked = id;
            try {
                producer.send(new ProducerRecord<>(Topology.TOPIC, path.getBytes(UTF_8), value.getBytes(UTF_8)), (m, e) -> {
                    if (e == null) {
                        (poison ? ackedPoison : ackedRecords).add(acked);
                    }
                });
            } catch (RuntimeException e) {
                pause(100);
            }
            next = pace(next, interval);
        }
    }

    /** Sleeps until the next send is due; a sender that fell behind starts again from now, it does not burst. */
    private static long pace(long previous, long interval) {
        long next = previous + interval;
        long wait = next - System.nanoTime();
        if (wait > 0) {
            pause(wait / 1_000_000);
            return next;
        }
        return System.nanoTime();
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(Math.max(0, millis));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
