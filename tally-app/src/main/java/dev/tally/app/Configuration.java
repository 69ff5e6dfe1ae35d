package dev.tally.app;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import picocli.CommandLine;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Where an option's value comes from when the command line does not give it, highest first:
 * the flag; an environment variable {@code TALLY_<OPTION>} ({@code --bootstrap-servers} is
 * {@code TALLY_BOOTSTRAP_SERVERS}); the configuration file named by {@code --config FILE} (or
 * {@code TALLY_CONFIG}), as {@code <command>.<option>} or {@code <option>}
 * ({@code bootstrap-servers=k1:9092}); the built-in default. Kafka client properties:
 * {@code kafka.<property>} in the file, {@code TALLY_KAFKA_<PROPERTY>} in the environment
 * ({@code TALLY_KAFKA_SECURITY_PROTOCOL=SASL_SSL}), under any {@code --kafka} flag.
 *
 * <p>A key of the file that names no option is refused (a typo must not be ignored); other
 * {@code TALLY_*} variables are left alone, as the launcher has its own.
 */
public final class Configuration implements IDefaultValueProvider {

    private static final String KAFKA_PREFIX = "kafka.";
    private static final String KAFKA_ENV = "TALLY_KAFKA_";

    private final Properties file;
    private final String fileName;
    private final Map<String, String> env;

    private Configuration(Properties file, String fileName, Map<String, String> env) {
        this.file = file;
        this.fileName = fileName;
        this.env = env;
    }

    /** Thrown for a configuration file that cannot be read or names an unknown option: bad usage. */
    public static final class BadConfigurationException extends RuntimeException {
        BadConfigurationException(String message) {
            super(message);
        }
    }

    /**
     * Reads the configuration named on the command line or by {@code TALLY_CONFIG}.
     *
     * @param args the command line; {@code --config FILE} and {@code --config=FILE} are removed from it
     * @return the configuration and the remaining arguments
     */
    public static Map.Entry<Configuration, String[]> load(String[] args, Map<String, String> env) {
        List<String> rest = new ArrayList<>();
        String path = env.get("TALLY_CONFIG");
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config")) {
                if (i + 1 >= args.length) {
                    throw new BadConfigurationException("--config needs a file");
                }
                path = args[++i];
            } else if (args[i].startsWith("--config=")) {
                path = args[i].substring("--config=".length());
            } else {
                rest.add(args[i]);
            }
        }
        Properties p = new Properties();
        if (path != null && !path.isEmpty()) {
            try (Reader r = Files.newBufferedReader(Path.of(path), StandardCharsets.UTF_8)) {
                p.load(r);
            } catch (IOException | IllegalArgumentException e) {
                throw new BadConfigurationException("cannot read the configuration file " + path + ": " + e.getMessage());
            }
        }
        return Map.entry(new Configuration(p, path, Map.copyOf(env)), rest.toArray(String[]::new));
    }

    /**
     * Checks every key of the file against the options of {@code cli}'s commands, then makes
     * this the default value provider of the whole command tree.
     */
    public void install(CommandLine cli) {
        Set<String> known = new TreeSet<>();
        collect(cli, known);
        for (String key : file.stringPropertyNames()) {
            if (!key.startsWith(KAFKA_PREFIX) && !known.contains(key)) {
                throw new BadConfigurationException("unknown key '" + key + "' in " + fileName
                        + ": use an option's name without dashes (bootstrap-servers=…), optionally after a command (aggregate.group=…), or kafka.<property>");
            }
        }
        cli.setDefaultValueProvider(this);
    }

    private static void collect(CommandLine cli, Set<String> known) {
        String command = cli.getCommandSpec().name();
        for (OptionSpec o : cli.getCommandSpec().options()) {
            String name = optionName(o);
            known.add(name);
            known.add(command + "." + name);
        }
        cli.getSubcommands().values().forEach(sub -> collect(sub, known));
    }

    private static String optionName(OptionSpec o) {
        return o.longestName().replaceFirst("^-+", "");
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec o) || o.isMultiValue() || optionName(o).equals("help") || optionName(o).equals("version")) {
            return null;
        }
        String name = optionName(o);
        String fromEnv = env.get("TALLY_" + name.toUpperCase(Locale.ROOT).replace('-', '_'));
        if (fromEnv != null) {
            return fromEnv;
        }
        String command = o.command() == null ? null : o.command().name();
        String fromFile = command == null ? null : file.getProperty(command + "." + name);
        return fromFile != null ? fromFile : file.getProperty(name);
    }

    /**
     * The Kafka client properties of the file and the environment (the environment wins), as
     * {@code --kafka} arguments to put before the command's own, so that its flags win.
     */
    public List<String> kafkaArguments() {
        Map<String, String> props = new TreeMap<>();
        for (String key : file.stringPropertyNames()) {
            if (key.startsWith(KAFKA_PREFIX)) {
                props.put(key.substring(KAFKA_PREFIX.length()), file.getProperty(key));
            }
        }
        env.forEach((k, v) -> {
            if (k.startsWith(KAFKA_ENV) && k.length() > KAFKA_ENV.length()) {
                props.put(k.substring(KAFKA_ENV.length()).toLowerCase(Locale.ROOT).replace('_', '.'), v);
            }
        });
        List<String> args = new ArrayList<>();
        props.forEach((k, v) -> {
            args.add("--kafka");
            args.add(k + "=" + v);
        });
        return args;
    }

    /** {@code args} with {@link #kafkaArguments()} inserted after the sub-command, when it takes {@code --kafka}. */
    public String[] withKafkaArguments(CommandLine cli, String[] args) {
        List<String> extra = kafkaArguments();
        if (extra.isEmpty()) {
            return args;
        }
        for (int i = 0; i < args.length; i++) {
            CommandLine sub = cli.getSubcommands().get(args[i]);
            if (sub != null) {
                if (sub.getCommandSpec().findOption("--kafka") == null) {
                    return args;
                }
                List<String> all = new ArrayList<>(List.of(args).subList(0, i + 1));
                all.addAll(extra);
                all.addAll(List.of(args).subList(i + 1, args.length));
                return all.toArray(String[]::new);
            }
        }
        return args;
    }
}
