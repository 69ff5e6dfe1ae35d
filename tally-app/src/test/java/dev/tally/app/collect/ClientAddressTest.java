package dev.tally.app.collect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ClientAddressTest {

    private static final String PROXY = "10.0.0.5";

    @Test
    void withoutTrustTheTcpPeerIsTheClientWhateverTheHeaderSays() {
        assertThat(ClientAddress.direct().of(List.of("203.0.113.9"), PROXY)).isEqualTo(PROXY);
    }

    @Test
    void oneTrustedHopTakesTheRightmostEntryNotTheSpoofableLeftmostOne() {
        ClientAddress a = ClientAddress.behindProxies(1, List.of());
        assertThat(a.of(List.of("198.51.100.66, 203.0.113.9"), PROXY)).isEqualTo("203.0.113.9");
        assertThat(a.of(List.of("198.51.100.66", "203.0.113.9"), PROXY)).as("two headers").isEqualTo("203.0.113.9");
        assertThat(a.of(List.of("203.0.113.9"), PROXY)).isEqualTo("203.0.113.9");
        assertThat(a.of(List.of(), PROXY)).isEqualTo(PROXY);
    }

    @Test
    void moreHopsSkipThatManyEntriesFromTheRight() {
        ClientAddress a = ClientAddress.behindProxies(2, List.of());
        assertThat(a.of(List.of("1.1.1.1, 203.0.113.9, 10.0.0.7"), PROXY)).isEqualTo("203.0.113.9");
        assertThat(a.of(List.of("10.0.0.7"), PROXY)).as("fewer entries than hops").isEqualTo(PROXY);
    }

    @Test
    void trustedNetworksAreSkippedFromTheRight() {
        ClientAddress a = ClientAddress.behindProxies(1, List.of("10.0.0.0/8", "2001:db8:ffff::/48", "192.0.2.1"));
        assertThat(a.of(List.of("198.51.100.66, 203.0.113.9, 10.1.2.3, 2001:db8:ffff::1"), PROXY)).isEqualTo("203.0.113.9");
        assertThat(a.of(List.of("203.0.113.9"), "192.0.2.1")).isEqualTo("203.0.113.9");
        // A peer outside the trusted networks is the client: its header is not believed.
        assertThat(a.of(List.of("203.0.113.9"), "198.51.100.1")).isEqualTo("198.51.100.1");
        // Every entry trusted: the leftmost is the client.
        assertThat(a.of(List.of("10.9.9.9, 10.1.1.1"), PROXY)).isEqualTo("10.9.9.9");
    }

    @Test
    void anEntryThatIsNotAnIpLiteralMeansTheTcpPeer() {
        ClientAddress a = ClientAddress.behindProxies(1, List.of());
        for (String bad : new String[] {"evil.example", "unknown", "203.0.113.9:443", "999.1.1.1", "1.2.3", "", " ",
            "203.0.113.9\u0000", "x".repeat(10_000), "::1%eth0"}) {
            assertThat(a.of(List.of("198.51.100.66, " + bad), PROXY)).as(bad).isEqualTo(PROXY);
        }
        assertThat(a.of(List.of("2001:DB8::1"), PROXY)).isEqualTo("2001:db8::1");
        assertThat(a.of(List.of("[2001:db8::1]"), PROXY)).isEqualTo("2001:db8::1");
    }

    @Test
    void badNetworksAreRefusedAtStart() {
        assertThatThrownBy(() -> ClientAddress.behindProxies(1, List.of("10.0.0.0/33"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ClientAddress.behindProxies(1, List.of("proxy.example"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ClientAddress.behindProxies(-1, List.of())).isInstanceOf(IllegalArgumentException.class);
    }
}
