package io.jgovernor.cgroup.v2;

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

/**
 * cgroup v2 "cpuset": cpuset.cpus and cpuset.mems. Unlike v1, an empty file means "use the
 * parent's" (cpuset.cpus.effective shows the result), and a process may join a group whose files
 * are empty; so a key the policy leaves out is written back to empty, the kernel default.
 */
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

    @Override
    public List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed) {
        Optional<Resources.Cpuset> cpuset = resources.cpuset();
        List<Write> writes = new ArrayList<>(2);
        add(writes, MEMS, cpuset.flatMap(Resources.Cpuset::mems), observed, cpuset.isPresent());
        add(writes, CPUS, cpuset.flatMap(Resources.Cpuset::cpus), observed, cpuset.isPresent());
        return writes;
    }

    private static void add(List<Write> writes, String file, Optional<CpuList> wanted, Map<String, String> observed,
                            boolean asked) {
        String seen = Normalize.text(observed, file);
        if (seen == null && !asked) {
            return; // the controller is not enabled for this group and nothing is asked of it
        }
        String wantedText = wanted.map(CpuList::toString).orElse("");
        String seenNormal = normal(seen);
        if (!wantedText.equals(seenNormal)) {
            // "" clears the file; the kernel takes an empty write ("\n" alone is refused by some shells, not by the kernel)
            writes.add(new Write(file, wantedText.isEmpty() ? "\n" : wantedText,
                    seenNormal == null ? Normalize.was(seen) : seenNormal, wantedText));
        }
    }

    /** The kernel's canonical list form ("0,1" and "0-1" are the same set), or null if absent or unparseable. */
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
