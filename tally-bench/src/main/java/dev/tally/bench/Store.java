package dev.tally.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * A fresh, empty store for one run of one contender: a new PostgreSQL database on the given
 * server, dropped afterwards, or a new SQLite file, deleted afterwards.
 */
final class Store implements AutoCloseable {

    enum Kind { POSTGRESQL, SQLITE }

    final Kind kind;
    final String jdbcUrl;
    private final String adminUrl;
    private final String database;
    private final Path file;

    private Store(Kind kind, String jdbcUrl, String adminUrl, String database, Path file) {
        this.kind = kind;
        this.jdbcUrl = jdbcUrl;
        this.adminUrl = adminUrl;
        this.database = database;
        this.file = file;
    }

    /**
     * Creates the store.
     *
     * @param postgresAdminUrl a database on the server, for creating the run's own
     * @param dir where SQLite files go
     */
    static Store create(Kind kind, String postgresAdminUrl, Path dir) throws SQLException, IOException {
        if (kind == Kind.SQLITE) {
            Path f = dir.resolve("bench-" + UUID.randomUUID() + ".db");
            return new Store(kind, "jdbc:sqlite:" + f, null, null, f);
        }
        String name = "tally_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        try (Connection c = DriverManager.getConnection(postgresAdminUrl); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        int slash = postgresAdminUrl.indexOf('/', "jdbc:postgresql://".length());
        int query = postgresAdminUrl.indexOf('?');
        String url = postgresAdminUrl.substring(0, slash + 1) + name + (query < 0 ? "" : postgresAdminUrl.substring(query));
        return new Store(kind, url, postgresAdminUrl, name, null);
    }

    @Override
    public void close() throws SQLException, IOException {
        if (file != null) {
            for (String suffix : new String[] {"", "-wal", "-shm", "-journal"}) {
                Files.deleteIfExists(Path.of(file + suffix));
            }
        } else {
            try (Connection c = DriverManager.getConnection(adminUrl); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
            }
        }
    }

    @Override
    public String toString() {
        return kind == Kind.SQLITE ? "SQLite" : "PostgreSQL";
    }
}
