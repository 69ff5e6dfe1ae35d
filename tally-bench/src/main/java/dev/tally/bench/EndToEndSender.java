package dev.tally.bench;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The end-to-end half of {@code bench --collector}, run as a JVM of its own: beacons at a steady
 * rate, and the time until each sampled one shows in {@code /api/views}. Its threads, sockets and
 * garbage share nothing with the bench's JVM, which holds the servers' bookkeeping: what it
 * measures is the server's.
 *
 * <p>Arguments: the server's base address, beacons a second, seconds. The result goes to
 * standard output as lines that {@link #parse} reads back. Public only for the child JVM's launcher.
 */
public final class EndToEndSender {

    /** A browser's user agent: beacons without one, or with an HTTP library's, are robots and not produced. */
    static final String BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    /** The site of the end-to-end beacons, apart from the wrk beacons (site {@code default}) in the same store. */
    static final String SITE = "e2e";
    static final int SAMPLE_EVERY = 50;
    static final long POLL_MILLIS = 20;
    /** The last line of a result; the lines before it hold the figures. */
    static final String DONE = "e2e-done";
    private static final long GIVE_UP_NANOS = TimeUnit.SECONDS.toNanos(60);
    private static final Pattern VIEWS = Pattern.compile("\"views\":(\\d+)");
    private static final Pattern STATUS_LINE = Pattern.compile("HTTP/1\\.[01] (\\d{3})");

    private static final int SENDERS = 128;
    private static final int POLLERS = 16;
    private static final int CONNECT_TIMEOUT_MILLIS = 10_000;
    private static final int READ_TIMEOUT_MILLIS = 30_000;

    private final InetSocketAddress server;
    private final AtomicLong pollsSent = new AtomicLong();

    EndToEndSender(URI base) {
        this.server = address(base);
    }

    private static InetSocketAddress address(URI base) {
        return new InetSocketAddress(base.getHost(), base.getPort());
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: EndToEndSender BASE-URI BEACONS-PER-SECOND SECONDS");
            System.exit(2);
        }
        CollectorBench.EndToEnd e2e = new EndToEndSender(URI.create(args[0])).send(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
        format(e2e).forEach(System.out::println);
        System.out.flush();
        System.exit(0);
    }

    /**
     * Sends {@code rate} beacons a second for {@code seconds}, open loop: each is due on a clock,
     * and its time runs from when it was due, so a server that falls behind is charged for the
     * beacons waiting for a free sender too. Each beacon goes on a connection of its own, as
     * beacons from many browsers arrive, to a page of its own on site {@value #SITE}; every
     * {@value #SAMPLE_EVERY}th is polled in {@code /api/views} until it shows. Then waits until
     * the site's total reaches the beacons accepted, and reads the most viewed page: one view at
     * most, or a beacon was counted twice.
     */
    CollectorBench.EndToEnd send(int rate, int seconds) throws Exception {
        long total = (long) rate * seconds;
        String run = Long.toString(System.currentTimeMillis(), 36);
        AtomicLong accepted = new AtomicLong();
        AtomicLong other = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
        AtomicLong unseen = new AtomicLong();
        Map<String, LongAdder> problems = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<Long> answers = new ConcurrentLinkedQueue<>();
        CountDownLatch answered = new CountDownLatch((int) total);
        CountDownLatch sampled = new CountDownLatch((int) ((total + SAMPLE_EVERY - 1) / SAMPLE_EVERY));
        ExecutorService senders = Executors.newFixedThreadPool(SENDERS, daemon("bench-e2e-send"));
        ScheduledExecutorService polls = Executors.newScheduledThreadPool(POLLERS, daemon("bench-e2e-poll"));
        long start = System.nanoTime();
        long interval = 1_000_000_000L / rate;
        // When the last beacon left a sender: behind its due time if every sender was waiting.
        AtomicLong lastSent = new AtomicLong(start);
        try {
            for (long i = 0; i < total; i++) {
                long due = start + i * interval;
                for (long wait; (wait = due - System.nanoTime()) > 0; ) {
                    LockSupport.parkNanos(wait);
                }
                String path = "/e2e/" + run + "/" + i;
                String body = "{\"url\":\"https://blog.example" + path + "\",\"referrer\":\"https://news.example/\",\"site\":\"" + SITE + "\"}";
                boolean sample = i % SAMPLE_EVERY == 0;
                senders.execute(() -> {
                    boolean refused = true;
                    lastSent.accumulateAndGet(System.nanoTime(), Math::max);
                    try {
                        Answer a = exchange(server, "POST", "/api/event", body);
                        if (a.status() == 202) {
                            accepted.incrementAndGet();
                            answers.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - due));
                            refused = false;
                        } else {
                            other.incrementAndGet();
                            problems.computeIfAbsent("answer " + a.status(), k -> new LongAdder()).increment();
                        }
                    } catch (IOException | RuntimeException x) {
                        failed.incrementAndGet();
                        problems.computeIfAbsent(describe(x), k -> new LongAdder()).increment();
                    }
                    answered.countDown();
                    if (sample) {
                        // A sample without its 202 is counted among the failures, not as unseen.
                        if (refused) {
                            sampled.countDown();
                        } else {
                            polls.execute(() -> poll("/api/views?path=" + path + "&site=" + SITE, due, polls, latencies, unseen, sampled));
                        }
                    }
                });
            }
            answered.await(60, TimeUnit.SECONDS);
            double sendRate = total <= 1 ? total : (total - 1) / ((lastSent.get() - start) / 1e9);
            sampled.await(120, TimeUnit.SECONDS);
            long counted = views(server, SITE, accepted.get(), Duration.ofSeconds(60));
            long most = Math.max(0, views(exchange(server, "GET", "/api/top?limit=1&site=" + SITE, null).body()));
            long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
            return new CollectorBench.EndToEnd(total, sendRate, accepted.get(), other.get(), failed.get() + answered.getCount(), counted,
                    most, sorted, unseen.get() + sampled.getCount(), problems.entrySet().stream()
                            .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().sum(), Long::sum, TreeMap::new)),
                    pollsSent.get(), (System.nanoTime() - start) / 1e9, answers.stream().mapToLong(Long::longValue).sorted().toArray());
        } finally {
            senders.shutdownNow();
            polls.shutdownNow();
        }
    }

    private void poll(String target, long due, ScheduledExecutorService polls, ConcurrentLinkedQueue<Long> latencies, AtomicLong unseen,
            CountDownLatch sampled) {
        pollsSent.incrementAndGet();
        boolean seen;
        try {
            Answer a = exchange(server, "GET", target, null);
            seen = a.status() == 200 && views(a.body()) >= 1;
        } catch (IOException | RuntimeException x) {
            seen = false;
        }
        long now = System.nanoTime();
        if (seen) {
            latencies.add(TimeUnit.NANOSECONDS.toMillis(now - due));
            sampled.countDown();
        } else if (now - due > GIVE_UP_NANOS) {
            unseen.incrementAndGet();
            sampled.countDown();
        } else {
            polls.schedule(() -> poll(target, due, polls, latencies, unseen, sampled), POLL_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    /** A status and a body. */
    record Answer(int status, String body) { }

    /**
     * One HTTP/1.1 request on a connection of its own, closed after the answer. Written out on a
     * socket because the JDK's asynchronous client, sent to at a steady rate, opened a connection
     * for nearly every request and held thousands open until the server's accept queue overflowed.
     */
    static Answer exchange(InetSocketAddress server, String method, String target, String body) throws IOException {
        byte[] content = body == null ? new byte[0] : body.getBytes(UTF_8);
        StringBuilder head = new StringBuilder(256).append(method).append(' ').append(target).append(" HTTP/1.1\r\n")
                .append("Host: ").append(server.getHostString()).append(':').append(server.getPort()).append("\r\n")
                .append("User-Agent: ").append(BROWSER).append("\r\nConnection: close\r\n");
        if (body != null) {
            head.append("Content-Type: text/plain;charset=UTF-8\r\nContent-Length: ").append(content.length).append("\r\n");
        }
        head.append("\r\n");
        try (Socket s = new Socket()) {
            s.connect(server, CONNECT_TIMEOUT_MILLIS);
            s.setSoTimeout(READ_TIMEOUT_MILLIS);
            OutputStream out = s.getOutputStream();
            out.write(head.toString().getBytes(US_ASCII));
            out.write(content);
            out.flush();
            String answer = new String(s.getInputStream().readAllBytes(), UTF_8);
            Matcher status = STATUS_LINE.matcher(answer);
            if (!status.lookingAt()) {
                throw new IOException("no HTTP status line in an answer of " + answer.length() + " characters");
            }
            int bodyAt = answer.indexOf("\r\n\r\n");
            return new Answer(Integer.parseInt(status.group(1)), bodyAt < 0 ? "" : answer.substring(bodyAt + 4));
        }
    }

    /** The views counted on {@code site} over the last 30 days, once they reach {@code expected} or {@code timeout} passes. */
    static long views(URI base, String site, long expected, Duration timeout) throws Exception {
        return views(address(base), site, expected, timeout);
    }

    private static long views(InetSocketAddress server, String site, long expected, Duration timeout) throws Exception {
        long counted = -1;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String body = exchange(server, "GET", "/api/series?bucket=day&site=" + site, null).body();
            counted = 0;
            for (Matcher m = VIEWS.matcher(body); m.find(); ) {
                counted += Long.parseLong(m.group(1));
            }
            if (counted >= expected) {
                break;
            }
            Thread.sleep(200);
        }
        return counted;
    }

    private static ThreadFactory daemon(String name) {
        AtomicLong n = new AtomicLong();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** An exception's kind and message, with its cause's: why a beacon got no answer. */
    private static String describe(Throwable x) {
        String d = x.getClass().getSimpleName() + ": " + x.getMessage();
        if (x.getCause() != null && x.getCause() != x) {
            d += " (" + x.getCause().getClass().getSimpleName() + ": " + x.getCause().getMessage() + ")";
        }
        return d;
    }

    private static long views(String body) {
        Matcher m = VIEWS.matcher(body);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    /** The result as lines: the counts, the two latency lists, a line per problem, then {@value #DONE}. */
    static List<String> format(CollectorBench.EndToEnd e) {
        List<String> lines = new java.util.ArrayList<>();
        lines.add("e2e-counts " + e.sent() + " " + e.sendRate() + " " + e.accepted() + " " + e.otherAnswers() + " " + e.failed() + " "
                + e.counted() + " " + e.mostViewsOfAPage() + " " + e.unseen() + " " + e.polls() + " " + e.seconds());
        lines.add("e2e-latencies " + join(e.latenciesMillis()));
        lines.add("e2e-answers " + join(e.answerMillis()));
        // The count first: a problem's description may hold any character but a line break.
        e.problems().forEach((what, n) -> lines.add("e2e-problem " + n + " " + what.replace('\n', ' ').replace('\r', ' ')));
        lines.add(DONE);
        return lines;
    }

    /** What {@link #format} wrote, from a child's output (other lines are skipped). */
    static CollectorBench.EndToEnd parse(List<String> output) {
        String[] counts = null;
        long[] latencies = null;
        long[] answers = null;
        Map<String, Long> problems = new TreeMap<>();
        for (String line : output) {
            if (line.startsWith("e2e-counts ")) {
                counts = line.split(" ");
            } else if (line.startsWith("e2e-latencies ")) {
                latencies = longs(line.substring("e2e-latencies ".length()));
            } else if (line.startsWith("e2e-answers ")) {
                answers = longs(line.substring("e2e-answers ".length()));
            } else if (line.startsWith("e2e-problem ")) {
                String[] p = line.split(" ", 3);
                problems.merge(p[2], Long.parseLong(p[1]), Long::sum);
            }
        }
        if (counts == null || counts.length != 11 || latencies == null || answers == null) {
            throw new IllegalStateException("the end-to-end sender printed no whole result:\n" + String.join("\n", output));
        }
        return new CollectorBench.EndToEnd(Long.parseLong(counts[1]), Double.parseDouble(counts[2]), Long.parseLong(counts[3]),
                Long.parseLong(counts[4]), Long.parseLong(counts[5]), Long.parseLong(counts[6]), Long.parseLong(counts[7]), latencies,
                Long.parseLong(counts[8]), problems, Long.parseLong(counts[9]), Double.parseDouble(counts[10]), answers);
    }

    private static String join(long[] values) {
        return Arrays.stream(values).mapToObj(Long::toString).collect(Collectors.joining(","));
    }

    private static long[] longs(String joined) {
        return joined.isEmpty() ? new long[0] : Arrays.stream(joined.split(",")).mapToLong(Long::parseLong).toArray();
    }
}
