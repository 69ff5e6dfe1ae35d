package dev.tally.app.event;

/**
 * A value of a page-view field that event format v1 does not allow: a path that has no canonical
 * form, a site that is not a label, a control character, a value too long for its column. The
 * message is the reason, naming the field, fit to be shown to whoever sent the value.
 */
public final class InvalidFieldException extends Exception {

    public InvalidFieldException(String reason) {
        super(reason, null, false, false);
    }
}
