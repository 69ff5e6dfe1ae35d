package dev.tally.spring;

import dev.tally.consumer.Batch;
import dev.tally.consumer.BatchHandler;
import dev.tally.consumer.ConsumerError;
import dev.tally.consumer.RecordDecoder;
import dev.tally.consumer.TallyConsumer;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.SmartLifecycle;

/**
 * The application's {@link TallyConsumer}, started and stopped with the application context.
 *
 * <p>It starts once the context is refreshed (every bean, the handler's included, is ready) and
 * stops first when the context closes, before the web server and the {@code DataSource}: the
 * batch in hand commits or rolls back, offsets are copied to Kafka and the group is left, all
 * within {@code tally.consumer.close-timeout} (default 30 s). A consumer that cannot start (the
 * database unreachable, a configuration problem) fails the application's start with the reason.
 *
 * <p>The handler is the application's one {@link BatchHandler} bean or one {@link TallyListener}
 * method; the decoder is its {@link RecordDecoder} bean, or else values are decoded as UTF-8
 * strings. Errors are logged and published as {@link TallyErrorEvent}s; metrics go to the
 * application's {@link MeterRegistry}.
 */
public class ManagedTallyConsumer implements SmartLifecycle, DisposableBean {

    private static final Logger LOG = LoggerFactory.getLogger(ManagedTallyConsumer.class);

    private final TallyProperties properties;
    private final DataSource dataSource;
    private final HandlerSource handlers;
    private final RecordDecoder<?> decoder;
    private final List<TransactionBinding> bindings;
    private final MeterRegistry meterRegistry;
    private final ApplicationEventPublisher events;
    private volatile TallyConsumer<Object> consumer;

    /** Where the handler comes from, looked up only when the consumer starts. */
    interface HandlerSource {
        /** The BatchHandler beans and the @TallyListener methods, by name. */
        Map<String, BatchHandler<Object>> handlers();
    }

    ManagedTallyConsumer(TallyProperties properties, DataSource dataSource, HandlerSource handlers, RecordDecoder<?> decoder,
            List<TransactionBinding> bindings, MeterRegistry meterRegistry, ApplicationEventPublisher events) {
        this.properties = properties;
        this.dataSource = dataSource;
        this.handlers = handlers;
        this.decoder = decoder;
        this.bindings = List.copyOf(bindings);
        this.meterRegistry = meterRegistry;
        this.events = events;
    }

    @Override
    @SuppressWarnings("unchecked")
    public void start() {
        TallyConsumer<Object> current = consumer;
        if (current != null && current.state() == TallyConsumer.State.RUNNING) {
            return;
        }
        // A consumer runs once: after a stop of the context (or a failure), a start builds a new one.
        if (current != null) {
            current.close(properties.effectiveCloseTimeout());
        }
        Map<String, BatchHandler<Object>> found = handlers.handlers();
        if (found.size() != 1) {
            throw new IllegalStateException("tally.consumer needs exactly one handler, a BatchHandler bean or one @TallyListener method; found "
                    + (found.isEmpty() ? "none" : found.keySet()) + " (set tally.consumer.enabled=false to run without a consumer)");
        }
        BatchHandler<Object> handler = found.values().iterator().next();
        TallyConsumer<Object> c = properties.applyTo(TallyConsumer.builder((RecordDecoder<Object>) decoder, bound(handler)))
                .dataSource(dataSource)
                .meterRegistry(meterRegistry)
                .errorListener(this::report)
                .build();
        try {
            c.start();
        } catch (SQLException e) {
            throw new IllegalStateException("the Tally consumer cannot start on the application's DataSource: " + e.getMessage(), e);
        }
        consumer = c;
    }

    /** The handler with the application's data access bound to the batch's transaction while it runs. */
    private BatchHandler<Object> bound(BatchHandler<Object> handler) {
        return (Batch<Object> batch, Connection connection) -> {
            Deque<TransactionBinding.Scope> scopes = new ArrayDeque<>();
            try {
                for (TransactionBinding b : bindings) {
                    scopes.push(b.open(connection));
                }
                handler.handle(batch, connection);
                for (TransactionBinding.Scope s : scopes) {
                    s.beforeReturn();
                }
            } finally {
                while (!scopes.isEmpty()) {
                    scopes.pop().close();
                }
            }
        };
    }

    private void report(ConsumerError error) {
        ConsumerError.Phase phase = error.phase();
        if (phase == ConsumerError.Phase.FATAL) {
            LOG.error(error.describe(), error.cause());
        } else if (error.attempt() <= 1 && phase != ConsumerError.Phase.KAFKA_COMMIT
                && phase != ConsumerError.Phase.DECODE && phase != ConsumerError.Phase.REJECT) {
            // As the library's own log: a stack trace for a batch's first failure; a dead letter's reason fits its line.
            LOG.warn(error.describe(), error.cause());
        } else {
            LOG.warn(error.describe());
        }
        events.publishEvent(new TallyErrorEvent(this, error));
    }

    @Override
    public void stop() {
        TallyConsumer<Object> c = consumer;
        if (c != null) {
            c.close(properties.effectiveCloseTimeout());
        }
    }

    @Override
    public boolean isRunning() {
        TallyConsumer<Object> c = consumer;
        return c != null && c.state() == TallyConsumer.State.RUNNING;
    }

    @Override
    public void destroy() {
        stop();
    }

    /** The consumer, once started (empty before the context is refreshed). */
    public Optional<TallyConsumer<?>> consumer() {
        return Optional.ofNullable(consumer);
    }

    /** The configuration it runs with. */
    public TallyProperties properties() {
        return properties;
    }

    /** The database of its offsets: the application's. */
    public DataSource dataSource() {
        return dataSource;
    }
}
