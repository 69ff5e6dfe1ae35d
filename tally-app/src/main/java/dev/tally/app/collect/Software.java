package dev.tally.app.collect;

import dev.tally.app.event.EventFields;
import dev.tally.app.event.Text;
import java.util.Locale;
import ua_parser.OS;
import ua_parser.Parser;
import ua_parser.UserAgent;

/**
 * What a user agent says about the reader's software, reduced to what a dashboard shows: the
 * browser's and the operating system's names and major versions, and the class of device. The
 * user agent itself is never stored; this is all that leaves the collector.
 *
 * @param browser the browser's name, or {@code null} when unknown
 * @param browserVersion its major version (digits), or {@code null}
 * @param os the operating system's name, or {@code null}
 * @param osVersion its major version (digits), or {@code null}
 * @param device one of {@link EventFields#DEVICES}
 */
record Software(String browser, String browserVersion, String os, String osVersion, String device) {

    /** What a user agent of a robot reduces to: nothing is produced for it. */
    static final Software ROBOT = new Software(null, null, null, null, "other");

    /**
     * Reduces a user agent that is not a robot's with the ua-parser project's maintained patterns.
     *
     * @param deviceFamily what the parser's device patterns said, already asked for the robot verdict
     */
    static Software of(Parser parser, String userAgent, String deviceFamily) {
        UserAgent browser = parser.parseUserAgent(userAgent);
        OS system = parser.parseOS(userAgent);
        String os = name(system == null ? null : system.family);
        return new Software(
                name(browser == null ? null : browser.family),
                version(browser == null ? null : browser.major),
                os,
                version(system == null ? null : system.major),
                device(userAgent, deviceFamily, os));
    }

    /**
     * The class of device. ua-parser names devices ({@code iPhone}, {@code SM-G960F}) rather than
     * classes, so the class comes from the conventions browsers follow: tablets say {@code iPad} or
     * {@code Tablet}, or are Android without {@code Mobile}; phones say {@code Mobi}.
     */
    static String device(String userAgent, String deviceFamily, String os) {
        String ua = userAgent.toLowerCase(Locale.ROOT);
        String family = deviceFamily == null ? "Other" : deviceFamily;
        if (ua.contains("ipad") || ua.contains("tablet") || family.contains("Tablet")
                || "Android".equals(os) && !ua.contains("mobi")) {
            return "tablet";
        }
        if (ua.contains("mobi") || ua.contains("iphone") || ua.contains("ipod") || family.contains("Phone")) {
            return "mobile";
        }
        if ((family.equals("Other") || family.equals("Mac")) && os != null) {
            return "desktop";
        }
        return "other";
    }

    /** A name as ua-parser gives it, or {@code null} for its {@code Other} or a name that cannot be stored. */
    private static String name(String family) {
        if (family == null || family.equals("Other")) {
            return null;
        }
        String name = Text.cut(family.strip(), EventFields.MAX_SOFTWARE);
        return name.isEmpty() || Text.problem(name) != null ? null : name;
    }

    private static String version(String major) {
        return major != null && EventFields.isVersion(major) ? major : null;
    }
}
