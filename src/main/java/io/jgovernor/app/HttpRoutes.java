package io.jgovernor.app;

import io.jgovernor.metrics.Metrics;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;


/**
 * The TCP port ({@code quarkus.http.port}): Prometheus metrics at {@code /metrics} and health at
 * {@code /q/health/live} and {@code /q/health/ready}, in MicroProfile Health's JSON shape. Nothing
 * here can change anything; the control API is on the unix socket only ({@link ControlApi}).
 */
@ApplicationScoped
public class HttpRoutes {
    private static final Logger LOG = Logger.getLogger(HttpRoutes.class);

    private final Daemon daemon;

    public HttpRoutes(Daemon daemon) {
        this.daemon = daemon;
    }

    void routes(@Observes Router router) {
        // a scrape reads cgroup files: off the event loop; scrapes may run side by side (ordered=false)
        router.get("/metrics").blockingHandler(this::metrics, false);
        router.get("/q/health/live").handler(this::live);
        router.get("/q/health/ready").handler(this::ready);
        router.get("/q/health").handler(this::ready);
    }

    private void metrics(RoutingContext ctx) {
        Metrics m = daemon.metrics();
        if (m == null) {
            ctx.response().setStatusCode(503).putHeader("Content-Type", "text/plain; charset=utf-8")
                    .end("jgovernor is starting\n");
            return;
        }
        ExpositionFormatWriter writer = m.writerFor(ctx.request().getHeader("Accept"));
        ctx.response().putHeader("Content-Type", writer.getContentType());
        try (ResponseStream out = new ResponseStream(ctx.response())) {
            writer.write(out, m.scrape());
        } catch (Exception e) {
            // the collectors never throw; this is the writer or the connection, and the status
            // line may be sent already: the client sees the connection cut, not a short body
            LOG.warnf("metrics: scrape failed: %s", e.toString());
            ctx.response().reset();
        }
    }

    /** DOWN, naming each loop and why, while any of the daemon's loops is dead or stuck. */
    private void live(RoutingContext ctx) {
        java.util.Map<String, String> problems = daemon.loopProblems();
        JsonObject data = new JsonObject();
        problems.forEach(data::put);
        health(ctx, "alive", problems.isEmpty(), data);
    }

    private void ready(RoutingContext ctx) {
        boolean ready = daemon.ready();
        JsonObject data = new JsonObject().put("passes", daemon.passes());
        String problem = daemon.policyDirProblem();
        if (problem != null) {
            data.put("policyDirectory", problem);
        } else if (!ready) {
            data.put("reason", "the first reconcile pass has not completed");
        }
        health(ctx, "reconcile", ready, data);
    }

    private static void health(RoutingContext ctx, String check, boolean up, JsonObject data) {
        String status = up ? "UP" : "DOWN";
        JsonObject c = new JsonObject().put("name", check).put("status", status);
        if (!data.isEmpty()) {
            c.put("data", data);
        }
        JsonObject body = new JsonObject().put("status", status).put("checks", new JsonArray().add(c));
        ctx.response().setStatusCode(up ? 200 : 503).putHeader("Content-Type", "application/json")
                .end(body.encode());
    }
}
