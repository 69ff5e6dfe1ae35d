package dev.tally.consumer.internal;

import dev.tally.consumer.ConsumerError;
import java.sql.SQLException;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * A record on its way to the dead-letter topic, with why.
 *
 * @param sqlState the database's SQLSTATE when the database refused the record, else {@code null}
 */
public record DeadLetter(ConsumerRecord<byte[], byte[]> record, ConsumerError.Phase phase, String errorClass,
        String errorMessage, String sqlState) {

    static DeadLetter undecodable(ConsumerRecord<byte[], byte[]> record, Throwable cause) {
        return new DeadLetter(record, ConsumerError.Phase.DECODE, cause.getClass().getName(), String.valueOf(cause.getMessage()), null);
    }

    static DeadLetter rejected(ConsumerRecord<byte[], byte[]> record, String reason) {
        return new DeadLetter(record, ConsumerError.Phase.REJECT, "rejected", reason, null);
    }

    /** A record the database refused for good, alone in its transaction: {@code cause} is the database's word. */
    static DeadLetter refused(ConsumerRecord<byte[], byte[]> record, Throwable cause) {
        SQLException sql = Dialect.sqlException(cause);
        Throwable reported = sql != null ? sql : cause;
        return new DeadLetter(record, ConsumerError.Phase.REFUSED, reported.getClass().getName(),
                String.valueOf(reported.getMessage()), sql == null ? null : Dialect.sqlState(sql));
    }

    /** The exception form of the reason, for error reports. */
    Throwable asException() {
        return new InvalidRecordException(errorClass + (sqlState == null ? "" : " [SQLSTATE " + sqlState + "]") + ": " + errorMessage);
    }

    /** Names a record that went to the dead-letter topic; never thrown, only reported. */
    static final class InvalidRecordException extends Exception {
        InvalidRecordException(String message) {
            super(message, null, false, false);
        }
    }
}
