package dev.tally.app.collect;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.tally.app.event.EventFields;
import dev.tally.app.event.Text;
import java.io.ByteArrayOutputStream;

/**
 * The campaign a page's URL names in its query string, read before the query is dropped:
 * {@code utm_source} (else {@code ref}, else {@code source}), {@code utm_medium} and
 * {@code utm_campaign}.
 *
 * <p>The query is whatever the author of a link wrote, not part of the page: a value that is
 * not percent-encoded UTF-8, holds a control character or is blank is left out, never a reason
 * to refuse the page view; a value is trimmed and cut at {@link EventFields#MAX_CAMPAIGN}
 * characters. {@code +} is a space, as in forms.
 *
 * @param source the source, or {@code null}
 * @param medium the medium, or {@code null}
 * @param campaign the campaign, or {@code null}
 */
record Campaign(String source, String medium, String campaign) {

    static final Campaign NONE = new Campaign(null, null, null);

    /**
     * @param path a page's path with its query and fragment, or {@code null}
     */
    static Campaign of(String path) {
        if (path == null) {
            return NONE;
        }
        int q = path.indexOf('?');
        if (q < 0) {
            return NONE;
        }
        int end = path.indexOf('#', q);
        if (end < 0) {
            end = path.length();
        }
        String utmSource = null;
        String ref = null;
        String source = null;
        String medium = null;
        String campaign = null;
        int i = q + 1;
        while (i < end) {
            int amp = path.indexOf('&', i);
            if (amp < 0 || amp > end) {
                amp = end;
            }
            int eq = path.indexOf('=', i);
            if (eq > i && eq < amp) {
                String name = path.substring(i, eq);
                switch (name) {
                    case "utm_source" -> utmSource = first(utmSource, path, eq + 1, amp);
                    case "ref" -> ref = first(ref, path, eq + 1, amp);
                    case "source" -> source = first(source, path, eq + 1, amp);
                    case "utm_medium" -> medium = first(medium, path, eq + 1, amp);
                    case "utm_campaign" -> campaign = first(campaign, path, eq + 1, amp);
                    default -> { }
                }
            }
            i = amp + 1;
        }
        String from = utmSource != null ? utmSource : ref != null ? ref : source;
        return from == null && medium == null && campaign == null ? NONE : new Campaign(from, medium, campaign);
    }

    /** The first usable value of a parameter wins; a repeated one is ignored. */
    private static String first(String current, String s, int from, int to) {
        return current != null ? current : value(s, from, to);
    }

    /** The decoded value, or {@code null} when it cannot be kept. */
    static String value(String s, int from, int to) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(to - from);
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= to) {
                    return null;
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    return null;
                }
                bytes.write(hi << 4 | lo);
                i += 2;
            } else if (c == '+') {
                bytes.write(' ');
            } else if (c < 0x80) {
                bytes.write(c);
            } else {
                // Not ASCII, so not escaped: taken as it is, up to the next escape or the end.
                int j = i;
                while (j < to && s.charAt(j) >= 0x80) {
                    j++;
                }
                byte[] raw = s.substring(i, j).getBytes(UTF_8);
                bytes.write(raw, 0, raw.length);
                i = j - 1;
            }
        }
        byte[] raw = bytes.toByteArray();
        if (!Text.isUtf8(raw)) {
            return null;
        }
        String value = Text.cut(new String(raw, UTF_8).strip(), EventFields.MAX_CAMPAIGN).strip();
        return value.isEmpty() || Text.problem(value) != null ? null : value;
    }
}
