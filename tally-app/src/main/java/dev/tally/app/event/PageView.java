package dev.tally.app.event;

/**
 * One page view, as event format v1 describes it (see the README): the page's path, when, on
 * which site, from where, by which (hashed) visitor.
 *
 * @param path the page path; begins with {@code /}, at most {@link PageViewDecoder#MAX_PATH} characters
 * @param timestamp epoch milliseconds: the event's {@code ts}, or the Kafka record's timestamp
 * @param site the site, {@code default} when absent
 * @param referrer the referrer URL, or {@code null}
 * @param visitor an opaque visitor hash, or {@code null}
 * @param id the event id, or {@code null}
 */
public record PageView(String path, long timestamp, String site, String referrer, String visitor, String id) {}
