package io.jgovernor.cgroup.v1;

import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.GroupContext;
import io.jgovernor.cgroup.Normalize;
import io.jgovernor.cgroup.Write;
import io.jgovernor.model.Resources;

import java.util.List;
import java.util.Map;

/**
 * "net_cls": net_cls.classid, the class id (tc's MAJOR:MINOR as 0xMMMMmmmm) the group's sockets
 * carry for tc filters and iptables' cgroup match. The kernel reads it back in decimal and a fresh
 * group has 0 (no class); cgroup v2 has no such controller (the parser refuses the key there).
 */
public final class NetClsController implements Controller {
    public static final String CLASSID = "net_cls.classid";

    @Override
    public String name() {
        return "net_cls";
    }

    @Override
    public boolean usedBy(Resources resources) {
        return resources.network().map(n -> n.classId().isPresent()).orElse(false);
    }

    @Override
    public List<String> observedFiles() {
        return List.of(CLASSID);
    }

    @Override
    public List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed) {
        String seen = Normalize.text(observed, CLASSID);
        var wanted = resources.network().map(n -> n.classId().orElse(0)).orElse(0L);
        if (seen == null && wanted == 0) {
            return List.of();
        }
        String text = Long.toString(wanted);
        return text.equals(seen) ? List.of()
                : List.of(new Write(CLASSID, text, Normalize.was(seen), text + " (0x" + Long.toHexString(wanted) + ")"));
    }

    @Override
    public Map<String, String> fresh(GroupContext context) {
        return Map.of(CLASSID, "0\n");
    }
}
