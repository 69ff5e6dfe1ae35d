package dev.tally.app.serve;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.tally.app.event.EventFields;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Who may read a site's stats: everyone, or whoever presents one of the owner's secrets (the
 * {@code --dashboard-password} or a token of {@code --token-file}), except for the sites made
 * public.
 *
 * <p>A secret comes in the {@code Authorization} header, as HTTP Basic (any user name, the secret
 * as the password: the browser asks for it once and sends it with the dashboard's own API calls)
 * or as {@code Bearer}. No cookie is set, for owners either. Secrets are compared by their
 * SHA-256 digests with {@link MessageDigest#isEqual}, every secret every time, so that the time an
 * answer takes tells nothing about how much of a guess was right; they are never logged.
 */
public final class Access {

    /** Everyone may read everything: no secret was configured. */
    public static final Access OPEN = new Access(List.of(), Set.of());

    private final List<byte[]> digests = new ArrayList<>();
    private final Set<String> publicSites;

    Access(Collection<String> secrets, Set<String> publicSites) {
        for (String s : secrets) {
            digests.add(digest(s));
        }
        this.publicSites = Set.copyOf(publicSites);
    }

    /** Whether any request may read everything. */
    public boolean isOpen() {
        return digests.isEmpty();
    }

    /**
     * Whether a request may read {@code site}'s stats.
     *
     * @param site the site asked for ({@code null}: the default site)
     * @param authorization the request's {@code Authorization} header, or {@code null}
     */
    boolean allows(String site, String authorization) {
        return isPublic(site) || owner(authorization);
    }

    /** Whether {@code site} ({@code null}: the default site) is open to all. */
    boolean isPublic(String site) {
        return isOpen() || publicSites.contains(site == null || site.isEmpty() ? EventFields.DEFAULT_SITE : site);
    }

    /** Whether some sites are open to all although the rest is private. */
    boolean hasPublicSites() {
        return !publicSites.isEmpty();
    }

    /** Whether the request may read every site: no secret is configured, or it presents one. */
    boolean owner(String authorization) {
        if (isOpen()) {
            return true;
        }
        String secret = secret(authorization);
        if (secret == null) {
            return false;
        }
        byte[] presented = digest(secret);
        boolean match = false;
        for (byte[] d : digests) {
            match |= MessageDigest.isEqual(d, presented);
        }
        return match;
    }

    /** The secret of a Basic (its password) or Bearer header, or {@code null}. */
    private static String secret(String authorization) {
        if (authorization == null || authorization.length() > 4096) {
            return null;
        }
        String header = authorization.strip();
        int space = header.indexOf(' ');
        if (space < 0) {
            return null;
        }
        String scheme = header.substring(0, space).toLowerCase(Locale.ROOT);
        String value = header.substring(space + 1).strip();
        if (scheme.equals("bearer")) {
            return value;
        }
        if (scheme.equals("basic")) {
            try {
                String pair = new String(Base64.getDecoder().decode(value), UTF_8);
                int colon = pair.indexOf(':');
                return colon < 0 ? null : pair.substring(colon + 1);
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
        return null;
    }

    private static byte[] digest(String secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }
}
