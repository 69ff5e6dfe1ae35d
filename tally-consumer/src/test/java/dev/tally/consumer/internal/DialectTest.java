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
}
