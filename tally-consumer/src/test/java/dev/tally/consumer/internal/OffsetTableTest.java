package dev.tally.consumer.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class OffsetTableTest {

    @Test
    void offsetsAreUpdatedInOneFixedOrderWhateverTheBatchsOrder() {
        OffsetTable.Advance b1 = new OffsetTable.Advance(new TopicPartition("b", 1), 0, 1);
        OffsetTable.Advance a10 = new OffsetTable.Advance(new TopicPartition("a", 10), 0, 1);
        OffsetTable.Advance a2 = new OffsetTable.Advance(new TopicPartition("a", 2), 0, 1);
        assertThat(OffsetTable.ordered(List.of(b1, a10, a2))).containsExactly(a2, a10, b1);
        assertThat(OffsetTable.ordered(List.of(a10, b1, a2))).containsExactly(a2, a10, b1);
    }
}
