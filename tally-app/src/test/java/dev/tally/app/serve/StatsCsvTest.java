package dev.tally.app.serve;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** CSV as RFC 4180 writes it: a path may hold commas, quotes and line breaks. */
class StatsCsvTest {

    @Test
    void quotesOnlyTheFieldsThatNeedIt() {
        assertThat(Csv.field("/plain/path")).isEqualTo("/plain/path");
        assertThat(Csv.field("/a,b")).isEqualTo("\"/a,b\"");
        assertThat(Csv.field("/say \"hi\"")).isEqualTo("\"/say \"\"hi\"\"\"");
        assertThat(Csv.field("/two\nlines")).isEqualTo("\"/two\nlines\"");
        assertThat(Csv.field("/cr\r")).isEqualTo("\"/cr\r\"");
        assertThat(Csv.field("")).isEmpty();
    }

    @Test
    void textASpreadsheetWouldRunAsAFormulaIsWrittenAsText() {
        assertThat(Csv.field("=HYPERLINK(\"http://evil.example\",\"x\")")).isEqualTo("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\"");
        assertThat(Csv.field("+1+2")).isEqualTo("\"'+1+2\"");
        assertThat(Csv.field("-1")).isEqualTo("\"'-1\"");
        assertThat(Csv.field("@SUM(1)")).isEqualTo("\"'@SUM(1)\"");
        assertThat(Csv.field("\tx")).isEqualTo("\"'\tx\"");
        assertThat(Csv.field("a=b")).isEqualTo("a=b");
        // Numbers are the table's own: written as they are, a negative one included.
        assertThat(new Csv("value", "change").row("=cmd", -3L).toString()).isEqualTo("value,change\r\n\"'=cmd\",-3\r\n");
    }

    @Test
    void linesEndWithCrLf() {
        assertThat(new Csv("path", "views").row("/a,\"b\"", 3L).row("/c", 1L).toString())
                .isEqualTo("path,views\r\n\"/a,\"\"b\"\"\",3\r\n/c,1\r\n");
    }
}
