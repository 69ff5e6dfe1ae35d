package dev.tally.consumer.internal;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.util.Locale;
import java.util.Set;

/** What differs between the databases Tally supports: naming, and which failures are worth retrying. */
public enum Dialect {
    POSTGRESQL,
    SQLITE,
    /** MySQL 8 and later, and MariaDB 10.6 and later: one dialect, as far as Tally's SQL goes. */
    MYSQL;

    // Connection loss (08), serialization/deadlock (40), resources (53), operator intervention
    // such as pg_terminate_backend or a restart (57), lock not available (55P03).
    private static final Set<String> TRANSIENT_SQLSTATE_CLASSES = Set.of("08", "40", "53", "57");
    // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR (a full disk or a vanished file may come back).
    private static final Set<Integer> TRANSIENT_SQLITE_CODES = Set.of(5, 6, 10);
    // MySQL and MariaDB put most errors in SQLSTATE HY000, so their error numbers decide:
    // 1205 lock wait timeout, 1213 deadlock, 1020 record changed (MariaDB's snapshot isolation),
    // 1290 (for --read-only; the same number covers other options) and 1836, read-only: a
    // replica promoted late, or a primary demoted by a failover;
    // 1040 too many connections, 1053 server shutdown, 1927 connection killed, 1317 query
    // interrupted (KILL QUERY), 1969 and 3024 statement timeout, 4031 disconnected for
    // inactivity, 2006 server has gone away, 2013 lost connection during query.
    private static final Set<Integer> TRANSIENT_MYSQL_CODES = Set.of(1205, 1213, 1020, 1290, 1836, 1040, 1053, 1927, 1317,
            1969, 3024, 4031, 2006, 2013);

    /** Detects the dialect of a live connection; fails with a clear message for unsupported databases. */
    public static Dialect of(Connection connection) throws SQLException {
        String product = connection.getMetaData().getDatabaseProductName();
        String p = product == null ? "" : product.toLowerCase(Locale.ROOT);
        if (p.contains("postgres")) {
            return POSTGRESQL;
        }
        if (p.contains("sqlite")) {
            return SQLITE;
        }
        if (p.contains("mysql") || p.contains("mariadb")) {
            return MYSQL;
        }
        throw new SQLException("unsupported database '" + product + "': Tally supports PostgreSQL, SQLite, MySQL and MariaDB");
    }

    /**
     * Whether a failure is likely to go away by itself (a lost connection, a busy database, a
     * restart). Anything else is treated as a bug or a schema problem: retried a bounded number
     * of times, then the consumer stops rather than skip data.
     */
    public static boolean isTransient(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SQLTransientException || t instanceof SQLRecoverableException) {
                return true;
            }
            if (t instanceof SQLException sql) {
                String state = sql.getSQLState();
                if (state != null && state.length() >= 2
                        && (TRANSIENT_SQLSTATE_CLASSES.contains(state.substring(0, 2)) || state.equals("55P03"))) {
                    return true;
                }
                if (isSqliteException(sql) ? TRANSIENT_SQLITE_CODES.contains(sql.getErrorCode() & 0xff)
                        : TRANSIENT_MYSQL_CODES.contains(sql.getErrorCode()) && (sql.getErrorCode() != 1290 || readOnly(sql))) {
                    return true;
                }
            }
            // Not IOException in general: a handler's parse error is one too, and it is a bug, not
            // an outage. The drivers report lost connections with SQLSTATE class 08.
            if (t instanceof org.apache.kafka.common.errors.RetriableException
                    || t instanceof org.apache.kafka.common.errors.TimeoutException) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    private static boolean readOnly(SQLException e) {
        String m = e.getMessage();
        return m != null && (m.contains("read-only") || m.contains("read_only"));
    }

    // Data exception (22: too long, bad encoding, out of range), integrity constraint (23),
    // program limit (54: an index entry too large for its page).
    private static final Set<String> REFUSAL_SQLSTATE_CLASSES = Set.of("22", "23", "54");
    // SQLITE_TOOBIG, SQLITE_CONSTRAINT, SQLITE_MISMATCH, SQLITE_RANGE.
    private static final Set<Integer> REFUSAL_SQLITE_CODES = Set.of(18, 19, 20, 25);
    // The refusals MySQL files under HY000 or 01000: 1265 data truncated, 1366 incorrect string
    // or integer value, 1300 invalid character string, 1411 incorrect value for a function,
    // 3819 CHECK constraint (MariaDB's 4025 has SQLSTATE 23000 already).
    private static final Set<Integer> REFUSAL_MYSQL_CODES = Set.of(1265, 1366, 1300, 1411, 3819);

    /**
     * Whether the database refused the data itself, for good: a value, not the handler or the
     * connection, is at fault, so the same records will fail again and others would pass.
     */
    public static boolean isRefusal(Throwable failure) {
        SQLException sql = sqlException(failure);
        if (sql == null || isTransient(failure)) {
            return false;
        }
        if (isSqliteException(sql)) {
            return REFUSAL_SQLITE_CODES.contains(sql.getErrorCode() & 0xff);
        }
        String state = sql.getSQLState();
        return state != null && state.length() >= 2 && REFUSAL_SQLSTATE_CLASSES.contains(state.substring(0, 2))
                || REFUSAL_MYSQL_CODES.contains(sql.getErrorCode());
    }

    /** The first {@link SQLException} in a cause chain, or {@code null}. */
    public static SQLException sqlException(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql) {
                return sql;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return null;
    }

    /**
     * The SQLSTATE of a failure; for SQLite, whose driver sets none, the result code's name that
     * its message starts with (such as {@code SQLITE_CONSTRAINT_CHECK}).
     */
    public static String sqlState(SQLException e) {
        if (e.getSQLState() != null) {
            return e.getSQLState();
        }
        String m = e.getMessage();
        if (m != null && m.startsWith("[") && m.indexOf(']') > 1) {
            return m.substring(1, m.indexOf(']'));
        }
        return isSqliteException(e) ? "SQLITE_" + e.getErrorCode() : null;
    }

    private static boolean isSqliteException(SQLException e) {
        return e.getClass().getName().startsWith("org.sqlite.");
    }
}
