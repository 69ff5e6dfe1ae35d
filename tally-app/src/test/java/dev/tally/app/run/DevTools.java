package dev.tally.app.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One headless Chromium driven over the DevTools protocol: a page that a test can navigate,
 * reload, run script in (clicks included) and read back, as a reader with a keyboard and mouse
 * would use it. Only what the browser tests need.
 */
final class DevTools implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final Process chromium;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> waiting = new ConcurrentHashMap<>();

    private DevTools(Process chromium, WebSocket socket) {
        this.chromium = chromium;
        this.socket = socket;
    }

    /** Starts Chromium with {@code flags} (a profile of its own under {@code dir}) on a blank page. */
    static DevTools start(Path chromium, Path dir, List<String> flags) throws Exception {
        Path profile = Files.createTempDirectory(dir, "devtools-");
        Path err = profile.resolve("stderr.log");
        List<String> cmd = new java.util.ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--remote-debugging-port=0"));
        cmd.addAll(flags);
        cmd.add("about:blank");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).redirectError(err.toFile()).start();
        String endpoint = null;
        for (int i = 0; i < 300 && endpoint == null; i++) {
            Matcher m = Pattern.compile("DevTools listening on ws://(127\\.0\\.0\\.1:\\d+)/").matcher(Files.readString(err));
            if (m.find()) {
                endpoint = m.group(1);
            } else {
                Thread.sleep(100);
            }
        }
        if (endpoint == null) {
            p.destroyForcibly();
            throw new IllegalStateException("chromium did not open its DevTools port: " + Files.readString(err));
        }
        String page = null;
        for (JsonNode target : JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create("http://" + endpoint + "/json/list")).build(),
                HttpResponse.BodyHandlers.ofString()).body())) {
            if (target.get("type").asText().equals("page") && target.get("url").asText().equals("about:blank")) {
                page = target.get("webSocketDebuggerUrl").asText();
            }
        }
        DevTools[] self = new DevTools[1];
        StringBuilder text = new StringBuilder();
        WebSocket ws = HTTP.newWebSocketBuilder().buildAsync(URI.create(page), new WebSocket.Listener() {
            @Override
            public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                text.append(data);
                if (last) {
                    self[0].received(text.toString());
                    text.setLength(0);
                }
                w.request(1);
                return null;
            }
        }).get(10, TimeUnit.SECONDS);
        self[0] = new DevTools(p, ws);
        self[0].call("Page.enable", JSON.createObjectNode());
        return self[0];
    }

    private void received(String message) {
        try {
            JsonNode m = JSON.readTree(message);
            if (m.has("id")) {
                CompletableFuture<JsonNode> f = waiting.remove(m.get("id").asInt());
                if (f != null) {
                    if (m.has("error")) {
                        f.completeExceptionally(new IllegalStateException(m.get("error").toString()));
                    } else {
                        f.complete(m.get("result"));
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    JsonNode call(String method, ObjectNode params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        waiting.put(id, answer);
        ObjectNode message = JSON.createObjectNode().put("id", id).put("method", method);
        message.set("params", params);
        socket.sendText(JSON.writeValueAsString(message), true).get(10, TimeUnit.SECONDS);
        return answer.get(30, TimeUnit.SECONDS);
    }

    void navigate(String url) throws Exception {
        call("Page.navigate", JSON.createObjectNode().put("url", url));
    }

    void reload() throws Exception {
        call("Page.reload", JSON.createObjectNode());
    }

    /** The value of {@code expression} in the page (a promise is awaited), as JSON. */
    JsonNode eval(String expression) throws Exception {
        JsonNode r = call("Runtime.evaluate", JSON.createObjectNode().put("expression", expression)
                .put("returnByValue", true).put("awaitPromise", true));
        if (r.has("exceptionDetails")) {
            throw new IllegalStateException(expression + ": " + r.get("exceptionDetails"));
        }
        return r.get("result").path("value");
    }

    String text(String expression) throws Exception {
        return eval(expression).asText();
    }

    /** Sets the page's viewport, as a phone or a desktop window would be. */
    void viewport(int width, int height, boolean mobile) throws Exception {
        call("Emulation.setDeviceMetricsOverride", JSON.createObjectNode().put("width", width).put("height", height)
                .put("deviceScaleFactor", 1).put("mobile", mobile));
    }

    @Override
    public void close() {
        socket.abort();
        chromium.destroy();
        try {
            if (!chromium.waitFor(10, TimeUnit.SECONDS)) {
                chromium.destroyForcibly();
            }
        } catch (InterruptedException e) {
            chromium.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
