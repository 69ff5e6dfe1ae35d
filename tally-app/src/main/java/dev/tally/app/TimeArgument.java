package dev.tally.app;

import dev.tally.app.event.EventFields;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A point in time as people and scripts write it, on the command line and in the API: epoch
 * milliseconds ({@code 1764064800000}), an ISO-8601 instant ({@code 2026-11-25T10:00:00Z}, an
 * offset instead of {@code Z} is accepted) or a date ({@code 2026-11-25}, midnight UTC).
 */
public final class TimeArgument implements ITypeConverter<Long> {

    /** The last millisecond of the year 9999: later is a mistake, not a time (and has no ISO form). */
    public static final long LATEST = EventFields.MAX_TIMESTAMP;

    /**
     * Epoch milliseconds of {@code value}.
     *
     * @throws IllegalArgumentException naming {@code name} when it is none of the accepted forms, or before 1970 or after 9999
     */
    public static long parse(String name, String value) {
        long t;
        try {
            if (!value.isEmpty() && value.chars().allMatch(c -> c >= '0' && c <= '9')) {
                t = value.length() > 18 ? -1 : Long.parseLong(value);
            } else if (value.indexOf('T') > 0 || value.indexOf('t') > 0) {
                t = Instant.from(DateTimeFormatter.ISO_OFFSET_DATE_TIME.parse(value.toUpperCase(Locale.ROOT))).toEpochMilli();
            } else {
                t = LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
            }
        } catch (DateTimeException | ArithmeticException e) {
            t = -1;
        }
        if (t < 0 || t > LATEST) {
            throw new IllegalArgumentException(name + " must be epoch milliseconds, an ISO-8601 instant (2026-11-25T10:00:00Z)"
                    + " or a date (2026-11-25) between 1970 and 9999, not " + (value.length() > 64 ? value.substring(0, 64) + "…" : value));
        }
        return t;
    }

    @Override
    public Long convert(String value) {
        try {
            return parse("a time", value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
