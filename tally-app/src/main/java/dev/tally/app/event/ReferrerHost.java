package dev.tally.app.event;

import io.netty.util.NetUtil;
import java.net.IDN;
import java.util.Locale;

/**
 * The host of a referrer URL, in the one form the store keeps (its {@code host} columns hold at
 * most 255 characters): lower case, an internationalised name in ASCII (punycode,
 * {@code bücher.example} is {@code xn--bcher-kva.example}), no trailing dot, at most
 * {@link #MAX_LENGTH} characters of letters, digits, hyphens and dots in labels of 1–63, or an IP
 * literal ({@code 192.0.2.1}, {@code [2001:db8::1]}). User information and port are not part of it.
 *
 * <p>Parsed by hand rather than with {@link java.net.URI}, which refuses many real referrers
 * outright and returns no host for internationalised names; nothing here resolves names.
 */
public final class ReferrerHost {

    /** The longest host name DNS allows, in characters. */
    public static final int MAX_LENGTH = 253;

    private static final String INVALID = "";

    private ReferrerHost() {}

    /**
     * The host of {@code referrer}, fit to be stored.
     *
     * @param referrer a URL ({@code scheme://host…} or {@code //host…}), or anything else
     * @return the host, or {@code null} when the referrer has none or one that is not a valid host
     */
    public static String of(String referrer) {
        String host = parse(referrer);
        return host == null || host.isEmpty() ? null : host;
    }

    /**
     * The host of {@code referrer} as {@link #of} gives it, in one parse, or an exception when the
     * referrer names a host that is not a valid one (as opposed to naming none).
     */
    static String checked(String referrer) throws InvalidFieldException {
        String host = parse(referrer);
        if (INVALID.equals(host)) {
            throw new InvalidFieldException("referrer has a host that is not a valid host name (at most "
                    + MAX_LENGTH + " characters of letters, digits, hyphens and dots)");
        }
        return host;
    }

    /**
     * Where the authority of {@code referrer} ends (at the first {@code /}, {@code ?}, {@code #}
     * or {@code \\} after it), -1 when it has none: the host is decided by the text before, so
     * {@code referrer}'s host is that of this prefix alone.
     */
    static int authorityEnd(CharSequence referrer) {
        int start = authorityStart(referrer);
        return start < 0 ? -1 : authorityEnd(referrer, start);
    }

    private static int authorityEnd(CharSequence s, int start) {
        int end = start;
        while (end < s.length() && "/?#\\".indexOf(s.charAt(end)) < 0) {
            end++;
        }
        return end;
    }

    /** {@code null}: no host; {@link #INVALID}: a host that cannot be kept; else the host. */
    private static String parse(String s) {
        if (s == null) {
            return null;
        }
        int start = authorityStart(s);
        if (start < 0) {
            return null;
        }
        int end = authorityEnd(s, start);
        int at = s.lastIndexOf('@', end - 1);
        if (at >= start) {
            start = at + 1;
        }
        if (end - start > 1024) {
            return INVALID;
        }
        String hostPort = s.substring(start, end);
        if (hostPort.startsWith("[")) {
            int close = hostPort.indexOf(']');
            if (close < 0 || !isPort(hostPort, close + 1)) {
                return INVALID;
            }
            String address = hostPort.substring(1, close);
            return address.indexOf('%') < 0 && NetUtil.isValidIpV6Address(address)
                    ? "[" + address.toLowerCase(Locale.ROOT) + "]" : INVALID;
        }
        int colon = hostPort.lastIndexOf(':');
        String host = hostPort;
        if (colon >= 0) {
            if (!isPort(hostPort, colon)) {
                return INVALID;
            }
            host = hostPort.substring(0, colon);
        }
        if (host.endsWith(".")) {
            host = host.substring(0, host.length() - 1);
        }
        if (host.isEmpty()) {
            return null;
        }
        if (!isAscii(host)) {
            // IDN conversion is costly (string preparation tables): only for names that need it.
            if (Text.problem(host) != null) {
                return INVALID;
            }
            try {
                host = IDN.toASCII(host, IDN.USE_STD3_ASCII_RULES);
            } catch (IllegalArgumentException e) {
                return INVALID;
            }
        }
        host = host.toLowerCase(Locale.ROOT);
        return isHostName(host) ? host : INVALID;
    }

    /** Where the authority begins: after {@code scheme://} or a leading {@code //}; -1 when there is none. */
    private static int authorityStart(CharSequence s) {
        if (s.length() >= 2 && s.charAt(0) == '/' && s.charAt(1) == '/') {
            return 2;
        }
        int n = s.length();
        if (n == 0 || !isLetter(s.charAt(0))) {
            return -1;
        }
        int i = 1;
        while (i < n && (isLetter(s.charAt(i)) || isDigit(s.charAt(i)) || "+-.".indexOf(s.charAt(i)) >= 0)) {
            i++;
        }
        return i + 3 <= n && s.charAt(i) == ':' && s.charAt(i + 1) == '/' && s.charAt(i + 2) == '/' ? i + 3 : -1;
    }

    /** Whether {@code s} from {@code i} is empty or {@code :} and up to five digits. */
    private static boolean isPort(String s, int i) {
        if (i == s.length()) {
            return true;
        }
        if (s.charAt(i) != ':' || s.length() - i - 1 > 5) {
            return false;
        }
        for (int k = i + 1; k < s.length(); k++) {
            if (!isDigit(s.charAt(k))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isHostName(String host) {
        if (host.isEmpty() || host.length() > MAX_LENGTH) {
            return false;
        }
        int label = 0;
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c == '.') {
                if (label == 0 || host.charAt(i - 1) == '-') {
                    return false;
                }
                label = 0;
            } else if (isLetter(c) || isDigit(c) || c == '-' && label > 0) {
                if (++label > 63) {
                    return false;
                }
            } else {
                return false;
            }
        }
        return label > 0 && host.charAt(host.length() - 1) != '-';
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }

    private static boolean isLetter(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
