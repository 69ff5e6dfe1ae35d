package dev.tally.app.serve;

import dev.tally.app.event.EventFields;
import dev.tally.app.event.InvalidFieldException;
import java.util.regex.Pattern;

/**
 * A conversion goal of {@code --goal}: a visitor converts by sending the custom event
 * ({@code NAME=event:signup}) or by viewing a page ({@code NAME=page:/thanks}, where {@code *}
 * matches any characters: {@code page:/docs/*}).
 *
 * @param name what the dashboard calls it
 * @param kind {@code event} or {@code page}
 * @param match the event's name or the page pattern
 */
public record Goal(String name, String kind, String match) {

    private static final Pattern NAME = Pattern.compile("[\\p{L}\\p{N} ._-]{1,64}");

    /**
     * Parses {@code NAME=event:EVENT} or {@code NAME=page:/PATTERN}.
     *
     * @throws IllegalArgumentException with a message for the user
     */
    static Goal parse(String spec) {
        int eq = spec.indexOf('=');
        String usage = "--goal must be NAME=event:EVENT or NAME=page:/PATH (* matches any characters), not " + spec;
        if (eq <= 0) {
            throw new IllegalArgumentException(usage);
        }
        String name = spec.substring(0, eq).strip();
        String target = spec.substring(eq + 1);
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("--goal: the name must be 1 to 64 letters, digits, spaces, . _ or -, not " + name);
        }
        try {
            if (target.startsWith("event:")) {
                return new Goal(name, "event", EventFields.event(target.substring(6)));
            }
            if (target.startsWith("page:/") && target.length() <= 6 + 2048 && target.chars().noneMatch(c -> c < 0x20 || c == 0x7f)) {
                return new Goal(name, "page", target.substring(5));
            }
        } catch (InvalidFieldException e) {
            throw new IllegalArgumentException("--goal " + name + ": " + e.getMessage());
        }
        throw new IllegalArgumentException(usage);
    }
}
