package dev.tally.app.aggregate;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The kinds of store the application runs on, and the little SQL in which they differ. Every
 * statement of the application is written once, in the spelling SQLite and PostgreSQL share;
 * what MySQL and MariaDB spell differently (upserts, shared locks, integer casts, copying a
 * table's structure, replacing a view, which statements commit by themselves) is asked of this
 * one type, so that no other class branches on the database.
 */
public enum Store {
    SQLITE,
    POSTGRESQL,
    /** MySQL 8 and later, and MariaDB 10.6 and later, both through MariaDB Connector/J. */
    MYSQL;

    /** The kind of store a live connection is to. */
    public static Store of(Connection c) throws SQLException {
        String product = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT);
        if (product.contains("postgres")) {
            return POSTGRESQL;
        }
        if (product.contains("mysql") || product.contains("mariadb")) {
            return MYSQL;
        }
        if (product.contains("sqlite")) {
            return SQLITE;
        }
        throw new SQLException("unsupported database " + product + ": tally runs on SQLite, PostgreSQL, MySQL and MariaDB");
    }

    /** The kind of store a JDBC URL names, or {@code null} for any other URL. */
    public static Store of(String jdbcUrl) {
        String url = jdbcUrl.toLowerCase(Locale.ROOT);
        if (url.startsWith("jdbc:sqlite:")) {
            return SQLITE;
        }
        if (url.startsWith("jdbc:postgresql:")) {
            return POSTGRESQL;
        }
        if (url.startsWith("jdbc:mysql:") || url.startsWith("jdbc:mariadb:")) {
            return MYSQL;
        }
        return null;
    }

    /**
     * The URL every connection of the application opens. For MySQL and MariaDB: MariaDB
     * Connector/J takes {@code jdbc:mysql:} only when told to, so it is spelt
     * {@code jdbc:mariadb:} (it speaks to MySQL all the same), and the session runs in strict SQL
     * mode ({@code jdbcCompliantTruncation}), whatever the server's default: a value that does not
     * fit a column is then refused (and its record dead-lettered), never silently cut. An insert
     * counts the rows it changed, not the ones it found ({@code useAffectedRows}): an
     * {@link #insertIfAbsent} that met its row reports 0, as on SQLite, so a batch's update counts
     * tell which rows it added (a URL's own {@code useAffectedRows=false} is overruled).
     */
    public static String url(String jdbcUrl) {
        if (of(jdbcUrl) != MYSQL) {
            return jdbcUrl;
        }
        String url = jdbcUrl.regionMatches(true, 0, "jdbc:mysql:", 0, 11) ? "jdbc:mariadb:" + jdbcUrl.substring(11) : jdbcUrl;
        if (!url.contains("jdbcCompliantTruncation")) {
            url += (url.contains("?") ? "&" : "?") + "jdbcCompliantTruncation=true";
        }
        // Whatever the URL says: found rows would make every visitor look new.
        if (url.contains("useAffectedRows")) {
            url = url.replaceAll("useAffectedRows=[^&;]*", "useAffectedRows=true");
        } else {
            url += "&useAffectedRows=true";
        }
        return url;
    }

    /** Where Flyway finds this store's migrations: MySQL's keys need their own (see {@code db/mysql}). */
    public String migrations() {
        return this == MYSQL ? "classpath:db/mysql" : "classpath:db/migration";
    }

    /**
     * An insert of one row that adds {@code counter} to the row's count when a row with the same
     * {@code keys} is there already. Parameters: the keys in order, then the count.
     */
    public String upsertAdd(String table, String counter, String... keys) {
        return upsertAdd(table, List.of(counter), keys);
    }

    /**
     * As {@link #upsertAdd(String, String, String...)} with several counts, each added to its own.
     * Parameters: the keys in order, then the counts in order.
     */
    public String upsertAdd(String table, List<String> counters, String... keys) {
        String columns = String.join(", ", keys) + ", " + String.join(", ", counters);
        String insert = "INSERT INTO " + table + " (" + columns + ") VALUES (?" + ", ?".repeat(keys.length + counters.size() - 1) + ")";
        List<String> sets = new ArrayList<>();
        for (String counter : counters) {
            // VALUES() rather than a row alias: MariaDB has no row alias, and MySQL 8 still takes VALUES().
            sets.add(this == MYSQL
                    ? counter + " = " + counter + " + VALUES(" + counter + ")"
                    : counter + " = " + table + "." + counter + " + excluded." + counter);
        }
        return this == MYSQL
                ? insert + " ON DUPLICATE KEY UPDATE " + String.join(", ", sets)
                : insert + " ON CONFLICT (" + String.join(", ", keys) + ") DO UPDATE SET " + String.join(", ", sets);
    }

    /**
     * An insert of one row that does nothing when the row's key is there already. On MySQL not
     * {@code INSERT IGNORE}, which would also turn a value that does not fit into a warning.
     */
    public String insertIfAbsent(String table, String... columns) {
        return insertIfAbsentFrom(table, "VALUES (?" + ", ?".repeat(columns.length - 1) + ")", columns);
    }

    /**
     * As {@link #insertIfAbsent} with the rows of {@code select} (a {@code SELECT} with a
     * {@code WHERE}, which SQLite needs to read the conflict clause as one) or {@code VALUES}.
     */
    public String insertIfAbsentFrom(String table, String select, String... columns) {
        String insert = "INSERT INTO " + table + " (" + String.join(", ", columns) + ") " + select;
        return this == MYSQL
                ? insert + " ON DUPLICATE KEY UPDATE " + columns[0] + " = " + table + "." + columns[0]
                : insert + " ON CONFLICT DO NOTHING";
    }

    /** A query of one row and column, true when the table named by its one parameter exists. */
    public String tableExists() {
        return switch (this) {
            case POSTGRESQL -> "SELECT to_regclass(?) IS NOT NULL";
            case MYSQL -> "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?";
            case SQLITE -> "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?";
        };
    }

    /** What ends a {@code SELECT} that locks its rows against writers until the transaction ends ({@code ""} on SQLite, which has one writer at a time). */
    public String forShare() {
        return switch (this) {
            case POSTGRESQL -> " FOR SHARE";
            case MYSQL -> " LOCK IN SHARE MODE"; // MariaDB has no FOR SHARE
            case SQLITE -> "";
        };
    }

    /** What ends a {@code SELECT} that locks its rows against everyone until the transaction ends. */
    public String forUpdate() {
        return this == SQLITE ? "" : " FOR UPDATE";
    }

    /**
     * Ends, in SQL that {@link #sql} spells, a correlated subquery that must be answered by key
     * once per row of its outer query.
     */
    public static final String BY_KEY = "{by key}";

    /**
     * {@code sql} in this store's spelling: MySQL casts to {@code SIGNED}, not {@code BIGINT}
     * (the result is a {@code BIGINT} all the same), and a backslash as {@code LIKE}'s escape is
     * {@code CHAR(92)} there (a literal {@code '\'} opens an escape in MySQL's strings).
     * {@link #BY_KEY} is {@code OFFSET 0} on PostgreSQL, which otherwise reads a correlated
     * {@code EXISTS} under an {@code OR} whole into a hash table when it misjudges its size (2.8 M
     * visitors of a page for 5 754); a subquery with an {@code OFFSET} is run as it is written.
     * SQLite and MySQL run such a subquery per row anyway.
     */
    public String sql(String sql) {
        String spelt = sql.replace(BY_KEY, this == POSTGRESQL ? " OFFSET 0" : "");
        return this == MYSQL ? spelt.replace(" AS BIGINT)", " AS SIGNED)").replace(" ESCAPE '\\'", " ESCAPE CHAR(92)") : spelt;
    }

    /**
     * Whether DDL commits the transaction it runs in (MySQL and MariaDB): there, tables are created
     * and views replaced outside the transactions that must be atomic.
     */
    public boolean ddlCommits() {
        return this == MYSQL;
    }

    /** The statements that make view {@code name} show {@code select}, whether or not it exists. */
    public List<String> replaceView(String name, String select) {
        return switch (this) {
            case SQLITE -> List.of("DROP VIEW IF EXISTS " + name, "CREATE VIEW " + name + " AS " + select);
            default -> List.of("CREATE OR REPLACE VIEW " + name + " AS " + sql(select));
        };
    }
}
