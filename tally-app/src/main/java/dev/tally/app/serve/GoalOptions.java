package dev.tally.app.serve;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** The conversion goals the dashboard shows: the {@code --goal} options of {@code serve} and {@code run}. */
public final class GoalOptions {

    @Option(names = "--goal", paramLabel = "NAME=event:EVENT|page:/PATH",
            description = "a conversion goal, shown with its visitors and conversion rate: a custom event, or a page"
                    + " (* matches any characters: page:/docs/*); repeatable")
    List<String> goals = new ArrayList<>();

    /**
     * The goals, checked.
     *
     * @throws ParameterException (bad usage) for a goal that is not NAME=event:EVENT or NAME=page:/PATH, or a name given twice
     */
    public List<Goal> goals(CommandSpec spec) {
        List<Goal> parsed = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (String g : goals) {
            Goal goal;
            try {
                goal = Goal.parse(g);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
            if (!names.add(goal.name())) {
                throw new ParameterException(spec.commandLine(), "--goal " + goal.name() + " is given twice");
            }
            parsed.add(goal);
        }
        return List.copyOf(parsed);
    }
}
