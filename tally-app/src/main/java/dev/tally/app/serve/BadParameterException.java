package dev.tally.app.serve;

/**
 * A query parameter the stats API cannot use. Its message names the parameter and says what is
 * accepted; it becomes the {@code error} of a 400 answer, so it must never echo more than a
 * short, cut piece of the input.
 */
final class BadParameterException extends RuntimeException {

    BadParameterException(String message) {
        super(message, null, false, false); // an answer, not a failure: no stack trace to fill
    }
}
