package io.jgovernor.cgroup.v2;

import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.GroupContext;
import io.jgovernor.cgroup.Write;
import io.jgovernor.model.Limit;
import io.jgovernor.model.Resources;

import java.util.List;
import java.util.Map;

/** cgroup v2 "pids": pids.max (the same file and words as v1). */
public final class PidsController implements Controller {
    public static final String MAX = "pids.max";

    @Override
    public String name() {
        return "pids";
    }

    @Override
    public boolean usedBy(Resources resources) {
        return resources.pids().isPresent();
    }

    @Override
    public List<String> observedFiles() {
        return List.of(MAX);
    }

    @Override
    public List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed) {
        String seen = Normalize.text(observed, MAX);
        if (seen == null && resources.pids().isEmpty()) {
            return List.of();
        }
        String wanted = resources.pids().flatMap(Resources.Pids::max).orElse(Limit.MAX).toString();
        if (wanted.equals(seen)) {
            return List.of();
        }
        return List.of(new Write(MAX, wanted, Normalize.was(seen), wanted));
    }

    @Override
    public Map<String, String> fresh(GroupContext context) {
        return Map.of(MAX, "max\n");
    }
}
