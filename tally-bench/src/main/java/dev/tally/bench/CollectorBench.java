package dev.tally.bench;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.tally.broker.ChildJvm;
import dev.tally.broker.KafkaCluster;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bin/tally bench --collector}: the beacon endpoint of {@code bin/tally run} and of
 * {@code bin/tally collect}, each in a child JVM, under {@code wrk} against {@code GET /health} on
 * the same server (what the HTTP server alone allows), and the time from a beacon to its view in
 * {@code /api/views} at a steady rate. It reports; it asserts no time.
 */
final class CollectorBench {

    private static final Duration READY_TIMEOUT = Duration.ofMinutes(3);

    private final PrintStream out;
    private final Path dir;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    CollectorBench(PrintStream out, Path dir) {
        this.out = out;
        this.dir = dir;
    }

    /**
     * A server under test: the child JVM, where it answers, and the processes whose CPU counts for
     * it besides its own tree (the broker {@code collect} writes to; {@code run} has its own inside).
     */
    record Server(String name, ChildJvm jvm, URI base, List<Long> alsoCounted) implements AutoCloseable {

        long cpuNanos() {
            long sum = 0;
            for (long pid : concat(jvm.pid(), alsoCounted)) {
                sum += ProcessHandle.of(pid).map(CpuClock::ofTree).orElse(0L);
            }
            return sum;
        }

        private static List<Long> concat(long first, List<Long> rest) {
            List<Long> all = new ArrayList<>(rest);
            all.add(0, first);
            return all;
        }

        @Override
        public void close() {
            jvm.terminate(Duration.ofSeconds(30));
        }
    }

    /** One wrk run against one endpoint. */
    record Wrk(String target, long requests, double seconds, double rate, double p50Millis, double p99Millis, long unexpected,
            long socketErrors, long cpuNanosPerRequest) {
        boolean valid() {
            return unexpected == 0 && socketErrors == 0 && requests > 0;
        }
    }

    /** The end-to-end run: beacons sent at a steady rate, and the latency to their view for a sample. */
    record EndToEnd(long sent, double sendRate, long accepted, long otherAnswers, long failed, long counted, long mostViewsOfAPage,
            long[] latenciesMillis, long unseen, Map<String, Long> problems, long polls, double seconds, long[] answerMillis) {
        boolean valid() {
            return accepted == sent && counted == accepted && mostViewsOfAPage <= 1 && unseen == 0;
        }
    }

    /** Whether {@code wrk} is on the PATH. */
    static boolean wrkAvailable() {
        String path = System.getenv("PATH");
        return path != null && Arrays.stream(path.split(java.io.File.pathSeparator))
                .anyMatch(d -> !d.isEmpty() && Files.isExecutable(Path.of(d, "wrk")));
    }

    /** The whole measurement; 0 when every figure is valid, 1 otherwise. */
    int run(int wrkSeconds, int e2eSeconds, int e2eRate) throws Exception {
        List<String[]> rows = new ArrayList<>();
        boolean valid = true;
        EndToEnd e2e;
        out.printf("%n== collector: wrk -t2 -c128 -d%ds --latency; end to end %,d beacons/s for %d s ==%n", wrkSeconds, e2eRate, e2eSeconds);
        try (Server run = startRun()) {
            long wrkBeacons = measurePair(run, wrkSeconds, rows);
            valid &= wrkBeacons >= 0;
            // Start from an idle aggregator, not one still counting wrk's beacons.
            long caughtUp = System.nanoTime();
            long counted = EndToEndSender.views(run.base(), "default",
                    Math.abs(wrkBeacons), Duration.ofSeconds(120));
            out.printf("  run counted wrk's %,d beacons %.1f s after wrk ended (%,d counted%s)%n", Math.abs(wrkBeacons),
                    (System.nanoTime() - caughtUp) / 1e9, counted, counted < Math.abs(wrkBeacons) ? ": NOT all of them" : "");
            valid &= counted >= Math.abs(wrkBeacons);
            out.printf("  end to end against run: %,d beacons/s for %d s, every %dth polled in /api/views every %d ms%n", e2eRate,
                    e2eSeconds, EndToEndSender.SAMPLE_EVERY, EndToEndSender.POLL_MILLIS);
            e2e = endToEnd(run.base(), e2eRate, e2eSeconds);
        }
        try (KafkaCluster broker = KafkaCluster.builder().nodes(1).jvmArgs("-Xmx1g").build().start();
                Server collect = startCollect(broker.bootstrapServers(),
                        broker.nodes().values().stream().map(n -> n.jvm().pid()).toList())) {
            valid &= measurePair(collect, wrkSeconds, rows) >= 0;
        }
        out.printf("%ncollector: wrk -t2 -c128, %d s each; cpu: the server's process tree and, for collect, the broker%n", wrkSeconds);
        out.printf("%-9s %-16s %12s %10s %10s %10s %8s %8s %11s  %s%n", "server", "request", "requests", "req/s", "p50 ms",
                "p99 ms", "x health", "errors", "cpu µs/req", "valid");
        rows.forEach(r -> out.printf("%-9s %-16s %12s %10s %10s %10s %8s %8s %11s  %s%n", (Object[]) r));
        long[] l = e2e.latenciesMillis();
        out.printf("%nend to end (run): beacon -> /api/views, %,d sent at %,.0f/s (asked %,d/s), %,d answered 202, %,d other answers, "
                + "%,d failed; counted %,d (most on one page: %d)%n", e2e.sent(), e2e.sendRate(), e2eRate, e2e.accepted(),
                e2e.otherAnswers(), e2e.failed(), e2e.counted(), e2e.mostViewsOfAPage());
        e2e.problems().forEach((what, n) -> out.printf("  %,8d x %s%n", n, what));
        out.printf("polls of /api/views meanwhile: %,d (%,.0f/s; they load the same server)%n", e2e.polls(), e2e.polls() / e2e.seconds());
        out.printf("%-30s %8s %8s %8s %8s %8s  %s%n", "", "samples", "p50 ms", "p99 ms", "max ms", "unseen", "valid");
        long[] a = e2e.answerMillis();
        out.printf("%-30s %8d %8s %8s %8s %8s  %s%n", "send -> 202", a.length, percentile(a, 50), percentile(a, 99),
                a.length == 0 ? "-" : Long.toString(a[a.length - 1]), "", "");
        out.printf("%-30s %8d %8s %8s %8s %8d  %s%n", "send -> visible in /api/views", l.length, percentile(l, 50), percentile(l, 99),
                l.length == 0 ? "-" : Long.toString(l[l.length - 1]), e2e.unseen(), e2e.valid() ? "yes" : "NO");
        valid &= e2e.valid();
        out.println(valid ? "RESULT: every collector figure is valid (no error, every beacon counted once)"
                : "RESULT: a collector figure is NOT valid (errors or miscounted beacons: see above)");
        return valid ? 0 : 1;
    }

    /** wrk against /health, then the beacons; the beacons answered, negated when a run was not valid. */
    private long measurePair(Server s, int seconds, List<String[]> rows) throws Exception {
        Wrk health = wrk(s, false, seconds);
        Wrk beacons = wrk(s, true, seconds);
        for (Wrk w : List.of(health, beacons)) {
            out.printf("  %-8s %-16s %,10.0f req/s  p50 %8.2f ms  p99 %8.2f ms  %,d unexpected answers, %,d socket errors%n", s.name(),
                    w.target(), w.rate(), w.p50Millis(), w.p99Millis(), w.unexpected(), w.socketErrors());
            rows.add(new String[] {s.name(), w.target(), String.format(Locale.ROOT, "%,d", w.requests()),
                    String.format(Locale.ROOT, "%,.0f", w.rate()), String.format(Locale.ROOT, "%.2f", w.p50Millis()),
                    String.format(Locale.ROOT, "%.2f", w.p99Millis()),
                    w == health ? "1.00" : String.format(Locale.ROOT, "%.2f", w.rate() / health.rate()),
                    String.format(Locale.ROOT, "%,d", w.unexpected() + w.socketErrors()),
                    String.format(Locale.ROOT, "%.1f", w.cpuNanosPerRequest() / 1000.0), w.valid() ? "yes" : "NO"});
        }
        return health.valid() && beacons.valid() ? beacons.requests() : -beacons.requests();
    }

    /** {@code bin/tally run} in a child JVM with a fresh data directory, ready. */
    Server startRun() throws Exception {
        int port = freePort(false);
        int kafkaPort = freePort(true);
        Path data = Files.createDirectories(dir.resolve("run-" + port));
        return start("run", port, data, List.of(), "run", "--data-dir", data.toString(), "--port", Integer.toString(port),
                "--kafka-port", Integer.toString(kafkaPort), "--rate-limit", "0");
    }

    /** {@code bin/tally collect} in a child JVM against {@code bootstrapServers}, ready. */
    Server startCollect(String bootstrapServers, List<Long> brokerPids) throws Exception {
        int port = freePort(false);
        Path data = Files.createDirectories(dir.resolve("collect-" + port));
        return start("collect", port, data, brokerPids, "collect", "--bootstrap-servers", bootstrapServers, "--port", Integer.toString(port),
                "--rate-limit", "0", "--salt-file", data.resolve("visitor-salt").toString());
    }

    /** {@code bin/tally serve} in a child JVM on the store {@code jdbcUrl}, ready. */
    Server startServe(String jdbcUrl, String... more) throws Exception {
        int port = freePort(false);
        Path data = Files.createDirectories(dir.resolve("serve-" + port));
        List<String> args = new ArrayList<>(List.of("serve", "--db", jdbcUrl, "--port", Integer.toString(port)));
        args.addAll(List.of(more));
        return start("serve", port, data, List.of(), args.toArray(String[]::new));
    }

    private Server start(String name, int port, Path data, List<Long> alsoCounted, String... args) throws Exception {
        // The JVM's own choice of collector on a server-class machine, as bin/tally gets it; room for a broker inside run.
        ChildJvm jvm = ChildJvm.builder("dev.tally.app.TallyMain").name("tally-" + name).jvmArgs("-Xmx1g", "-XX:+UseG1GC")
                .workingDir(data).stderrTo(data.resolve("stderr.log")).args(args).start();
        Server s = new Server(name, jvm, URI.create("http://127.0.0.1:" + port), alsoCounted);
        try {
            awaitReady(s);
        } catch (Exception | Error e) {
            s.close();
            throw e;
        }
        out.printf("  %s ready (pid %d, port %d)%n", name, jvm.pid(), port);
        return s;
    }

    private void awaitReady(Server s) throws Exception {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        HttpRequest health = HttpRequest.newBuilder(s.base().resolve("/health")).timeout(Duration.ofSeconds(5)).build();
        while (System.nanoTime() < deadline) {
            if (!s.jvm().isAlive()) {
                throw new IllegalStateException(s.name() + " ended before it was ready:\n" + s.jvm().stderrTail());
            }
            try {
                if (http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException(s.name() + " was not ready within " + READY_TIMEOUT.toSeconds() + " s:\n" + s.jvm().stderrTail());
    }

    /** A free TCP port; with {@code pair}, the next one is free too (a broker's controller takes it). */
    private static int freePort(boolean pair) throws IOException {
        for (int attempt = 0; ; attempt++) {
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            if (!pair) {
                return port;
            }
            if (port < 65535) {
                try (ServerSocket next = new ServerSocket(port + 1)) {
                    return port;
                } catch (IOException taken) {
                    if (attempt > 100) {
                        throw taken;
                    }
                }
            }
        }
    }

    /** wrk against {@code GET /health} or, with {@code beacons}, {@code POST /api/event}; the server's CPU meanwhile. */
    Wrk wrk(Server s, boolean beacons, int seconds) throws Exception {
        Path script = dir.resolve(beacons ? "beacons.lua" : "health.lua");
        Files.writeString(script, beacons ? beaconScript() : healthScript());
        String target = beacons ? "POST /api/event" : "GET /health";
        long cpuBefore = s.cpuNanos();
        Process wrk = new ProcessBuilder("wrk", "-t2", "-c128", "-d" + seconds + "s", "--latency", "-s", script.toString(),
                s.base().resolve(beacons ? "/api/event" : "/health").toString()).redirectErrorStream(true).start();
        wrk.getOutputStream().close();
        String text = new String(wrk.getInputStream().readAllBytes(), UTF_8);
        if (!wrk.waitFor(seconds + 60L, TimeUnit.SECONDS)) {
            wrk.destroyForcibly();
            throw new IllegalStateException("wrk did not end");
        }
        long cpu = s.cpuNanos() - cpuBefore;
        if (wrk.exitValue() != 0) {
            throw new IllegalStateException("wrk failed (exit " + wrk.exitValue() + "):\n" + text);
        }
        return parseWrk(target, text, cpu);
    }

    static Wrk parseWrk(String target, String text, long cpuNanos) {
        Matcher total = Pattern.compile("(\\d+) requests in ([\\d.]+)(\\w+)").matcher(text);
        if (!total.find()) {
            throw new IllegalStateException("no request count in wrk's output:\n" + text);
        }
        long requests = Long.parseLong(total.group(1));
        double seconds = millis(total.group(2), total.group(3)) / 1000;
        long socketErrors = 0;
        Matcher se = Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)").matcher(text);
        if (se.find()) {
            for (int i = 1; i <= 4; i++) {
                socketErrors += Long.parseLong(se.group(i));
            }
        }
        Matcher unexpected = Pattern.compile("unexpected answers: (\\d+)").matcher(text);
        if (!unexpected.find()) {
            throw new IllegalStateException("the script did not report its answers:\n" + text);
        }
        return new Wrk(target, requests, seconds, requests / seconds, latency(text, "50%"), latency(text, "99%"),
                Long.parseLong(unexpected.group(1)), socketErrors, requests == 0 ? 0 : cpuNanos / requests);
    }

    private static double latency(String text, String percentile) {
        Matcher m = Pattern.compile("(?m)^\\s*" + Pattern.quote(percentile) + "\\s+([\\d.]+)(us|ms|s|m)\\s*$").matcher(text);
        return m.find() ? millis(m.group(1), m.group(2)) : Double.NaN;
    }

    private static double millis(String value, String unit) {
        double v = Double.parseDouble(value);
        return switch (unit) {
            case "us" -> v / 1000;
            case "ms" -> v;
            case "s" -> v * 1000;
            case "m" -> v * 60_000;
            default -> throw new IllegalStateException("unknown unit " + unit);
        };
    }

    /** Counts every answer that is not {@code expected} over all threads and prints the count at the end. */
    private static String counting(int expected) {
        return """
                local threads = {}
                function setup(thread) table.insert(threads, thread) end
                function init(args) unexpected = 0 end
                function response(status, headers, body)
                  if status ~= %d then unexpected = unexpected + 1 end
                end
                function done(summary, latency, requests)
                  local total = 0
                  for _, t in ipairs(threads) do total = total + t:get("unexpected") end
                  io.write(string.format("unexpected answers: %%d\\n", total))
                end
                """.formatted(expected);
    }

    static String healthScript() {
        return counting(200);
    }

    /** text/plain JSON beacons over a few hundred paths of one blog, from a browser. */
    static String beaconScript() {
        return counting(202) + """
                wrk.method = "POST"
                wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
                wrk.headers["User-Agent"] = "%s"
                local n = 0
                function request()
                  n = n + 1
                  local body = string.format('{"url":"https://blog.example/posts/%%d","referrer":"https://news.example/"}', n %% 400)
                  return wrk.format(nil, nil, nil, body)
                end
                """.formatted(EndToEndSender.BROWSER);
    }

    /**
     * {@link EndToEndSender} against {@code base} in a JVM of its own, for {@code seconds} at
     * {@code rate} beacons a second; its result.
     */
    EndToEnd endToEnd(URI base, int rate, int seconds) throws Exception {
        try (ChildJvm sender = ChildJvm.builder(EndToEndSender.class).name("tally-e2e").jvmArgs("-Xmx1g")
                .stderrTo(dir.resolve("e2e-stderr.log")).args(base.toString(), Integer.toString(rate), Integer.toString(seconds))
                .start()) {
            // Sending, then up to 60 s for answers, 120 s for the samples and 60 s for the count.
            sender.awaitLine(EndToEndSender.DONE::equals, Duration.ofSeconds(seconds + 300L));
            return EndToEndSender.parse(sender.lines());
        }
    }

    private static String percentile(long[] sorted, int p) {
        if (sorted.length == 0) {
            return "-";
        }
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return Long.toString(sorted[Math.max(0, Math.min(sorted.length - 1, i))]);
    }
}
