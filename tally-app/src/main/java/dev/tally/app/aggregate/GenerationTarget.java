package dev.tally.app.aggregate;

import dev.tally.app.event.PageView;
import dev.tally.consumer.Message;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * Where {@link PageViewAggregator} and {@link EventAggregator} count a batch: which generation's
 * tables, and which of the batch's events. The live aggregator counts every event into the current generation
 * ({@link #CURRENT}); a replay counts into the generation it builds, perhaps only part of the
 * events.
 */
public interface GenerationTarget {

    /** The current generation, locked against a switch for the rest of the transaction. */
    GenerationTarget CURRENT = Generation::currentLocked;

    /**
     * The generation to write, called first in each transaction, before any other statement.
     *
     * @throws SQLException to roll the transaction back, e.g. when the generation may no longer be written
     */
    Generation begin(Connection transaction) throws SQLException;

    /** Whether {@code event} is counted; one that is not is skipped, neither counted nor dead-lettered. */
    default boolean counts(Message<PageView> event) {
        return true;
    }
}
