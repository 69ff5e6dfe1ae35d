package dev.tally.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * Keeps HikariCP's pool start and stop lines (INFO, two per test with a database of its own) out
 * of test output on slf4j-simple, unless the tests chose a level for it themselves, as a system
 * property or in {@code simplelogger.properties}.
 */
final class DatabaseLogLevels {

    private static final String KEY = "org.slf4j.simpleLogger.log.com.zaxxer.hikari";

    private DatabaseLogLevels() {}

    static void quiet() {
        if (System.getProperty(KEY) == null && !inSimpleLoggerFile()) {
            System.setProperty(KEY, "warn");
        }
    }

    private static boolean inSimpleLoggerFile() {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        if (loader == null) {
            loader = DatabaseLogLevels.class.getClassLoader();
        }
        try (InputStream in = loader.getResourceAsStream("simplelogger.properties")) {
            if (in == null) {
                return false;
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty(KEY) != null;
        } catch (IOException e) {
            return false;
        }
    }
}
