package dev.tally.bench;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.tally.app.event.Dimensions;
import dev.tally.app.event.PageView;
import dev.tally.app.event.ReferrerHost;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * A deterministic stream of page-view events: the same seed gives the same events, so the topic
 * is written once and the store-limit contender replays the very same rows without Kafka.
 *
 * <p>{@code views}: page views keyed by path, Zipf-skewed over the paths, a referrer on each,
 * over one day, one site. {@code beacons}: events as the collector writes them — a visitor hash
 * on each (16 bytes, base64url, as {@code VisitorHash} makes), most visitors new, some returning
 * — event format v2's dimensions (a visitor's browser, system, device and country; a campaign on
 * some links), referrers with query strings from a few hundred hosts (and direct visits without one), times
 * over a week, three sites. Times rise with the topic's offsets as a collector writes them, give
 * or take two minutes, unless {@linkplain #withShuffledTimes shuffled}.
 */
record Workload(String name, long events, int paths, double skew, boolean beacons, long seed, boolean shuffledTimes) {

    /** This workload as program arguments, for a JVM of its own to regenerate it ({@link #of}). */
    List<String> args() {
        return List.of(name, Long.toString(events), Integer.toString(paths), Double.toString(skew), Boolean.toString(beacons),
                Long.toString(seed), Boolean.toString(shuffledTimes));
    }

    /** The workload of {@link #args()}, from {@code args[from]} on. */
    static Workload of(String[] args, int from) {
        return new Workload(args[from], Long.parseLong(args[from + 1]), Integer.parseInt(args[from + 2]), Double.parseDouble(args[from + 3]),
                Boolean.parseBoolean(args[from + 4]), Long.parseLong(args[from + 5]), Boolean.parseBoolean(args[from + 6]));
    }

    /** 2026-11-22T00:00:00Z: every event falls in the week from here. */
    static final long START = 1_795_305_600_000L;
    static final long HOUR = 3_600_000L;
    static final long DAY = 24 * HOUR;

    private static final String[] SITES = {"blog", "docs", "shop"};
    /** Browser, major version, operating system, major version, device: what the collector reduces a user agent to. */
    private static final String[][] AGENTS = {
        {"Chrome", "131", "Windows", "10", "desktop"}, {"Chrome", "130", "Windows", "10", "desktop"},
        {"Firefox", "133", "Windows", "10", "desktop"}, {"Edge", "131", "Windows", "10", "desktop"},
        {"Chrome", "131", "Mac OS X", "10", "desktop"}, {"Safari", "18", "Mac OS X", "10", "desktop"},
        {"Firefox", "133", "Linux", "", "desktop"}, {"Chrome", "131", "Linux", "", "desktop"},
        {"Chrome Mobile", "131", "Android", "14", "mobile"}, {"Chrome Mobile", "130", "Android", "13", "mobile"},
        {"Samsung Internet", "26", "Android", "14", "mobile"}, {"Mobile Safari", "18", "iOS", "18", "mobile"},
        {"Mobile Safari", "17", "iOS", "17", "mobile"}, {"Mobile Safari", "18", "iOS", "18", "tablet"},
        {"Chrome", "131", "Chrome OS", "", "desktop"}, {"Firefox Mobile", "133", "Android", "14", "mobile"}};
    private static final String[] COUNTRIES = {"US", "DE", "GB", "FR", "IN", "CA", "NL", "BR", "JP", "SE", "ES", "IT", "PL", "AU", ""};
    /** Source, medium and campaign of the links that carry a campaign. */
    private static final String[][] CAMPAIGNS = {
        {"newsletter", "email", "Winter Sale"}, {"newsletter", "email", "Weekly"}, {"mastodon", "social", ""},
        {"twitter", "social", "Launch"}, {"hn", "", ""}};
    /** Of the beacons, the share whose page URL carries a campaign. */
    private static final double WITH_CAMPAIGN = 0.08;
    private static final int VIEW_REFERRER_HOSTS = 200;
    private static final int BEACON_REFERRER_HOSTS = 300;
    /** Of the beacons, the share from a visitor seen shortly before (a reader reading on). */
    private static final double RETURNING = 0.12;
    /** How far an event's time may stray from the order of the topic: clocks, queues, retries. */
    private static final long JITTER = 120_000L;

    static Workload views(long events, int paths) {
        return new Workload("views", events, paths, 1.0, false, 20261127L, false);
    }

    static Workload beacons(long events, int paths) {
        return new Workload("beacons", events, paths, 1.0, true, 20261128L, false);
    }

    /** Uniform paths, for the memory measurement: as many distinct pages as possible. */
    static Workload uniform(long events, int paths) {
        return new Workload("uniform", events, paths, 0.0, false, 20261129L, false);
    }

    /**
     * The same events with times drawn at random over the span instead of in the topic's order: a
     * worst case, where every batch touches most of the hours of the span.
     */
    Workload withShuffledTimes() {
        return new Workload(name, events, paths, skew, beacons, seed, true);
    }

    /** One generated event: the record key, its JSON value, the view, and its referrer's host as the truth has it. */
    record Event(byte[] key, byte[] value, PageView view, String host) {}

    /**
     * Writes every event to {@code topic} and hands each to {@code each} as well. Not idempotent
     * (a fresh topic on a busy machine can make an idempotent producer fail its first batches
     * with out-of-order sequence errors): one request in flight, and the topic is then checked
     * to hold exactly the events written, so a lost or doubled batch fails the run here.
     */
    void produce(String bootstrapServers, String topic, java.util.function.Consumer<Event> each) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        p.put(ProducerConfig.ACKS_CONFIG, "1");
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "20");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(512 * 1024));
        p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Long.toString(128L * 1024 * 1024));
        AtomicReference<Exception> failed = new AtomicReference<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (Iterator<Event> it = iterator(); it.hasNext() && failed.get() == null; ) {
                Event e = it.next();
                producer.send(new ProducerRecord<>(topic, e.key(), e.value()), (m, x) -> {
                    if (x != null) {
                        failed.compareAndSet(null, x);
                    }
                });
                each.accept(e);
            }
            producer.flush();
        }
        if (failed.get() != null) {
            throw new IllegalStateException("the topic could not be written: " + failed.get(), failed.get());
        }
        Map<String, Object> admin = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        try (Admin a = Admin.create(admin)) {
            var partitions = a.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions();
            Map<TopicPartition, OffsetSpec> ask = new HashMap<>();
            partitions.forEach(tp -> ask.put(new TopicPartition(topic, tp.partition()), OffsetSpec.latest()));
            long written = a.listOffsets(ask).all().get().values().stream().mapToLong(ListOffsetsResult.ListOffsetsResultInfo::offset).sum();
            if (written != events) {
                throw new IllegalStateException("the topic holds " + written + " records, not " + events);
            }
        }
    }

    /** The events, from the first; each call starts again from the seed. */
    Iterator<Event> iterator() {
        return new Generator();
    }

    private final class Generator implements Iterator<Event> {
        private final SplittableRandom random = new SplittableRandom(seed);
        private final double[] cdf = zipf(paths, skew);
        private final String[] pathNames = new String[paths];
        private final String[] recent = new String[1024];
        /** The agent and country of each recent visitor: a visitor's hash covers its address and user agent. */
        private final int[] recentProfile = new int[1024];
        private final byte[] visitorBytes = new byte[16];
        private long made;

        @Override
        public boolean hasNext() {
            return made < events;
        }

        @Override
        public Event next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            made++;
            int page = page(random.nextDouble());
            String path = pathNames[page];
            if (path == null) {
                path = pathNames[page] = "/posts/" + page + "-a-title-of-some-length";
            }
            String site;
            long ts;
            String referrer;
            String host;
            String visitor = null;
            Dimensions dimensions = Dimensions.NONE;
            if (beacons) {
                site = SITES[random.nextInt(10) < 6 ? 0 : random.nextInt(1, 3)];
                ts = time(7 * DAY);
                if (random.nextInt(10) < 4) {
                    referrer = null;
                    host = null;
                } else {
                    int h = random.nextInt(BEACON_REFERRER_HOSTS);
                    host = "www.referrer-" + h + ".example";
                    referrer = "https://www.Referrer-" + h + ".example/search?q=term" + random.nextInt(1000)
                            + "&utm_source=feed&utm_medium=" + random.nextInt(20);
                }
                int slot = random.nextInt(recent.length);
                if (recent[slot] != null && random.nextDouble() < RETURNING) {
                    visitor = recent[slot];
                } else {
                    for (int i = 0; i < visitorBytes.length; i += 8) {
                        long bits = random.nextLong();
                        for (int b = 0; b < 8; b++) {
                            visitorBytes[i + b] = (byte) (bits >>> (8 * b));
                        }
                    }
                    visitor = recent[slot] = Base64.getUrlEncoder().withoutPadding().encodeToString(visitorBytes);
                    recentProfile[slot] = random.nextInt(AGENTS.length * COUNTRIES.length);
                }
                String[] agent = AGENTS[recentProfile[slot] % AGENTS.length];
                String country = COUNTRIES[recentProfile[slot] / AGENTS.length];
                String[] campaign = random.nextDouble() < WITH_CAMPAIGN ? CAMPAIGNS[random.nextInt(CAMPAIGNS.length)] : null;
                dimensions = new Dimensions(campaign == null ? null : campaign[0], campaign == null ? null : blank(campaign[1]),
                        campaign == null ? null : blank(campaign[2]), agent[0], agent[1], agent[2], blank(agent[3]), agent[4], blank(country));
            } else {
                site = "blog";
                ts = time(DAY);
                int h = random.nextInt(VIEW_REFERRER_HOSTS);
                host = "news-" + h + ".example";
                referrer = "https://news-" + h + ".example/item/" + random.nextInt(100);
            }
            StringBuilder json = new StringBuilder(320).append(beacons ? "{\"v\":2," : "{").append("\"path\":\"").append(path)
                    .append("\",\"ts\":").append(ts).append(",\"site\":\"").append(site).append('"');
            if (referrer != null) {
                json.append(",\"referrer\":\"").append(referrer).append('"');
            }
            if (visitor != null) {
                json.append(",\"visitor\":\"").append(visitor).append('"');
            }
            field(json, "source", dimensions.source());
            field(json, "medium", dimensions.medium());
            field(json, "campaign", dimensions.campaign());
            field(json, "browser", dimensions.browser());
            field(json, "browser_version", dimensions.browserVersion());
            field(json, "os", dimensions.os());
            field(json, "os_version", dimensions.osVersion());
            field(json, "device", dimensions.device());
            field(json, "country", dimensions.country());
            json.append('}');
            return new Event(path.getBytes(UTF_8), json.toString().getBytes(UTF_8),
                    new PageView(path, ts, site, referrer, ReferrerHost.of(referrer), visitor, null, dimensions, null, Map.of()), host);
        }

        private static void field(StringBuilder json, String name, String value) {
            if (value != null) {
                json.append(",\"").append(name).append("\":\"").append(value).append('"');
            }
        }

        private static String blank(String s) {
            return s.isEmpty() ? null : s;
        }

        /**
         * The time of the event just made, over {@code span} from {@link #START}: in the topic's
         * order, as a collector writes them (times rise with the offsets, give or take
         * {@link #JITTER}), or at random over the span when the times are shuffled.
         */
        private long time(long span) {
            if (shuffledTimes) {
                return START + random.nextLong(span);
            }
            long t = (long) ((made - 1) * (double) span / events) + random.nextLong(-JITTER, JITTER + 1);
            return START + Math.max(0, Math.min(span - 1, t));
        }

        private int page(double u) {
            int lo = 0;
            int hi = cdf.length - 1;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (cdf[mid] < u) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo;
        }
    }

    /** The cumulative distribution of a Zipf law with exponent {@code s} over {@code n} ranks (s = 0: uniform). */
    private static double[] zipf(int n, double s) {
        double[] cdf = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += 1.0 / Math.pow(i + 1, s);
            cdf[i] = sum;
        }
        for (int i = 0; i < n; i++) {
            cdf[i] /= sum;
        }
        cdf[n - 1] = 1.0;
        return cdf;
    }
}
