package dev.tally.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** How {@code bench --collector} reads wrk's report: a run with any error is not a valid figure. */
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
}
