package dev.tally.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A TCP proxy on loopback that can make the network between a client and its server go silent,
 * for tests of what a client does when its peer stops answering without closing anything.
 *
 * <pre>{@code
 * try (TcpProxy proxy = TcpProxy.to("127.0.0.1", 5432)) {
 *     String url = "jdbc:postgresql://127.0.0.1:" + proxy.port() + "/app";
 *     proxy.blackhole();   // the server seems to vanish: no answer, no FIN, no RST
 *     proxy.heal();        // what was held is delivered, as TCP retransmission would
 *     proxy.cutAll();      // every open connection is reset
 * }
 * }</pre>
 *
 * <p>It listens on {@code 127.0.0.1} on a free port and opens one connection to the target for
 * every connection it accepts, then copies bytes both ways with two threads per connection.
 *
 * <p>{@link #blackhole()} stops the copying in both directions. Every socket stays open: neither
 * side receives a FIN or an RST, so a client sees exactly what a stalled network shows it — a peer
 * that does not answer. Bytes already read by the proxy are held, and since it reads no more, the
 * kernel's buffers fill and then the sender's writes block, as when no ACK comes back.
 * {@link #heal()} resumes the copying and <b>delivers the held bytes</b>, in order: a long stall
 * of a real network ends the same way, because TCP retransmits what it did not get acknowledged.
 * (Dropping the bytes instead would leave every connection desynchronised, which no real network
 * does to a TCP stream.) The one difference from a real network: the proxy's kernel acknowledges
 * what it buffers, so the client's TCP does not retransmit and does not give up on its own
 * ({@code tcp_retries2}); only the application's own timeouts (a socket read timeout, a
 * statement timeout) can notice the silence — which is what such tests are about.
 *
 * <p>A connection accepted during a blackhole is accepted by the proxy's kernel (the client's
 * {@code connect} succeeds) but the proxy does not connect to the target until {@link #heal()}:
 * whatever the client sends meanwhile is held like the rest. A real blackhole would leave the SYN
 * unanswered; both leave the client waiting for its first answer.
 *
 * <p>{@link #cutAll()} resets (RST) both sides of every open connection, also the ones held by a
 * blackhole; the proxy goes on accepting new ones. {@link #close()} does the same and stops
 * listening. Thread-safe.
 */
public final class TcpProxy implements AutoCloseable {

    private static final int BUFFER = 16 * 1024;

    private final InetSocketAddress target;
    private final ServerSocket server;
    private final Thread acceptor;
    private final Set<Link> links = new HashSet<>();
    private boolean blackholed;
    private boolean closed;

    private TcpProxy(InetSocketAddress target) throws IOException {
        this.target = target;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.acceptor = new Thread(this::accept, "tcp-proxy-" + server.getLocalPort() + "-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /**
     * Starts a proxy to {@code host:port}, listening on {@code 127.0.0.1} on a free port. The target
     * is connected to once per accepted connection; if that fails, the client's connection is reset.
     */
    public static TcpProxy to(String host, int port) {
        try {
            return new TcpProxy(new InetSocketAddress(host, port));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on 127.0.0.1", e);
        }
    }

    /** The port the proxy listens on, on {@code 127.0.0.1}. */
    public int port() {
        return server.getLocalPort();
    }

    /** Stops forwarding in both directions, holding what was read; every socket stays open. Idempotent. */
    public synchronized void blackhole() {
        blackholed = true;
    }

    /** Resumes forwarding: held bytes are delivered first, in order, and held connections reach the target. Idempotent. */
    public synchronized void heal() {
        blackholed = false;
        notifyAll();
    }

    /** Whether the proxy is between {@link #blackhole()} and {@link #heal()}. */
    public synchronized boolean isBlackholed() {
        return blackholed;
    }

    /** Resets (RST) both sides of every connection open now; later connections are proxied as usual. */
    public void cutAll() {
        List<Link> open;
        synchronized (this) {
            open = List.copyOf(links);
        }
        open.forEach(Link::reset);
    }

    /** Stops listening and resets every open connection. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        try {
            server.close();
        } catch (IOException e) {
            // closing: nothing to do
        }
        cutAll();
    }

    private void accept() {
        while (true) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            Link link = new Link(client);
            synchronized (this) {
                if (closed) {
                    link.reset();
                    return;
                }
                links.add(link);
            }
            Thread t = new Thread(link::open, "tcp-proxy-" + port() + "-open");
            t.setDaemon(true);
            t.start();
        }
    }

    /** Blocks while blackholed; false when the link (or the proxy) was closed meanwhile. */
    private synchronized boolean awaitForwarding(Link link) {
        while (blackholed && !closed && !link.isClosed()) {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return !closed && !link.isClosed();
    }

    private synchronized void forget(Link link) {
        links.remove(link);
    }

    /** One client connection and its connection to the target. */
    private final class Link {
        private final Socket client;
        private volatile Socket upstream;
        private volatile boolean closed;
        private int pumpsDone;

        Link(Socket client) {
            this.client = client;
        }

        boolean isClosed() {
            return closed;
        }

        void open() {
            if (!awaitForwarding(this)) {
                reset();
                return;
            }
            Socket s = new Socket();
            try {
                s.setTcpNoDelay(true);
                client.setTcpNoDelay(true);
                s.connect(target, 10_000);
            } catch (IOException e) {
                close(s);
                reset();
                return;
            }
            upstream = s;
            if (closed) { // reset while connecting
                reset();
                return;
            }
            start(client, s, "up");
            start(s, client, "down");
        }

        private void start(Socket from, Socket to, String direction) {
            Thread t = new Thread(() -> pump(from, to), "tcp-proxy-" + port() + "-" + direction);
            t.setDaemon(true);
            t.start();
        }

        /** Copies until end of stream (passed on as a half-close) or an error (passed on as a reset). */
        private void pump(Socket from, Socket to) {
            byte[] buffer = new byte[BUFFER];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                while (true) {
                    int n = in.read(buffer);
                    // Read first, then wait: what was read during a blackhole is held, not lost.
                    if (!awaitForwarding(this)) {
                        return;
                    }
                    if (n < 0) {
                        to.shutdownOutput();
                        break;
                    }
                    out.write(buffer, 0, n);
                }
            } catch (IOException e) {
                reset();
                return;
            }
            boolean both;
            synchronized (this) {
                both = ++pumpsDone == 2;
            }
            if (both) {
                closed = true;
                close(client);
                close(upstream);
                forget(this);
            }
        }

        /** Closes both sockets with SO_LINGER 0, which sends an RST rather than a FIN. */
        void reset() {
            closed = true;
            abort(client);
            abort(upstream);
            forget(this);
            synchronized (TcpProxy.this) {
                TcpProxy.this.notifyAll(); // wake this link's pumps held by a blackhole
            }
        }

        private void abort(Socket s) {
            if (s == null) {
                return;
            }
            try {
                s.setSoLinger(true, 0);
            } catch (SocketException e) {
                // already closed
            }
            close(s);
        }

        private void close(Socket s) {
            if (s == null) {
                return;
            }
            try {
                s.close();
            } catch (IOException e) {
                // closing: nothing to do
            }
        }
    }
}
