package dev.tally.broker;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Runs one {@link KafkaBroker} until SIGTERM or Ctrl-C: {@code bin/tally broker}, and the child
 * process behind {@link KafkaBrokerProcess}. Prints {@code READY 127.0.0.1:<port>} on standard
 * output once clients can connect. Exit codes: 0 after a clean shutdown, 2 for bad usage, 1 when
 * the broker cannot start, with a one-line reason on standard error.
 */
@Command(name = "broker", mixinStandardHelpOptions = true, sortOptions = false,
        description = "A real Apache Kafka broker in KRaft mode (combined broker and controller).")
public final class BrokerMain implements Callable<Integer> {

    @Option(names = "--port", description = "client port on 127.0.0.1 (default ${DEFAULT-VALUE}; 0 picks a free one)")
    int port = 9092;

    @Option(names = "--controller-port", description = "controller port (default: port + 1; 0 picks a free one)")
    Integer controllerPort;

    @Option(names = "--data-dir", description = "data directory, formatted on first use (default ${DEFAULT-VALUE})")
    Path dataDir = Path.of("tally-data", "kafka");

    @Option(names = "--node-id", description = "node id (default ${DEFAULT-VALUE})")
    int nodeId = 1;

    @Option(names = "--cluster-id", description = "cluster id for a new data directory (default: random)")
    String clusterId;

    @Option(names = "--controllers", description = "controller set of a cluster, id@host:port,... (default: this node alone)")
    String controllers;

    @Option(names = "--property", paramLabel = "KEY=VALUE", description = "any broker setting; repeatable")
    Map<String, String> properties = new LinkedHashMap<>();

    public static void main(String[] args) {
        // Kafka's INFO lines drown a child's READY line; the caller can still ask for more.
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        CommandLine cli = new CommandLine(new BrokerMain());
        cli.setParameterExceptionHandler((e, a) -> {
            System.err.println("tally broker: " + e.getMessage() + " (see --help)");
            return 2;
        });
        cli.setExecutionExceptionHandler((e, c, p) -> {
            System.err.println("tally broker: " + KafkaBroker.rootMessage(e));
            return 1;
        });
        System.exit(cli.execute(args));
    }

    @Override
    public Integer call() throws Exception {
        KafkaBroker.Builder b = KafkaBroker.builder()
                .port(port)
                .controllerPort(controllerPort != null ? controllerPort : (port == 0 ? 0 : port + 1))
                .nodeId(nodeId)
                .dataDir(dataDir)
                .clusterId(clusterId)
                .controllers(controllers);
        properties.forEach(b::property);
        KafkaBroker broker = b.build();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            broker.stop();
            stopped.countDown();
        }, "broker-shutdown"));
        broker.start();
        System.out.println("READY " + broker.bootstrapServers());
        System.out.flush();
        stopped.await();
        return 0;
    }
}
