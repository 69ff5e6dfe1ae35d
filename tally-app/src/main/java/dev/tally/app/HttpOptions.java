package dev.tally.app;

import java.time.Duration;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * Where and how {@code collect}, {@code serve} and {@code run} listen: the one HTTP front's
 * options, the same in the three commands. The server is meant to face the internet, so the
 * defaults are the safe ones: HTTP/1.1 only, slow clients cut off, a bounded number of
 * connections.
 */
public final class HttpOptions {

    /** {@code --admin-port same}: {@code /health} and {@code /metrics} on {@code --port}. */
    public static final int ADMIN_SAME = -1;
    /** {@code --admin-port off}: no {@code /health} and no {@code /metrics}. */
    public static final int ADMIN_OFF = -2;

    @Option(names = "--port", description = "HTTP port (default ${DEFAULT-VALUE}; 0 picks a free one)")
    public int port = 8080;

    @Option(names = "--bind", paramLabel = "ADDRESS", description = "address to listen on (default ${DEFAULT-VALUE}; 0.0.0.0 for every interface)")
    public String bind = "127.0.0.1";

    @Option(names = "--admin-port", paramLabel = "PORT|same|off", converter = AdminPort.class,
            description = "where /health and /metrics are answered: on --port (same, the default), on their own PORT"
                    + " on --admin-bind (0 picks a free one), or nowhere (off)")
    public int adminPort = ADMIN_SAME;

    @Option(names = "--admin-bind", paramLabel = "ADDRESS",
            description = "address of a separate --admin-port (default ${DEFAULT-VALUE})")
    public String adminBind = "127.0.0.1";

    @Option(names = "--read-timeout", paramLabel = "SECONDS", converter = Positive.class,
            description = "seconds a connection has to send a whole request (headers and body), counted from its opening"
                    + " or from its previous answer; then it is closed (default ${DEFAULT-VALUE})")
    public int readTimeoutSeconds = 10;

    @Option(names = "--max-connections", paramLabel = "N", converter = Positive.class,
            description = "open connections at most; more are closed at once (default ${DEFAULT-VALUE})")
    public int maxConnections = 10_000;

    @Option(names = "--h2c", description = "also speak HTTP/2 over cleartext (default: HTTP/1.1 only)")
    public boolean h2c;

    public Duration readTimeout() {
        return Duration.ofSeconds(readTimeoutSeconds);
    }

    /** {@code same}, {@code off} or a port number. */
    public static final class AdminPort implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            switch (value.toLowerCase(Locale.ROOT)) {
                case "same":
                    return ADMIN_SAME;
                case "off":
                    return ADMIN_OFF;
                default:
                    try {
                        int port = Integer.parseInt(value);
                        if (port >= 0 && port <= 65535) {
                            return port;
                        }
                    } catch (NumberFormatException e) {
                        // below
                    }
                    throw new TypeConversionException("'" + value + "' is not a port (0-65535), same or off");
            }
        }
    }

    /** A whole number of at least 1. */
    public static final class Positive implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            try {
                int n = Integer.parseInt(value);
                if (n >= 1) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // below
            }
            throw new TypeConversionException("'" + value + "' is not a whole number of at least 1");
        }
    }
}
