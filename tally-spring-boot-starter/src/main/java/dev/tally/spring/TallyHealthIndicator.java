package dev.tally.spring;

import dev.tally.consumer.OffsetStore;
import dev.tally.consumer.TallyConsumer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.TopicPartition;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * The consumer's health, as {@code tally} in Actuator's health endpoint.
 *
 * <ul>
 *   <li>{@code UP} while it runs with every partition going on; {@code DOWN} when it stopped by
 *       itself ({@code FAILED}: it would not skip records and must be restarted) or has halted
 *       partitions, which wait for an operator; {@code OUT_OF_SERVICE} while closing or closed;
 *       {@code UNKNOWN} before the context started it.</li>
 *   <li>Details: {@code state}, {@code group}, {@code assignment}, {@code lastProgress} (when a
 *       batch last committed), {@code haltedPartitions} with their reasons, {@code backingOff}
 *       (the database is failing and partitions are paused), {@code droppedErrorReports}, and the
 *       lag of every partition of every topic from the offsets stored in the database — the ones
 *       Tally trusts — with {@code totalLag}. A lag that cannot be read (Kafka unreachable) is a
 *       {@code lagError} detail, not a status: the consumer waits a broker outage out.</li>
 * </ul>
 */
public class TallyHealthIndicator implements HealthIndicator, DisposableBean {

    private final ManagedTallyConsumer managed;
    private Admin admin;

    /** @param managed the application's consumer */
    public TallyHealthIndicator(ManagedTallyConsumer managed) {
        this.managed = managed;
    }

    @Override
    public Health health() {
        Optional<TallyConsumer<?>> started = managed.consumer();
        if (started.isEmpty()) {
            return Health.unknown().withDetail("state", TallyConsumer.State.NEW.name()).build();
        }
        TallyConsumer<?> c = started.get();
        TallyConsumer.State state = c.state();
        Map<String, String> halted = new TreeMap<>();
        c.haltedPartitions().forEach((tp, reason) -> halted.put(tp.toString(), reason));
        Health.Builder h = switch (state) {
            case RUNNING -> halted.isEmpty() ? Health.up() : Health.down();
            case FAILED -> Health.down();
            case CLOSING, CLOSED -> Health.outOfService();
            case NEW -> Health.unknown();
        };
        h.withDetail("state", state.name())
                .withDetail("group", c.groupId())
                .withDetail("assignment", c.assignment().stream().map(TopicPartition::toString).sorted().toList())
                .withDetail("lastProgress", c.lastProgress().toString())
                .withDetail("haltedPartitions", halted)
                .withDetail("backingOff", c.isBackingOff())
                .withDetail("droppedErrorReports", c.droppedErrorReports());
        try {
            OffsetStore store = new OffsetStore(managed.dataSource(), managed.properties().getOffsetsTable());
            Map<String, Object> lag = new LinkedHashMap<>();
            long total = 0;
            for (String topic : managed.properties().getTopics()) {
                for (Map.Entry<TopicPartition, OffsetStore.Lag> e : store.lag(c.groupId(), topic, admin()).entrySet()) {
                    OffsetStore.Lag l = e.getValue();
                    Map<String, Object> p = new LinkedHashMap<>();
                    p.put("stored", l.stored());
                    p.put("end", l.logEnd());
                    p.put("lag", l.lag());
                    p.put("updatedAt", l.updatedAt() == null ? null : l.updatedAt().toString());
                    lag.put(e.getKey().toString(), p);
                    total += l.lag();
                }
            }
            h.withDetail("lag", lag).withDetail("totalLag", total);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            h.withDetail("lagError", "interrupted");
        } catch (Exception e) {
            h.withDetail("lagError", e.toString());
        }
        return h.build();
    }

    /** One admin client for the indicator's life, with the consumer's connection settings. */
    private synchronized Admin admin() {
        if (admin == null) {
            Map<String, Object> config = new LinkedHashMap<>();
            managed.properties().getKafka().forEach((k, v) -> {
                // Security and client settings apply to the admin too; client-specific ones do not.
                if (!k.startsWith("consumer.") && !k.startsWith("producer.") && AdminClientConfig.configNames().contains(k)) {
                    config.put(k, v);
                }
            });
            config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, managed.properties().getBootstrapServers());
            config.put(AdminClientConfig.CLIENT_ID_CONFIG, "tally-health-" + managed.properties().getGroup());
            // A health probe must answer in bounded time even when Kafka does not.
            config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5_000);
            config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
            admin = Admin.create(config);
        }
        return admin;
    }

    @Override
    public synchronized void destroy() {
        if (admin != null) {
            admin.close(java.time.Duration.ofSeconds(5));
            admin = null;
        }
    }
}
