package dev.tally.app.collect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The country of a client address, from a database file the test writes in MaxMind's format. */
class CountriesTest {

    @TempDir
    Path dir;

    private Countries database() throws IOException {
        Path file = dir.resolve("countries.mmdb");
        new MmdbWriter("GeoLite2-Country")
                .put("192.0.2.0", 24, Map.of("country", Map.of("iso_code", "DE", "names", Map.of("en", "Germany"))))
                .put("198.51.100.0", 24, Map.of("registered_country", Map.of("iso_code", "FR")))
                .put("203.0.113.0", 25, Map.of("country", Map.of("iso_code", "ZZ")))
                .put("203.0.113.128", 25, Map.of("continent", Map.of("code", "EU")))
                .put("2001:db8::", 32, Map.of("country", Map.of("iso_code", "JP", "geoname_id", 1861060L)))
                .write(file);
        return Countries.open(file);
    }

    @Test
    void anAddressIsItsNetworksCountry() throws Exception {
        try (Countries countries = database()) {
            assertThat(countries.of("192.0.2.77")).isEqualTo("DE");
            assertThat(countries.of("::ffff:192.0.2.1")).isEqualTo("DE");
            assertThat(countries.of("2001:db8:1::9")).isEqualTo("JP");
            assertThat(countries.of("[2001:db8::1]")).isEqualTo("JP");
            assertThat(countries.of("198.51.100.1")).as("the registered country when the record has no other").isEqualTo("FR");
        }
    }

    @Test
    void whatTheFileDoesNotTellIsUnknownNeverAnError() throws Exception {
        try (Countries countries = database()) {
            assertThat(countries.of("10.1.2.3")).as("not in the file").isNull();
            assertThat(countries.of("2001:db9::1")).isNull();
            assertThat(countries.of("203.0.113.1")).as("not an ISO 3166 code").isNull();
            assertThat(countries.of("203.0.113.200")).as("no country in the record").isNull();
            assertThat(countries.of("unknown")).as("not an address").isNull();
            assertThat(countries.of("")).isNull();
        }
        assertThat(Countries.NONE.of("192.0.2.77")).as("without --geoip").isNull();
    }

    @Test
    void aFileThatIsNotADatabaseIsRefusedWhenOpened() throws Exception {
        Path junk = Files.writeString(dir.resolve("junk.mmdb"), "not a database at all");
        assertThatThrownBy(() -> Countries.open(junk)).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> Countries.open(dir.resolve("missing.mmdb"))).isInstanceOf(IOException.class);
    }
}
