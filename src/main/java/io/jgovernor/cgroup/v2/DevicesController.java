package io.jgovernor.cgroup.v2;

import io.jgovernor.cgroup.CgroupException;
import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.cgroup.Controller;
import io.jgovernor.cgroup.GroupContext;
import io.jgovernor.cgroup.Write;
import io.jgovernor.model.DeviceRule;
import io.jgovernor.model.Resources;
import io.jgovernor.sys.Bpf;
import io.jgovernor.sys.Errno;
import io.jgovernor.sys.ErrnoException;
import io.jgovernor.sys.Libc;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * cgroup v2 "devices": a group's device allow list as a BPF_PROG_TYPE_CGROUP_DEVICE program
 * ({@link DeviceProgram}) attached to its directory. v2 has no devices files and no devices entry
 * in cgroup.controllers: a program attaches to any cgroup2 directory, enabled nowhere, and the
 * kernel runs it for the directory's processes and those of every directory beneath.
 *
 * <p>Attached with BPF_F_ALLOW_MULTI, as runc and systemd attach theirs: the programs of a
 * directory and of its ancestors all run, and a device opens only if every one allows it. So a
 * child group narrows its parent as on v1, and a program someone else attached (systemd's for the
 * daemon's unit) stays in force. Ours are told from others by their name ({@link DeviceProgram#NAME});
 * others are never touched.
 *
 * <p>What is observed is no file: the tags of our programs attached to the directory
 * (BPF_PROG_QUERY, then each program's info). A program is ours and current when its tag is the
 * one of the program the policy's rules make ({@link DeviceProgram#hasTag}), so after a daemon
 * restart an unchanged policy plans nothing and a changed one replaces the program found, instead
 * of stacking a second one. A fresh directory has no program.
 *
 * <p>Replacement is atomic: the new program is attached with BPF_F_REPLACE in the old one's place
 * (kernel 5.6+), so no open ever sees neither or both. A kernel that refuses the flag (EINVAL) gets
 * the new program attached first and the old one detached after: in between both run, and a
 * device opens only if both lists allow it, never one that neither allowed.
 *
 * <p>What keeps a program alive: the kernel counts references to it; the descriptor BPF_PROG_LOAD
 * returns is one, the attachment another. The daemon closes its descriptor once the program is
 * attached, and the program lives as long as it stays attached (or the directory exists): across
 * daemon restarts, like every cgroup file the daemon wrote. Detaching it, or removing the
 * directory, drops the last reference and the kernel frees it.
 */
public final class DevicesController implements Controller {
    /** The kernel's name for the attach point: how plans, logs and errors name it. */
    public static final String ATTACHED = "BPF_CGROUP_DEVICE";
    /** The value of the write that detaches our program (a policy without {@code devices:}). */
    static final String NONE = "(none)";
    /** The value of the write that attaches a program allowing nothing ({@code allow: []}). */
    static final String NOTHING = "(nothing)";

    @Override
    public String name() {
        return "devices";
    }

    @Override
    public boolean usedBy(Resources resources) {
        return resources.devices().isPresent();
    }

    /** None: {@link #observe} asks the kernel. */
    @Override
    public List<String> observedFiles() {
        return List.of();
    }

    /** Under {@link #ATTACHED}: the tags of our programs attached to {@code dir}, space-separated. */
    @Override
    public Map<String, String> observe(CgroupFiles files, Path dir) throws CgroupException {
        try (Arena arena = Arena.ofConfined()) {
            int dirFd = openDir(arena, dir);
            if (dirFd < 0) {
                return Map.of(); // gone since it was listed: as a fresh one, it has nothing attached
            }
            try {
                List<Attached> ours = attached(dir, dirFd);
                List<String> tags = new ArrayList<>();
                for (Attached a : ours) {
                    tags.add(a.tag);
                    Libc.closeRaw(a.fd);
                }
                return Map.of(ATTACHED, String.join(" ", tags));
            } finally {
                Libc.closeRaw(dirFd);
            }
        }
    }

    @Override
    public List<Write> reconcile(Resources resources, GroupContext context, Map<String, String> observed) {
        String seen = observed.getOrDefault(ATTACHED, "").strip();
        List<String> tags = seen.isEmpty() ? List.of() : List.of(seen.split(" "));
        String was = tags.isEmpty() ? NONE : "program " + String.join(", program ", tags);
        if (resources.devices().isEmpty()) {
            return tags.isEmpty() ? List.of() : List.of(new Write(ATTACHED, NONE, was, NONE));
        }
        List<DeviceRule> rules = resources.devices().get().allow();
        DeviceProgram wanted = DeviceProgram.of(rules);
        if (tags.size() == 1 && wanted.hasTag(tags.getFirst())) {
            return List.of();
        }
        String value = rules.isEmpty() ? NOTHING : String.join(", ", rules.stream().map(DeviceRule::toString).toList());
        return List.of(new Write(ATTACHED, value, was, "program allowing " + value));
    }

    @Override
    public Map<String, String> fresh(GroupContext context) {
        return Map.of();
    }

    /**
     * Attaches the program of the write's rules in the place of ours found attached now (found
     * again here, not taken from the plan: whatever another pass or a restart left is replaced),
     * then detaches any other of ours; or, for {@link #NONE}, detaches ours.
     */
    @Override
    public void apply(CgroupFiles files, Path dir, Write write) throws CgroupException {
        try (Arena arena = Arena.ofConfined()) {
            int dirFd = openDir(arena, dir);
            if (dirFd < 0) {
                throw new CgroupException(dir, null, "open", null, -dirFd);
            }
            List<Attached> ours = attached(dir, dirFd);
            int progFd = -1;
            try {
                List<Attached> stale = new ArrayList<>(ours);
                if (!write.value().equals(NONE)) {
                    progFd = load(dir, write.value());
                    if (stale.isEmpty()) {
                        attach(dir, dirFd, progFd, Bpf.F_ALLOW_MULTI, -1, write.value());
                    } else {
                        Attached old = stale.removeFirst();
                        try {
                            attach(dir, dirFd, progFd, Bpf.F_ALLOW_MULTI | Bpf.F_REPLACE, old.fd, write.value());
                        } catch (CgroupException e) {
                            if (e.errno() != Errno.EINVAL) {
                                throw e;
                            }
                            // before 5.6 the flag is unknown: new first, then old (both hold meanwhile)
                            attach(dir, dirFd, progFd, Bpf.F_ALLOW_MULTI, -1, write.value());
                            stale.addFirst(old);
                        }
                    }
                }
                for (Attached a : stale) {
                    try {
                        Bpf.progDetach(dirFd, a.fd, Bpf.CGROUP_DEVICE);
                    } catch (ErrnoException e) {
                        if (e.errno() != Errno.ENOENT) { // detached meanwhile: what was wanted
                            throw new CgroupException(dir, null, "BPF_PROG_DETACH " + ATTACHED, "program " + a.tag,
                                    e.errno());
                        }
                    }
                }
            } finally {
                // the attachment holds its own reference: the program outlives these descriptors
                if (progFd >= 0) {
                    Libc.closeRaw(progFd);
                }
                for (Attached a : ours) {
                    Libc.closeRaw(a.fd);
                }
                Libc.closeRaw(dirFd);
            }
        }
    }

    private static void attach(Path dir, int dirFd, int progFd, int flags, int replaceFd, String value)
            throws CgroupException {
        try {
            Bpf.progAttach(dirFd, progFd, Bpf.CGROUP_DEVICE, flags, replaceFd);
        } catch (ErrnoException e) {
            throw new CgroupException(dir, null, "BPF_PROG_ATTACH " + ATTACHED, value, e.errno());
        }
    }

    private static int load(Path dir, String value) throws CgroupException {
        List<DeviceRule> rules = new ArrayList<>();
        if (!value.equals(NOTHING)) {
            for (String rule : value.split(",")) {
                rules.add(DeviceRule.parse(rule));
            }
        }
        DeviceProgram program = DeviceProgram.of(rules);
        try {
            return Bpf.progLoad(Bpf.PROG_TYPE_CGROUP_DEVICE, Bpf.CGROUP_DEVICE, program.instructions(),
                    DeviceProgram.LICENSE, DeviceProgram.NAME);
        } catch (Bpf.LoadException e) {
            throw new CgroupException(dir, null, "BPF_PROG_LOAD " + DeviceProgram.NAME, value, e.errno(),
                    e.verifierLog().isEmpty() ? null : "; the verifier said: " + e.verifierLog().replace("\n", " | "));
        }
    }

    /** One of our programs attached to a directory, with a descriptor the caller closes. */
    private record Attached(int fd, String tag) {
    }

    /** Ours among the programs attached to the directory, in the order they run. */
    private static List<Attached> attached(Path dir, int dirFd) throws CgroupException {
        int[] ids;
        try {
            ids = Bpf.progQuery(dirFd, Bpf.CGROUP_DEVICE);
        } catch (ErrnoException e) {
            throw new CgroupException(dir, null, "BPF_PROG_QUERY " + ATTACHED, null, e.errno());
        }
        List<Attached> out = new ArrayList<>();
        for (int id : ids) {
            int fd;
            try {
                fd = Bpf.progGetFdById(id);
            } catch (ErrnoException e) {
                if (e.errno() == Errno.ENOENT) {
                    continue; // detached and freed since the query
                }
                out.forEach(a -> Libc.closeRaw(a.fd));
                throw new CgroupException(dir, null, "BPF_PROG_GET_FD_BY_ID " + id, null, e.errno());
            }
            try {
                Bpf.ProgInfo info = Bpf.progInfo(fd);
                if (info.name().equals(DeviceProgram.NAME)) {
                    out.add(new Attached(fd, info.tag()));
                    continue;
                }
            } catch (ErrnoException e) {
                Libc.closeRaw(fd);
                out.forEach(a -> Libc.closeRaw(a.fd));
                throw new CgroupException(dir, null, "BPF_OBJ_GET_INFO_BY_FD " + id, null, e.errno());
            }
            Libc.closeRaw(fd);
        }
        return out;
    }

    /** A descriptor of the directory, or -errno. */
    private static int openDir(Arena arena, Path dir) {
        return Libc.openRaw(arena.allocateFrom(dir.toString()), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC);
    }
}
