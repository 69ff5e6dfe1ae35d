package dev.tally.app.collect;

import dev.tally.app.event.InvalidFieldException;
import dev.tally.app.event.ReferrerHost;
import dev.tally.app.event.Text;
import java.util.Locale;

/**
 * A beacon's {@code url}, split into what the collector uses: the page's origin (for
 * {@code --origins}), its host (to tell a navigation inside the site from a referrer) and its raw
 * path (for {@link dev.tally.app.event.PagePath}). Either an absolute http(s) URL or a path
 * beginning with {@code /}, which has neither origin nor host.
 *
 * @param origin {@code scheme://host[:port]} in lower case without a default port, or {@code null}
 * @param host the host as {@link ReferrerHost} gives it, or {@code null}
 * @param path the path with its query and fragment, beginning with {@code /}
 */
record PageUrl(String origin, String host, String path) {

    static PageUrl parse(String url) throws InvalidFieldException {
        String problem = Text.problem(url);
        if (problem != null) {
            throw new InvalidFieldException("url contains " + problem);
        }
        if (url.startsWith("/") && !url.startsWith("//")) {
            return new PageUrl(null, null, url);
        }
        int colon = url.indexOf("://");
        String scheme = colon < 0 ? "" : url.substring(0, colon).toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new InvalidFieldException("url must be an absolute http(s) URL or a path beginning with /");
        }
        String host = ReferrerHost.of(url);
        if (host == null) {
            throw new InvalidFieldException("url has no valid host");
        }
        int start = colon + 3;
        int end = start;
        while (end < url.length() && "/?#\\".indexOf(url.charAt(end)) < 0) { // where ReferrerHost ends the authority too
            end++;
        }
        String authority = url.substring(url.lastIndexOf('@', end - 1) >= start ? url.lastIndexOf('@', end - 1) + 1 : start, end);
        int portAt = authority.lastIndexOf(':');
        String origin = scheme + "://" + host;
        if (portAt > authority.lastIndexOf(']') && portAt + 1 < authority.length()) {
            int port = Integer.parseInt(authority.substring(portAt + 1)); // ReferrerHost checked: 1 to 5 digits
            if (port > 65_535) {
                throw new InvalidFieldException("url has an invalid port");
            }
            if (port != (scheme.equals("http") ? 80 : 443)) {
                origin += ":" + port;
            }
        }
        String rest = url.substring(end);
        return new PageUrl(origin, host, rest.startsWith("/") ? rest : "/" + rest);
    }
}
