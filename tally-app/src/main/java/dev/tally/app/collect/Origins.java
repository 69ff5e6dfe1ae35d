package dev.tally.app.collect;

import dev.tally.app.event.InvalidFieldException;
import dev.tally.app.event.Text;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code --origins}: the pages whose beacons are collected. A beacon says where it comes from twice:
 * the browser's {@code Origin} header, and the origin of its {@code url}; each one present must be
 * allowed, and at least one must be present. Not a defence against a script that forges both (any
 * HTTP client can), but it keeps other sites' pages — a copied snippet, a scraper's mirror — out of
 * the counts, and turns away blind posts that name no page at all.
 */
final class Origins {

    private final Set<String> allowed;

    private Origins(Set<String> allowed) {
        this.allowed = allowed;
    }

    /**
     * @param origins {@code scheme://host[:port]} each; empty allows every beacon
     * @throws IllegalArgumentException for a value that is not an origin
     */
    static Origins of(List<String> origins) {
        Set<String> set = new LinkedHashSet<>();
        for (String o : origins) {
            String normal = normalise(o.trim());
            if (normal == null) {
                throw new IllegalArgumentException("--origins: " + o + " is not an origin such as https://myblog.example");
            }
            set.add(normal);
        }
        return new Origins(Set.copyOf(set));
    }

    /**
     * Why a beacon is refused (for the 403), or {@code null} when it is allowed.
     *
     * @param originHeader the request's {@code Origin} header, or {@code null}
     * @param pageOrigin the origin of the beacon's url ({@link Beacon#origin()}), or {@code null}
     */
    String refusal(String originHeader, String pageOrigin) {
        if (allowed.isEmpty()) {
            return null;
        }
        if (originHeader == null && pageOrigin == null) {
            return "beacons must name their page (an absolute url, or an Origin header) to be collected here";
        }
        if (originHeader != null) {
            String o = normalise(originHeader);
            if (o == null || !allowed.contains(o)) {
                return "beacons from " + Text.cut(originHeader, 100) + " are not collected here";
            }
        }
        if (pageOrigin != null && !allowed.contains(pageOrigin)) {
            return "beacons from " + pageOrigin + " are not collected here";
        }
        return null;
    }

    /** {@code scheme://host[:port]} as {@link PageUrl} writes origins, or {@code null} for anything else. */
    private static String normalise(String origin) {
        try {
            PageUrl u = PageUrl.parse(origin);
            return u.origin() != null && u.path().equals("/") ? u.origin() : null;
        } catch (InvalidFieldException e) {
            return null;
        }
    }
}
