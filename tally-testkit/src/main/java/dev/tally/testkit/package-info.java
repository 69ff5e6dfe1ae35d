/**
 * JUnit 5 extensions for Tally's tests: {@link dev.tally.testkit.KafkaBrokerExtension} (a real
 * Kafka broker per test class, in-process or as a child process), {@link dev.tally.testkit.PostgresDatabase}
 * (a fresh PostgreSQL database per test or class), {@link dev.tally.testkit.SqliteDatabase}
 * (a fresh SQLite file per test or class), and {@link dev.tally.testkit.TcpProxy} (a proxy whose
 * connections can be blackholed or reset).
 */
package dev.tally.testkit;
