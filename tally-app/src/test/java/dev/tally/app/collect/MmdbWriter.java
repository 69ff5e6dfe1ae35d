package dev.tally.app.collect;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a small database in MaxMind's format (MaxMind DB 2.0: an IPv6 search tree of 24-bit
 * records, a data section, the metadata), enough for tests of the country lookup: networks mapped
 * to records of maps, strings and unsigned integers. IPv4 networks are put where readers look for
 * them in an IPv6 tree, under {@code ::/96}.
 */
final class MmdbWriter {

    private static final int EMPTY = -1;

    /** Children of each node: a node index, {@link #EMPTY}, or {@code -2 - dataOffset}. */
    private final List<int[]> nodes = new ArrayList<>();
    private final ByteArrayOutputStream data = new ByteArrayOutputStream();
    private final String databaseType;

    MmdbWriter(String databaseType) {
        this.databaseType = databaseType;
        nodes.add(new int[] {EMPTY, EMPTY});
    }

    /** Maps {@code address/prefix} to {@code record} (maps, strings, lists, Integer and Long values). */
    MmdbWriter put(String address, int prefix, Map<String, ?> record) throws IOException {
        byte[] ip = InetAddress.getByName(address).getAddress();
        byte[] bits = new byte[16];
        if (ip.length == 4) {
            System.arraycopy(ip, 0, bits, 12, 4);
            prefix += 96;
        } else {
            bits = ip;
        }
        int dataOffset = data.size();
        encode(data, record);
        int node = 0;
        for (int i = 0; i < prefix; i++) {
            int bit = (bits[i / 8] >> (7 - i % 8)) & 1;
            if (i == prefix - 1) {
                nodes.get(node)[bit] = -2 - dataOffset;
            } else {
                int next = nodes.get(node)[bit];
                if (next < 0) {
                    nodes.add(new int[] {EMPTY, EMPTY});
                    next = nodes.size() - 1;
                    nodes.get(node)[bit] = next;
                }
                node = next;
            }
        }
        return this;
    }

    void write(Path file) throws IOException {
        int count = nodes.size();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int[] node : nodes) {
            for (int child : node) {
                int value = child == EMPTY ? count : child >= 0 ? child : count + 16 + (-2 - child);
                out.write(value >> 16);
                out.write(value >> 8);
                out.write(value);
            }
        }
        out.write(new byte[16]);
        data.writeTo(out);
        out.write(new byte[] {(byte) 0xAB, (byte) 0xCD, (byte) 0xEF});
        out.write("MaxMind.com".getBytes(UTF_8));
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("binary_format_major_version", 2);
        metadata.put("binary_format_minor_version", 0);
        metadata.put("build_epoch", BigInteger.valueOf(1_780_000_000L));
        metadata.put("database_type", databaseType);
        metadata.put("description", Map.of("en", "a test database"));
        metadata.put("ip_version", 6);
        metadata.put("languages", List.of("en"));
        metadata.put("node_count", (long) count);
        metadata.put("record_size", 24);
        encode(out, metadata);
        Files.write(file, out.toByteArray());
    }

    private static void encode(ByteArrayOutputStream out, Object value) throws IOException {
        if (value instanceof String s) {
            byte[] bytes = s.getBytes(UTF_8);
            control(out, 2, bytes.length);
            out.write(bytes);
        } else if (value instanceof Map<?, ?> map) {
            control(out, 7, map.size());
            for (Map.Entry<?, ?> e : map.entrySet()) {
                encode(out, e.getKey().toString());
                encode(out, e.getValue());
            }
        } else if (value instanceof List<?> list) {
            control(out, 11, list.size());
            for (Object o : list) {
                encode(out, o);
            }
        } else if (value instanceof Integer i) {
            unsigned(out, 5, BigInteger.valueOf(i)); // uint16
        } else if (value instanceof Long l) {
            unsigned(out, 6, BigInteger.valueOf(l)); // uint32
        } else if (value instanceof BigInteger b) {
            unsigned(out, 9, b); // uint64
        } else {
            throw new IllegalArgumentException("cannot encode " + value);
        }
    }

    private static void unsigned(ByteArrayOutputStream out, int type, BigInteger value) throws IOException {
        byte[] raw = value.toByteArray();
        int start = 0;
        while (start < raw.length && raw[start] == 0) {
            start++;
        }
        control(out, type, raw.length - start);
        out.write(raw, start, raw.length - start);
    }

    /** A control byte: the type in the high three bits (0 and a type byte for the extended types), then the size. */
    private static void control(ByteArrayOutputStream out, int type, int size) {
        int sizeBits = size < 29 ? size : size < 285 ? 29 : size < 65_821 ? 30 : 31;
        out.write((type <= 7 ? type : 0) << 5 | sizeBits);
        if (type > 7) {
            out.write(type - 7);
        }
        if (sizeBits == 29) {
            out.write(size - 29);
        } else if (sizeBits == 30) {
            out.write((size - 285) >> 8);
            out.write(size - 285);
        } else if (sizeBits == 31) {
            out.write((size - 65_821) >> 16);
            out.write((size - 65_821) >> 8);
            out.write(size - 65_821);
        }
    }
}
