package io.jgovernor.app;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

/**
 * The control API: HTTP on the unix socket {@code jgovernor.api.socket}, in a directory of mode
 * 0700, the socket itself 0600, so only root (the daemon's user) can connect. It is a server of
 * its own, so its routes do not exist on the TCP port; each request also checks that it came
 * through a domain socket. When the socket cannot be made the daemon keeps running without the
 * API and says so.
 */
@ApplicationScoped
public class ControlApi {
    private static final Logger LOG = Logger.getLogger(ControlApi.class);
    static final String STATUS_PATH = "/v1/status";

    private final JgovernorConfig config;
    private final Daemon daemon;
    private final Vertx vertx;
    private HttpServer server;
    private Path socket;

    public ControlApi(JgovernorConfig config, Daemon daemon, Vertx vertx) {
        this.config = config;
        this.daemon = daemon;
        this.vertx = vertx;
    }

    /** Before the daemon's first pass, so that {@code jgovernor status} can say "starting". */
    void onStart(@Observes @Priority(Interceptor.Priority.APPLICATION) StartupEvent event) {
        Path path = config.api().socket();
        try {
            prepare(path);
            Router router = Router.router(vertx);
            router.get(STATUS_PATH).blockingHandler(this::status, false);
            HttpServer s = vertx.createHttpServer(new HttpServerOptions()).requestHandler(router);
            s.listen(SocketAddress.domainSocketAddress(path.toString()))
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            server = s;
            socket = path;
            LOG.infof("control API on unix socket %s", path);
        } catch (Exception e) {
            Throwable cause = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
            LOG.errorf("control API disabled: cannot listen on unix socket %s: %s (jgovernor status will not work; "
                    + "set jgovernor.api.socket to a path in a directory root can create)", path, cause);
        }
    }

    /** Makes the socket's directory 0700 if missing; removes a stale socket that nobody answers on. */
    private static void prepare(Path path) throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        }
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            PosixFileAttributes a = Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .readAttributes();
            if (!a.isOther()) {
                throw new IOException(path + " exists and is not a socket; refusing to replace it");
            }
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                ch.connect(UnixDomainSocketAddress.of(path));
                throw new IOException("another jgovernor answers on " + path);
            } catch (IOException refused) {
                if (refused.getMessage() != null && refused.getMessage().startsWith("another jgovernor")) {
                    throw refused;
                }
                Files.delete(path); // left by a daemon that did not stop cleanly
            }
        }
    }

    private void status(RoutingContext ctx) {
        SocketAddress local = ctx.request().localAddress();
        if (local != null && !local.isDomainSocket()) {
            ctx.response().setStatusCode(404).end();
            return;
        }
        var doc = StatusDocument.build(daemon.ready(), daemon.lastCatalog(), daemon.lastReport(),
                daemon.groupErrors(), daemon.groupStats(), daemon.policyDirProblem(), daemon.classifier());
        var workloads = daemon.workloads();
        String body = (workloads == null ? doc : StatusDocument.withWorkloads(doc, workloads.status())).encode();
        ctx.response().putHeader("Content-Type", "application/json").end(body);
    }

    void onStop(@Observes ShutdownEvent event) {
        if (server != null) {
            try {
                server.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.debugf("control API close: %s", e);
            }
            try {
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                LOG.debugf("control API socket removal: %s", e);
            }
        }
    }
}
