package dev.tally.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class LifecycleTest {

    @Test
    void partsStopLastStartedFirstAndOnlyOnce() {
        List<String> stops = new CopyOnWriteArrayList<>();
        Lifecycle life = new Lifecycle("test");
        assertThat(life.started("broker", () -> stops.add("broker"))).isEqualTo("broker");
        life.started("aggregator", () -> stops.add("aggregator"));
        life.started("web", () -> {
            stops.add("web");
            throw new IllegalStateException("a part that fails to stop does not keep the others running");
        });
        life.stopAll();
        life.stopAll();
        assertThat(stops).containsExactly("web", "aggregator", "broker");
    }

    @Test
    void aFailureStopsEverythingAndExitsOne() throws Exception {
        List<String> stops = new CopyOnWriteArrayList<>();
        Lifecycle life = new Lifecycle("test");
        life.started(1, () -> stops.add("first"));
        life.started(2, () -> stops.add("second"));
        AtomicReference<String> problem = new AtomicReference<>();
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> {
            try {
                return life.awaitStop(problem::get, List.of("ready"), null);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        Thread.sleep(300);
        assertThat(exit).isNotDone();
        problem.set("the aggregator stopped");
        assertThat(exit.get(5, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(stops).containsExactly("second", "first");
    }

    @Test
    void aSignalStopsEverythingAndExitsZero() throws Exception {
        List<String> stops = new CopyOnWriteArrayList<>();
        Lifecycle life = new Lifecycle("test");
        life.started(1, () -> stops.add("only"));
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> {
            try {
                return life.awaitStop(() -> null, List.of(), null);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        Thread.sleep(200);
        life.stop(); // what the shutdown hook runs on SIGTERM
        assertThat(exit.get(5, TimeUnit.SECONDS)).isZero();
        assertThat(stops).containsExactly("only");
    }
}
