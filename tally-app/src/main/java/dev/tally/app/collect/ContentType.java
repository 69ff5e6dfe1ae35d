package dev.tally.app.collect;

import dev.tally.app.event.Text;
import java.util.Locale;

/**
 * The beacon's {@code Content-Type}, parsed as a media type (RFC 9110): {@code text/plain} (what
 * {@code navigator.sendBeacon} sends, no CORS preflight) or {@code application/json}, with no
 * charset or UTF-8. A prefix match would let {@code text/plainx} or {@code application/json-patch}
 * through; another charset would be read as UTF-8 and mean something else.
 */
final class ContentType {

    private ContentType() {}

    /** Why {@code header} is refused (for the 415), or {@code null} when it is acceptable. */
    static String refusal(String header) {
        String[] parts = header.split(";", -1);
        String type = parts[0].strip().toLowerCase(Locale.ROOT);
        if (!type.equals("text/plain") && !type.equals("application/json")) {
            return "send the beacon as text/plain or application/json, not " + Text.cut(header, 100);
        }
        boolean charsetSeen = false;
        for (int i = 1; i < parts.length; i++) {
            String parameter = parts[i].strip();
            int eq = parameter.indexOf('=');
            if (eq <= 0 || !isToken(parameter.substring(0, eq).strip())) {
                return "the content type has a malformed parameter: " + Text.cut(header, 100);
            }
            if (!parameter.substring(0, eq).strip().equalsIgnoreCase("charset")) {
                continue;
            }
            String value = parameter.substring(eq + 1).strip();
            if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
                value = value.substring(1, value.length() - 1);
            }
            if (charsetSeen || !value.equalsIgnoreCase("utf-8")) {
                return "the beacon must be UTF-8, not " + Text.cut(header, 100);
            }
            charsetSeen = true;
        }
        return null;
    }

    private static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= 0x20 || c >= 0x7F || "()<>@,;:\\\"/[]?={}".indexOf(c) >= 0) {
                return false;
            }
        }
        return true;
    }
}
