package dev.tally.app.collect;

import java.util.ArrayList;
import java.util.List;

/**
 * Which address a beacon comes from, for the rate limit and the visitor hash. Without a proxy in
 * front it is the TCP peer: {@code X-Forwarded-For} is whatever the client wrote. Behind proxies
 * ({@code --trust-proxy}) it is read from the <em>right</em> of {@code X-Forwarded-For}, where the
 * proxies append what they saw — the left end is the client's own, forgeable, claim:
 *
 * <ul>
 *   <li>with {@code --trusted-proxies CIDR,...}: the peer must be in one of those networks (else
 *       the header is ignored), and the client is the rightmost entry outside them;
 *   <li>otherwise: the client is the entry {@code --trusted-hops N} from the right (default 1:
 *       one proxy that appends the address it saw).
 * </ul>
 *
 * An entry that is not an IP literal, or a header shorter than the hops, means the TCP peer is used.
 */
final class ClientAddress {

    /** Entries of {@code X-Forwarded-For} looked at, from the right; a bound on the work per request. */
    private static final int MAX_ENTRIES = 64;

    private record Network(byte[] address, int prefix) {
        boolean contains(byte[] a) {
            if (a.length != address.length) {
                return false;
            }
            int full = prefix / 8;
            for (int i = 0; i < full; i++) {
                if (a[i] != address[i]) {
                    return false;
                }
            }
            int rest = prefix % 8;
            return rest == 0 || ((a[full] ^ address[full]) & 0xFF & (0xFF << (8 - rest))) == 0;
        }
    }

    private final boolean trustProxy;
    private final int hops;
    private final List<Network> trusted;

    private ClientAddress(boolean trustProxy, int hops, List<Network> trusted) {
        this.trustProxy = trustProxy;
        this.hops = hops;
        this.trusted = trusted;
    }

    /** The TCP peer, always. */
    static ClientAddress direct() {
        return new ClientAddress(false, 0, List.of());
    }

    /**
     * @param hops proxies that each append an entry, when {@code trustedNetworks} is empty; at least 1
     * @param trustedNetworks the proxies' networks ({@code 10.0.0.0/8}, {@code 2001:db8::/32}, or one address)
     * @throws IllegalArgumentException for a network that is not an IP literal with a valid prefix, or hops below 1
     */
    static ClientAddress behindProxies(int hops, List<String> trustedNetworks) {
        if (hops < 1) {
            throw new IllegalArgumentException("--trusted-hops must be at least 1");
        }
        List<Network> networks = new ArrayList<>();
        for (String n : trustedNetworks) {
            int slash = n.indexOf('/');
            byte[] address = IpAddress.parse(slash < 0 ? n.strip() : n.substring(0, slash).strip());
            if (address == null) {
                throw new IllegalArgumentException("--trusted-proxies: " + n + " is not an IP address or network (CIDR)");
            }
            int prefix = address.length * 8;
            if (slash >= 0) {
                try {
                    prefix = Integer.parseInt(n.substring(slash + 1).strip());
                } catch (NumberFormatException e) {
                    prefix = -1;
                }
                if (prefix < 0 || prefix > address.length * 8) {
                    throw new IllegalArgumentException("--trusted-proxies: " + n + " has an invalid prefix length");
                }
            }
            networks.add(new Network(address, prefix));
        }
        return new ClientAddress(true, hops, List.copyOf(networks));
    }

    /**
     * @param forwardedFor every {@code X-Forwarded-For} header of the request, in order
     * @param peer the TCP peer's address
     */
    String of(List<String> forwardedFor, String peer) {
        if (!trustProxy || forwardedFor.isEmpty()) {
            return peer;
        }
        List<String> entries = rightmostEntries(forwardedFor);
        if (!trusted.isEmpty()) {
            byte[] p = IpAddress.parse(peer);
            if (p == null || !isTrusted(p)) {
                return peer;
            }
            byte[] client = null;
            for (String entry : entries) { // right to left
                client = IpAddress.parse(entry);
                if (client == null) {
                    return peer;
                }
                if (!isTrusted(client)) {
                    break;
                }
            }
            return client == null ? peer : IpAddress.format(client);
        }
        if (entries.size() < hops) {
            return peer;
        }
        byte[] client = IpAddress.parse(entries.get(hops - 1));
        return client == null ? peer : IpAddress.format(client);
    }

    private boolean isTrusted(byte[] address) {
        for (Network n : trusted) {
            if (n.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /** The entries of the headers, rightmost first, at most {@link #MAX_ENTRIES}. */
    private static List<String> rightmostEntries(List<String> headers) {
        List<String> entries = new ArrayList<>();
        for (int h = headers.size() - 1; h >= 0 && entries.size() < MAX_ENTRIES; h--) {
            String header = headers.get(h);
            int end = header.length();
            while (end >= 0 && entries.size() < MAX_ENTRIES) {
                int comma = header.lastIndexOf(',', end - 1);
                entries.add(header.substring(comma + 1, end).strip());
                if (comma < 0) {
                    break;
                }
                end = comma;
            }
        }
        return entries;
    }
}
