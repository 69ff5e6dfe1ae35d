package dev.tally.app.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/** {@code --goal} on {@code serve} and {@code run}: repeatable, checked before anything starts. */
class GoalOptionsTest {

    private static List<Goal> goals(String... args) {
        GoalOptions options = new GoalOptions();
        CommandSpec spec = CommandSpec.forAnnotatedObject(options);
        new CommandLine(spec).parseArgs(args);
        return options.goals(spec);
    }

    @Test
    void goalsAreRepeatableAndKeepTheirOrder() {
        assertThat(goals()).isEmpty();
        assertThat(goals("--goal", "Signup=event:signup", "--goal", "Docs=page:/docs/*")).containsExactly(
                new Goal("Signup", "event", "signup"), new Goal("Docs", "page", "/docs/*"));
    }

    @Test
    void aMalformedGoalOrANameGivenTwiceIsBadUsage() {
        assertThatThrownBy(() -> goals("--goal", "signup")).isInstanceOf(ParameterException.class)
                .hasMessageContaining("--goal must be NAME=event:EVENT or NAME=page:/PATH");
        assertThatThrownBy(() -> goals("--goal", "A=page:docs")).isInstanceOf(ParameterException.class);
        assertThatThrownBy(() -> goals("--goal", "A=event:x", "--goal", "A=page:/y")).isInstanceOf(ParameterException.class)
                .hasMessageContaining("--goal A is given twice");
    }
}
