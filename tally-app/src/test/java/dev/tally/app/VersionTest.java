package dev.tally.app;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class VersionTest {

    @Test
    void versionNamesTheBuiltVersion() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new CommandLine(new TallyMain()).printVersionHelp(new PrintStream(out, true, UTF_8));
        // The build fills in the pom's version; an unfilled placeholder or nothing at all is a broken build.
        assertThat(out.toString(UTF_8).strip()).matches("tally \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
    }
}
