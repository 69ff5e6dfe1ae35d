package dev.tally.app.collect;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.Locale;
import ua_parser.Parser;

/**
 * Whether a beacon comes from a robot: no user agent at all, or one that the ua-parser project's
 * maintained patterns classify as a spider. Parsing runs hundreds of expressions, so verdicts are
 * cached per user agent, in a bounded cache (a flood of random agents cannot grow memory).
 */
public final class BotFilter {

    /** User agents of HTTP libraries and command-line tools begin with their name. */
    private static final String[] LIBRARIES = {"curl/", "wget/", "python-", "python/", "go-http-client", "java",
        "okhttp", "apache-httpclient", "axios/", "node-fetch", "node", "libwww-perl", "ruby", "php", "httpie/", "wrk"};

    private final Parser parser = new Parser();
    private final Cache<String, Boolean> verdicts = Caffeine.newBuilder().maximumSize(20_000).build();

    public boolean isBot(String userAgent) {
        if (userAgent == null || userAgent.isBlank()) {
            return true;
        }
        return verdicts.get(userAgent, this::classify);
    }

    private boolean classify(String userAgent) {
        if ("Spider".equals(parser.parseDevice(userAgent).family)) {
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
