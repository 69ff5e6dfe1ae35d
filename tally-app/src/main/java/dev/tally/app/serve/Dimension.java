package dev.tally.app.serve;

import dev.tally.app.event.EventFields;
import java.util.Locale;

/**
 * What the stats can be broken down and filtered by: the page, the event's name, and the columns
 * of a segment (the referrer host, the campaign, the reader's software, device and country).
 * {@link #size} is the column's width: a filter value longer than that can match nothing and is a
 * 400, not a query.
 */
enum Dimension {
    PAGE(null, 2048),
    REFERRER("referrer", 255),
    SOURCE("source", EventFields.MAX_CAMPAIGN),
    MEDIUM("medium", EventFields.MAX_CAMPAIGN),
    CAMPAIGN("campaign", EventFields.MAX_CAMPAIGN),
    BROWSER("browser", EventFields.MAX_SOFTWARE),
    OS("os", EventFields.MAX_SOFTWARE),
    DEVICE("device", 8),
    COUNTRY("country", 2),
    EVENT(null, EventFields.MAX_EVENT_BYTES);

    /** What an unknown value (stored as {@code ''}) is called in answers and filters. */
    static final String NONE = "(none)";

    /** The column of {@code segments}; {@code null} for the page and the event, which are not in a segment. */
    final String column;
    final int size;

    Dimension(String column, int size) {
        this.column = column;
        this.size = size;
    }

    /** The parameter's and the answer's name: {@code browser}. */
    String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    boolean inSegment() {
        return column != null;
    }
}
