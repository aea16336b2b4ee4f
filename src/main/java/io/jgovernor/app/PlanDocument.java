package io.jgovernor.app;

import io.jgovernor.policy.CatalogState;
import io.jgovernor.policy.PolicyError;
import io.jgovernor.policy.PolicyParser;
import io.jgovernor.policy.WhatIf;
import io.jgovernor.reconcile.Plan;
import io.jgovernor.reconcile.ReconcileError;
import io.jgovernor.reconcile.Reconciler;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The control API's answer to {@code jgovernor plan}: the given files' problems, or every step the
 * reconciler's own planner would take in a full pass over the policies with those files in place:
 * {@code mkdir}, {@code write} (file, old and new value), {@code move} (a removed group's processes,
 * to where) and {@code rmdir}, each with the group it serves. Nothing is written.
 */
final class PlanDocument {
    private PlanDocument() {
    }

    static JsonObject build(PolicyParser parser, CatalogState live, Reconciler reconciler, List<WhatIf.Given> given) {
        WhatIf.Result proposed = WhatIf.of(parser, live, given);
        JsonArray errors = new JsonArray();
        for (PolicyError e : proposed.errors()) {
            errors.add(new JsonObject().put("file", e.file().toString()).put("line", e.line())
                    .put("column", e.column()).put("message", e.message()));
        }
        JsonObject doc = new JsonObject().put("valid", proposed.errors().isEmpty()).put("errors", errors);
        JsonArray steps = new JsonArray();
        JsonArray unreadable = new JsonArray();
        if (proposed.errors().isEmpty()) {
            Reconciler.Preview preview = reconciler.preview(proposed.desired());
            for (Plan.Step step : preview.plan().steps()) {
                JsonObject o = new JsonObject().put("group", step.group()).put("dir", step.dir().toString());
                switch (step) {
                    case Plan.Mkdir m -> steps.add(o.put("op", "mkdir"));
                    case Plan.WriteFile w -> steps.add(o.put("op", "write").put("file", w.write().file())
                            .put("old", w.write().was()).put("new", w.write().wanted()));
                    case Plan.Remove r -> {
                        steps.add(o.put("op", "move").put("to", r.target().toString()));
                        steps.add(new JsonObject().put("group", step.group()).put("dir", step.dir().toString())
                                .put("op", "rmdir"));
                    }
                }
            }
            for (ReconcileError e : preview.unreadable()) {
                unreadable.add(e.toString());
            }
        }
        return doc.put("steps", steps).put("unreadable", unreadable)
                .put("groups", proposed.desired().size());
    }
}
