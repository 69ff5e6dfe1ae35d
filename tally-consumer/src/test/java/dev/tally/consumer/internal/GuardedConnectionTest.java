package dev.tally.consumer.internal;

import static dev.tally.consumer.internal.GuardedConnection.endsTransaction;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class GuardedConnectionTest {

    @Test
    void sqlThatEndsTheTransactionIsRecognisedOnEveryDatabase() {
        for (Dialect d : Dialect.values()) {
            assertThat(endsTransaction("COMMIT", d)).isEqualTo("commit");
            assertThat(endsTransaction("  /* done */ commit work;", d)).isEqualTo("commit");
            assertThat(endsTransaction("-- undo\nROLLBACK", d)).isEqualTo("roll back");
            assertThat(endsTransaction("rollback to savepoint s1", d)).isNull();
            assertThat(endsTransaction("ROLLBACK WORK TO s1", d)).isNull();
            assertThat(endsTransaction("BEGIN", d)).isNotNull();
            assertThat(endsTransaction("start transaction", d)).isNotNull();
            assertThat(endsTransaction("SET autocommit = 1", d)).isNotNull();
            assertThat(endsTransaction("set @@session.autocommit=1", d)).isNotNull();
            assertThat(endsTransaction("INSERT INTO word_counts (word, n) VALUES (?, ?)", d)).isNull();
            assertThat(endsTransaction("SAVEPOINT s1", d)).isNull();
            assertThat(endsTransaction("SET search_path = x", d)).isNull();
            assertThat(endsTransaction("select 'commit'", d)).isNull();
        }
    }

    @Test
    void onMysqlAndMariadbTheStatementsThatCommitImplicitlyAreRefusedToo() {
        assertThat(endsTransaction("CREATE TABLE IF NOT EXISTS t (x INT)", Dialect.MYSQL)).contains("run CREATE").contains("implicit commit");
        assertThat(endsTransaction("# tidy up\nTRUNCATE t", Dialect.MYSQL)).contains("run TRUNCATE");
        assertThat(endsTransaction("lock tables t write", Dialect.MYSQL)).contains("run LOCK");
        assertThat(endsTransaction("alter table t add column y int", Dialect.MYSQL)).contains("run ALTER");
        assertThat(endsTransaction("CREATE TEMPORARY TABLE scratch (x INT)", Dialect.MYSQL)).isNull();
        assertThat(endsTransaction("CREATE OR REPLACE TEMPORARY TABLE scratch (x INT)", Dialect.MYSQL)).isNull();
        assertThat(endsTransaction("DROP TEMPORARY TABLE scratch", Dialect.MYSQL)).isNull();
        assertThat(endsTransaction("INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE x = x + 1", Dialect.MYSQL)).isNull();
        // Transactional DDL elsewhere.
        assertThat(endsTransaction("CREATE TABLE IF NOT EXISTS t (x INT)", Dialect.POSTGRESQL)).isNull();
        assertThat(endsTransaction("LOCK TABLE t IN EXCLUSIVE MODE", Dialect.POSTGRESQL)).isNull();
        assertThat(endsTransaction("CREATE TABLE IF NOT EXISTS t (x INT)", Dialect.SQLITE)).isNull();
    }
}
