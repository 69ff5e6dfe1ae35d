package dev.tally.consumer.internal;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;

/**
 * The connection a handler gets: the transaction's, minus the calls that would end the
 * transaction behind Tally's back. A handler that commits would store its writes without the
 * offsets (counted again on the retry); one that rolls back, closes or turns on auto-commit
 * would lose them or split them from the offsets. Each such call fails naming the contract.
 */
final class GuardedConnection implements InvocationHandler {

    private final Connection target;

    private GuardedConnection(Connection target) {
        this.target = target;
    }

    static Connection wrap(Connection c) {
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
                new GuardedConnection(c));
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        String refused = switch (method.getName()) {
            case "commit" -> "commit";
            case "rollback" -> args == null || args.length == 0 ? "roll back" : null; // to a savepoint is fine
            case "close", "abort" -> "close";
            case "setAutoCommit" -> Boolean.TRUE.equals(args[0]) ? "turn on auto-commit" : null;
            default -> null;
        };
        if (refused != null) {
            throw new IllegalStateException("the handler must not " + refused + " the connection's transaction: "
                    + "Tally commits the handler's writes together with the offsets, in one transaction; "
                    + "write through the connection and return (or throw to roll the batch back)");
        }
        if (method.getName().equals("equals")) {
            return proxy == args[0];
        }
        if (method.getName().equals("hashCode")) {
            return System.identityHashCode(proxy);
        }
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
