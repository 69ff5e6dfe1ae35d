package dev.tally.app.aggregate;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

class VisitorIdTest {

    @Test
    void theCollectorsHashesAreDecodedToTheirSixteenBytes() {
        Random random = new Random(1);
        for (int i = 0; i < 1000; i++) {
            byte[] b = new byte[16];
            random.nextBytes(b);
            String visitor = Base64.getUrlEncoder().withoutPadding().encodeToString(b);
            assertThat(VisitorId.of(visitor).bytes()).isEqualTo(b);
        }
    }

    @Test
    void lowerCaseHexHashesAreDecoded() {
        byte[] b = HexFormat.of().parseHex("00112233445566778899aabbccddeeff");
        assertThat(VisitorId.of("00112233445566778899aabbccddeeff").bytes()).isEqualTo(b);
    }

    @Test
    void anyOtherStringIsHashedAndDistinctStringsStayDistinct() throws Exception {
        assertThat(VisitorId.of("v1").bytes()).isEqualTo(MessageDigest.getInstance("MD5").digest("v1".getBytes(UTF_8)));
        // Upper-case hex and a base64url string with unused low bits set are not decoded, so
        // they do not share an id with their canonical spelling.
        String hex = "00112233445566778899aabbccddeeff";
        assertThat(VisitorId.of(hex.toUpperCase())).isNotEqualTo(VisitorId.of(hex));
        String canonical = Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[16]);
        assertThat(canonical).endsWith("A");
        String sloppy = canonical.substring(0, 21) + "B";
        assertThat(VisitorId.of(sloppy)).isNotEqualTo(VisitorId.of(canonical));
        assertThat(VisitorId.of("")).isEqualTo(VisitorId.of(""));
    }

    @Test
    void equalIdsAreEqualWithOneHashAndAnyOtherBitMakesAnother() {
        VisitorId id = new VisitorId(0x0123_4567_89ab_cdefL, -2L);
        assertThat(new VisitorId(0x0123_4567_89ab_cdefL, -2L)).isEqualTo(id).hasSameHashCodeAs(id);
        assertThat(new VisitorId(0x0123_4567_89ab_cdefL, -1L)).isNotEqualTo(id);
        assertThat(new VisitorId(0x0123_4567_89ab_cdeeL, -2L)).isNotEqualTo(id);
        assertThat(new VisitorId(-2L, 0x0123_4567_89ab_cdefL)).isNotEqualTo(id);
        assertThat(id).isNotEqualTo(null).isNotEqualTo("x");
    }

    @Test
    void theBytesAColumnHandsBackAreTheSameId() {
        Random random = new Random(2);
        for (int i = 0; i < 1000; i++) {
            VisitorId id = new VisitorId(random.nextLong(), random.nextLong());
            assertThat(VisitorId.of(id.bytes())).isEqualTo(id);
        }
        assertThat(VisitorId.of(new byte[16])).isEqualTo(new VisitorId(0, 0));
        assertThatThrownBy(() -> VisitorId.of(new byte[15])).isInstanceOf(IllegalArgumentException.class);
    }
}
