package dev.tally.app.serve;

import dev.tally.app.event.EventFields;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** Who may read the dashboard and the stats API: the options of {@code serve} and {@code run}. */
public final class AccessOptions {

    @Option(names = "--dashboard-password", paramLabel = "SECRET",
            description = "the dashboard and every /api/ query but the per-page widget (/api/views) ask for this password"
                    + " (HTTP Basic, any user name; or Authorization: Bearer SECRET). Better from TALLY_DASHBOARD_PASSWORD or"
                    + " the --config file than on the command line (default: open to all)")
    String password;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "a file of API tokens, one a line (# comments): each opens what --dashboard-password opens,"
                    + " as Authorization: Bearer TOKEN or as the Basic password")
    Path tokenFile;

    // One string rather than a list, so that it can come from the environment or the file too.
    @Option(names = "--public-sites", paramLabel = "SITE,...",
            description = "with --dashboard-password or --token-file: these sites' stats and dashboard stay open to all")
    String publicSites;

    /**
     * The access policy the options describe: open to all without a secret.
     *
     * @throws ParameterException (bad usage) for an empty password, an unreadable or empty token file,
     *     a public site that is not a site label, or public sites without a secret
     */
    public Access access(CommandSpec spec) {
        List<String> secrets = new ArrayList<>();
        if (password != null) {
            if (password.isBlank()) {
                throw new ParameterException(spec.commandLine(), "--dashboard-password must not be empty");
            }
            secrets.add(password);
        }
        if (tokenFile != null) {
            List<String> lines;
            try {
                lines = Files.readAllLines(tokenFile, StandardCharsets.UTF_8);
            } catch (IOException | RuntimeException e) {
                throw new ParameterException(spec.commandLine(), "--token-file: " + tokenFile + " cannot be read as UTF-8 text");
            }
            int tokens = 0;
            for (String line : lines) {
                String token = line.strip();
                if (!token.isEmpty() && !token.startsWith("#")) {
                    secrets.add(token);
                    tokens++;
                }
            }
            if (tokens == 0) {
                throw new ParameterException(spec.commandLine(), "--token-file: " + tokenFile + " holds no token");
            }
        }
        Set<String> open = new LinkedHashSet<>();
        for (String site : publicSites == null || publicSites.isBlank() ? new String[0] : publicSites.split(",", -1)) {
            open.add(site.strip());
        }
        for (String site : open) {
            if (!EventFields.isSite(site)) {
                throw new ParameterException(spec.commandLine(), "--public-sites: " + site + " is not a site label (1 to "
                        + EventFields.MAX_SITE + " of A-Z a-z 0-9 . _ -)");
            }
        }
        if (secrets.isEmpty() && !open.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "--public-sites needs --dashboard-password or --token-file");
        }
        return secrets.isEmpty() ? Access.OPEN : new Access(secrets, open);
    }
}
