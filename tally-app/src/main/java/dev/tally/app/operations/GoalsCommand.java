package dev.tally.app.operations;

import dev.tally.app.StoreOptions;
import dev.tally.app.aggregate.Aggregator;
import dev.tally.app.aggregate.PageGoals;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code bin/tally goals}: the page goals every aggregator of the store counts (those that
 * {@code serve} and {@code run} registered for their {@code --goal NAME=page:…}), and
 * {@code --remove} to stop counting one and delete its rows. Event goals are not stored: they are
 * answered from the custom events' own tables.
 */
@Command(name = "goals", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Lists the page goals the aggregators count; --remove stops counting one and deletes its rows.")
public final class GoalsCommand implements Callable<Integer> {

    /** Exit code when a pattern given to --remove is not registered (the others are removed). */
    static final int NOT_REGISTERED = 1;

    @Spec
    CommandSpec spec;

    @Mixin
    StoreOptions store;

    @Option(names = "--remove", paramLabel = "PATTERN",
            description = "a registered page pattern, as in --goal (page:/docs/* or /docs/*); repeatable")
    List<String> remove = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        Set<String> patterns = new LinkedHashSet<>();
        for (String r : remove) {
            String pattern = r.startsWith("page:") ? r.substring("page:".length()) : r;
            if (!pattern.startsWith("/")) {
                throw new ParameterException(spec.commandLine(), "--remove takes a page pattern (page:/docs/* or /docs/*), not " + r);
            }
            patterns.add(pattern);
        }
        store.validate(spec);
        Aggregator.migrate(store.db);
        PrintStream out = System.out;
        try (Connection c = DriverManager.getConnection(store.db)) {
            if (patterns.isEmpty()) {
                Map<String, Integer> registered = PageGoals.registered(c);
                if (registered.isEmpty()) {
                    out.println("no page goal is registered");
                }
                registered.forEach((pattern, id) -> out.println("page:" + pattern + "\t(id " + id + ")"));
                return 0;
            }
            Map<String, Integer> removed = PageGoals.remove(c, patterns);
            int exit = 0;
            for (String pattern : patterns) {
                Integer id = removed.get(pattern);
                if (id != null) {
                    out.println("removed page:" + pattern + " (id " + id + "): no longer counted, its rows deleted");
                } else {
                    System.err.println("tally goals: page:" + pattern + " is not registered");
                    exit = NOT_REGISTERED;
                }
            }
            return exit;
        }
    }
}
