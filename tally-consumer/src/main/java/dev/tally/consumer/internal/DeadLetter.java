package dev.tally.consumer.internal;

import dev.tally.consumer.ConsumerError;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** A record on its way to the dead-letter topic, with why. */
public record DeadLetter(ConsumerRecord<byte[], byte[]> record, ConsumerError.Phase phase, String errorClass, String errorMessage) {

    static DeadLetter undecodable(ConsumerRecord<byte[], byte[]> record, Throwable cause) {
        return new DeadLetter(record, ConsumerError.Phase.DECODE, cause.getClass().getName(), String.valueOf(cause.getMessage()));
    }

    static DeadLetter rejected(ConsumerRecord<byte[], byte[]> record, String reason) {
        return new DeadLetter(record, ConsumerError.Phase.REJECT, "rejected", reason);
    }

    /** The exception form of the reason, for error reports. */
    Throwable asException() {
        return new InvalidRecordException(errorClass + ": " + errorMessage);
    }

    /** Names a record that went to the dead-letter topic; never thrown, only reported. */
    static final class InvalidRecordException extends Exception {
        InvalidRecordException(String message) {
            super(message, null, false, false);
        }
    }
}
