package dev.tally.app.operations;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import dev.tally.app.aggregate.Store;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * At most one replay per store. The lock dies with its holder, so that a replay killed with
 * {@code kill -9} can be run again at once: on PostgreSQL a session advisory lock, on MySQL and
 * MariaDB a named lock ({@code GET_LOCK}) for the database, each held by a connection of its own;
 * on SQLite, whose store is a file on this machine, an operating-system
 * lock on {@code <database file>.replay-lock}.
 */
final class ReplayLock implements AutoCloseable {

    /** "tally" in ASCII: the advisory lock's key (advisory locks are per database). */
    private static final long KEY = 0x74616C6C79L;

    private final AutoCloseable held;

    private ReplayLock(AutoCloseable held) {
        this.held = held;
    }

    /** The lock, or {@code null} when another replay holds it. */
    static ReplayLock tryAcquire(String jdbcUrl) throws SQLException, IOException {
        Store kind = Store.of(jdbcUrl);
        if (kind == Store.POSTGRESQL || kind == Store.MYSQL) {
            Connection c = DriverManager.getConnection(Store.url(jdbcUrl));
            // Named locks are per server there, not per database: the name says which database.
            String sql = kind == Store.POSTGRESQL
                    ? "SELECT pg_try_advisory_lock(" + KEY + ")"
                    : "SELECT GET_LOCK(CONCAT('tally-replay-', LEFT(SHA2(DATABASE(), 256), 40)), 0)";
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
                rs.next();
                if (rs.getBoolean(1)) {
                    return new ReplayLock(c);
                }
            } catch (SQLException | RuntimeException e) {
                c.close();
                throw e;
            }
            c.close();
            return null;
        }
        String file = jdbcUrl.substring("jdbc:sqlite:".length()).replaceFirst("\\?.*$", "").replaceFirst("^file:", "");
        if (file.isEmpty() || file.startsWith(":")) {
            return new ReplayLock(() -> { }); // an in-memory store: no other process can see it
        }
        FileChannel channel = FileChannel.open(Path.of(file + ".replay-lock"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            channel.close();
            return null;
        }
        return new ReplayLock(channel);
    }

    @Override
    public void close() throws Exception {
        held.close();
    }
}
