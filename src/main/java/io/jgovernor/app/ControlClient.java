package io.jgovernor.app;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The subcommands' side of the control API: one HTTP/1.1 request over the daemon's unix socket
 * (plain JDK: a unix-domain SocketChannel), no HTTP client library, so a command answers in the
 * time the JVM takes to start.
 */
final class ControlClient {
    private final Path socket;

    ControlClient(Path socket) {
        this.socket = socket;
    }

    /** A non-2xx answer: its status code and body (the daemon's reason). */
    static final class Refused extends IOException {
        final int status;
        final String body;

        Refused(int status, String reason, String body) {
            super("the daemon answered " + status + " " + reason + (body.isBlank() ? "" : ": " + body.strip()));
            this.status = status;
            this.body = body;
        }
    }

    String get(String path) throws IOException {
        return request("GET", path, null);
    }

    String post(String path, String json) throws IOException {
        return request("POST", path, json == null ? "" : json);
    }

    private String request(String method, String path, String body) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
            String head = method + " " + path + " HTTP/1.1\r\nHost: jgovernor\r\nAccept: application/json\r\n"
                    + (body == null ? "" : "Content-Type: application/json\r\nContent-Length: " + content.length + "\r\n")
                    + "Connection: close\r\n\r\n";
            for (ByteBuffer b : new ByteBuffer[] {ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)),
                    ByteBuffer.wrap(content)}) {
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            }
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(16 * 1024);
            while (ch.read(buf) >= 0) {
                answer.write(buf.array(), 0, buf.position());
                buf.clear();
            }
            return body(answer.toString(StandardCharsets.UTF_8));
        }
    }

    private static String body(String response) throws IOException {
        int end = response.indexOf("\r\n\r\n");
        if (!response.startsWith("HTTP/1.1 ") || end < 0) {
            throw new IOException("not an HTTP answer");
        }
        String head = response.substring(0, end);
        String body = response.substring(end + 4);
        if (head.toLowerCase(Locale.ROOT).contains("transfer-encoding: chunked")) {
            StringBuilder out = new StringBuilder();
            int at = 0;
            while (true) {
                int eol = body.indexOf("\r\n", at);
                int size = Integer.parseInt(body.substring(at, eol).split(";")[0].strip(), 16);
                if (size == 0) {
                    break;
                }
                out.append(body, eol + 2, eol + 2 + size);
                at = eol + 2 + size + 2;
            }
            body = out.toString();
        }
        String statusLine = head.lines().findFirst().orElse("");
        String[] parts = statusLine.split(" ", 3);
        int status = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
        if (status / 100 != 2) {
            throw new Refused(status, parts.length > 2 ? parts[2] : "", body);
        }
        return body;
    }

    /** The daemon's reason for a refusal: the "error" of its JSON answer, else the body as it came. */
    static String refusal(Refused e) {
        try {
            return new io.vertx.core.json.JsonObject(e.body).getString("error", e.body).strip();
        } catch (io.vertx.core.json.DecodeException | ClassCastException notJson) {
            return e.body.strip();
        }
    }

    /** Why the daemon could not be asked, in words an operator acts on. */
    String reason(IOException e) {
        if (e instanceof Refused) {
            return e.getMessage();
        }
        String m = String.valueOf(e.getMessage());
        if (e instanceof AccessDeniedException || m.contains("Permission denied")) {
            return "cannot open the control socket " + socket + ": permission denied (it is for root; try sudo)";
        }
        if (!Files.exists(socket) || m.contains("Connection refused") || m.contains("No such file")) {
            return "the daemon is not running (nothing answers on " + socket + "; see jgovernor.api.socket)";
        }
        return "cannot talk to the daemon on " + socket + ": " + m;
    }

    /** The socket option's value, else the configured one. */
    static ControlClient of(Options o) {
        return new ControlClient(o.value("socket").map(Path::of).orElseGet(CommandConfig::socket));
    }
}
