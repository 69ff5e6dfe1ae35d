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
    void linesEndWithCrLf() {
        assertThat(new Csv("path", "views").row("/a,\"b\"", 3L).row("/c", 1L).toString())
                .isEqualTo("path,views\r\n\"/a,\"\"b\"\"\",3\r\n/c,1\r\n");
    }
}
