package io.jgovernor.events;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.HexFormat;

/**
 * The {@code X-Jgovernor-Signature} header: {@code sha256=<hex HMAC-SHA256 of the exact body bytes>}
 * with the key from {@code jgovernor.webhook.secret-file}.
 */
public final class Signer {
    public static final String HEADER = "X-Jgovernor-Signature";
    private static final int GROUP_OR_OTHER_ACCESS = 0077;

    private final SecretKeySpec key;

    public Signer(byte[] key) {
        if (key.length == 0) {
            throw new IllegalArgumentException("the webhook secret is empty");
        }
        this.key = new SecretKeySpec(key, "HmacSHA256");
    }

    /**
     * Reads the key: the file's bytes without a trailing newline (so {@code echo secret > file}
     * gives the key "secret"). A key anyone but its owner can read is no secret: such a file is
     * refused, as policy files writable by others are.
     */
    public static Signer fromFile(Path file) throws IOException {
        int mode;
        try {
            mode = (Integer) Files.getAttribute(file, "unix:mode");
        } catch (IOException e) {
            throw new IOException("jgovernor.webhook.secret-file " + file + " cannot be read: " + e, e);
        }
        if ((mode & GROUP_OR_OTHER_ACCESS) != 0) {
            throw new IOException("jgovernor.webhook.secret-file " + file + " is accessible by group or others (mode "
                    + String.format("%04o", mode & 07777) + "); the webhook key must be secret; run: chmod 600 " + file);
        }
        byte[] bytes = Files.readAllBytes(file);
        int n = bytes.length;
        while (n > 0 && (bytes[n - 1] == '\n' || bytes[n - 1] == '\r')) {
            n--;
        }
        if (n == 0) {
            throw new IOException("jgovernor.webhook.secret-file " + file + " is empty");
        }
        return new Signer(java.util.Arrays.copyOf(bytes, n));
    }

    /** {@code sha256=<hex>} of {@code body}. */
    public String sign(byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    public String sign(String body) {
        return sign(body.getBytes(StandardCharsets.UTF_8));
    }
}
