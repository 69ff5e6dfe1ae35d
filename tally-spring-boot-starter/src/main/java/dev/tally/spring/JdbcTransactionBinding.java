package dev.tally.spring;

import java.sql.Connection;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.ConnectionHolder;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Binds the batch's connection as the transaction of the application's {@code DataSource}, the
 * way {@code DataSourceTransactionManager} binds its own: {@code JdbcTemplate},
 * {@code JdbcClient}, {@code DataSourceUtils} and {@code TransactionAwareDataSourceProxy} (behind
 * Boot's jOOQ {@code DSLContext}) then use it. A {@code @Transactional} method called by the
 * handler joins it; if one marks it rollback-only, the batch is rolled back.
 */
final class JdbcTransactionBinding implements TransactionBinding {

    private final DataSource dataSource;

    JdbcTransactionBinding(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    public Scope open(Connection connection) {
        BatchConnectionHolder holder = new BatchConnectionHolder(connection);
        TransactionSynchronizationManager.bindResource(dataSource, holder);
        TransactionSynchronizationManager.setActualTransactionActive(true);
        return new Scope() {
            @Override
            public void beforeReturn() {
                if (holder.isRollbackOnly()) {
                    throw new IllegalStateException("the batch's transaction was marked rollback-only by the handler "
                            + "(a @Transactional method failed inside it); rolled back");
                }
            }

            @Override
            public void close() {
                TransactionSynchronizationManager.unbindResourceIfPossible(dataSource);
                TransactionSynchronizationManager.setActualTransactionActive(false);
            }
        };
    }

    /** An open transaction, as a transaction manager would have left it: joined, never begun or ended here. */
    private static final class BatchConnectionHolder extends ConnectionHolder {
        BatchConnectionHolder(Connection connection) {
            super(connection);
            setSynchronizedWithTransaction(true);
            setTransactionActive(true);
        }
    }
}
