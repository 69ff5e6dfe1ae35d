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
    }
}
