package dev.tally.app;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The ground truth of an end-to-end test: page views sent as beacons over HTTP and as records by a
 * plain Kafka producer (as kcat would), some of them invalid, with what the API must then answer.
 */
public final class PageViewTruth {

    public static final String[] BROWSERS = {
        "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    };
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final Random random = new Random(42);
    private final Map<String, Long> views = new TreeMap<>();
    /** Visitors per page: the distinct browsers of its beacons plus the distinct visitor fields of its records. */
    private final Map<String, Set<String>> visitors = new HashMap<>();
    private final Set<String> invalid = new HashSet<>();

    /** Sends {@code count} beacons to {@code baseUrl}/api/event over {@code pages} pages; each must get 202. */
    public void sendBeacons(String baseUrl, int count, int pages) throws Exception {
        for (int i = 0; i < count; i++) {
            String path = "/posts/" + random.nextInt(pages);
            String browser = BROWSERS[random.nextInt(BROWSERS.length)];
            String body = "{\"url\":\"https://blog.example" + path + "?utm_source=x#c\",\"referrer\":\"https://news.example/item?id=" + i + "\"}";
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl + "/api/event"))
                    .header("Content-Type", "text/plain;charset=UTF-8")
                    .header("User-Agent", browser)
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as("beacon %s: %s", i, r.body()).isEqualTo(202);
            views.merge(path, 1L, Long::sum);
            visitors.computeIfAbsent(path, p -> new HashSet<>()).add("browser:" + browser);
        }
    }

    /** Produces {@code count} v1 records (every tenth invalid) to {@code topic}, as any other producer could. */
    public void produce(String bootstrapServers, String topic, int count, int pages) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrapServers);
        p.put("acks", "all");
        long now = System.currentTimeMillis();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                String path = "/posts/" + random.nextInt(pages);
                String value;
                if (i % 10 == 9) {
                    value = switch (i % 3) {
                        case 0 -> "not json " + i;
                        case 1 -> "{\"ts\":" + now + ",\"n\":" + i + "}";
                        default -> "{\"path\":\"no-slash-" + i + "\"}";
                    };
                    invalid.add(value);
                } else {
                    String visitor = "v" + random.nextInt(20);
                    value = "{\"path\":\"" + path + "\",\"ts\":" + now + ",\"visitor\":\"" + visitor + "\",\"referrer\":\"https://search.example/\"}";
                    views.merge(path, 1L, Long::sum);
                    visitors.computeIfAbsent(path, x -> new HashSet<>()).add("record:" + visitor);
                }
                sent.add(producer.send(new ProducerRecord<>(topic, path.getBytes(UTF_8), value.getBytes(UTF_8))));
            }
            for (java.util.concurrent.Future<?> f : sent) {
                f.get();
            }
        }
    }

    public Map<String, Long> views() {
        return views;
    }

    public Set<String> invalid() {
        return invalid;
    }

    public long total() {
        return views.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Asserts that the API at {@code baseUrl} answers exactly the truth for every page and for /api/top. */
    public void assertApiMatches(String baseUrl) throws Exception {
        Map<String, Long> top = new TreeMap<>();
        JsonNode pages = get(baseUrl + "/api/top?limit=1000").get("pages");
        pages.forEach(n -> top.put(n.get("path").asText(), n.get("views").asLong()));
        assertThat(top).isEqualTo(views);
        List<Long> order = new ArrayList<>();
        pages.forEach(n -> order.add(n.get("views").asLong()));
        assertThat(order).isSortedAccordingTo(java.util.Comparator.reverseOrder());
        for (Map.Entry<String, Long> e : views.entrySet()) {
            JsonNode v = get(baseUrl + "/api/views?path=" + URLEncoder.encode(e.getKey(), UTF_8));
            assertThat(v.get("path").asText()).isEqualTo(e.getKey());
            assertThat(v.get("views").asLong()).as("views of %s", e.getKey()).isEqualTo(e.getValue());
            assertThat(v.get("visitors").asLong()).as("visitors of %s", e.getKey()).isEqualTo(visitors.get(e.getKey()).size());
        }
    }

    public static JsonNode get(String url) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("GET %s: %s", url, r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }
}
