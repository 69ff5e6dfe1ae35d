package dev.tally.app.serve;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * The filters of one request, checked: each value is what the store holds ({@code ''} for
 * unknown), matched exactly; they combine with AND.
 *
 * @param page the page's canonical path, {@code null} for every page
 * @param segment the segment columns to match, by dimension
 * @param event the custom event's name, {@code null} for every event; it narrows only event figures
 */
record Filters(String page, Map<Dimension, String> segment, String event) {

    static final Filters NONE = new Filters(null, Map.of(), null);

    Filters {
        segment = segment.isEmpty() ? Map.of() : Collections.unmodifiableMap(new EnumMap<>(segment));
    }

    /** Whether a segment column is filtered: then views and visitors come from the segment tables, per day. */
    boolean bySegment() {
        return !segment.isEmpty();
    }

    /** Whether nothing narrows the views and visitors. */
    boolean none() {
        return page == null && segment.isEmpty();
    }
}
