package dev.tally.broker;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import kafka.server.KafkaConfig;
import org.apache.kafka.common.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Runs one {@link KafkaBroker} until SIGTERM or Ctrl-C: {@code bin/tally broker}, and the child
 * process behind {@link KafkaBrokerProcess} and {@link KafkaCluster}.
 *
 * <pre>
 * java -cp … dev.tally.broker.BrokerMain --port 9092 --data-dir tally-data/kafka
 * java -cp … dev.tally.broker.BrokerMain --port 19092 --controller-port 19093 --node-id 1 \
 *      --cluster-id &lt;uuid&gt; --controllers 1@127.0.0.1:19093,2@127.0.0.1:19095,3@127.0.0.1:19097 \
 *      --data-dir /tmp/node-1 --property min.insync.replicas=2
 * </pre>
 *
 * <p>Standard output carries exactly one line, {@code READY 127.0.0.1:<port>}, printed once the
 * broker is listed by its own {@code describeCluster}, that is once clients can use it. Kafka's
 * log goes wherever the SLF4J binding sends it (standard error for slf4j-simple), WARN and above
 * unless configured otherwise.
 *
 * <p>SIGTERM and Ctrl-C shut the broker down cleanly through a shutdown hook, so the exit status
 * is then the signal's (143 for SIGTERM). Otherwise the exit codes are 2 for bad usage and 1 when
 * the broker cannot start (a port in use, a data directory of another cluster, a bad setting),
 * each with a one-line reason on standard error.
 *
 * <p>The same class is also a picocli sub-command ({@code broker}) of the application's launcher.
 */
@Command(name = "broker", mixinStandardHelpOptions = true, sortOptions = false,
        description = "A real Apache Kafka broker in KRaft mode (combined broker and controller).")
public final class BrokerMain implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--port", paramLabel = "PORT", description = "client port on 127.0.0.1 (default ${DEFAULT-VALUE}; 0 picks a free one)")
    int port = 9092;

    @Option(names = "--controller-port", paramLabel = "PORT", description = "controller port on 127.0.0.1 (default: port + 1; 0 picks a free one)")
    Integer controllerPort;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "data directory, formatted on first use (default ${DEFAULT-VALUE})")
    Path dataDir = Path.of("tally-data", "kafka");

    @Option(names = "--node-id", paramLabel = "ID", description = "node id (default ${DEFAULT-VALUE})")
    int nodeId = 1;

    @Option(names = "--cluster-id", paramLabel = "UUID", description = "cluster id for a new data directory (default: random)")
    String clusterId;

    @Option(names = "--controllers", paramLabel = "ID@HOST:PORT,...", description = "controller set of a cluster (default: this node alone)")
    String controllers;

    @Option(names = "--property", paramLabel = "KEY=VALUE", description = "any broker setting; repeatable")
    Map<String, String> properties = new LinkedHashMap<>();

    /** Runs the broker; exits with 2 for bad usage, 1 if it cannot start. */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command with Tally's one-line error handling and exit codes. */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new BrokerMain());
        cli.setParameterExceptionHandler((e, a) -> {
            e.getCommandLine().getErr().println("tally broker: " + e.getMessage() + " (see --help)");
            return 2;
        });
        cli.setExecutionExceptionHandler((e, c, p) -> {
            c.getErr().println("tally broker: " + KafkaBroker.rootMessage(e));
            return 1;
        });
        return cli;
    }

    @Override
    public Integer call() throws Exception {
        KafkaBroker broker;
        try {
            KafkaBroker.Builder b = KafkaBroker.builder()
                    .port(port)
                    .controllerPort(controllerPort != null ? controllerPort : (port == 0 ? 0 : port + 1))
                    .nodeId(nodeId)
                    .dataDir(dataDir)
                    .clusterId(clusterId)
                    .controllers(controllers);
            properties.forEach(b::property);
            broker = b.build();
            // A bad --property value is a usage error, not a failed start.
            KafkaConfig.fromProps(broker.serverProperties(), false);
        } catch (IllegalArgumentException | ConfigException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            broker.stop();
            stopped.countDown();
        }, "tally-broker-shutdown"));
        broker.start();
        System.out.println("READY " + broker.bootstrapServers());
        System.out.flush();
        stopped.await();
        return 0;
    }
}
