package dev.tally.consumer.internal;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The connection a handler gets: the transaction's, minus the calls that would end the
 * transaction behind Tally's back. A handler that commits would store its writes without the
 * offsets (counted again on the retry); one that rolls back, closes or turns on auto-commit
 * would lose them or split them from the offsets. Each such call fails naming the contract, and
 * so does the same in SQL ({@code COMMIT}, {@code ROLLBACK}, {@code BEGIN}, {@code SET autocommit}),
 * and, on MySQL and MariaDB, the statements that commit implicitly (DDL, {@code LOCK TABLES}).
 */
final class GuardedConnection implements InvocationHandler {

    private static final Set<String> STATEMENT_SQL_METHODS = Set.of("execute", "executeQuery", "executeUpdate", "executeLargeUpdate", "addBatch");
    // MySQL and MariaDB commit before (and after) these; CREATE/DROP TEMPORARY TABLE excepted.
    private static final Set<String> IMPLICITLY_COMMITTING = Set.of("CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE",
            "LOCK", "UNLOCK", "GRANT", "REVOKE", "FLUSH", "ANALYZE", "OPTIMIZE", "REPAIR", "XA");

    private static final Pattern AUTOCOMMIT = Pattern.compile("\\bautocommit\\b", Pattern.CASE_INSENSITIVE);

    private final Connection target;
    private final Dialect dialect;

    private GuardedConnection(Connection target, Dialect dialect) {
        this.target = target;
        this.dialect = dialect;
    }

    static Connection wrap(Connection c, Dialect dialect) {
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
                new GuardedConnection(c, dialect));
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        String refused = switch (method.getName()) {
            case "commit" -> "commit";
            case "rollback" -> args == null || args.length == 0 ? "roll back" : null; // to a savepoint is fine
            case "close", "abort" -> "close";
            case "setAutoCommit" -> Boolean.TRUE.equals(args[0]) ? "turn on auto-commit" : null;
            case "prepareStatement", "prepareCall" -> args[0] instanceof String sql ? endsTransaction(sql, dialect) : null;
            default -> null;
        };
        if (refused != null) {
            throw refusal(refused);
        }
        if (method.getName().equals("equals")) {
            return proxy == args[0];
        }
        if (method.getName().equals("hashCode")) {
            return System.identityHashCode(proxy);
        }
        Object result = invokeOn(target, method, args);
        if (method.getName().equals("createStatement")) {
            return guard((Statement) result, (Connection) proxy);
        }
        return result;
    }

    /** A statement whose SQL strings are checked like the connection's calls. */
    private Statement guard(Statement statement, Connection connection) {
        return (Statement) Proxy.newProxyInstance(Statement.class.getClassLoader(), new Class<?>[] {Statement.class},
                (proxy, method, args) -> {
                    if (STATEMENT_SQL_METHODS.contains(method.getName()) && args != null && args[0] instanceof String sql) {
                        String refused = endsTransaction(sql, dialect);
                        if (refused != null) {
                            throw refusal(refused);
                        }
                    }
                    return switch (method.getName()) {
                        case "getConnection" -> connection;
                        case "equals" -> proxy == args[0];
                        case "hashCode" -> System.identityHashCode(proxy);
                        default -> invokeOn(statement, method, args);
                    };
                });
    }

    private static Object invokeOn(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static IllegalStateException refusal(String what) {
        return new IllegalStateException("the handler must not " + what + " the connection's transaction: "
                + "Tally commits the handler's writes together with the offsets, in one transaction; "
                + "write through the connection and return (or throw to roll the batch back)");
    }

    /**
     * What a statement would do to the transaction, as words for the message ("commit"), or
     * {@code null} when it leaves the transaction alone. Looks at the leading keywords only.
     */
    static String endsTransaction(String sql, Dialect dialect) {
        List<String> words = leadingWords(sql, dialect, 4);
        if (words.isEmpty()) {
            return null;
        }
        String first = words.get(0);
        switch (first) {
            case "COMMIT", "END":
                return "commit";
            case "ROLLBACK", "ABORT":
                List<String> rest = words.subList(1, words.size()).stream().filter(w -> !w.equals("WORK") && !w.equals("TRANSACTION")).toList();
                return !rest.isEmpty() && rest.get(0).equals("TO") ? null : "roll back";
            case "BEGIN":
                return "begin another transaction instead of";
            case "START":
                return words.size() > 1 && words.get(1).equals("TRANSACTION") ? "begin another transaction instead of" : null;
            case "SET":
                return AUTOCOMMIT.matcher(sql).find() ? "change auto-commit of" : null;
            default:
                if (dialect == Dialect.MYSQL && IMPLICITLY_COMMITTING.contains(first) && !words.contains("TEMPORARY")) {
                    return "run " + first + ", which MySQL and MariaDB follow with an implicit commit of";
                }
                return null;
        }
    }

    /** The first {@code n} keywords of a statement, upper-cased, past white space and comments. */
    private static List<String> leadingWords(String sql, Dialect dialect, int n) {
        List<String> words = new ArrayList<>();
        int i = 0;
        int len = sql.length();
        while (i < len && words.size() < n) {
            char ch = sql.charAt(i);
            if (Character.isWhitespace(ch) || ch == '(' || ch == ';') {
                i++;
            } else if (sql.startsWith("--", i) || (ch == '#' && dialect == Dialect.MYSQL)) {
                int eol = sql.indexOf('\n', i);
                i = eol < 0 ? len : eol + 1;
            } else if (sql.startsWith("/*", i)) {
                int end = sql.indexOf("*/", i + 2);
                i = end < 0 ? len : end + 2;
            } else if (Character.isLetter(ch) || ch == '_') {
                int start = i;
                while (i < len && (Character.isLetterOrDigit(sql.charAt(i)) || sql.charAt(i) == '_')) {
                    i++;
                }
                words.add(sql.substring(start, i).toUpperCase(Locale.ROOT));
            } else {
                break; // an operator, a quote, a number: the keywords are over
            }
        }
        return words;
    }
}
