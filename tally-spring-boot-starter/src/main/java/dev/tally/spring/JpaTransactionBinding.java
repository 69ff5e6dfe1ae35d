package dev.tally.spring;

import jakarta.persistence.EntityManagerFactory;
import java.sql.Connection;
import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.springframework.orm.jpa.EntityManagerHolder;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Binds, for each batch, a Hibernate session opened on the batch's connection as the
 * transactional {@code EntityManager} of the application's {@code EntityManagerFactory}: the
 * injected (shared) {@code EntityManager} then writes through the offsets' transaction. The session is flushed when the handler returns, so its writes are
 * in the transaction before the offsets move; Tally commits or rolls back the connection, never
 * Hibernate.
 */
final class JpaTransactionBinding implements TransactionBinding {

    private final EntityManagerFactory entityManagerFactory;

    JpaTransactionBinding(EntityManagerFactory entityManagerFactory) {
        this.entityManagerFactory = entityManagerFactory;
    }

    @Override
    public Scope open(Connection connection) {
        Session session = entityManagerFactory.unwrap(SessionFactory.class).withOptions().connection(connection).openSession();
        // Hibernate flushes only inside a transaction it knows of; on a connection whose auto-commit
        // is already off, beginning one changes nothing on the database. It is never committed:
        // closing the session leaves the connection, and its transaction, to Tally.
        session.beginTransaction();
        BatchEntityManagerHolder holder = new BatchEntityManagerHolder(session);
        TransactionSynchronizationManager.bindResource(entityManagerFactory, holder);
        return new Scope() {
            @Override
            public void beforeReturn() {
                if (holder.isRollbackOnly()) {
                    throw new IllegalStateException("the batch's transaction was marked rollback-only by the handler "
                            + "(a @Transactional method failed inside it); rolled back");
                }
                session.flush();
            }

            @Override
            public void close() {
                TransactionSynchronizationManager.unbindResourceIfPossible(entityManagerFactory);
                session.close();
            }
        };
    }

    /** The session as an open, joined transaction's entity manager. */
    private static final class BatchEntityManagerHolder extends EntityManagerHolder {
        BatchEntityManagerHolder(Session session) {
            super(session);
            setSynchronizedWithTransaction(true);
            setTransactionActive(true);
        }
    }
}
