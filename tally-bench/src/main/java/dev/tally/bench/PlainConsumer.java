package dev.tally.bench;

import dev.tally.app.event.PageView;
import dev.tally.app.event.PageViewDecoder;
import dev.tally.broker.ChildJvm;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * (b) A plain consumer that decodes every value (the application's Jackson streaming decoder)
 * and aggregates in memory: the limit of anything that reads the values. Nothing is stored, so
 * nothing is exactly once; its counts are still checked.
 *
 * <p>It runs in a JVM of its own, started with the options and heap Tally's contenders get
 * ({@link TallyRun#launcherOptions()}), so that both sides of every ratio are treated alike: a
 * fresh JVM that compiles the client's code during its run and has its heap to itself. (In the
 * bench's JVM it shared a heap with the reference counts, but found the client's code already
 * compiled by the writing of the topic, and ran faster there.) It prints how many records it has
 * counted as it goes, which starts and stops the clock here, then regenerates the workload and
 * compares its counts with it, after the clock.
 */
public final class PlainConsumer implements Contender {

    private static final String PROGRESS = "counted ";
    private static final String CHECK = "check ";
    private static final Duration POLL = Duration.ofMillis(20);
    /** Regenerating the reference after the run: beacons with exact visitor sets take a while. */
    private static final Duration CHECK_WAIT = Duration.ofMinutes(10);

    @Override
    public char letter() {
        return 'b';
    }

    @Override
    public String name() {
        return "(b) plain consumer, in memory";
    }

    @Override
    public Progress.Run run(Trial t) throws Exception {
        Progress progress = new Progress(t.records());
        List<String> args = new ArrayList<>(List.of(t.bootstrapServers(), t.topic(), Long.toString(t.records())));
        args.addAll(t.workload().args());
        try (ChildJvm plain = ChildJvm.builder(PlainConsumer.class).name("plain-consumer").jvmArgs(TallyRun.launcherOptions())
                .args(args).start()) {
            CpuClock.countAsContender(plain.pid());
            try {
                while (!progress.finished()) {
                    Thread.sleep(POLL.toMillis());
                    if (!plain.isAlive()) {
                        throw new IllegalStateException("the plain consumer exited: " + plain.stderrTail());
                    }
                    progress.at(lastCount(plain.lines()));
                }
            } finally {
                CpuClock.forget(plain.pid());
            }
            String check = plain.awaitLine(line -> line.startsWith(CHECK), CHECK_WAIT).substring(CHECK.length());
            return progress.result(check);
        }
    }

    private static long lastCount(List<String> lines) {
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).startsWith(PROGRESS)) {
                return Long.parseLong(lines.get(i).substring(PROGRESS.length()));
            }
        }
        return 0;
    }

    /**
     * The child: {@code BOOTSTRAP TOPIC RECORDS WORKLOAD...} ({@link Workload#args()}). Counts the
     * topic's first {@code RECORDS} records, printing {@code counted N} every few milliseconds, then
     * {@code check exact} or {@code check WRONG: ...}.
     */
    public static void main(String[] args) throws Exception {
        long records = Long.parseLong(args[2]);
        PageViewDecoder decoder = PageViewDecoder.forCounting();
        Aggregates counts = new Aggregates();
        long n = 0;
        long printed = System.nanoTime();
        try (KafkaConsumer<byte[], byte[]> c = Trial.consumer(args[0], "plain")) {
            c.subscribe(List.of(args[1]));
            while (n < records) {
                ConsumerRecords<byte[], byte[]> polled = c.poll(Duration.ofMillis(100));
                for (ConsumerRecord<byte[], byte[]> r : polled) {
                    PageView v = decoder.decode(r);
                    counts.add(v, v.referrerHost());
                }
                n += polled.count();
                long now = System.nanoTime();
                if (n >= records || now - printed > 5_000_000L) {
                    System.out.println(PROGRESS + n);
                    printed = now;
                }
            }
        }
        Aggregates reference = new Aggregates();
        for (Iterator<Workload.Event> events = Workload.of(args, 3).iterator(); events.hasNext(); ) {
            Workload.Event e = events.next();
            reference.add(e.view(), e.host());
        }
        String wrong = reference.difference(counts);
        System.out.println(CHECK + (wrong == null ? "exact" : "WRONG: " + wrong));
    }
}
