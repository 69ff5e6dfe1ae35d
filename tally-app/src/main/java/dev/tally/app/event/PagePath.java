package dev.tally.app.event;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;

/**
 * The one canonical form of a page, used wherever a page is named: the collector (a beacon's
 * {@code url} or {@code path}), the event decoder (a record's {@code path}, whoever produced it)
 * and the stats API (a {@code path} parameter). Two names of the same page have the same
 * canonical form, so they count as one page:
 *
 * <ul>
 *   <li>the query ({@code ?…}) and the fragment ({@code #…}) are dropped;
 *   <li>percent-escapes are decoded as UTF-8 ({@code /caf%C3%A9} is {@code /café}), except those
 *       of {@code /}, {@code ?}, {@code #} and {@code %}, which stay escaped, in upper case
 *       ({@code %2F}, {@code %3F}, {@code %23}, {@code %25}) so that the path stays unambiguous;
 *   <li>the text is in Unicode normalisation form C ({@code e} + U+0301 is {@code é});
 *   <li>empty segments are dropped ({@code //a//b/} is {@code /a/b}), and so is a trailing
 *       {@code /}: {@code /a/} and {@code /a} are the same page, {@code /} stays {@code /};
 *   <li>dot segments are resolved as RFC 3986 says ({@code /a/./b} is {@code /a/b},
 *       {@code /a/../b} is {@code /b}, never above the root), escaped dots ({@code %2E}) too;
 *   <li>{@code ;} is an ordinary character (matrix parameters are part of the page), case is
 *       kept, and every other character stands for itself.
 * </ul>
 *
 * <p>Refused, with the reason: a path not beginning with {@code /}; a {@code %} not followed by
 * two hexadecimal digits; escapes whose bytes are not UTF-8 (legacy Latin-1 {@code %E9}, overlong
 * forms, surrogates); control characters (U+0000–U+001F, U+007F–U+009F), escaped or not; lone
 * surrogates; a canonical form longer than {@link #MAX_BYTES} bytes of UTF-8 — the bound that keeps
 * a path, with its site and visitor, inside one PostgreSQL index entry (about 2700 bytes).
 *
 * <p>It is the hot path of the aggregator: a path that is already canonical is checked in one
 * pass over its characters, without allocating, and returned as it is.
 */
public final class PagePath {

    /** The longest canonical path, in bytes of UTF-8 (and so at most as many characters). */
    public static final int MAX_BYTES = 2048;
    /** The longest text looked at (path, query and fragment): a bound on the work per value. */
    public static final int MAX_RAW = 16 * 1024;

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private PagePath() {}

    /**
     * The canonical form of a page path.
     *
     * @param raw a path beginning with {@code /}, possibly with a query and a fragment
     * @return the canonical path; {@code raw} itself when it is already canonical
     * @throws InvalidFieldException when {@code raw} has no canonical form; the message says why
     */
    public static String canonical(String raw) throws InvalidFieldException {
        if (raw == null || raw.isEmpty() || raw.charAt(0) != '/') {
            throw new InvalidFieldException("path must begin with /");
        }
        if (raw.length() > MAX_RAW) {
            throw new InvalidFieldException("path is longer than " + MAX_RAW + " characters");
        }
        return isCanonical(raw) ? raw : rebuild(raw);
    }

    /** One pass, no allocation: true only when {@link #rebuild} would return an equal string. */
    private static boolean isCanonical(String s) {
        int n = s.length();
        if (n > MAX_BYTES || n > 1 && s.charAt(n - 1) == '/') {
            return false;
        }
        int bytes = 0;
        boolean maybeNotNfc = false;
        char prev = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                if (c < 0x20 || c == 0x7F || c == '?' || c == '#') {
                    return false;
                }
                if (c == '%' && !(i + 2 < n && isKeptEscape(s.charAt(i + 1), s.charAt(i + 2)))) {
                    return false;
                }
                if (prev == '/' && (c == '/' || c == '.' && isDotSegment(s, i))) {
                    return false;
                }
                bytes++;
            } else if (c < 0x800) {
                if (c <= 0x9F) {
                    return false;
                }
                maybeNotNfc |= c >= 0x300;
                bytes += 2;
            } else if (Character.isSurrogate(c)) {
                if (!Character.isHighSurrogate(c) || i + 1 >= n || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    return false;
                }
                i++;
                maybeNotNfc = true;
                bytes += 4;
            } else {
                maybeNotNfc = true;
                bytes += 3;
            }
            prev = c;
        }
        // Below U+0300 there are no combining marks: such text is always in form C.
        return bytes <= MAX_BYTES && (!maybeNotNfc || Normalizer.isNormalized(s, Normalizer.Form.NFC));
    }

    /** Whether the segment starting at {@code i} is {@code .} or {@code ..}. */
    private static boolean isDotSegment(String s, int i) {
        int end = s.indexOf('/', i);
        int length = (end < 0 ? s.length() : end) - i;
        return length == 1 || length == 2 && s.charAt(i + 1) == '.';
    }

    private static boolean isKeptEscape(char a, char b) {
        return a == '2' && (b == 'F' || b == '3' || b == '5') || a == '3' && b == 'F';
    }

    private static String rebuild(String raw) throws InvalidFieldException {
        int end = raw.length();
        for (int i = 0; i < end; i++) {
            char c = raw.charAt(i);
            if (c == '?' || c == '#') {
                end = i;
            }
        }
        StringBuilder decoded = new StringBuilder(end);
        for (int i = 0; i < end; ) {
            char c = raw.charAt(i);
            if (c == '%') {
                i = decodeEscapes(raw, i, end, decoded);
                continue;
            }
            decoded.append(c);
            i++;
        }
        String text = decoded.toString();
        String problem = Text.problem(text);
        if (problem != null) {
            throw new InvalidFieldException("path contains " + problem);
        }
        text = Normalizer.normalize(text, Normalizer.Form.NFC);

        List<String> segments = new ArrayList<>();
        int start = 1;
        while (start <= text.length()) {
            int slash = text.indexOf('/', start);
            int stop = slash < 0 ? text.length() : slash;
            String segment = text.substring(start, stop);
            if (segment.equals("..")) {
                if (!segments.isEmpty()) {
                    segments.remove(segments.size() - 1);
                }
            } else if (!segment.isEmpty() && !segment.equals(".")) {
                segments.add(segment);
            }
            start = stop + 1;
        }
        String path = "/" + String.join("/", segments);
        if (Text.utf8Length(path) > MAX_BYTES) {
            throw new InvalidFieldException("path is longer than " + MAX_BYTES + " bytes of UTF-8");
        }
        return path;
    }

    /**
     * Decodes the run of escapes at {@code i} as UTF-8 into {@code out}, escaping again the
     * characters that would change the path's structure; returns the index after the run.
     */
    private static int decodeEscapes(String raw, int i, int end, StringBuilder out) throws InvalidFieldException {
        byte[] bytes = new byte[(end - i) / 3 + 1];
        int count = 0;
        while (i < end && raw.charAt(i) == '%') {
            int hi = i + 2 < end ? Character.digit(raw.charAt(i + 1), 16) : -1;
            int lo = hi < 0 ? -1 : Character.digit(raw.charAt(i + 2), 16);
            if (lo < 0 || raw.charAt(i + 1) > 0x7F || raw.charAt(i + 2) > 0x7F) {
                throw new InvalidFieldException("path has an invalid percent-escape at character " + i
                        + ": % must be followed by two hexadecimal digits (%25 for % itself)");
            }
            bytes[count++] = (byte) (hi << 4 | lo);
            i += 3;
        }
        CharBuffer chars;
        try {
            chars = UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, 0, count));
        } catch (CharacterCodingException e) {
            throw new InvalidFieldException("path has percent-escapes that are not UTF-8");
        }
        while (chars.hasRemaining()) {
            char c = chars.get();
            if (c == '/' || c == '?' || c == '#' || c == '%') {
                out.append('%').append(HEX[c >> 4]).append(HEX[c & 0xF]);
            } else if (c < 0x20 || c >= 0x7F && c <= 0x9F) {
                throw new InvalidFieldException(String.format("path contains an escaped control character (U+%04X)", (int) c));
            } else {
                out.append(c);
            }
        }
        return i;
    }
}
