package dev.tally.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import kafka.server.KafkaConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class KafkaBrokerTest {

    @Test
    void aLoneNodeIsItsOwnQuorumOnLoopbackWithTestFriendlyDefaults(@TempDir Path dir) {
        KafkaBroker broker = KafkaBroker.builder().port(19092).controllerPort(19093).nodeId(7).dataDir(dir).build();
        Properties p = broker.serverProperties();
        assertThat(p).containsEntry("process.roles", "broker,controller")
                .containsEntry("node.id", "7")
                .containsEntry("controller.quorum.voters", "7@127.0.0.1:19093")
                .containsEntry("listeners", "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093")
                .containsEntry("log.dirs", dir.resolve("logs").toString())
                .containsEntry("offsets.topic.replication.factor", "1")
                .containsEntry("group.initial.rebalance.delay.ms", "0")
                .containsEntry("group.consumer.session.timeout.ms", "10000");
        assertThat(broker.bootstrapServers()).isEqualTo("127.0.0.1:19092");
        assertThat(broker.isFormatted()).isFalse();
    }

    @Test
    void kafkaAcceptsTheDefaults(@TempDir Path dir) {
        // Kafka checks ranges and cross-setting rules (session timeouts between their minimum and maximum, ...).
        KafkaConfig config = KafkaConfig.fromProps(KafkaBroker.builder().dataDir(dir).build().serverProperties(), false);
        assertThat(config.groupCoordinatorConfig().consumerGroupSessionTimeoutMs()).isEqualTo(10_000);
        assertThat(config.groupCoordinatorConfig().classicGroupMinSessionTimeoutMs()).isEqualTo(1_000);
        KafkaConfig.fromProps(clusterNode(dir).serverProperties(), false);
    }

    private static KafkaBroker clusterNode(Path dir) {
        KafkaBroker.Builder b = KafkaBroker.builder().nodeId(2).dataDir(dir).controllers("1@127.0.0.1:1,2@127.0.0.1:2,3@127.0.0.1:3");
        KafkaCluster.defaults(3).forEach(b::property);
        return b.build();
    }

    @Test
    void propertiesOverrideDefaults(@TempDir Path dir) {
        Properties p = KafkaBroker.builder().dataDir(dir).property("num.partitions", "3").property("log.retention.ms", "1000")
                .build().serverProperties();
        assertThat(p).containsEntry("num.partitions", "3").containsEntry("log.retention.ms", "1000");
    }

    @Test
    void freePortsArePortsAndDistinct() {
        List<Integer> ports = KafkaBroker.freePorts(6);
        assertThat(ports).doesNotHaveDuplicates().allMatch(port -> port > 0 && port < 65536);
        KafkaBroker broker = KafkaBroker.builder().build();
        assertThat(broker.port()).isNotEqualTo(broker.controllerPort()).isPositive();
        broker.close();
    }

    @Test
    void theBuilderRejectsNonsense() {
        assertThatThrownBy(() -> KafkaBroker.builder().port(70_000)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> KafkaBroker.builder().nodeId(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> KafkaBroker.builder().controllers("127.0.0.1:9093")).isInstanceOf(IllegalArgumentException.class);
        KafkaBroker.builder().controllers("1@127.0.0.1:19093,2@localhost:19095");
    }

    @Test
    void clusterDefaultsScaleWithTheNumberOfNodes() {
        assertThat(KafkaCluster.defaults(3)).containsEntry("default.replication.factor", "3").containsEntry("min.insync.replicas", "2")
                .containsEntry("offsets.topic.replication.factor", "3").containsEntry("transaction.state.log.replication.factor", "3")
                .containsEntry("transaction.state.log.min.isr", "2");
        assertThat(KafkaCluster.defaults(5)).containsEntry("default.replication.factor", "3").containsEntry("min.insync.replicas", "2");
        assertThat(KafkaCluster.defaults(1)).containsEntry("default.replication.factor", "1").containsEntry("min.insync.replicas", "1");
    }

    @Test
    void badUsageExitsWithTwoAndOneLine() {
        assertThat(usage("--port", "abc")).startsWith("tally broker: ").contains("--port");
        assertThat(usage("--controllers", "nonsense")).startsWith("tally broker: ").contains("controllers must look like");
        assertThat(usage("--port", "65535")).startsWith("tally broker: ").contains("port must be 0 to 65535");
        assertThat(usage("--no-such-option")).startsWith("tally broker: ").contains("--no-such-option");
        assertThat(usage("--property", "num.partitions=many")).startsWith("tally broker: ").contains("num.partitions");
    }

    private static String usage(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        CommandLine cli = BrokerMain.commandLine();
        cli.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        assertThat(cli.execute(args)).isEqualTo(2);
        String message = err.toString(StandardCharsets.UTF_8);
        assertThat(message.lines()).hasSize(1);
        return message.trim();
    }

    @Test
    void childJvmsGetASmallHeapAndTheSerialCollectorUnlessTheCallerChoosesOtherwise() {
        assertThat(ChildJvm.builder("x.Main").args("a").command()).contains("-Xmx256m", "-XX:+UseSerialGC")
                .containsSubsequence(ParentWatch.class.getName(), "x.Main", "a");
        assertThat(ChildJvm.builder("x.Main").jvmArgs("-Xmx64m", "-XX:+UseG1GC").command())
                .contains("-Xmx64m", "-XX:+UseG1GC").doesNotContain("-Xmx256m", "-XX:+UseSerialGC");
    }
}
