package dev.tally.app;

import dev.tally.app.aggregate.AggregateCommand;
import dev.tally.app.collect.CollectCommand;
import dev.tally.app.operations.AuditCommand;
import dev.tally.app.operations.GoalsCommand;
import dev.tally.app.operations.LagCommand;
import dev.tally.app.operations.ReplayCommand;
import dev.tally.app.run.RunCommand;
import dev.tally.app.serve.ServeCommand;
import dev.tally.broker.BrokerMain;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code bin/tally}: one executable, one sub-command per part of the page-view application.
 * Exit codes: 0 ok, 2 bad usage, 1 runtime failure with a one-line reason on standard error.
 */
@Command(name = "tally", mixinStandardHelpOptions = true, versionProvider = TallyMain.Version.class,
        description = {"Counts blog page views through Kafka, exactly once.",
                "Options may also come from TALLY_<OPTION> environment variables and a --config FILE of option=value lines (flags win, then the environment, then the file)."},
        subcommands = {RunCommand.class, BrokerMain.class, CollectCommand.class, AggregateCommand.class, ServeCommand.class,
                LagCommand.class, AuditCommand.class, ReplayCommand.class, GoalsCommand.class})
public final class TallyMain implements Runnable {

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new TallyMain());
        addWhenPresent(cli, "dev.tally.chaos.ChaosCommand");
        addWhenPresent(cli, "dev.tally.bench.BenchCommand");
        try {
            Map.Entry<Configuration, String[]> config = Configuration.load(args, System.getenv());
            config.getKey().install(cli);
            args = config.getKey().withKafkaArguments(cli, config.getValue());
        } catch (Configuration.BadConfigurationException e) {
            System.err.println("tally: " + e.getMessage());
            System.exit(2);
        }
        cli.setParameterExceptionHandler((e, a) -> {
            System.err.println("tally: " + e.getMessage() + " (see bin/tally --help)");
            return 2;
        });
        cli.setExecutionExceptionHandler((e, c, p) -> {
            System.err.println("tally " + c.getCommandName() + ": "
                    + (e instanceof StartupException ? e.getMessage() : rootMessage(e)));
            return 1;
        });
        System.exit(cli.execute(args));
    }

    @Override
    public void run() {
        CommandLine.usage(this, System.err);
        System.exit(2);
    }

    /**
     * {@code chaos} and {@code bench} live in their own modules, which depend on this one; each is
     * a command of {@code bin/tally} when its module is on the class path (the launcher puts both there).
     */
    private static void addWhenPresent(CommandLine cli, String commandClass) {
        try {
            cli.addSubcommand(Class.forName(commandClass).getDeclaredConstructor().newInstance());
        } catch (ClassNotFoundException e) {
            // a build without that module
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(commandClass + " cannot be created", e);
        }
    }

    /** {@code --version}: the version the build wrote into {@code version.properties}. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = TallyMain.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            }
            return new String[] {"tally " + p.getProperty("version", "(unknown version)")};
        }
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }
}
