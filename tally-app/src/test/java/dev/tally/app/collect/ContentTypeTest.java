package dev.tally.app.collect;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ContentTypeTest {

    @ParameterizedTest
    @ValueSource(strings = {"text/plain", "text/plain;charset=UTF-8", "TEXT/Plain; Charset=\"utf-8\"", "application/json",
        "application/json ; charset=utf-8", "text/plain;charset=UTF-8;format=flowed"})
    void beaconTypesAreAccepted(String header) {
        assertThat(ContentType.refusal(header)).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"text/plainx", "application/json-patch", "application/json-patch+json", "text/html",
        "application/x-www-form-urlencoded", "text/plain;charset=ISO-8859-1", "application/json; charset=utf-16",
        "text/plain;charset", "text/plain;=utf-8", "text/plain,application/json", "text/plain\u0000", "", "text",
        "text/plain;charset=utf-8;charset=latin1"})
    void anythingElseIsRefusedWithTheReason(String header) {
        assertThat(ContentType.refusal(header)).isNotBlank();
    }
}
