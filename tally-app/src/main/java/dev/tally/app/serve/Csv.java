package dev.tally.app.serve;

/**
 * A CSV table as RFC 4180 writes it: CRLF line ends, a field in double quotes (its quotes
 * doubled) when it holds a comma, a quote or a line break. Paths are user input, so a path may
 * hold any of them.
 */
final class Csv {

    private final StringBuilder text = new StringBuilder();

    /** Starts a table with its header line. */
    Csv(String... header) {
        row((Object[]) header);
    }

    Csv row(Object... fields) {
        for (int i = 0; i < fields.length; i++) {
            if (i > 0) {
                text.append(',');
            }
            text.append(field(String.valueOf(fields[i])));
        }
        text.append("\r\n");
        return this;
    }

    static String field(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == ',' || c == '"' || c == '\r' || c == '\n') {
                return "\"" + value.replace("\"", "\"\"") + "\"";
            }
        }
        return value;
    }

    @Override
    public String toString() {
        return text.toString();
    }
}
