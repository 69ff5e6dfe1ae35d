package dev.tally.app;

/**
 * A part of the application could not start for a reason the operator can fix (a port in use, a
 * database that cannot be reached, an unreachable broker). Its message is the one line printed
 * before {@code bin/tally} exits with status 1; no stack trace.
 */
public final class StartupException extends RuntimeException {

    public StartupException(String oneLine) {
        super(oneLine);
    }

    public StartupException(String oneLine, Throwable cause) {
        super(oneLine, cause);
    }
}
