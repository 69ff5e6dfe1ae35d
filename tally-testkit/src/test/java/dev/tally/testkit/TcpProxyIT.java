package dev.tally.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The proxy in front of a real PostgreSQL: transparent, silent when blackholed, whole again when healed. */
class TcpProxyIT {

    /** PostgreSQL's SSLRequest: the server answers it with one byte, 'N' or 'S', before any authentication. */
    private static final int SSL_REQUEST = 80877103;

    @RegisterExtension
    final PostgresDatabase db = new PostgresDatabase();

    private TcpProxy proxy;
    private String url;

    @BeforeEach
    void startProxy() {
        URI server = URI.create(db.jdbcUrl().substring("jdbc:".length()));
        proxy = TcpProxy.to(server.getHost(), server.getPort());
        url = "jdbc:postgresql://127.0.0.1:" + proxy.port() + "/" + db.name() + "?user=" + db.user() + "&socketTimeout=2";
    }

    @AfterEach
    void stopProxy() {
        proxy.close();
    }

    @Test
    void aBlackholeIsSilenceNotAClosedConnectionAndHealingDeliversWhatWasHeld() throws Exception {
        try (Connection idle = DriverManager.getConnection(url); Connection victim = DriverManager.getConnection(url);
                Socket raw = new Socket("127.0.0.1", proxy.port())) {
            assertThat(one(idle)).isEqualTo(1);
            assertThat(one(victim)).isEqualTo(1);
            raw.setSoTimeout(1_000);
            DataOutputStream out = new DataOutputStream(raw.getOutputStream());
            DataInputStream in = new DataInputStream(raw.getInputStream());

            proxy.blackhole();
            assertThatThrownBy(() -> one(victim)).isInstanceOf(SQLException.class)
                    .hasRootCauseInstanceOf(SocketTimeoutException.class);
            // The raw socket sees what the driver saw: no answer, and neither an end of stream nor a reset.
            out.writeInt(8);
            out.writeInt(SSL_REQUEST);
            out.flush();
            assertThatThrownBy(in::read).isInstanceOf(SocketTimeoutException.class);
            assertThat(raw.isClosed()).isFalse();

            proxy.heal();
            raw.setSoTimeout(10_000);
            assertThat((char) in.read()).as("the request sent during the blackhole is answered").isIn('N', 'S');
            assertThat(one(idle)).as("a connection idle through the blackhole still works").isEqualTo(1);
            try (Connection fresh = DriverManager.getConnection(url)) {
                assertThat(one(fresh)).isEqualTo(1);
            }
        }
    }

    @Test
    void aConnectionOpenedDuringABlackholeReachesTheServerOnHeal() throws Exception {
        proxy.blackhole();
        try (Socket raw = new Socket("127.0.0.1", proxy.port())) {
            raw.setSoTimeout(1_000);
            DataOutputStream out = new DataOutputStream(raw.getOutputStream());
            out.writeInt(8);
            out.writeInt(SSL_REQUEST);
            out.flush();
            assertThatThrownBy(raw.getInputStream()::read).isInstanceOf(SocketTimeoutException.class);
            proxy.heal();
            raw.setSoTimeout(10_000);
            assertThat((char) raw.getInputStream().read()).isIn('N', 'S');
        }
    }

    @Test
    void cutAllResetsOpenConnectionsAndNewOnesWork() throws Exception {
        try (Connection cut = DriverManager.getConnection(url)) {
            assertThat(one(cut)).isEqualTo(1);
            proxy.cutAll();
            assertThatThrownBy(() -> one(cut)).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).startsWith("08"));
        }
        try (Connection fresh = DriverManager.getConnection(url)) {
            assertThat(one(fresh)).isEqualTo(1);
        }
    }

    @Test
    void aTargetThatRefusesResetsTheClientsConnection() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        // What a restarting server looks like through the proxy: the client's connect succeeds, then it is reset.
        try (TcpProxy refusing = TcpProxy.to("127.0.0.1", closed)) {
            assertThatThrownBy(() -> DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + refusing.port() + "/" + db.name()
                    + "?user=" + db.user() + "&connectTimeout=5")).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).startsWith("08"));
        }
    }

    private static int one(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT 1")) {
            r.next();
            return r.getInt(1);
        }
    }
}
