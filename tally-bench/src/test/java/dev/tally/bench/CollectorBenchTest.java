package dev.tally.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * How {@code bench --collector} reads wrk's report (a run with any error is not a valid figure)
 * and the end-to-end sender's result from its JVM's output.
 */
class CollectorBenchTest {

    @Test
    void readsWrksReport() {
        String printed = """
                Running 5s test @ http://127.0.0.1:1234/api/event
                  2 threads and 128 connections
                  Thread Stats   Avg      Stdev     Max   +/- Stdev
                    Latency    12.10ms   30.02ms 512.00ms   95.00%
                  Latency Distribution
                     50%    4.10ms
                     75%    8.20ms
                     90%   20.00ms
                     99%    1.62s
                  46500 requests in 5.00s, 5.10MB read
                  Socket errors: connect 0, read 3, write 0, timeout 2
                  Non-2xx or 3xx responses: 7
                Requests/sec:   9300.00
                Transfer/sec:      1.02MB
                unexpected answers: 7
                """;
        CollectorBench.Wrk w = CollectorBench.parseWrk("POST /api/event", printed, 4_650_000_000L);
        assertThat(w.requests()).isEqualTo(46_500);
        assertThat(w.rate()).isEqualTo(9_300.0);
        assertThat(w.p50Millis()).isEqualTo(4.1);
        assertThat(w.p99Millis()).isEqualTo(1_620.0);
        assertThat(w.unexpected()).isEqualTo(7);
        assertThat(w.socketErrors()).isEqualTo(5);
        assertThat(w.cpuNanosPerRequest()).isEqualTo(100_000);
        assertThat(w.valid()).isFalse();
    }

    @Test
    void readsTheEndToEndResultBackFromTheSendersOutput() {
        Map<String, Long> problems = new TreeMap<>(Map.of("HttpTimeoutException: request timed out", 2L, "answer 503", 1L));
        CollectorBench.EndToEnd sent = new CollectorBench.EndToEnd(30_000, 999.5, 29_997, 1, 2, 29_997, 1, new long[] {7, 9, 1_200}, 0,
                problems, 1_234, 31.5, new long[] {3, 4, 5, 80});
        List<String> output = new ArrayList<>(List.of("a line the JVM printed first"));
        output.addAll(EndToEndSender.format(sent));

        CollectorBench.EndToEnd read = EndToEndSender.parse(output);

        assertThat(read).usingRecursiveComparison().isEqualTo(sent);
        assertThat(output).last().isEqualTo(EndToEndSender.DONE);
    }

    @Test
    void anEndToEndResultWithoutItsLatenciesIsNoResult() {
        assertThatThrownBy(() -> EndToEndSender.parse(List.of("e2e-counts 1 1.0 1 0 0 1 1 0 5 1.0")))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("no whole result");
    }
}
