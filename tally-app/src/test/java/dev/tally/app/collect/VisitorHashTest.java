package dev.tally.app.collect;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VisitorHashTest {

    private static Clock at(String instant) {
        return Clock.fixed(Instant.parse(instant), ZoneOffset.UTC);
    }

    @Test
    void sameReaderSameDaySameHashAcrossRestartsButNotAcrossDays(@TempDir Path dir) throws Exception {
        Path salt = dir.resolve("salt");
        String morning = new VisitorHash(salt, at("2026-11-25T08:00:00Z")).hash("203.0.113.7", "Firefox", "blog");
        String evening = new VisitorHash(salt, at("2026-11-25T23:59:00Z")).hash("203.0.113.7", "Firefox", "blog");
        String tomorrow = new VisitorHash(salt, at("2026-11-26T00:01:00Z")).hash("203.0.113.7", "Firefox", "blog");
        assertThat(evening).isEqualTo(morning).hasSize(22);
        assertThat(tomorrow).isNotEqualTo(morning);
        // Yesterday's salt is gone from the file, so yesterday's hashes cannot be recomputed.
        assertThat(new VisitorHash(salt, at("2026-11-25T12:00:00Z")).hash("203.0.113.7", "Firefox", "blog"))
                .isNotEqualTo(morning);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(salt))).isEqualTo("rw-------");
    }

    @Test
    void theHashDependsOnAddressAgentAndSiteAndHidesThem() {
        VisitorHash h = new VisitorHash(null, at("2026-11-25T08:00:00Z"));
        String base = h.hash("203.0.113.7", "Firefox", "blog");
        assertThat(h.hash("203.0.113.8", "Firefox", "blog")).isNotEqualTo(base);
        assertThat(h.hash("203.0.113.7", "Chrome", "blog")).isNotEqualTo(base);
        assertThat(h.hash("203.0.113.7", "Firefox", "other")).isNotEqualTo(base);
        assertThat(base).doesNotContain("203").doesNotContain("Firefox");
        // Two collectors without a shared salt file do not agree: the salt is random, not derived.
        assertThat(new VisitorHash(null, at("2026-11-25T08:00:00Z")).hash("203.0.113.7", "Firefox", "blog")).isNotEqualTo(base);
    }
}
