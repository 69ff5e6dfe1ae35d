package dev.tally.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.testkit.PostgresDatabase;
import java.sql.Connection;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Rewinds are atomic: two at once, or one racing a consumer's first offset, never move an offset forward. */
class OffsetStoreIT {

    @RegisterExtension
    final PostgresDatabase db = new PostgresDatabase();

    private final TopicPartition tp = new TopicPartition("t", 0);

    @Test
    void aRewindWaitingOnAnotherNeverUndoesItByMovingForward() throws Exception {
        OffsetStore store = new OffsetStore(db.dataSource());
        store.createTableIfAbsent();
        store.rewind("g", tp, 100); // creates the row at 100
        CompletableFuture<Long> second;
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            store.rewind(c, "g", tp, 50);
            // A second operator rewinds to 80 while the first has not committed: it must wait, then
            // see 50 and refuse, rather than act on the 100 it read before.
            second = CompletableFuture.supplyAsync(() -> {
                try {
                    return store.rewind("g", tp, 80);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(500);
            assertThat(second).isNotDone();
            c.commit();
        }
        assertThatThrownBy(() -> second.get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasRootCauseInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("back only");
        assertThat(store.positions("g").get(tp).nextOffset()).isEqualTo(50);
    }

    @Test
    void aRewindOfAPartitionWithoutARowRacingTheConsumersFirstOffsetWins() throws Exception {
        OffsetStore store = new OffsetStore(db.dataSource());
        store.createTableIfAbsent();
        CompletableFuture<Void> consumerInit;
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            store.rewind(c, "g", tp, 7); // no row yet: the rewind creates it
            // Meanwhile a consumer stores its start position for the same partition (as a member does on assignment).
            consumerInit = CompletableFuture.runAsync(() -> {
                try (Connection c2 = db.dataSource().getConnection()) {
                    c2.setAutoCommit(true);
                    new dev.tally.consumer.internal.OffsetTable(OffsetStore.DEFAULT_TABLE).initialise(c2, "g", tp, 0);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(300);
            c.commit();
        }
        consumerInit.get(10, TimeUnit.SECONDS);
        assertThat(store.positions("g").get(tp).nextOffset()).isEqualTo(7);
    }
}
