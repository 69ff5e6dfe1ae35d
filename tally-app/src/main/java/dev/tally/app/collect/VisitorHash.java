package dev.tally.app.collect;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Base64;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The visitor of a beacon without storing who it is: an HMAC of (IP, user agent, site) keyed with
 * a random salt that is replaced every UTC day. Yesterday's salt is deleted, so a stored hash
 * cannot be linked back to an address, and the same reader on two days counts as two daily
 * visitors. The salt stays in memory and in one file per day readable by its owner only
 * ({@code <salt-file>.<yyyy-mm-dd>}), so that a restart, or a second collector on the same disk,
 * hashes the same reader the same way; it is never logged and never written to Kafka.
 *
 * <p>Collectors sharing the disk agree on the day's salt: the file is created whole or not at all
 * (written aside, then hard-linked into place, which fails if it exists), and whoever loses that
 * race reads the winner's. {@link #startDailyRotation} replaces the salt at 00:00 UTC by a timer,
 * and deletes the earlier days' files, even when no beacon comes.
 */
public final class VisitorHash implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(VisitorHash.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int SALT_BYTES = 32;
    private static final long DAY_MS = 86_400_000L;

    private final Path saltFile;
    private final Clock clock;
    private volatile DailySalt current;
    private ScheduledExecutorService timer;

    /**
     * A day's salt, and the HMACs keyed with it that are not in use: finding the provider and
     * hashing the key for every beacon cost more than the hash itself. The HMACs go with their
     * salt: once the day is replaced, nothing refers to its key any longer.
     */
    private record DailySalt(LocalDate day, SecretKeySpec key, Queue<Mac> idle) {

        DailySalt(LocalDate day, byte[] salt) {
            this(day, new SecretKeySpec(salt, "HmacSHA256"), new ConcurrentLinkedQueue<>());
        }

        Mac take() {
            Mac mac = idle.poll();
            if (mac != null) {
                return mac;
            }
            try {
                mac = Mac.getInstance("HmacSHA256");
                mac.init(key);
                return mac;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
            }
        }

        /** Back for the next beacon, reset; at most as many are kept as threads hashed at once. */
        void give(Mac mac) {
            mac.reset();
            idle.offer(mac);
        }
    }

    /**
     * @param saltFile the stem of the daily salt files, or {@code null} to keep the salt in memory only
     */
    public VisitorHash(Path saltFile, Clock clock) {
        this.saltFile = saltFile == null ? null : saltFile.toAbsolutePath();
        this.clock = clock;
    }

    /** A 22-character opaque hash of the reader, stable for one UTC day. */
    public String hash(String ip, String userAgent, String site) {
        // The day as a number: a LocalDate from an Instant for every beacon showed in its profile.
        DailySalt salt = current;
        if (salt == null || salt.day().toEpochDay() != Math.floorDiv(clock.millis(), DAY_MS)) {
            salt = saltFor(today());
        }
        Mac mac = salt.take();
        mac.update(ip.getBytes(UTF_8));
        mac.update((byte) 0);
        mac.update(userAgent.getBytes(UTF_8));
        mac.update((byte) 0);
        byte[] digest = mac.doFinal(site.getBytes(UTF_8)); // and resets it
        salt.give(mac);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(digest, 16));
    }

    /**
     * Replaces the salt at every 00:00 UTC from now on (on a daemon thread), so that yesterday's
     * salt leaves memory and disk at midnight rather than at the first beacon of the day.
     */
    public synchronized void startDailyRotation() {
        if (timer != null) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "visitor-salt-rotation");
            t.setDaemon(true);
            return t;
        });
        scheduleRotation(rotate());
    }

    /**
     * Aims at the midnight after {@code rotated}, the day the last rotation saw: should the clock
     * pass midnight between that rotation and this call, the timer fires at once instead of a day
     * late. A timer that fires a little early finds the same day, does nothing, and aims again.
     */
    private void scheduleRotation(LocalDate rotated) {
        Instant next = rotated.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
        long delay = Math.max(1, Duration.between(clock.instant(), next).toMillis());
        timer.schedule(() -> {
            LocalDate seen = rotated;
            try {
                seen = rotate();
            } catch (RuntimeException e) {
                LOG.warn("replacing the visitor salt failed: {}", e.toString());
            } finally {
                scheduleRotation(seen);
            }
        }, delay, TimeUnit.MILLISECONDS);
    }

    /** How long from the clock's now to the next 00:00 UTC; a full day at midnight itself. */
    static Duration untilNextMidnight(Clock clock) {
        Instant now = clock.instant();
        Instant midnight = LocalDate.ofInstant(now, ZoneOffset.UTC).plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
        return Duration.between(now, midnight);
    }

    private LocalDate rotate() {
        LocalDate today = today();
        saltFor(today);
        deleteEarlierDays(today);
        return today;
    }

    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    private LocalDate today() {
        return LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
    }

    private DailySalt saltFor(LocalDate today) {
        DailySalt s = current;
        if (s != null && s.day().equals(today)) {
            return s;
        }
        synchronized (this) {
            s = current;
            if (s == null || !s.day().equals(today)) {
                s = new DailySalt(today, loadOrCreate(today));
                current = s;
            }
            return s;
        }
    }

    private Path dayFile(LocalDate day) {
        return saltFile.resolveSibling(saltFile.getFileName() + "." + day);
    }

    private byte[] loadOrCreate(LocalDate today) {
        if (saltFile == null) {
            return random();
        }
        Path file = dayFile(today);
        for (int attempt = 0; attempt < 5; attempt++) {
            byte[] existing = read(file);
            if (existing != null) {
                return existing;
            }
            byte[] salt = random();
            try {
                createWhole(file, salt);
                deleteEarlierDays(today);
                return salt;
            } catch (FileAlreadyExistsException e) {
                // Another collector created today's salt first: use theirs.
            } catch (IOException | UnsupportedOperationException e) {
                LOG.warn("cannot keep the visitor salt in {} ({}); a restart today will count returning readers again",
                        file, e.getMessage());
                return salt;
            }
        }
        throw new IllegalStateException("the visitor salt file " + file + " keeps changing; is its directory shared by a broken writer?");
    }

    /** The salt in {@code file}, or {@code null} when there is none (a corrupt one is removed). */
    private static byte[] read(Path file) {
        try {
            byte[] salt = Base64.getDecoder().decode(Files.readString(file, UTF_8).trim());
            if (salt.length == SALT_BYTES) {
                return salt;
            }
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | IllegalArgumentException e) {
            // unreadable: replaced below
        }
        LOG.warn("the visitor salt file {} is unreadable; starting a new salt", file);
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warn("cannot remove {}: {}", file, e.getMessage());
        }
        return null;
    }

    /** Creates {@code file} with its whole content, or throws {@link FileAlreadyExistsException}. */
    private static void createWhole(Path file, byte[] salt) throws IOException {
        Path dir = file.getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".salt", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(tmp, Base64.getEncoder().encodeToString(salt) + "\n", UTF_8);
            try {
                Files.createLink(file, tmp);
            } catch (UnsupportedOperationException | FileSystemException e) {
                if (e instanceof FileAlreadyExistsException exists) {
                    throw exists;
                }
                // No hard links here: a move that refuses to replace (not atomic against a racing writer).
                Files.move(tmp, file);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Deletes the salt files of days before {@code today}, and the single file of earlier versions. */
    private void deleteEarlierDays(LocalDate today) {
        if (saltFile == null) {
            return;
        }
        String prefix = saltFile.getFileName() + ".";
        String stem = saltFile.getFileName().toString();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(saltFile.getParent(),
                f -> f.getFileName().toString().startsWith(stem))) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                boolean earlier = name.equals(stem);
                if (name.startsWith(prefix)) {
                    try {
                        earlier = LocalDate.parse(name.substring(prefix.length())).isBefore(today);
                    } catch (DateTimeParseException e) {
                        earlier = false;
                    }
                }
                if (earlier) {
                    Files.deleteIfExists(f);
                }
            }
        } catch (NoSuchFileException e) {
            // nothing kept yet
        } catch (IOException e) {
            LOG.warn("cannot delete earlier visitor salts next to {}: {}", saltFile, e.getMessage());
        }
    }

    private static byte[] random() {
        byte[] salt = new byte[SALT_BYTES];
        RANDOM.nextBytes(salt);
        return salt;
    }
}
