package dev.tally.bench;

/** One way of computing the aggregates from the topic, measured by {@link BenchCommand}. */
interface Contender {

    /** The letter that selects it on the command line: a to g. */
    char letter();

    /** What it is, for the table. */
    String name();

    /** Whether it runs on this workload. */
    default boolean appliesTo(Workload workload) {
        return true;
    }

    /** One run on a fresh group and a fresh store; the clock is the contender's own. */
    Progress.Run run(Trial trial) throws Exception;
}
