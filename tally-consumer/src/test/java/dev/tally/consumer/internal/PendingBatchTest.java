package dev.tally.consumer.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.consumer.Message;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class PendingBatchTest {

    private static final TopicPartition P0 = new TopicPartition("t", 0);
    private static final TopicPartition P1 = new TopicPartition("t", 1);

    private static PendingBatch<String> polled(TopicPartition tp, long expected, long... offsets) {
        PendingBatch<String> b = new PendingBatch<>();
        PendingBatch.Part<String> part = b.part(tp, expected);
        for (long o : offsets) {
            b.add(part, new Message<>(new ConsumerRecord<>(tp.topic(), tp.partition(), o, null, null), "v" + o));
            part.next = o + 1;
        }
        return b;
    }

    @Test
    void mergedPollsKeepOffsetOrderAndOneRangePerPartition() {
        Handoff<String> handoff = new Handoff<>();
        handoff.offer(polled(P0, 10, 10, 11));
        handoff.offer(polled(P1, 0, 0));
        // A gap (a transaction marker, compaction) between polls stays inside the range.
        assertThat(handoff.offer(polled(P0, 12, 14, 15))).isEqualTo(5);

        PendingBatch<String> taken = take(handoff, Set.of());
        List<Long> offsets = new ArrayList<>();
        taken.messages(P0).forEach(m -> offsets.add(m.offset()));
        assertThat(offsets).containsExactly(10L, 11L, 14L, 15L);
        assertThat(taken.advances()).containsExactlyInAnyOrder(
                new OffsetTable.Advance(P0, 10, 16), new OffsetTable.Advance(P1, 0, 1));
        assertThat(taken.size()).isEqualTo(5);
        assertThat(handoff.waiting()).isZero();
    }

    @Test
    void excludedPartitionsAreDroppedOnTake() {
        Handoff<String> handoff = new Handoff<>();
        handoff.offer(polled(P0, 0, 0, 1));
        handoff.offer(polled(P1, 5, 5));
        PendingBatch<String> taken = take(handoff, Set.of(P0));
        assertThat(taken.partitions()).containsExactly(P1);
        assertThat(taken.recordCount()).isEqualTo(1);
    }

    @Test
    void droppingAllPartsEmptiesTheSlot() {
        Handoff<String> handoff = new Handoff<>();
        handoff.offer(polled(P0, 0, 0, 1));
        handoff.drop(Set.of(P0));
        assertThat(handoff.waiting()).isZero();
        assertThat(take(handoff, Set.of())).isNull();
    }

    @Test
    void closedHandoffHandsOutNothing() {
        Handoff<String> handoff = new Handoff<>();
        handoff.offer(polled(P0, 0, 0));
        handoff.close();
        assertThat(take(handoff, Set.of())).isNull();
        assertThat(handoff.offer(polled(P0, 1, 1))).isZero();
    }

    @Test
    void rejectionsAreDeadLettersAndForgottenOnRetry() {
        PendingBatch<String> b = polled(P0, 0, 0, 1, 2);
        Message<String> second = b.messages(P0).get(1);
        b.reject(second, "bad");
        assertThat(b.deadLetters()).singleElement().satisfies(l -> {
            assertThat(l.record().offset()).isEqualTo(1);
            assertThat(l.errorMessage()).isEqualTo("bad");
        });
        b.beginAttempt();
        assertThat(b.deadLetters()).isEmpty();
    }

    @Test
    void rejectingARecordOfAnotherBatchIsAnError() {
        PendingBatch<String> b = polled(P0, 0, 0);
        Message<String> foreign = polled(P0, 7, 7).messages(P0).get(0);
        assertThatThrownBy(() -> b.reject(foreign, "x")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void halvesSplitByPartitionThenAtAnOffsetBoundaryAndMoveOffsetsWithoutAGap() {
        PendingBatch<String> b = polled(P0, 10, 10, 11, 13, 14);
        b.absorb(polled(P1, 0, 0));
        List<PendingBatch<String>> byPartition = b.halves();
        assertThat(byPartition).hasSize(2);
        assertThat(byPartition.get(0).advances()).containsExactly(new OffsetTable.Advance(P0, 10, 15));
        assertThat(byPartition.get(1).advances()).containsExactly(new OffsetTable.Advance(P1, 0, 1));

        PendingBatch<String> p0 = byPartition.get(0);
        p0.addUndecodable(p0.part(P0, 10), DeadLetter.undecodable(new ConsumerRecord<>("t", 0, 12, null, null), new RuntimeException("x")));
        List<PendingBatch<String>> byOffset = p0.halves();
        assertThat(byOffset.get(0).advances()).containsExactly(new OffsetTable.Advance(P0, 10, 13));
        assertThat(byOffset.get(1).advances()).containsExactly(new OffsetTable.Advance(P0, 13, 15));
        assertThat(byOffset.get(0).size()).isEqualTo(2);
        assertThat(byOffset.get(0).deadLetters()).singleElement().satisfies(l -> assertThat(l.record().offset()).isEqualTo(12));
        assertThat(byOffset.get(1).deadLetters()).isEmpty();
        assertThat(byOffset.get(1).size()).isEqualTo(2);
        assertThat(byOffset.get(1).recordCount()).isEqualTo(2);
    }

    @Test
    void aSoleRecordCannotBeSplitAndBecomesADeadLetterWithTheDatabasesWord() {
        PendingBatch<String> b = polled(P0, 4, 4);
        assertThat(b.halves()).isEmpty();
        Message<String> sole = b.soleMessage();
        assertThat(sole.offset()).isEqualTo(4);
        b.refuse(sole, new RuntimeException(new java.sql.SQLException("value too long for type character varying(200)", "22001")));
        assertThat(b.size()).isZero();
        assertThat(b.advances()).containsExactly(new OffsetTable.Advance(P0, 4, 5));
        assertThat(b.deadLetters()).singleElement().satisfies(l -> {
            assertThat(l.sqlState()).isEqualTo("22001");
            assertThat(l.errorMessage()).contains("value too long");
            assertThat(l.phase()).isEqualTo(dev.tally.consumer.ConsumerError.Phase.REFUSED);
        });
    }

    @Test
    void recordsOutsideTheirPartsRangeAreMisplaced() {
        assertThat(polled(P0, 10, 10, 11).misplaced()).isEmpty();
        assertThat(polled(P0, 10, 12, 13).misplaced()).isEmpty(); // a gap after the stored offset: compaction, markers
        assertThat(polled(P0, 10, 9, 10).misplaced()).containsExactly(P0);
        PendingBatch<String> b = polled(P0, 10, 10, 11);
        b.parts().iterator().next().next = 11; // the range ends before the last record
        assertThat(b.misplaced()).containsExactly(P0);
    }

    @Test
    void aFullBatchTakenWakesThePollerWaitingForRoom() throws Exception {
        Handoff<String> handoff = new Handoff<>();
        handoff.offer(polled(P0, 0, 0, 1, 2));
        Thread poller = new Thread(() -> {
            try {
                handoff.awaitRoom(1, Long.MAX_VALUE, Duration.ofSeconds(60));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        poller.start();
        take(handoff, Set.of());
        // Well before its minute: the take woke it, not its timeout.
        poller.join(Duration.ofSeconds(20).toMillis());
        assertThat(poller.isAlive()).isFalse();
    }

    @Test
    void awaitingRoomReturnsAtOnceWhenThereIsRoomAndAfterItsWaitWhenThereIsNone() throws Exception {
        Handoff<String> handoff = new Handoff<>();
        handoff.awaitRoom(0, Long.MAX_VALUE, Duration.ofDays(1));
        handoff.offer(polled(P0, 0, 0, 1));
        handoff.awaitRoom(2, Long.MAX_VALUE, Duration.ofDays(1));
        handoff.awaitRoom(1, Long.MAX_VALUE, Duration.ofMillis(20));
        assertThat(handoff.waiting()).isEqualTo(2);
    }

    private static PendingBatch<String> take(Handoff<String> h, Set<TopicPartition> exclude) {
        try {
            return h.take(Duration.ofMillis(1), exclude);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
