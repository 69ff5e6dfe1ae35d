package dev.tally.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.testkit.MariaDbDatabase;
import dev.tally.testkit.PostgresDatabase;
import dev.tally.consumer.internal.OffsetTable;
import java.sql.Connection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import javax.sql.DataSource;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Rewinds are atomic: two at once, or one racing a consumer's first offset, never move an offset
 * forward. On MariaDB the pool runs at InnoDB's default REPEATABLE READ, where a plain read after
 * waiting on a lock would still see the transaction's old snapshot. {@code moveTo} and {@code forget}, for handing a group over.
 */
class OffsetStoreIT {

    @RegisterExtension
    final PostgresDatabase postgres = new PostgresDatabase();

    @RegisterExtension
    final MariaDbDatabase mariadb = new MariaDbDatabase();

    private final TopicPartition tp = new TopicPartition("t", 0);

    private DataSource db(String database) {
        return database.equals("mariadb") ? mariadb.dataSource() : postgres.dataSource();
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void aRewindWaitingOnAnotherNeverUndoesItByMovingForward(String database) throws Exception {
        DataSource ds = db(database);
        OffsetStore store = new OffsetStore(ds);
        store.createTableIfAbsent();
        store.rewind("g", tp, 100); // creates the row at 100
        CompletableFuture<Long> second;
        try (Connection c = ds.getConnection()) {
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
                .hasMessageContaining("back only")
                .hasMessageContaining("is at 50,");
        assertThat(store.positions("g").get(tp).nextOffset()).isEqualTo(50);
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void aRewindOfAPartitionWithoutARowRacingTheConsumersFirstOffsetWins(String database) throws Exception {
        DataSource ds = db(database);
        OffsetStore store = new OffsetStore(ds);
        store.createTableIfAbsent();
        CompletableFuture<Void> consumerInit;
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            store.rewind(c, "g", tp, 7); // no row yet: the rewind creates it
            // Meanwhile a consumer stores its start position for the same partition (as a member does on assignment).
            consumerInit = CompletableFuture.runAsync(() -> {
                try (Connection c2 = ds.getConnection()) {
                    c2.setAutoCommit(true);
                    new OffsetTable(OffsetStore.DEFAULT_TABLE).initialise(c2, "g", tp, 0);
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

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void aCompareAndSetWaitingOnAnotherIsFencedOnceThatOneCommits(String database) throws Exception {
        DataSource ds = db(database);
        OffsetStore store = new OffsetStore(ds);
        store.createTableIfAbsent();
        store.rewind("g", tp, 100);
        OffsetTable table = new OffsetTable(OffsetStore.DEFAULT_TABLE);
        try (Connection zombie = ds.getConnection(); Connection owner = ds.getConnection()) {
            zombie.setAutoCommit(false);
            owner.setAutoCommit(false);
            // The zombie's transaction has read the row already: under REPEATABLE READ its snapshot says 100.
            assertThat(table.read(zombie, "g", tp)).hasValue(100);
            assertThat(table.advance(owner, "g", List.of(new OffsetTable.Advance(tp, 100, 150)))).isEmpty();
            CompletableFuture<List<TopicPartition>> stale = CompletableFuture.supplyAsync(() -> {
                try {
                    return table.advance(zombie, "g", List.of(new OffsetTable.Advance(tp, 100, 120)));
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(500);
            assertThat(stale).as("waits on the owner's row lock").isNotDone();
            owner.commit();
            assertThat(stale.get(10, TimeUnit.SECONDS)).containsExactly(tp);
            zombie.rollback();
        }
        assertThat(store.positions("g").get(tp).nextOffset()).isEqualTo(150);
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void moveToSetsAnOffsetEitherWayAndForgetDeletesOnlyItsGroup(String database) throws Exception {
        DataSource ds = db(database);
        OffsetStore store = new OffsetStore(ds);
        store.createTableIfAbsent();
        TopicPartition other = new TopicPartition("t", 1);
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            store.moveTo(c, "g", tp, 40); // no row yet: created
            store.moveTo(c, "g", other, 10);
            store.moveTo(c, "h", tp, 5);
            c.commit();
            store.moveTo(c, "g", tp, 90); // forwards, which rewind refuses
            store.moveTo(c, "g", other, 3); // and back
            c.commit();
        }
        assertThat(store.positions("g").get(tp).nextOffset()).isEqualTo(90);
        assertThat(store.positions("g").get(other).nextOffset()).isEqualTo(3);
        assertThatThrownBy(() -> {
            try (Connection c = ds.getConnection()) {
                store.moveTo(c, "g", tp, -1);
            }
        }).isInstanceOf(IllegalArgumentException.class);
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            assertThat(store.forget(c, "g")).isEqualTo(2);
            c.commit();
        }
        assertThat(store.positions("g")).isEmpty();
        assertThat(store.positions("h").get(tp).nextOffset()).isEqualTo(5);
    }
}
