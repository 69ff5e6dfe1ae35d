package dev.tally.chaos;

import java.util.Arrays;
import java.util.Locale;

/** The faults the harness injects. Broker faults take one node down at a time, the others never overlap their own kind. */
enum FaultKind {
    /** {@code kill -9} of an aggregator, restarted after a pause. */
    AGGREGATOR_KILL(false),
    /** SIGSTOP of an aggregator past the group's session timeout, then SIGCONT: a zombie. */
    AGGREGATOR_PAUSE(false),
    /** {@code kill -9} of the leader of a partition of the topic, restarted after a pause. */
    LEADER_KILL(true),
    /** {@code kill -9} of the active KRaft controller (a combined node), restarted after a pause. */
    CONTROLLER_KILL(true),
    /** PostgreSQL restarted ({@code pg_ctlcluster … restart -m fast}): every connection is cut. */
    POSTGRES_RESTART(false),
    /**
     * The aggregators' connections to PostgreSQL go silent for 10–20 s (no answer, no FIN, no RST),
     * then the bytes held meanwhile are delivered, as TCP's retransmission would after a stall.
     */
    DB_BLACKHOLE(false),
    /** Two aggregators join the group and leave it again. */
    REBALANCE(false),
    /** {@code kill -9} of the collector, restarted on the same port. */
    COLLECTOR_KILL(false),
    /**
     * {@code bin/tally replay --from earliest} while the aggregators count: {@code kill -9}ed at
     * random moments and run again, until it switches the aggregators to the recounted generation.
     */
    REWIND(false);

    final boolean broker;

    FaultKind(boolean broker) {
        this.broker = broker;
    }

    /** The name used by {@code --faults}: {@code aggregator-kill}, {@code leader-kill}, … */
    String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    static FaultKind parse(String label) {
        return Arrays.stream(values()).filter(k -> k.label().equals(label.trim())).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown fault '" + label + "'; known: "
                        + String.join(", ", Arrays.stream(values()).map(FaultKind::label).toList())));
    }
}
