package dev.tally.app.collect;

import io.netty.util.NetUtil;
import java.util.Arrays;

/** IP literals as the collector reads them from headers: parsed without any name lookup, IPv4-mapped IPv6 as IPv4. */
final class IpAddress {

    private IpAddress() {}

    /** The 4 or 16 bytes of an IP literal ({@code [v6]} brackets allowed), or {@code null} when it is not one. */
    static byte[] parse(String s) {
        if (s == null || s.isEmpty() || s.length() > 47 || s.indexOf('%') >= 0) {
            return null;
        }
        String literal = s.startsWith("[") && s.endsWith("]") ? s.substring(1, s.length() - 1) : s;
        if (!NetUtil.isValidIpV4Address(literal) && !NetUtil.isValidIpV6Address(literal)) {
            return null;
        }
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(literal);
        if (bytes != null && bytes.length == 16 && isV4Mapped(bytes)) {
            return Arrays.copyOfRange(bytes, 12, 16);
        }
        return bytes;
    }

    /** The usual text of an address: dotted IPv4, or compressed lower-case IPv6 (RFC 5952). */
    static String format(byte[] address) {
        return NetUtil.bytesToIpAddress(address);
    }

    private static boolean isV4Mapped(byte[] b) {
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return b[10] == (byte) 0xFF && b[11] == (byte) 0xFF;
    }
}
