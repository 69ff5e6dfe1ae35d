package dev.tally.app.event;

import java.util.Map;

/**
 * One page view, or one custom event on a page, as event formats v1 and v2 describe them (see the
 * README): the page's path, when, on which site, from where, by which (hashed) visitor, and since
 * v2 from which campaign, with which software, in which country.
 *
 * <p>Every value fits the store: see {@link PageViewDecoder}, {@link PagePath} and {@link EventFields}.
 *
 * @param path the page path in {@linkplain PagePath canonical form}: at most {@link PagePath#MAX_BYTES} bytes of UTF-8
 * @param timestamp epoch milliseconds, 0 to {@link EventFields#MAX_TIMESTAMP}: the event's {@code ts}, or the Kafka record's timestamp
 * @param site the site, a label of 1–{@link EventFields#MAX_SITE} characters; {@code default} when absent
 * @param referrer the referrer, at most {@link EventFields#MAX_REFERRER} characters, or {@code null}
 * @param referrerHost the referrer's host as the store keeps it, {@link ReferrerHost#of}{@code (referrer)}, or
 *     {@code null} when it names none: parsed once, by whoever made the view
 * @param visitor an opaque visitor hash of at most {@link EventFields#MAX_VISITOR_BYTES} bytes, or {@code null}
 * @param id the event id of at most {@link EventFields#MAX_ID_BYTES} bytes, or {@code null}
 * @param dimensions what event format v2 adds: campaign, software, country ({@link Dimensions#NONE} for v1 records)
 * @param event a custom event's name ({@code signup}), or {@code null} for a page view; custom events travel on
 *     {@code <topic>.events}, never on the page-view topic
 * @param props a custom event's properties, at most {@link EventFields#MAX_PROPS}; empty for a page view
 */
public record PageView(String path, long timestamp, String site, String referrer, String referrerHost, String visitor, String id,
        Dimensions dimensions, String event, Map<String, String> props) {

    /** A page view of event format v1: no dimensions, no custom event. */
    public PageView(String path, long timestamp, String site, String referrer, String referrerHost, String visitor, String id) {
        this(path, timestamp, site, referrer, referrerHost, visitor, id, Dimensions.NONE, null, Map.of());
    }

    /** A view whose referrer's host is {@link ReferrerHost#of}{@code (referrer)}. */
    public PageView(String path, long timestamp, String site, String referrer, String visitor, String id) {
        this(path, timestamp, site, referrer, ReferrerHost.of(referrer), visitor, id);
    }
}
