package dev.tally.app.collect;

/** A beacon the collector refuses with 400; the message is the reason the client is told. */
public final class InvalidBeaconException extends Exception {

    public InvalidBeaconException(String reason) {
        super(reason, null, false, false);
    }
}
