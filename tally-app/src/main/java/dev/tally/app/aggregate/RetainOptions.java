package dev.tally.app.aggregate;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** {@code --retain DAYS}, an option of {@code aggregate} and {@code run}: see {@link Retention}. */
public final class RetainOptions {

    @Option(names = "--retain", paramLabel = "DAYS",
            description = "delete the per-visitor rows of days more than DAYS days ago, once a day; the counts (views, visitors per day) stay (default: keep them)")
    Integer days;

    /** Refuses a retention below one day. */
    public void validate(CommandSpec spec) {
        if (days != null && days < 1) {
            throw new ParameterException(spec.commandLine(), "--retain must be at least 1 (days)");
        }
    }

    /** Starts the daily deletion on {@code aggregator}'s side, if asked for. */
    public void applyTo(Aggregator aggregator, String jdbcUrl) {
        if (days != null) {
            aggregator.retain(new Retention(days), jdbcUrl);
        }
    }
}
