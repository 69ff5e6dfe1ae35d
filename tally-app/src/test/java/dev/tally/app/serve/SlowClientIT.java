package dev.tally.app.serve;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.app.HttpOptions;
import dev.tally.app.aggregate.Aggregator;
import dev.tally.app.http.WebServer;
import dev.tally.testkit.SqliteDatabase;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Slowloris on loopback: 200 connections each trickling a request's headers, one byte per
 * connection every 100 ms, never finishing them. Vert.x's idle timeout alone never fires (bytes
 * keep arriving); the read timeout must close every one of them, while readers' requests to the
 * API are answered meanwhile. Bounded: 200 connections, a minute at most.
 */
class SlowClientIT {

    private static final int TRICKLERS = 200;
    private static final int READ_TIMEOUT_SECONDS = 2;

    @RegisterExtension
    final SqliteDatabase sqlite = new SqliteDatabase();

    private final List<SocketChannel> channels = new ArrayList<>();
    private final ExecutorService trickling = Executors.newSingleThreadExecutor();
    private WebServer web;

    @AfterEach
    void stop() throws Exception {
        trickling.shutdownNow();
        trickling.awaitTermination(10, TimeUnit.SECONDS);
        for (SocketChannel c : channels) {
            c.close();
        }
        if (web != null) {
            web.close();
        }
    }

    @Test
    void tricklingConnectionsAreClosedAndReadersAnsweredMeanwhile() throws Exception {
        Aggregator.migrate(sqlite.jdbcUrl());
        try (Connection c = sqlite.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO pages (site, path) VALUES ('default', '/a')");
            s.execute("INSERT INTO page_totals (page, views) SELECT id, 42 FROM pages WHERE path = '/a'");
        }
        HttpOptions options = new HttpOptions();
        options.readTimeoutSeconds = READ_TIMEOUT_SECONDS;
        web = new WebServer(options);
        new StatsApi(sqlite.dataSource()).routes(web);
        int port = web.start("127.0.0.1", 0);

        for (int i = 0; i < TRICKLERS; i++) {
            SocketChannel c = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
            c.configureBlocking(false);
            c.write(ByteBuffer.wrap("GET /api/views?path=/a HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".getBytes(ISO_8859_1)));
            channels.add(c);
        }
        AtomicInteger closed = new AtomicInteger();
        Future<?> trickle = trickling.submit(() -> trickle(closed));

        // Readers are answered while every trickling connection is open.
        HttpClient readers = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (int i = 0; i < 20; i++) {
            HttpResponse<String> r = readers.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/api/views?path=/a")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString(UTF_8));
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("{\"path\":\"/a\",\"site\":\"default\",\"views\":42,\"visitors\":0}");
        }

        // The server closes every one of them, although each keeps sending.
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> assertThat(closed.get()).isEqualTo(TRICKLERS));
        trickle.get(10, TimeUnit.SECONDS); // and it saw no answer to an unfinished request
    }

    /**
     * One byte to each connection still open, every 100 ms, until the server closed them all (an
     * end of stream or a reset) or a minute is over.
     */
    private void trickle(AtomicInteger closed) {
        boolean[] gone = new boolean[TRICKLERS];
        ByteBuffer sink = ByteBuffer.allocate(4096);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (closed.get() < TRICKLERS && System.nanoTime() < end && !Thread.currentThread().isInterrupted()) {
            for (int i = 0; i < TRICKLERS; i++) {
                if (gone[i]) {
                    continue;
                }
                SocketChannel c = channels.get(i);
                try {
                    sink.clear();
                    if (c.read(sink) < 0) {
                        throw new IOException("end of stream");
                    }
                    assertThat(sink.position()).as("no answer to a request never finished").isZero();
                    c.write(ByteBuffer.wrap(new byte[] {'a'}));
                } catch (IOException e) {
                    gone[i] = true;
                    closed.incrementAndGet();
                }
            }
            try {
                Thread.sleep(100); // the trickle's pace, not a synchronisation
            } catch (InterruptedException e) {
                return;
            }
        }
    }
}
