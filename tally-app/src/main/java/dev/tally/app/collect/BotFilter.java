package dev.tally.app.collect;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.tally.app.event.Text;
import java.util.Locale;
import ua_parser.Parser;

/**
 * Whether a beacon comes from a robot: no user agent at all, or one that the ua-parser project's
 * maintained patterns classify as a spider. Only the first {@link #MAX_USER_AGENT} characters are
 * looked at — a browser's is far shorter, and hundreds of expressions over a 100 KB header would
 * be work any client could ask for. Verdicts are cached per (cut) user agent, in a cache bounded
 * in bytes, so that a flood of random agents cannot grow memory; a reader's verdict is its
 * {@link Software}, reduced in the same look at the agent.
 */
public final class BotFilter {

    /** The longest user agent looked at (and hashed into the visitor); longer ones are cut. */
    public static final int MAX_USER_AGENT = 512;
    /** What the verdicts may weigh by default: some 8 000 agents of the longest kind, far more of the usual. */
    public static final long DEFAULT_MAX_BYTES = 8L << 20;

    /** User agents of HTTP libraries and command-line tools begin with their name. */
    private static final String[] LIBRARIES = {"curl/", "wget/", "python-", "python/", "go-http-client", "java",
        "okhttp", "apache-httpclient", "axios/", "node-fetch", "node", "libwww-perl", "ruby", "php", "httpie/", "wrk"};

    private final Parser parser = new Parser();
    private final Cache<String, Software> verdicts;

    public BotFilter() {
        this(DEFAULT_MAX_BYTES);
    }

    BotFilter(long maxBytes) {
        verdicts = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((String ua, Software verdict) -> 256 + 2 * ua.length())
                .build();
    }

    /** The user agent as the collector uses it: cut at {@link #MAX_USER_AGENT} characters. */
    public static String cut(String userAgent) {
        return userAgent == null ? null : Text.cut(userAgent, MAX_USER_AGENT);
    }

    public boolean isBot(String userAgent) {
        return software(userAgent) == Software.ROBOT;
    }

    /** The reader's software, or {@link Software#ROBOT} for a robot. */
    Software software(String userAgent) {
        if (userAgent == null || userAgent.isBlank()) {
            return Software.ROBOT;
        }
        return verdicts.get(cut(userAgent), this::classify);
    }

    /** What the verdicts weigh now, in bytes (after pending evictions). */
    long weightedBytes() {
        verdicts.cleanUp();
        return verdicts.policy().eviction().orElseThrow().weightedSize().orElseThrow();
    }

    private Software classify(String userAgent) {
        String device = parser.parseDevice(userAgent).family;
        return isRobot(userAgent, device) ? Software.ROBOT : Software.of(parser, userAgent, device);
    }

    private static boolean isRobot(String userAgent, String device) {
        if ("Spider".equals(device)) {
            return true;
        }
        // Headless browsers and HTTP libraries are scripts, not readers; ua-parser leaves some of them out.
        String ua = userAgent.toLowerCase(Locale.ROOT);
        if (ua.contains("headless")) {
            return true;
        }
        for (String library : LIBRARIES) {
            if (ua.startsWith(library)) {
                return true;
            }
        }
        return false;
    }
}
