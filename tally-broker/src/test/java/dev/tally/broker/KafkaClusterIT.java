package dev.tally.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(240)
class KafkaClusterIT {

    @Test
    void aReplicatedTopicSurvivesKillMinusNineOfItsLeaderAndTheNodeRejoins() throws Exception {
        try (KafkaCluster cluster = KafkaCluster.builder().build().start()) {
            assertThat(cluster.liveBrokers()).containsExactly(1, 2, 3);
            assertThat(cluster.activeController()).isBetween(1, 3);
            cluster.createTopic("replicated", 2);
            assertThat(cluster.inSyncReplicasOf("replicated", 0)).containsExactly(1, 2, 3);
            Records.produce(cluster.bootstrapServers(), "replicated", Records.numbered("before-", 0, 200));

            int leader = cluster.leaderOf("replicated", 0);
            cluster.node(leader).kill();
            Records.produce(cluster.bootstrapServers(), "replicated", Records.numbered("during-", 0, 200));
            int newLeader = await(() -> cluster.leaderOf("replicated", 0), l -> l != leader);
            assertThat(newLeader).isNotEqualTo(leader);

            List<String> expected = new ArrayList<>(Records.numbered("before-", 0, 200));
            expected.addAll(Records.numbered("during-", 0, 200));
            assertThat(Records.readFromStart(cluster.bootstrapServers(), "replicated", 400, Duration.ofSeconds(60)))
                    .containsExactlyInAnyOrderElementsOf(expected);

            cluster.node(leader).restart();
            await(cluster::liveBrokers, live -> live.contains(leader));
            await(() -> cluster.inSyncReplicasOf("replicated", 0), isr -> isr.size() == 3);
            await(() -> cluster.inSyncReplicasOf("replicated", 1), isr -> isr.size() == 3);
        }
    }

    private static <T> T await(Callable<T> value, java.util.function.Predicate<T> done) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                T v = value.call();
                if (done.test(v)) {
                    return v;
                }
            } catch (IllegalStateException e) {
                last = e;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("condition not met within 90 s", last);
    }
}
