package io.jgovernor.cgroup.v1;

import io.jgovernor.cgroup.Normalize;
import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.GroupContext;
import io.jgovernor.cgroup.Write;
import io.jgovernor.model.CpuList;
import io.jgovernor.model.Resources;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** cgroup v1 "cpuset": cpuset.mems and cpuset.cpus. */
public final class CpusetController implements Controller {
    public static final String CPUS = "cpuset.cpus";
    public static final String MEMS = "cpuset.mems";

    @Override
    public String name() {
        return "cpuset";
    }

    @Override
    public boolean usedBy(Resources resources) {
        return resources.cpuset().isPresent();
    }

    @Override
    public List<String> observedFiles() {
        return List.of(MEMS, CPUS);
    }

    /**
     * A v1 cpuset directory starts with empty cpus and mems, and the kernel refuses to let a
     * process join until both are set (ENOSPC); it also refuses values outside the parent's. So a
     * key the policy leaves out is not left "at the default" (empty would lock the group) but
     * filled from the parent, which is what a v2 cpuset or clone_children=1 would inherit.
     */
    @Override
    public List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed) {
        Optional<Resources.Cpuset> cpuset = resources.cpuset();
        CpuList cpus = cpuset.flatMap(Resources.Cpuset::cpus).orElse(context.parentCpus());
        CpuList mems = cpuset.flatMap(Resources.Cpuset::mems).orElse(context.parentMems());
        List<Write> writes = new ArrayList<>(2);
        // mems first: the memory nodes a task may allocate from are what must be in place
        // before any task joins; the two files are independent otherwise.
        add(writes, MEMS, mems, observed);
        add(writes, CPUS, cpus, observed);
        return writes;
    }

    private static void add(List<Write> writes, String file, CpuList wanted, Map<String, String> observed) {
        String seen = Normalize.text(observed, file);
        String seenNormal = normal(seen);
        String wantedText = wanted.toString();
        if (!wantedText.equals(seenNormal)) {
            writes.add(new Write(file, wantedText, seenNormal == null ? Normalize.was(seen) : seenNormal, wantedText));
        }
    }

    /** The kernel's canonical list form ("0,1" and "0-1" are the same set), or null if unparseable. */
    private static String normal(String text) {
        if (text == null) {
            return null;
        }
        try {
            return CpuList.parse(text).toString();
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    @Override
    public Map<String, String> fresh(GroupContext context) {
        return Map.of(CPUS, "\n", MEMS, "\n");
    }
}
