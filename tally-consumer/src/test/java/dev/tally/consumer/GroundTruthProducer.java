package dev.tally.consumer;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * Writes the words of {@link Words#word} to a topic in chunks, a pause after each, until closed,
 * so that records keep flowing through whatever fault a test injects. Each chunk is counted only
 * once every record of it was acknowledged: {@link #produced()} words are the ground truth.
 */
final class GroundTruthProducer implements AutoCloseable {

    private final AtomicBoolean producing = new AtomicBoolean(true);
    private final AtomicInteger produced = new AtomicInteger();
    private final Thread thread;

    private GroundTruthProducer(String bootstrap, String topic, int chunk, long pauseMs, int poisonEvery) {
        thread = new Thread(() -> {
            try (KafkaProducer<byte[], byte[]> p = Words.producer(bootstrap)) {
                while (producing.get()) {
                    Words.produce(p, topic, produced.get(), produced.get() + chunk, poisonEvery);
                    produced.addAndGet(chunk);
                    Thread.sleep(pauseMs);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "ground-truth-producer");
        thread.start();
    }

    /** Starts writing {@code chunk} words at a time, {@code pauseMs} apart; see {@link Words#word} for {@code poisonEvery}. */
    static GroundTruthProducer start(String bootstrap, String topic, int chunk, long pauseMs, int poisonEvery) {
        return new GroundTruthProducer(bootstrap, topic, chunk, pauseMs, poisonEvery);
    }

    /** Words {@code 0..produced()-1} were written and acknowledged; final once {@link #close()} returned. */
    int produced() {
        return produced.get();
    }

    /** Stops after the chunk in progress and waits for it. Idempotent. */
    @Override
    public void close() {
        producing.set(false);
        try {
            thread.join(120_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
