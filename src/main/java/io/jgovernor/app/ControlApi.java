package io.jgovernor.app;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.jgovernor.policy.WhatIf;
import io.jgovernor.reconcile.Report;
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
import java.util.ArrayList;
import java.util.List;
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
    /** POST: a full pass now, answered with its report when it is done ({@code jgovernor reload}). */
    static final String RELOAD_PATH = "/v1/reload";
    /** POST {"files":[{name, path, content}]}: what a pass would do with them ({@code jgovernor plan}). */
    static final String PLAN_PATH = "/v1/plan";
    /** GET /v1/why/PID ({@code jgovernor why}). */
    static final String WHY_PATH = "/v1/why/";
    /** GET: the groups with their processes ({@code jgovernor tree}). */
    static final String TREE_PATH = "/v1/tree";
    /** GET ?group=NAME: how to run a command in the group's running workload ({@code jgovernor exec}). */
    static final String EXEC_PATH = "/v1/exec";
    /** GET: the named volumes; POST {@code /v1/volumes/rm?name=NAME} removes one ({@code jgovernor volume}). */
    static final String VOLUMES_PATH = "/v1/volumes";
    static final String VOLUME_RM_PATH = "/v1/volumes/rm";
    /** POST ?group=NAME: freeze the group at run time, kept until thawed ({@code jgovernor freeze}). */
    static final String FREEZE_PATH = "/v1/freeze";
    /** POST ?group=NAME: thaw a group frozen at run time ({@code jgovernor thaw}). */
    static final String THAW_PATH = "/v1/thaw";
    /** The most a plan request may carry: many policy files of at most 1 MiB each would not fit a request anyway. */
    private static final long MAX_BODY = 32L << 20;
    /** How long {@code jgovernor reload} waits for its pass; one takes milliseconds unless the kernel is stuck. */
    private static final long RELOAD_WAIT_SECONDS = 120;

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
            router.post(RELOAD_PATH).blockingHandler(this::reload, false);
            router.post(PLAN_PATH).handler(BodyHandler.create(false).setBodyLimit(MAX_BODY));
            router.post(PLAN_PATH).blockingHandler(this::plan, false);
            router.get(WHY_PATH + ":pid").blockingHandler(this::why, false);
            router.get(TREE_PATH).blockingHandler(this::tree, false);
            router.get(EXEC_PATH).blockingHandler(this::exec, false);
            router.get(VOLUMES_PATH).blockingHandler(this::volumes, false);
            router.post(VOLUME_RM_PATH).blockingHandler(this::volumeRm, false);
            router.post(FREEZE_PATH).blockingHandler(ctx -> freezeOrThaw(ctx, true), false);
            router.post(THAW_PATH).blockingHandler(ctx -> freezeOrThaw(ctx, false), false);
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

    /** Only through the unix socket; false (and answered 404) otherwise. */
    private static boolean local(RoutingContext ctx) {
        SocketAddress local = ctx.request().localAddress();
        if (local != null && !local.isDomainSocket()) {
            ctx.response().setStatusCode(404).end();
            return false;
        }
        return true;
    }

    private static void json(RoutingContext ctx, int status, JsonObject doc) {
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(doc.encode());
    }

    /** 503 with why: the daemon has not finished starting. */
    private static boolean started(RoutingContext ctx, Object... parts) {
        for (Object p : parts) {
            if (p == null) {
                json(ctx, 503, new JsonObject().put("error", "the daemon is starting"));
                return false;
            }
        }
        return true;
    }

    private void status(RoutingContext ctx) {
        if (!local(ctx)) {
            return;
        }
        var doc = StatusDocument.build(daemon.ready(), daemon.lastCatalog(), daemon.lastReport(),
                daemon.groupErrors(), daemon.groupStats(), daemon.policyDirProblem(), daemon.classifier());
        doc.put("pid", ProcessHandle.current().pid());
        frozen(doc);
        var workloads = daemon.workloads();
        json(ctx, 200, workloads == null ? doc : StatusDocument.withWorkloads(doc, workloads.status()));
    }

    /**
     * "frozen" on each group that is: "run-time" (jgovernor freeze) or "policy" (freezer: {frozen:
     * true}); and the run-time frozen groups as a list, also those no policy defines now.
     */
    private void frozen(JsonObject doc) {
        var reconciler = daemon.reconciler();
        var catalog = daemon.lastCatalog();
        if (reconciler == null) {
            return;
        }
        var runtime = reconciler.runtimeFreezes().groups();
        for (Object o : doc.getJsonArray("groups", new JsonArray())) {
            JsonObject g = (JsonObject) o;
            String name = g.getString("name");
            var policy = catalog == null || name == null ? null
                    : catalog.desired().get(new io.jgovernor.model.GroupName(name));
            if (policy != null && policy.resources().freezer().map(f -> f.frozen()).orElse(false)) {
                g.put("frozen", "policy");
            } else if (policy != null && policy.resources().freezer().isEmpty()
                    && runtime.contains(new io.jgovernor.model.GroupName(name))) {
                g.put("frozen", "run-time");
            }
        }
        doc.put("frozenAtRunTime", new JsonArray(runtime.stream().map(io.jgovernor.model.GroupName::value).toList()));
    }

    private void reload(RoutingContext ctx) {
        if (!local(ctx) || !started(ctx, daemon.lastCatalog())) {
            return;
        }
        try {
            Report report = daemon.reload("jgovernor reload").get(RELOAD_WAIT_SECONDS, TimeUnit.SECONDS);
            json(ctx, 200, StatusDocument.pass(report).put("summary", report.toString()));
        } catch (java.util.concurrent.TimeoutException e) {
            json(ctx, 504, new JsonObject().put("error", "the pass did not finish within " + RELOAD_WAIT_SECONDS
                    + " s (see the daemon's log)"));
        } catch (Exception e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            json(ctx, 500, new JsonObject().put("error", String.valueOf(cause.getMessage())));
        }
    }

    private void plan(RoutingContext ctx) {
        if (!local(ctx) || !started(ctx, daemon.lastCatalog(), daemon.reconciler(), daemon.parser())) {
            return;
        }
        List<WhatIf.Given> given = new ArrayList<>();
        try {
            JsonObject request = ctx.body().asJsonObject();
            JsonArray list = request == null ? new JsonArray() : request.getJsonArray("files", new JsonArray());
            for (int i = 0; i < list.size(); i++) {
                JsonObject f = list.getJsonObject(i);
                given.add(new WhatIf.Given(f.getString("name"), Path.of(f.getString("path")), f.getString("content")));
            }
        } catch (RuntimeException e) {
            json(ctx, 400, new JsonObject().put("error", "not a plan request: " + e.getMessage()));
            return;
        }
        json(ctx, 200, PlanDocument.build(daemon.parser(), daemon.lastCatalog(), daemon.reconciler(), given));
    }

    private void why(RoutingContext ctx) {
        if (!local(ctx) || !started(ctx, daemon.layout(), daemon.lastCatalog())) {
            return;
        }
        int pid;
        try {
            pid = Integer.parseInt(ctx.pathParam("pid"));
        } catch (NumberFormatException e) {
            json(ctx, 400, new JsonObject().put("error", "not a pid: " + ctx.pathParam("pid")));
            return;
        }
        json(ctx, 200, WhyDocument.build(pid, daemon.layout(), daemon.lastCatalog(), daemon.classifier(),
                daemon.workloads()));
    }

    private void tree(RoutingContext ctx) {
        if (!local(ctx) || !started(ctx, daemon.layout(), daemon.lastCatalog(), daemon.reconciler(), daemon.files())) {
            return;
        }
        json(ctx, 200, TreeDocument.build(daemon.layout(), daemon.lastCatalog(), daemon.reconciler(), daemon.files()));
    }

    /**
     * The exec stage's argv (up to "--"), the workload's environment and its compiled seccomp
     * program (base64): the CLI, running as root like the daemon, execs the stage with them.
     */
    private void exec(RoutingContext ctx) {
        if (!local(ctx) || !started(ctx, daemon.lastCatalog(), daemon.workloads())) {
            return;
        }
        io.jgovernor.model.GroupName g = group(ctx);
        if (g == null) {
            return;
        }
        if (!daemon.lastCatalog().desired().containsKey(g)) {
            json(ctx, 404, new JsonObject().put("error", "no group " + g.value() + " (no valid policy defines it)"));
            return;
        }
        // a command that joins a frozen group's cgroups is frozen at once and would hang the caller
        FreezeControl freezes = daemon.freezeControl();
        if (freezes != null && freezes.frozen(g)) {
            json(ctx, 409, new JsonObject().put("error", g.value() + " is frozen: a command run in it would stop at "
                    + "once; jgovernor thaw " + g.value() + " first (or edit its policy's freezer: key)"));
            return;
        }
        try {
            var join = daemon.workloads().join(g);
            JsonObject env = new JsonObject();
            join.env().forEach(env::put);
            JsonObject doc = new JsonObject().put("argv", new JsonArray(List.copyOf(join.argv()))).put("env", env);
            join.seccomp().ifPresent(p -> doc.put("seccomp", java.util.Base64.getEncoder().encodeToString(p)));
            json(ctx, 200, doc);
        } catch (io.jgovernor.spawn.Workloads.Refused e) {
            json(ctx, 409, new JsonObject().put("error", e.getMessage()));
        }
    }

    /** The request's {@code ?group=}; null when it is not a group name (then answered 400). */
    private static io.jgovernor.model.GroupName group(RoutingContext ctx) {
        String name = ctx.request().getParam("group");
        try {
            return new io.jgovernor.model.GroupName(name == null ? "" : name);
        } catch (IllegalArgumentException e) {
            json(ctx, 400, new JsonObject().put("error", "not a group name: \"" + name + "\""));
            return null;
        }
    }

    private void freezeOrThaw(RoutingContext ctx, boolean freeze) {
        if (!local(ctx) || !started(ctx, daemon.lastCatalog(), daemon.freezeControl())) {
            return;
        }
        io.jgovernor.model.GroupName g = group(ctx);
        if (g == null) {
            return;
        }
        try {
            FreezeControl c = daemon.freezeControl();
            json(ctx, 200, new JsonObject().put("group", g.value()).put("done", freeze ? c.freeze(g) : c.thaw(g)));
        } catch (FreezeControl.Refused e) {
            json(ctx, e.status, new JsonObject().put("error", e.getMessage()));
        }
    }

    private void volumes(RoutingContext ctx) {
        if (!local(ctx) || !started(ctx, daemon.workloads())) {
            return;
        }
        JsonArray list = new JsonArray();
        for (var v : daemon.workloads().volumes()) {
            list.add(new JsonObject().put("name", v.name()).put("bytes", v.bytes()).put("groups", new JsonArray(v.groups())));
        }
        json(ctx, 200, new JsonObject().put("volumes", list));
    }

    private void volumeRm(RoutingContext ctx) {
        if (!local(ctx) || !started(ctx, daemon.workloads())) {
            return;
        }
        String name = ctx.request().getParam("name");
        try {
            if (name == null || !daemon.workloads().removeVolume(name)) {
                json(ctx, 404, new JsonObject().put("error", "no volume " + name));
                return;
            }
            json(ctx, 200, new JsonObject().put("removed", name));
        } catch (io.jgovernor.spawn.Workloads.Refused e) {
            json(ctx, 409, new JsonObject().put("error", e.getMessage()));
        } catch (IOException e) {
            json(ctx, 500, new JsonObject().put("error", "cannot remove volume " + name + ": " + e.getMessage()));
        }
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
