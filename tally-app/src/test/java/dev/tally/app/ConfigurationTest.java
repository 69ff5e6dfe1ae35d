package dev.tally.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

@SuppressWarnings("unchecked")
class ConfigurationTest {

    @TempDir
    Path dir;

    private CommandSpec parse(Map<String, String> env, String... args) {
        CommandLine cli = new CommandLine(new TallyMain());
        Map.Entry<Configuration, String[]> config = Configuration.load(args, env);
        config.getKey().install(cli);
        cli.parseArgs(config.getKey().withKafkaArguments(cli, config.getValue()));
        return cli.getSubcommands().get("aggregate").getCommandSpec();
    }

    private Path file(String text) throws Exception {
        Path f = dir.resolve("tally.properties");
        Files.writeString(f, text);
        return f;
    }

    @Test
    void flagsBeatTheEnvironmentWhichBeatsTheFileWhichBeatsTheDefault() throws Exception {
        Path f = file("bootstrap-servers=file:1\naggregate.group=from-file\ntopic=file-topic\nkafka.security.protocol=SSL\nkafka.client.rack=r1\n");
        Map<String, String> env = Map.of("TALLY_BOOTSTRAP_SERVERS", "env:1", "TALLY_KAFKA_CLIENT_RACK", "r2");

        CommandSpec a = parse(env, "aggregate", "--config", f.toString(), "--topic", "flag-topic");
        assertThat((String) a.findOption("--bootstrap-servers").getValue()).isEqualTo("env:1");
        assertThat((String) a.findOption("--group").getValue()).isEqualTo("from-file");
        assertThat((String) a.findOption("--topic").getValue()).isEqualTo("flag-topic");
        assertThat((Map<String, String>) a.findOption("--kafka").getValue()).containsEntry("security.protocol", "SSL").containsEntry("client.rack", "r2");
        assertThat((Integer) a.findOption("--threads").getValue()).isEqualTo(1);

        CommandSpec b = parse(env, "--config=" + f, "aggregate", "--bootstrap-servers", "flag:1", "--kafka", "client.rack=r3");
        assertThat((String) b.findOption("--bootstrap-servers").getValue()).isEqualTo("flag:1");
        assertThat((Map<String, String>) b.findOption("--kafka").getValue()).containsEntry("client.rack", "r3");

        CommandSpec c = parse(Map.of("TALLY_CONFIG", f.toString()), "aggregate");
        assertThat((String) c.findOption("--bootstrap-servers").getValue()).isEqualTo("file:1");
    }

    @Test
    void aPasswordFromTheEnvironmentNeverShowsInHelp() {
        Map<String, String> env = Map.of("TALLY_DB", "jdbc:postgresql://db/tally?user=tally&password=hunter2",
                "TALLY_KAFKA_SASL_JAAS_CONFIG", "x required password=\"hunter2\";");
        for (String command : new String[] {"aggregate", "serve", "run", "lag"}) {
            CommandLine cli = new CommandLine(new TallyMain());
            Configuration.load(new String[0], env).getKey().install(cli);
            assertThat(cli.getSubcommands().get(command).getUsageMessage()).as(command).doesNotContain("hunter2");
        }
    }

    @Test
    void theDashboardsSecretsComeFromTheEnvironmentOrTheFileAndNeverShowInHelp() throws Exception {
        Path f = file("serve.token-file=/etc/tally/tokens\nrun.dashboard-password=from-the-file\npublic-sites=blog\n");
        for (String command : new String[] {"serve", "run"}) {
            CommandLine cli = new CommandLine(new TallyMain());
            Map.Entry<Configuration, String[]> config = Configuration.load(new String[] {"--config", f.toString(), command},
                    Map.of("TALLY_DASHBOARD_PASSWORD", "from-the-environment"));
            config.getKey().install(cli);
            cli.parseArgs(config.getKey().withKafkaArguments(cli, config.getValue()));
            CommandSpec spec = cli.getSubcommands().get(command).getCommandSpec();
            assertThat((String) spec.findOption("--dashboard-password").getValue()).as(command).isEqualTo("from-the-environment");
            assertThat((String) spec.findOption("--public-sites").getValue()).as(command).isEqualTo("blog");
            assertThat(cli.getSubcommands().get(command).getUsageMessage()).as(command)
                    .doesNotContain("from-the-environment").doesNotContain("from-the-file");
        }
    }

    @Test
    void aKeyThatNamesNoOptionIsRefused() throws Exception {
        Path f = file("bootstrap-server=typo:1\n");
        assertThatThrownBy(() -> parse(Map.of(), "--config", f.toString(), "aggregate"))
                .isInstanceOf(Configuration.BadConfigurationException.class)
                .hasMessageContaining("unknown key 'bootstrap-server'");
        assertThatThrownBy(() -> parse(Map.of(), "--config", dir.resolve("missing").toString(), "aggregate"))
                .isInstanceOf(Configuration.BadConfigurationException.class)
                .hasMessageContaining("cannot read the configuration file");
    }
}
