package io.jgovernor.cgroup.v1;

import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.GroupContext;
import io.jgovernor.cgroup.GroupSample;
import io.jgovernor.cgroup.Normalize;
import io.jgovernor.cgroup.StatReader;
import io.jgovernor.cgroup.Write;
import io.jgovernor.model.Limit;
import io.jgovernor.model.Resources;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** "pids": pids.max, the same file and words on cgroup v1 and v2 (V2Controllers uses this class too). */
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
            return List.of(); // v2: the controller is not enabled here, and nothing asks for it
        }
        Limit wanted = resources.pids().flatMap(Resources.Pids::max).orElse(Limit.MAX);
        String wantedText = wanted.toString(); // "max" or the number, as the kernel prints them
        if (wantedText.equals(seen)) {
            return List.of();
        }
        return List.of(new Write(MAX, wantedText, Normalize.was(seen), wantedText));
    }

    @Override
    public Map<String, String> fresh(GroupContext context) {
        return Map.of(MAX, "max\n");
    }

    @Override
    public void readStats(StatReader in, Path dir, GroupSample.Builder sample) {
        sample.pidsCurrent = in.number(dir, "pids.current");
    }
}
