package dev.tally.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(180)
class KafkaBrokerProcessIT {

    @Test
    void acknowledgedRecordsSurviveKillMinusNineAndARestart() throws Exception {
        try (KafkaBrokerProcess broker = KafkaBrokerProcess.builder().build()) {
            broker.start();
            long firstPid = broker.pid();
            assertThat(broker.jvm().lines()).containsExactly("READY " + broker.bootstrapServers());
            Records.produce(broker.bootstrapServers(), "durable", Records.numbered("r", 0, 500));

            broker.kill();
            assertThat(broker.isAlive()).isFalse();
            assertThat(broker.jvm().exitCode()).hasValue(137);

            broker.restart();
            assertThat(broker.pid()).isNotEqualTo(firstPid);
            assertThat(Records.readFromStart(broker.bootstrapServers(), "durable", 500, Duration.ofSeconds(60)))
                    .isEqualTo(Records.numbered("r", 0, 500));
            Records.produce(broker.bootstrapServers(), "durable", List.of("after"));

            assertThat(broker.stop()).isEqualTo(143); // SIGTERM: a clean shutdown through the hook
            broker.start();
            List<String> all = new ArrayList<>(Records.numbered("r", 0, 500));
            all.add("after");
            assertThat(Records.readFromStart(broker.bootstrapServers(), "durable", 501, Duration.ofSeconds(60))).isEqualTo(all);
        }
    }

    @Test
    void brokerMainSaysWhyItCannotStartInOneLine() throws Exception {
        try (ChildJvm usage = ChildJvm.builder(BrokerMain.class).args("--port", "x").start()) {
            assertThat(usage.awaitExit(Duration.ofSeconds(60))).hasValue(2);
            assertThat(usage.lines()).isEmpty();
            assertThat(usage.stderrTail().lines().filter(l -> l.startsWith("tally broker: "))).hasSize(1);
        }
        try (ServerSocket taken = new ServerSocket(0, 0, InetAddress.getLoopbackAddress());
                ChildJvm busy = ChildJvm.builder(BrokerMain.class)
                        .args("--port", Integer.toString(taken.getLocalPort()), "--controller-port", "0", "--data-dir", "target/never-formatted")
                        .start()) {
            assertThat(busy.awaitExit(Duration.ofSeconds(60))).hasValue(1);
            assertThat(busy.lines()).isEmpty();
            assertThat(busy.stderrTail()).contains("tally broker: port " + taken.getLocalPort() + " on 127.0.0.1 is in use");
        }
    }
}
