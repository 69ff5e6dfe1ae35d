package dev.tally.spring;

import java.sql.Connection;

/**
 * Makes one kind of the application's data access (JDBC through Spring, JPA) work on the
 * connection of the batch's transaction while the handler runs. Spring's data access looks for
 * the transaction's resources bound to the current thread (the handler runs on the consumer's
 * committing thread), so binding them there is all it takes.
 */
interface TransactionBinding {

    /** Binds {@code connection}, the batch's transaction, to the current thread. */
    Scope open(Connection connection) throws Exception;

    /** One batch's binding. */
    interface Scope extends AutoCloseable {

        /** The handler returned normally: write what is pending through the connection, or refuse. */
        void beforeReturn() throws Exception;

        /** Unbinds; runs whether the handler returned or threw. */
        @Override
        void close();
    }
}
