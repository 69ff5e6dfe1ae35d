package dev.tally.app.event;

/**
 * What event format v2 tells about a page view beyond v1: the campaign that brought the reader,
 * the reader's browser, operating system and class of device (reduced from the user agent, which
 * is never stored), and the country (looked up from the client address, which is never stored).
 * Every field is {@code null} when unknown; each obeys its {@link EventFields} rule.
 *
 * @param source the campaign source ({@code utm_source}, else {@code ref} or {@code source} of the page URL)
 * @param medium {@code utm_medium}
 * @param campaign {@code utm_campaign}
 * @param browser the browser's name ({@code Chrome}, {@code Firefox}, {@code Mobile Safari})
 * @param browserVersion the browser's major version, digits only
 * @param os the operating system's name ({@code Windows}, {@code Mac OS X}, {@code Android})
 * @param osVersion the operating system's major version, digits only
 * @param device {@code desktop}, {@code mobile}, {@code tablet} or {@code other}
 * @param country an ISO 3166-1 alpha-2 code in upper case
 */
public record Dimensions(String source, String medium, String campaign, String browser, String browserVersion,
        String os, String osVersion, String device, String country) {

    /** Nothing known: the dimensions of every v1 record. */
    public static final Dimensions NONE = new Dimensions(null, null, null, null, null, null, null, null, null);

    /** These dimensions with {@code country} in place of the country. */
    public Dimensions withCountry(String country) {
        return new Dimensions(source, medium, campaign, browser, browserVersion, os, osVersion, device, country);
    }
}
