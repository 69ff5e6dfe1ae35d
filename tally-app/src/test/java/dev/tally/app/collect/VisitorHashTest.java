package dev.tally.app.collect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("salt.2026-11-26")))).isEqualTo("rw-------");
        assertThat(dir.resolve("salt.2026-11-25")).doesNotExist();
        // Yesterday's salt is gone from the file, so yesterday's hashes cannot be recomputed.
        assertThat(new VisitorHash(salt, at("2026-11-25T12:00:00Z")).hash("203.0.113.7", "Firefox", "blog"))
                .isNotEqualTo(morning);
    }

    @Test
    void collectorsSharingADiskAgreeOnTheSaltEvenWhenTheyCreateItAtTheSameMoment(@TempDir Path dir) throws Exception {
        for (int round = 0; round < 20; round++) {
            Path salt = dir.resolve("salt-" + round);
            int n = 6;
            CountDownLatch go = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(n);
            try {
                List<Future<String>> hashes = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    VisitorHash h = new VisitorHash(salt, at("2026-11-25T08:00:00Z"));
                    hashes.add(pool.submit(() -> {
                        go.await();
                        return h.hash("203.0.113.7", "Firefox", "blog");
                    }));
                }
                go.countDown();
                Set<String> distinct = new HashSet<>();
                for (Future<String> f : hashes) {
                    distinct.add(f.get(10, TimeUnit.SECONDS));
                }
                assertThat(distinct).as("round %s", round).hasSize(1);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void theSaltIsReplacedAtMidnightUtcByATimerEvenWithoutBeacons(@TempDir Path dir) throws Exception {
        Instant now = Instant.now();
        Instant midnight = now.atZone(ZoneOffset.UTC).toLocalDate().plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
        // A clock that reaches midnight 3 s from now, running at the real rate (a loaded machine
        // may take a second to set the test up).
        Clock clock = Clock.offset(Clock.systemUTC(), Duration.between(now, midnight.minusMillis(3_000)));
        Path salt = dir.resolve("salt");
        String today = LocalDate.ofInstant(midnight.minusSeconds(1), ZoneOffset.UTC).toString();
        String tomorrow = LocalDate.ofInstant(midnight, ZoneOffset.UTC).toString();
        try (VisitorHash h = new VisitorHash(salt, clock)) {
            String before = h.hash("203.0.113.7", "Firefox", "blog");
            h.startDailyRotation();
            assertThat(dir.resolve("salt." + today)).exists();
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                assertThat(dir.resolve("salt." + tomorrow)).exists();
                assertThat(dir.resolve("salt." + today)).doesNotExist();
            });
            String after = h.hash("203.0.113.7", "Firefox", "blog");
            assertThat(after).isNotEqualTo(before)
                    .isEqualTo(new VisitorHash(salt, clock).hash("203.0.113.7", "Firefox", "blog"));
        }
    }

    @Test
    void theTimerAimsAtTheNextMidnightUtc() {
        assertThat(VisitorHash.untilNextMidnight(at("2026-11-25T23:59:59.250Z"))).isEqualTo(Duration.ofMillis(750));
        assertThat(VisitorHash.untilNextMidnight(at("2026-11-25T00:00:00Z"))).isEqualTo(Duration.ofDays(1));
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

    @Test
    void hashesFromManyThreadsAtOnceAreTheOnesComputedOneAtATime() throws Exception {
        VisitorHash h = new VisitorHash(null, at("2026-11-25T08:00:00Z"));
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            expected.add(h.hash("203.0.113." + i, "Firefox/" + i, "blog"));
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<List<String>>> runs = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                runs.add(pool.submit(() -> {
                    List<String> got = new ArrayList<>();
                    for (int i = 0; i < 200; i++) {
                        got.add(h.hash("203.0.113." + i, "Firefox/" + i, "blog"));
                    }
                    return got;
                }));
            }
            for (Future<List<String>> run : runs) {
                assertThat(run.get(30, TimeUnit.SECONDS)).isEqualTo(expected);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
