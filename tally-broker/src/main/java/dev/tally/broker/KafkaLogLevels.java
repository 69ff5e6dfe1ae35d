package dev.tally.broker;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * Turns the broker's own logging down to WARN when the application runs on slf4j-simple and has
 * not chosen levels for Kafka itself. A broker logs hundreds of INFO lines while it starts, which
 * would bury both a test's output and a child process's {@code READY} line.
 *
 * <p>slf4j-simple reads {@code org.slf4j.simpleLogger.log.<name>} when a logger is created, so
 * this must run before the first Kafka class asks for its logger; {@link KafkaBroker} calls it
 * from its static initialiser. A level set as a system property or in
 * {@code simplelogger.properties} wins. Other SLF4J bindings ignore these properties.
 */
final class KafkaLogLevels {

    private static final String PREFIX = "org.slf4j.simpleLogger.log.";

    /** The logger name roots of the broker: its Scala core, its Java modules, and a named logger. */
    private static final String[] BROKER_LOGGERS = {"kafka", "org.apache.kafka", "state.change.logger"};

    private KafkaLogLevels() {}

    static void quiet() {
        Properties file = simpleLoggerFile();
        for (String name : BROKER_LOGGERS) {
            String key = PREFIX + name;
            if (System.getProperty(key) == null && file.getProperty(key) == null) {
                System.setProperty(key, "warn");
            }
        }
    }

    private static Properties simpleLoggerFile() {
        Properties p = new Properties();
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        if (loader == null) {
            loader = KafkaLogLevels.class.getClassLoader();
        }
        try (InputStream in = loader.getResourceAsStream("simplelogger.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException ignored) {
            // unreadable: as if absent, and Kafka gets WARN
        }
        return p;
    }
}
