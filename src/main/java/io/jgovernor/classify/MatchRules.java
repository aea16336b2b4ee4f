package io.jgovernor.classify;

import com.google.re2j.Pattern;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.MatchRule;
import io.jgovernor.model.Policy;
import io.jgovernor.policy.CatalogState;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Every policy's {@code match:} entries, compiled once per catalog change, in precedence order:
 * the policy whose file name sorts first wins (then the order of policies within the file).
 * Within one policy, all keys of an entry must hold and any entry may match.
 *
 * <p>A process's facts are read lazily, cheapest first: comm, then user, then exe, then cmdline.
 * When every entry names a comm, a process whose comm no rule names is rejected after one read.
 */
final class MatchRules {
    private static final System.Logger LOG = System.getLogger(MatchRules.class.getName());

    /** One group's entries. */
    record Candidate(GroupName group, String file, List<Entry> entries) {
    }

    /** The group chosen for a process, and which of its entries (0-based) held: what {@code jgovernor why} shows. */
    record Choice(Candidate candidate, int entry) {
        GroupName group() {
            return candidate.group();
        }

        String file() {
            return candidate.file();
        }
    }

    /** One compiled entry; a user name that does not exist matches no process (uid -2). */
    record Entry(String comm, String exe, Pattern cmdline, long uid) {
        static final long ANY = -1;
        static final long NOBODY_MATCHES = -2;

        /** As the policy wrote it, for {@code jgovernor why}: {@code comm: nginx, user: uid 33}. */
        String describe() {
            List<String> keys = new ArrayList<>();
            if (comm != null) {
                keys.add("comm: " + comm);
            }
            if (exe != null) {
                keys.add("exe: " + exe);
            }
            if (cmdline != null) {
                keys.add("cmdline: " + cmdline.pattern());
            }
            if (uid != ANY) {
                keys.add(uid == NOBODY_MATCHES ? "user: (unknown user)" : "user: uid " + uid);
            }
            return String.join(", ", keys);
        }

        boolean matches(ProcessView p) {
            if (comm != null && !comm.equals(p.comm())) {
                return false;
            }
            if (uid != ANY && uid != p.euid()) {
                return false;
            }
            if (exe != null && !exe.equals(p.exe())) {
                return false;
            }
            if (cmdline != null) {
                String c = p.cmdline();
                return c != null && cmdline.matcher(c).find();
            }
            return true;
        }
    }

    static final MatchRules NONE = new MatchRules(List.of(), Set.of(), true);

    private final List<Candidate> candidates;
    /** Every comm an entry names; with {@link #allNameComm}, a fast way to say no. */
    private final Set<String> comms;
    private final boolean allNameComm;

    private MatchRules(List<Candidate> candidates, Set<String> comms, boolean allNameComm) {
        this.candidates = List.copyOf(candidates);
        this.comms = Set.copyOf(comms);
        this.allNameComm = allNameComm;
    }

    /** Compiles the catalog's rules; user names are looked up in {@code passwd} once, here. */
    static MatchRules compile(CatalogState catalog, Path passwd) {
        Map<String, Long> users = null;
        List<Candidate> out = new ArrayList<>();
        Set<String> comms = new HashSet<>();
        boolean allNameComm = true;
        // files are in name order already (the catalog keeps them sorted); sorted again to be sure
        List<CatalogState.FileStatus> files = new ArrayList<>(catalog.files());
        files.sort((a, b) -> a.file().getFileName().toString().compareTo(b.file().getFileName().toString()));
        for (CatalogState.FileStatus f : files) {
            for (GroupName g : f.groups()) {
                Policy p = catalog.desired().get(g);
                if (p == null || p.match().isEmpty()) {
                    continue;
                }
                List<Entry> entries = new ArrayList<>();
                for (MatchRule r : p.match()) {
                    long uid = Entry.ANY;
                    if (r.user().isPresent()) {
                        if (users == null) {
                            users = readPasswd(passwd);
                        }
                        uid = uid(r.user().get(), users, f.file(), g);
                    }
                    entries.add(new Entry(r.comm().orElse(null), r.exe().orElse(null), r.cmdline().orElse(null), uid));
                    if (r.comm().isPresent()) {
                        comms.add(r.comm().get());
                    } else {
                        allNameComm = false;
                    }
                }
                out.add(new Candidate(g, f.file().getFileName().toString(), entries));
            }
        }
        return new MatchRules(out, comms, allNameComm);
    }

    private static long uid(String user, Map<String, Long> users, Path file, GroupName g) {
        Long known = users.get(user);
        if (known != null) {
            return known;
        }
        if (user.chars().allMatch(Character::isDigit) && !user.isEmpty() && user.length() < 11) {
            return Long.parseLong(user);
        }
        LOG.log(System.Logger.Level.WARNING, "{0}: group {1}: user \"{2}\" is not in /etc/passwd; that match entry matches nothing",
                file, g.value(), user);
        return Entry.NOBODY_MATCHES;
    }

    /** name -> uid from a passwd file; empty when it cannot be read (numeric uids still work). */
    static Map<String, Long> readPasswd(Path passwd) {
        Map<String, Long> users = new HashMap<>();
        try {
            for (String line : Files.readAllLines(passwd)) {
                String[] f = line.split(":", 4);
                if (f.length >= 3 && !f[0].isEmpty() && !users.containsKey(f[0])) {
                    try {
                        users.put(f[0], Long.parseLong(f[2]));
                    } catch (NumberFormatException ignored) {
                        // a malformed line names no user
                    }
                }
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot read " + passwd + "; user names in match rules match nothing", e);
        }
        return users;
    }

    boolean isEmpty() {
        return candidates.isEmpty();
    }

    /** The first group (in precedence order) with an entry that holds for {@code p}. */
    Optional<Choice> choose(ProcessView p) {
        if (candidates.isEmpty()) {
            return Optional.empty();
        }
        if (allNameComm) {
            String comm = p.comm();
            if (comm == null || !comms.contains(comm)) {
                return Optional.empty();
            }
        }
        for (Candidate c : candidates) {
            List<Entry> entries = c.entries();
            for (int i = 0; i < entries.size(); i++) {
                if (entries.get(i).matches(p)) {
                    return Optional.of(new Choice(c, i));
                }
            }
        }
        return Optional.empty();
    }

    /** Every group whose rules hold for {@code p}, in precedence order: for the debug log of a choice. */
    List<Candidate> all(ProcessView p) {
        List<Candidate> out = new ArrayList<>();
        for (Candidate c : candidates) {
            if (c.entries().stream().anyMatch(e -> e.matches(p))) {
                out.add(c);
            }
        }
        return out;
    }

    /** Whether some entry names a user: then a uid change may make a process match. */
    boolean usesUser() {
        return candidates.stream().flatMap(c -> c.entries().stream()).anyMatch(e -> e.uid() != Entry.ANY);
    }

    /** The groups that have rules. */
    Set<GroupName> groups() {
        Set<GroupName> out = new HashSet<>();
        candidates.forEach(c -> out.add(c.group()));
        return out;
    }
}
