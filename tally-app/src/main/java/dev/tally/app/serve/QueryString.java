package dev.tally.app.serve;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.tally.app.http.Replies;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.util.HashMap;
import java.util.Map;

/**
 * A request's query string ({@code a=1&b=x+y}), decoded strictly, because every byte of it comes
 * from anyone: each name and value is percent-decoded ({@code +} is a space, as forms send it),
 * must then be UTF-8, must hold no control character (C0, DEL, C1: a NUL alone makes PostgreSQL
 * fail the query), and each name may appear once (which of two values would count is a guess an
 * attacker could steer, e.g. past a cache). A broken parameter is a {@link BadParameterException}
 * naming it; one whose name is itself broken is "a parameter name". Empty pieces ({@code a=1&&b=2})
 * are skipped, and a name without {@code =} has the empty value.
 *
 * <p>Vert.x's own {@code request.params()} throws on a bad escape and silently replaces invalid
 * UTF-8 with U+FFFD; this is the one decoding the stats API uses instead.
 */
final class QueryString {

    private final Map<String, String> values;

    private QueryString(Map<String, String> values) {
        this.values = values;
    }

    /**
     * @param raw the query as received, without the {@code ?}; {@code null} when there is none
     * @throws BadParameterException naming the first parameter that breaks a rule
     */
    static QueryString parse(String raw) {
        Map<String, String> values = new HashMap<>();
        if (raw != null) {
            for (String piece : raw.split("&", -1)) {
                if (piece.isEmpty()) {
                    continue;
                }
                int eq = piece.indexOf('=');
                String name = decode(eq < 0 ? piece : piece.substring(0, eq), null);
                String value = decode(eq < 0 ? "" : piece.substring(eq + 1), name);
                if (values.putIfAbsent(name, value) != null) {
                    throw new BadParameterException(Replies.cut(name) + " is given more than once; give it once");
                }
            }
        }
        return new QueryString(values);
    }

    /** The value of {@code name}, {@code null} when absent. */
    String get(String name) {
        return values.get(name);
    }

    /** Percent-decodes {@code raw} of the parameter {@code name} ({@code null}: {@code raw} is a name). */
    private static String decode(String raw, String name) {
        String what = name == null ? "a parameter name" : Replies.cut(name);
        byte[] bytes = new byte[raw.length()];
        int n = 0;
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                int hi = i + 2 < raw.length() ? hex(raw.charAt(i + 1)) : -1;
                int lo = hi >= 0 ? hex(raw.charAt(i + 2)) : -1;
                if (lo < 0) {
                    throw new BadParameterException(what + " holds an invalid percent-escape: % must be followed by"
                            + " two hexadecimal digits (write % itself as %25)");
                }
                bytes[n++] = (byte) (hi << 4 | lo);
                i += 2;
            } else if (c == '+') {
                bytes[n++] = ' ';
            } else if (c <= 0xFF) {
                bytes[n++] = (byte) c; // the request line's bytes, one char each
            } else {
                throw new BadParameterException(what + " is not UTF-8 once percent-decoded");
            }
        }
        String text;
        try {
            text = UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, 0, n))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new BadParameterException(what + " is not UTF-8 once percent-decoded");
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) {
                throw new BadParameterException(what + " must not hold control characters (such as %00 or %0A)");
            }
        }
        return text;
    }

    /** An ASCII hexadecimal digit's value, else -1 ({@link Character#digit} also takes other scripts' digits). */
    private static int hex(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }
}
