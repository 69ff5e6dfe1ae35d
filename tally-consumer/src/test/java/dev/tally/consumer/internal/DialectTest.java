package dev.tally.consumer.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.junit.jupiter.api.Test;

class DialectTest {

    @Test
    void connectionLossAndOperatorInterventionAreTransient() {
        assertThat(Dialect.isTransient(new SQLException("gone", "08006"))).isTrue();
        assertThat(Dialect.isTransient(new SQLException("terminated by administrator", "57P01"))).isTrue();
        assertThat(Dialect.isTransient(new SQLException("serialization", "40001"))).isTrue();
        assertThat(Dialect.isTransient(new SQLTransientConnectionException("pool timeout"))).isTrue();
        assertThat(Dialect.isTransient(new RuntimeException(new SQLException("wrapped", "08001")))).isTrue();
    }

    @Test
    void bugsAndSchemaErrorsAreNot() {
        assertThat(Dialect.isTransient(new SQLException("syntax", "42601"))).isFalse();
        assertThat(Dialect.isTransient(new SQLException("constraint", "23505"))).isFalse();
        assertThat(Dialect.isTransient(new IllegalStateException("handler bug"))).isFalse();
        // A handler's own parse error is an IOException: a bug to count toward maxBatchAttempts.
        assertThat(Dialect.isTransient(new java.io.IOException("Unexpected character"))).isFalse();
        assertThat(Dialect.isTransient(new SQLException("could not parse", new java.io.IOException("bad")))).isFalse();
    }

    @Test
    void refusalsAreTheDataExceptionsAndConstraintsOfOneValue() {
        assertThat(Dialect.isRefusal(new SQLException("value too long for type character varying(200)", "22001"))).isTrue();
        assertThat(Dialect.isRefusal(new SQLException("invalid byte sequence for encoding UTF8: 0x00", "22021"))).isTrue();
        assertThat(Dialect.isRefusal(new RuntimeException(new SQLException("duplicate key", "23505")))).isTrue();
        assertThat(Dialect.isRefusal(new SQLException("index row size 3000 exceeds btree maximum 2704", "54000"))).isTrue();
        assertThat(Dialect.isRefusal(new SQLException("relation \"x\" does not exist", "42P01"))).isFalse();
        assertThat(Dialect.isRefusal(new SQLException("gone", "08006"))).isFalse();
        assertThat(Dialect.isRefusal(new IllegalStateException("handler bug"))).isFalse();
        assertThat(Dialect.sqlState(new SQLException("[SQLITE_CONSTRAINT_CHECK] A CHECK constraint failed"))).isEqualTo("SQLITE_CONSTRAINT_CHECK");
        assertThat(Dialect.sqlState(new SQLException("x", "22001"))).isEqualTo("22001");
    }

    @Test
    void mysqlOutagesAreTransientByTheirErrorNumbers() {
        assertThat(Dialect.isTransient(new SQLException("Lock wait timeout exceeded; try restarting transaction", "HY000", 1205))).isTrue();
        assertThat(Dialect.isTransient(new SQLException("Deadlock found when trying to get lock", "40001", 1213))).isTrue();
        assertThat(Dialect.isTransient(new SQLException("The MariaDB server is running with the --read-only option", "HY000", 1290))).isTrue();
        assertThat(Dialect.isTransient(new SQLException("Running in read-only mode", "HY000", 1836))).isTrue();
        assertThat(Dialect.isTransient(new SQLException("MySQL server has gone away", "HY000", 2006))).isTrue();
        assertThat(Dialect.isTransient(new SQLException("Communications link failure", "08S01", 0))).isTrue();
        assertThat(Dialect.isTransient(new SQLException("Connection was killed", "70100", 1927))).isTrue();
        assertThat(Dialect.isTransient(new SQLException("Record has changed since last read", "HY000", 1020))).isTrue();
        assertThat(Dialect.isTransient(new SQLException("The MySQL server is running with the --secure-file-priv option so it cannot execute this statement", "HY000", 1290))).isFalse();
        assertThat(Dialect.isTransient(new SQLException("You have an error in your SQL syntax", "42000", 1064))).isFalse();
        assertThat(Dialect.isTransient(new SQLException("Table 'x.y' doesn't exist", "42S02", 1146))).isFalse();
    }

    @Test
    void mysqlRefusalsIncludeTheOnesFiledUnderHy000() {
        assertThat(Dialect.isRefusal(new SQLException("Data too long for column 'word'", "22001", 1406))).isTrue();
        assertThat(Dialect.isRefusal(new SQLException("Out of range value for column 'n'", "22003", 1264))).isTrue();
        assertThat(Dialect.isRefusal(new SQLException("Incorrect string value: '\\xF0\\x9F...'", "HY000", 1366))).isTrue();
        assertThat(Dialect.isRefusal(new SQLException("Duplicate entry 'a' for key 'PRIMARY'", "23000", 1062))).isTrue();
        assertThat(Dialect.isRefusal(new SQLException("Cannot add or update a child row: a foreign key constraint fails", "23000", 1452))).isTrue();
        assertThat(Dialect.isRefusal(new SQLException("Check constraint 'c' is violated.", "HY000", 3819))).isTrue();
        assertThat(Dialect.isRefusal(new SQLException("Data truncated for column 'n'", "01000", 1265))).isTrue();
        assertThat(Dialect.isRefusal(new SQLException("Lock wait timeout exceeded", "HY000", 1205))).isFalse();
        assertThat(Dialect.isRefusal(new SQLException("Unknown column 'x' in 'field list'", "42S22", 1054))).isFalse();
    }
}
