package dev.tally.app.serve;

/**
 * A CSV table as RFC 4180 writes it: CRLF line ends, a field in double quotes (its quotes
 * doubled) when it holds a comma, a quote or a line break. Paths are user input, so a path may
 * hold any of them. Every text field is someone's input (a campaign, a browser's name, an
 * event's property): one that a spreadsheet would run as a formula ({@code =HYPERLINK(…)},
 * {@code +1+2}, {@code @SUM(…)}) is written after a {@code '}, which makes it text there.
 */
final class Csv {

    /** What a spreadsheet takes as the start of a formula (OWASP's list for CSV injection). */
    private static final String FORMULA_START = "=+-@\t\r";

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
            text.append(fields[i] instanceof Number n ? n.toString() : field(String.valueOf(fields[i])));
        }
        text.append("\r\n");
        return this;
    }

    static String field(String text) {
        String value = !text.isEmpty() && FORMULA_START.indexOf(text.charAt(0)) >= 0 ? "'" + text : text;
        if (value != text) {
            return "\"" + value.replace("\"", "\"\"") + "\"";
        }
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
