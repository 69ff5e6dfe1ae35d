package dev.tally.app.event;

/**
 * Checks of untrusted text, shared by the collector and the event decoder so that both refuse the
 * same values: control characters, lone surrogates, malformed UTF-8, lengths in bytes. None of
 * them allocates; they run on every beacon and every record.
 */
public final class Text {

    private Text() {}

    /**
     * The first problem of {@code s} as text a database stores as it is: an ISO control character
     * (U+0000–U+001F, U+007F–U+009F; PostgreSQL refuses U+0000 in text outright) or a surrogate
     * that is not half of a pair (not encodable in UTF-8). {@code null} when there is none.
     */
    public static String problem(CharSequence s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c >= 0x7F && c <= 0x9F) {
                return String.format("a control character (U+%04X)", (int) c);
            }
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                } else {
                    return "a lone surrogate (not Unicode text)";
                }
            }
        }
        return null;
    }

    /** The length of {@code s} in UTF-8, lone surrogates counted as the one byte ('?') they become. */
    public static int utf8Length(String s) {
        int bytes = 0;
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes++;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                bytes++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    /** Whether {@code bytes} is well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF). */
    public static boolean isUtf8(byte[] bytes) {
        int i = 0;
        int n = bytes.length;
        while (i < n) {
            int b = bytes[i];
            if (b >= 0) {
                i++;
                continue;
            }
            b &= 0xFF;
            int need;
            int min;
            if (b >= 0xC2 && b <= 0xDF) {
                need = 1;
                min = 0x80;
            } else if (b >= 0xE0 && b <= 0xEF) {
                need = 2;
                min = 0x800;
            } else if (b >= 0xF0 && b <= 0xF4) {
                need = 3;
                min = 0x10000;
            } else {
                return false;
            }
            if (i + need >= n) {
                return false;
            }
            int cp = b & (0x3F >> need);
            for (int k = 1; k <= need; k++) {
                int c = bytes[i + k] & 0xFF;
                if ((c & 0xC0) != 0x80) {
                    return false;
                }
                cp = cp << 6 | c & 0x3F;
            }
            if (cp < min || cp > 0x10FFFF || cp >= 0xD800 && cp <= 0xDFFF) {
                return false;
            }
            i += need + 1;
        }
        return true;
    }

    /** {@code s} cut to at most {@code max} characters, never between the halves of a surrogate pair. */
    public static String cut(String s, int max) {
        int end = cutLength(s, max);
        return end == s.length() ? s : s.substring(0, end);
    }

    /** The length of {@code s} {@linkplain #cut cut} to at most {@code max} characters. */
    public static int cutLength(CharSequence s, int max) {
        if (s.length() <= max) {
            return s.length();
        }
        return Character.isHighSurrogate(s.charAt(max - 1)) ? max - 1 : max;
    }
}
