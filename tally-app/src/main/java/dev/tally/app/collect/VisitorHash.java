package dev.tally.app.collect;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The visitor of a beacon without storing who it is: an HMAC of (IP, user agent, site) keyed with
 * a random salt that is replaced every UTC day. Yesterday's salt is overwritten, so a stored hash
 * cannot be linked back to an address, and the same reader on two days counts as two daily
 * visitors. The salt stays in memory and in one file readable by its owner only (so that a
 * restart, or a second collector on the same disk, hashes the same reader the same way); it is
 * never logged and never written to Kafka.
 */
public final class VisitorHash {

    private static final Logger LOG = LoggerFactory.getLogger(VisitorHash.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path saltFile;
    private final Clock clock;
    private volatile DailySalt current;

    private record DailySalt(LocalDate day, SecretKeySpec key) {}

    /**
     * @param saltFile where today's salt is kept, or {@code null} to keep it in memory only
     */
    public VisitorHash(Path saltFile, Clock clock) {
        this.saltFile = saltFile;
        this.clock = clock;
    }

    /** A 22-character opaque hash of the reader, stable for one UTC day. */
    public String hash(String ip, String userAgent, String site) {
        DailySalt salt = saltFor(LocalDate.now(clock.withZone(ZoneOffset.UTC)));
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(salt.key());
            mac.update(ip.getBytes(UTF_8));
            mac.update((byte) 0);
            mac.update(userAgent.getBytes(UTF_8));
            mac.update((byte) 0);
            byte[] digest = mac.doFinal(site.getBytes(UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(java.util.Arrays.copyOf(digest, 16));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    private DailySalt saltFor(LocalDate today) {
        DailySalt s = current;
        if (s != null && s.day().equals(today)) {
            return s;
        }
        synchronized (this) {
            s = current;
            if (s == null || !s.day().equals(today)) {
                s = new DailySalt(today, new SecretKeySpec(loadOrCreate(today), "HmacSHA256"));
                current = s;
            }
            return s;
        }
    }

    private byte[] loadOrCreate(LocalDate today) {
        if (saltFile != null) {
            try {
                if (Files.exists(saltFile)) {
                    String[] parts = Files.readString(saltFile, UTF_8).trim().split(" ");
                    if (parts.length == 2 && parts[0].equals(today.toString())) {
                        return Base64.getDecoder().decode(parts[1]);
                    }
                }
            } catch (IOException | IllegalArgumentException e) {
                LOG.warn("the visitor salt file {} is unreadable ({}); starting a new salt", saltFile, e.getMessage());
            }
        }
        byte[] salt = new byte[32];
        RANDOM.nextBytes(salt);
        if (saltFile != null) {
            store(today, salt);
        }
        return salt;
    }

    private void store(LocalDate today, byte[] salt) {
        try {
            Path dir = saltFile.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, ".salt", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, today + " " + Base64.getEncoder().encodeToString(salt) + "\n", UTF_8);
            try {
                Files.move(tmp, saltFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, saltFile, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | UnsupportedOperationException e) {
            LOG.warn("cannot keep the visitor salt in {} ({}); a restart today will count returning readers again",
                    saltFile, e.getMessage());
        }
    }
}
