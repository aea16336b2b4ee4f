package io.jgovernor.events;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * One HTTP/1.1 POST over a plain socket, for {@code http://} receivers: it writes the request,
 * reads the status line and closes. The body of the answer is never read.
 *
 * <p>Why not the JDK's HttpClient: building one makes its default SSL context and reads the trust
 * store (about 1300 classes and 150 parsed certificates, 7 MiB of the daemon's resident memory),
 * even when every receiver is plain http; and building it at the first event instead cost that
 * event 0.6-1.6 s (issue 18). A receiver on plain http needs none of it. {@code https://}
 * receivers still go through the JDK's client (see {@link WebhookSender}).
 *
 * <p>The receiver is not trusted: the whole exchange has one deadline (a receiver that answers a
 * byte a second cannot hold it longer), the status line and each interim header line are bounded,
 * and nothing after the final status line is read. It blocks: callers run it on a virtual thread,
 * where socket reads park the thread, not its carrier.
 */
final class HttpPost {
    /** Longest status or header line read: an answer with a longer one is a protocol error. */
    static final int MAX_LINE = 8192;
    /** Interim (1xx) answers accepted before the final one. */
    private static final int MAX_INTERIM = 8;

    private HttpPost() {
    }

    /**
     * Sends {@code body} to {@code uri} with {@code headers} and returns the final status code.
     *
     * @throws IOException when the receiver cannot be reached, answers something that is not HTTP,
     *                     or takes longer than {@code timeout} for the whole exchange
     */
    static int post(URI uri, List<Map.Entry<String, String>> headers, byte[] body, Duration timeout) throws IOException {
        if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("not an http:// URL with a host: " + uri);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        String host = uri.getHost();
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        int port = uri.getPort() < 0 ? 80 : uri.getPort();
        try (Socket socket = new Socket()) {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(bare, port), remainingMillis(deadline, uri));
            OutputStream out = socket.getOutputStream();
            out.write(head(uri, host, headers, body.length));
            out.write(body);
            out.flush();
            // buffered: the status line is read a byte at a time, a syscall each without it
            InputStream in = new BufferedInputStream(socket.getInputStream(), 1024);
            for (int interim = 0; interim <= MAX_INTERIM; interim++) {
                int status = status(readLine(socket, in, deadline, uri), uri);
                if (status >= 200) {
                    return status;
                }
                // 100 Continue, 103 Early Hints: their headers end at an empty line, then the real answer
                while (!readLine(socket, in, deadline, uri).isEmpty()) {
                    // skipped
                }
            }
            throw new IOException(uri + " answered more than " + MAX_INTERIM + " interim (1xx) responses");
        }
    }

    private static byte[] head(URI uri, String host, List<Map.Entry<String, String>> headers, int length) {
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        if (uri.getRawQuery() != null) {
            path += "?" + uri.getRawQuery();
        }
        StringBuilder h = new StringBuilder(256).append("POST ").append(path).append(" HTTP/1.1\r\n");
        h.append("Host: ").append(host);
        if (uri.getPort() >= 0) {
            h.append(':').append(uri.getPort());
        }
        h.append("\r\n");
        if (uri.getRawUserInfo() != null) {
            // http://user:secret@host/ : Basic authentication, as curl and Alertmanager do
            String user = URLDecoder.decode(uri.getRawUserInfo().replace("+", "%2B"), StandardCharsets.UTF_8);
            h.append("Authorization: Basic ")
                    .append(Base64.getEncoder().encodeToString(user.getBytes(StandardCharsets.UTF_8))).append("\r\n");
        }
        for (Map.Entry<String, String> e : headers) {
            h.append(e.getKey()).append(": ").append(e.getValue()).append("\r\n");
        }
        h.append("Content-Length: ").append(length).append("\r\nConnection: close\r\n\r\n");
        // the URI parser admits no CR, LF or space in the path, query or host: nothing here splits a line
        return h.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private static int status(String line, URI uri) throws IOException {
        // "HTTP/1.1 204 No Content"; HTTP/1.0 servers answer too
        if (line.length() >= 12 && line.startsWith("HTTP/1.") && line.charAt(8) == ' '
                && (line.length() == 12 || line.charAt(12) == ' ')) {
            int code = 0;
            for (int i = 9; i < 12; i++) {
                char c = line.charAt(i);
                if (c < '0' || c > '9') {
                    code = -1;
                    break;
                }
                code = code * 10 + (c - '0');
            }
            if (code >= 100) {
                return code;
            }
        }
        String shown = line.length() > 80 ? line.substring(0, 80) + "..." : line;
        throw new IOException(uri + " did not answer HTTP/1.x (status line \"" + shown.replaceAll("\\p{Cntrl}", "?") + "\")");
    }

    /** A line up to CRLF (or LF), without it, within the deadline; at most {@link #MAX_LINE} bytes. */
    private static String readLine(Socket socket, InputStream in, long deadline, URI uri) throws IOException {
        StringBuilder line = new StringBuilder(64);
        while (true) {
            socket.setSoTimeout(remainingMillis(deadline, uri));
            int b;
            try {
                b = in.read();
            } catch (SocketTimeoutException e) {
                throw timedOut(uri);
            }
            if (b < 0) {
                throw new IOException(uri + " closed the connection before its answer was complete");
            }
            if (b == '\n') {
                int end = line.length();
                if (end > 0 && line.charAt(end - 1) == '\r') {
                    line.setLength(end - 1);
                }
                return line.toString();
            }
            if (line.length() >= MAX_LINE) {
                throw new IOException(uri + " answered a line longer than " + MAX_LINE + " bytes");
            }
            line.append((char) b);
        }
    }

    private static int remainingMillis(long deadline, URI uri) throws IOException {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
            throw timedOut(uri);
        }
        return (int) Math.min(Integer.MAX_VALUE, left);
    }

    private static IOException timedOut(URI uri) {
        return new SocketTimeoutException(uri + " did not answer within the webhook timeout");
    }
}
