package io.jgovernor.cgroup;

import io.jgovernor.cgroup.v1.V1Controllers;
import io.jgovernor.cgroup.v2.V2Controllers;
import io.jgovernor.model.Resources;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * A policy's {@code files:} (the raw escape hatch, like OCI's {@code unified}): files no key
 * models, written as given. Wraps the controller whose name is the file's prefix ("io.latency"
 * belongs to io), so each raw file goes to the hierarchy and directory that controller already
 * has, after the controller's own writes, and the plan, the drift check and the errors treat it
 * like any other write.
 *
 * <p>The kernel's read-back is not always what was written ("8:0 target=10" may read back as a
 * line among others, with other spacing), so a value counts as in place when the file, or one of
 * its lines, reads as the value with runs of blanks made one. A raw file the policy no longer
 * names is left as it is: the daemon does not know the default of a file it does not model
 * (README says so).
 */
public final class RawFiles implements Controller {
    /** A cgroup control file name: controller prefix, a dot, then the kernel's words. */
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]*\\.[a-z0-9_][a-z0-9_.]*");
    public static final int MAX_NAME = 64;
    /** What one write(2) to a control file takes (the kernel reads at most a page for most). */
    public static final int MAX_VALUE = 4096;
    public static final int MAX_FILES = 64;
    /**
     * Files that are no controller's settings: membership and the tree's own structure. Writing
     * them raw would move processes or break what the planner keeps (delegation, removal).
     */
    private static final Set<String> STRUCTURE = Set.of("tasks", "notify_on_release", "release_agent",
            "devices.allow", "devices.deny", "memory.force_empty", "memory.reclaim", "cgroup.procs",
            "cgroup.threads", "cgroup.subtree_control", "cgroup.type", "cgroup.kill");
    private static volatile Set<String> managed;

    private final Controller inner;

    public RawFiles(Controller inner) {
        this.inner = inner;
    }

    /** Every controller of {@code controllers} able to write its own prefix's raw files too. */
    public static List<Controller> wrap(List<Controller> controllers) {
        return controllers.stream().<Controller>map(RawFiles::new).toList();
    }

    /**
     * Why {@code name} cannot be a raw file whatever the host: not a control file's shape, a
     * structural file, or one a key of the policy manages (then the key is the way: two writers
     * of one file would undo each other every pass). Empty when it may be one.
     */
    public static Optional<String> nameProblem(String name) {
        if (name.length() > MAX_NAME || !NAME.matcher(name).matches() || name.contains("..") || name.endsWith(".")) {
            return Optional.of("is not a cgroup control file name (a controller, a dot and the file's own name, like"
                    + " \"io.latency\" or \"memory.swappiness\")");
        }
        if (name.startsWith("cgroup.") || STRUCTURE.contains(name)) {
            return Optional.of("is part of the cgroup tree's structure or membership, which the daemon keeps itself");
        }
        if (managed().contains(name)) {
            return Optional.of("is managed by a policy key (see policy.md); set it through that key");
        }
        return Optional.empty();
    }

    private static Set<String> managed() {
        Set<String> m = managed;
        if (m == null) {
            Set<String> all = new TreeSet<>();
            for (Controller c : V1Controllers.all()) {
                all.addAll(c.observedFiles());
            }
            for (Controller c : V2Controllers.all()) {
                all.addAll(c.observedFiles());
            }
            managed = m = Set.copyOf(all);
        }
        return m;
    }

    /** The controller prefix of a raw file name ("io" of "io.latency"). */
    public static String controllerOf(String name) {
        int dot = name.indexOf('.');
        return dot < 0 ? name : name.substring(0, dot);
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public boolean usedBy(Resources resources) {
        return inner.usedBy(resources) || !resources.filesOf(name()).isEmpty();
    }

    @Override
    public List<String> observedFiles() {
        return inner.observedFiles();
    }

    @Override
    public Map<String, String> observe(CgroupFiles files, Path dir, Resources resources) throws CgroupException {
        Map<String, String> observed = inner.observe(files, dir, resources);
        Map<String, String> raw = resources.filesOf(name());
        if (raw.isEmpty()) {
            return observed;
        }
        Map<String, String> all = new HashMap<>(observed);
        all.putAll(files.readAll(dir, List.copyOf(raw.keySet())));
        return all;
    }

    @Override
    public Map<String, String> observe(CgroupFiles files, Path dir) throws CgroupException {
        return inner.observe(files, dir);
    }

    @Override
    public List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed) {
        List<Write> writes = inner.reconcile(resources, context, observed);
        Map<String, String> raw = resources.filesOf(name());
        if (raw.isEmpty()) {
            return writes;
        }
        List<Write> all = new ArrayList<>(writes);
        raw.forEach((file, value) -> {
            String seen = observed.get(file);
            if (seen == null || !holds(seen, value)) {
                all.add(new Write(file, value, seen == null ? Normalize.was(null) : blanks(seen), blanks(value)));
            }
        });
        return all;
    }

    /** Whether a file reading {@code seen} says {@code value}: the whole text or one of its lines. */
    static boolean holds(String seen, String value) {
        String want = blanks(value);
        if (blanks(seen).equals(want)) {
            return true;
        }
        for (String line : seen.split("\n")) {
            if (blanks(line).equals(want)) {
                return true;
            }
        }
        return false;
    }

    private static String blanks(String s) {
        return s.strip().replaceAll("[ \t]+", " ");
    }

    @Override
    public Map<String, String> fresh(GroupContext context) {
        return inner.fresh(context);
    }

    /** A raw file is one write(2) of its value; the controller's own writes go its own way. */
    @Override
    public void apply(CgroupFiles files, Path dir, Write write) throws CgroupException {
        if (isRaw(write.file())) {
            files.write(dir, write.file(), write.value());
        } else {
            inner.apply(files, dir, write);
        }
    }

    @Override
    public void readStats(StatReader in, Path dir, GroupSample.Builder sample) {
        inner.readStats(in, dir, sample);
    }

    /** The controller whose files this one adds a policy's raw files to. */
    public Controller inner() {
        return inner;
    }

    private boolean isRaw(String file) {
        return controllerOf(file).equals(name()) && !inner.observedFiles().contains(file) && nameProblem(file).isEmpty();
    }
}
