package dev.tally.spring;

import dev.tally.consumer.ConsumerError;
import org.springframework.context.ApplicationEvent;

/**
 * A failure the consumer met, published to the application context: every report of the
 * library's {@link dev.tally.consumer.ErrorListener} (a batch rolled back and retried, a record
 * sent to the dead-letter topic, a halted partition, a fatal stop). Listen with
 * {@code @EventListener}. Events are published on the consumer's reporting thread, never on the
 * threads that poll or commit, so a slow listener cannot stall consumption; when listeners fall
 * behind by {@code tally.consumer.error-queue-capacity} reports, further ones are dropped and
 * counted ({@code tally.consumer.errors.dropped}).
 */
public class TallyErrorEvent extends ApplicationEvent {

    private static final long serialVersionUID = 1L;

    private final transient ConsumerError error;

    /**
     * @param source the consumer that met the failure
     * @param error what failed, where and why
     */
    public TallyErrorEvent(ManagedTallyConsumer source, ConsumerError error) {
        super(source);
        this.error = error;
    }

    /** What failed, where and why. */
    public ConsumerError getError() {
        return error;
    }
}
