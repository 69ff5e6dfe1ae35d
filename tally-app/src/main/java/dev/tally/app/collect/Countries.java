package dev.tally.app.collect;

import com.maxmind.db.CHMCache;
import com.maxmind.db.Reader;
import dev.tally.app.event.EventFields;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Map;

/**
 * The country of a client address, from a database file in MaxMind's format that the operator
 * supplies ({@code --geoip FILE}: GeoLite2 Country or City, DB-IP Lite Country or City, or any
 * database whose records hold {@code country.iso_code}). The lookup happens at the collector, and
 * only the country's code travels on: the address is never stored.
 *
 * <p>A lookup never fails a beacon: an address the file does not cover, a record without a
 * country, a code that is not ISO 3166-1 alpha-2, or a corrupt region of the file is an unknown
 * country ({@code null}).
 */
final class Countries implements Closeable {

    /** Without a file: every country is unknown. */
    static final Countries NONE = new Countries(null);

    private final Reader reader;

    private Countries(Reader reader) {
        this.reader = reader;
    }

    /**
     * Opens a database file (memory-mapped; its decoded records are cached).
     *
     * @throws IOException when the file cannot be read or is not a MaxMind-format database
     */
    static Countries open(Path file) throws IOException {
        Reader reader = new Reader(file.toFile(), new CHMCache());
        String type = reader.getMetadata().getDatabaseType();
        if (type == null) {
            reader.close();
            throw new IOException(file + " is not a MaxMind-format database");
        }
        return new Countries(reader);
    }

    /** The country of {@code address} (an IP literal), or {@code null} when unknown. */
    String of(String address) {
        if (reader == null) {
            return null;
        }
        byte[] bytes = IpAddress.parse(address);
        if (bytes == null) {
            return null;
        }
        try {
            Object record = reader.get(InetAddress.getByAddress(bytes), Map.class);
            if (!(record instanceof Map<?, ?> fields)) {
                return null;
            }
            String code = isoCode(fields.get("country"));
            return code != null ? code : isoCode(fields.get("registered_country"));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String isoCode(Object country) {
        if (country instanceof Map<?, ?> fields && fields.get("iso_code") instanceof String code && EventFields.isCountry(code)) {
            return code;
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        if (reader != null) {
            reader.close();
        }
    }
}
