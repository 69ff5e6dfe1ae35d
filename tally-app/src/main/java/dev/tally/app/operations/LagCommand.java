package dev.tally.app.operations;

import com.zaxxer.hikari.HikariDataSource;
import dev.tally.app.KafkaOptions;
import dev.tally.app.StartupException;
import dev.tally.app.StoreOptions;
import dev.tally.app.aggregate.Aggregator;
import dev.tally.app.http.Replies;
import dev.tally.consumer.OffsetStore;
import java.io.PrintStream;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code bin/tally lag}: per partition, the offset stored in the database (the one Tally trusts),
 * the log end, the lag between them, when the stored offset last moved and which member of the
 * group owns the partition now.
 */
@Command(name = "lag", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Shows, per partition, the stored offset, the log end, the lag, the last progress and the owner.")
public final class LagCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    KafkaOptions kafka;

    @Mixin
    StoreOptions store;

    @Option(names = "--group", description = "consumer group (default ${DEFAULT-VALUE})")
    String group = Aggregator.DEFAULT_GROUP;

    @Option(names = "--watch", arity = "0..1", fallbackValue = "2", paramLabel = "SECONDS",
            description = "redraw every SECONDS (default 2) until interrupted")
    Integer watch;

    @Option(names = "--json", description = "one JSON object (per redraw with --watch), for scripts")
    boolean json;

    /** One partition's line. */
    record Row(TopicPartition partition, OffsetStore.Lag lag, String owner) {}

    @Override
    public Integer call() throws Exception {
        if (watch != null && watch < 1) {
            throw new ParameterException(spec.commandLine(), "--watch must be at least 1 second");
        }
        store.validate(spec);
        PrintStream out = System.out;
        try (HikariDataSource pool = store.openPool("tally-lag", 1); Admin admin = Admin.create(kafka.adminProperties())) {
            OffsetStore offsets = new OffsetStore(pool);
            while (true) {
                List<Row> rows = read(offsets, admin);
                String text = json ? json(rows) : table(rows);
                if (watch != null && !json && System.console() != null) {
                    out.print("\033[H\033[2J"); // redraw in place on a terminal
                }
                out.println(text);
                out.flush();
                if (watch == null) {
                    return 0;
                }
                TimeUnit.SECONDS.sleep(watch);
            }
        }
    }

    private List<Row> read(OffsetStore offsets, Admin admin) throws Exception {
        Map<TopicPartition, OffsetStore.Lag> lags;
        try {
            lags = offsets.lag(group, kafka.topic, admin);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new StartupException("cannot read " + kafka.topic + " from Kafka at " + kafka.bootstrapServers + ": "
                    + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage()));
        } catch (java.sql.SQLException e) {
            throw new StartupException("cannot read the stored offsets from " + store.redacted() + ": " + e.getMessage());
        }
        Map<TopicPartition, String> owners = owners(admin);
        return lags.entrySet().stream().map(e -> new Row(e.getKey(), e.getValue(), owners.get(e.getKey()))).toList();
    }

    /** Which member owns each partition now; empty when the group has no members (or Kafka will not say). */
    private Map<TopicPartition, String> owners(Admin admin) {
        Map<TopicPartition, String> owners = new HashMap<>();
        try {
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group)
                    .get(10, TimeUnit.SECONDS);
            for (MemberDescription m : d.members()) {
                String who = m.clientId() + "@" + m.host().replaceFirst("^/", "");
                m.assignment().topicPartitions().forEach(tp -> owners.put(tp, who));
            }
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof GroupIdNotFoundException)) {
                owners.clear();
            }
        } catch (Exception e) {
            owners.clear(); // owners are a courtesy; the offsets are the answer
        }
        return owners;
    }

    static String table(Collection<Row> rows) {
        StringBuilder s = new StringBuilder(String.format("%-24s %9s %12s %12s %10s  %-20s  %s%n",
                "topic", "partition", "stored", "end", "lag", "last progress", "owner"));
        long total = 0;
        for (Row r : rows) {
            OffsetStore.Lag l = r.lag();
            total += l.lag();
            s.append(String.format("%-24s %9d %12s %12d %10d  %-20s  %s%n", r.partition().topic(), r.partition().partition(),
                    l.stored() == null ? "-" : l.stored().toString(), l.logEnd(), l.lag(),
                    l.updatedAt() == null ? "-" : l.updatedAt().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString(),
                    r.owner() == null ? "-" : r.owner()));
        }
        return s.append("total lag ").append(total).toString();
    }

    static String json(Collection<Row> rows) {
        StringBuilder s = new StringBuilder("{\"partitions\":[");
        long total = 0;
        boolean first = true;
        for (Row r : rows) {
            OffsetStore.Lag l = r.lag();
            total += l.lag();
            s.append(first ? "" : ",").append("{\"topic\":").append(Replies.quote(r.partition().topic()))
                    .append(",\"partition\":").append(r.partition().partition())
                    .append(",\"stored\":").append(l.stored())
                    .append(",\"logStart\":").append(l.logStart())
                    .append(",\"end\":").append(l.logEnd())
                    .append(",\"lag\":").append(l.lag())
                    .append(",\"lastProgress\":").append(l.updatedAt() == null ? "null" : Replies.quote(l.updatedAt().toString()))
                    .append(",\"owner\":").append(r.owner() == null ? "null" : Replies.quote(r.owner()))
                    .append('}');
            first = false;
        }
        return s.append("],\"lag\":").append(total).append(",\"time\":").append(Replies.quote(Instant.now().toString())).append('}').toString();
    }
}
