package io.jgovernor.policy;

import io.jgovernor.model.GroupName;
import io.jgovernor.model.Policy;
import io.jgovernor.model.SortedSnapshot;
import io.jgovernor.sys.DurableFiles;
import io.jgovernor.sys.Libc;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The policy files across refreshes: which version of each file is applied, and why.
 *
 * <p>A file is accepted or rejected as a whole, and a rejected file changes nothing: the version
 * accepted before stays applied, so a typo never tears a group down. That last accepted content
 * is also kept in {@code acceptedDir}, so that after a daemon restart a file that has meanwhile
 * become invalid still applies its last good version rather than nothing.
 *
 * <p>A file that disappears is not removed at once: GNU {@code install}, {@code rm} then copy, an
 * editor that renames the old file away before it writes the new one, all leave the name missing
 * for a moment, and tearing the group down then (processes moved out, counters reset, the workload
 * stopped) only to build it again milliseconds later is exactly what a deploy must not do. So a
 * missing file keeps its applied version, and its accepted copy, for {@code removalDelay}; only a
 * file that stayed away that long has its groups removed. {@link #untilNextRemoval()} tells the
 * reconcile loop when to look again.
 *
 * <p>Not thread-safe: the daemon refreshes from one reconcile loop, and passes never overlap.
 */
public final class PolicyCatalog {
    private static final System.Logger LOG = System.getLogger(PolicyCatalog.class.getName());

    private final PolicyParser parser;
    private final PolicyDirectory directory;
    private final Path acceptedDir;
    private final java.time.Duration racyWindow;
    private final java.time.Duration removalDelay;
    /** Monotonic nanoseconds (System::nanoTime; a fake clock in tests). */
    private final java.util.function.LongSupplier clock;
    /** By file name, so that iteration is in name order. */
    private final SortedMap<String, Entry> entries = new TreeMap<>();
    private boolean started;
    private int nextId;
    /**
     * What the last refresh worked out, kept so that the next one can start from it: the groups
     * applied now (by name, with the file that defines each), the desired state, each file's status
     * and all errors, and the files whose valid version waits (for a name, or a parent) and so is
     * judged again on every refresh. {@code cross} is null until the first full refresh.
     */
    private CrossFile cross;
    private SortedSnapshot<GroupName, Policy> desired = SortedSnapshot.empty();
    private SortedSnapshot<String, CatalogState.FileStatus> statuses = SortedSnapshot.empty();
    private List<PolicyError> errors = List.of();
    private final Set<String> pending = new java.util.HashSet<>();
    /**
     * Files whose new version was accepted in the last refresh and lost a parent in the same one:
     * from the next refresh on they stand on that version as a last good one with a problem, so
     * their status is worked out again then.
     */
    private final Set<String> recheck = new java.util.HashSet<>();
    /** Files removed from the catalog since the last refresh worked things out. */
    private final Set<String> removed = new java.util.HashSet<>();

    private Entry newEntry(Path file) {
        return new Entry(nextId++, file);
    }

    /** A version of a file: its text and the policies in it. */
    private record Version(String content, List<ParsedPolicy> policies) {
    }

    private static final class Entry {
        /** Who the file is to the cross-file rules, for as long as it is in the catalog. */
        final int id;
        final Path file;
        PolicyDirectory.Fingerprint fingerprint;
        /** The content on disk when valid on its own; null when it is not. */
        Version candidate;
        /** Why the content on disk is not valid on its own (parse, safety); empty when it is. */
        List<PolicyError> fileErrors = List.of();
        /** The version applied now, or null. */
        Version applied;
        /** Whether the file is missing now, and since when (clock nanos); its groups stay meanwhile. */
        boolean gone;
        long goneSince;
        /** The status of the last refresh, and what it was made from (compared by identity). */
        CatalogState.FileStatus status;
        List<ParsedPolicy> statusApplied;
        List<PolicyError> statusFileErrors;
        List<PolicyError> statusCrossErrors;

        Entry(int id, Path file) {
            this.id = id;
            this.file = file;
        }
    }

    public PolicyCatalog(PolicyParser parser, Path policyDir, Path acceptedDir) {
        this(parser, policyDir, acceptedDir, REMOVAL_DELAY);
    }

    /** @param removalDelay how long a file must stay away before its groups are removed (zero: at once) */
    public PolicyCatalog(PolicyParser parser, Path policyDir, Path acceptedDir, java.time.Duration removalDelay) {
        this(parser, policyDir, acceptedDir, RACY_WINDOW, removalDelay, System::nanoTime);
    }

    /** policy.md: "A file that disappears and comes back within 1 s is an edit". */
    public static final java.time.Duration REMOVAL_DELAY = java.time.Duration.ofSeconds(1);

    /**
     * File timestamps come from the kernel's coarse clock, so a second write within the same tick
     * can leave size, mtime, ctime and inode all unchanged. A file changed this recently is read
     * again on the next refresh instead of trusting its fingerprint (git's "racy clean" rule).
     */
    static final java.time.Duration RACY_WINDOW = java.time.Duration.ofSeconds(2);
    /** Below this many files to read, parallel parsing costs more than it saves. */
    private static final int PARALLEL_READS = 16;

    PolicyCatalog(PolicyParser parser, Path policyDir, Path acceptedDir, java.time.Duration racyWindow,
                  java.time.Duration removalDelay, java.util.function.LongSupplier clock) {
        if (removalDelay.isNegative()) {
            throw new IllegalArgumentException("jgovernor.reconcile.removal-delay must not be negative, got " + removalDelay);
        }
        this.parser = parser;
        this.directory = new PolicyDirectory(policyDir);
        this.acceptedDir = acceptedDir;
        this.racyWindow = racyWindow;
        this.removalDelay = removalDelay;
        this.clock = clock;
    }

    /**
     * Reads what changed and works out the desired state again from all files.
     *
     * @throws IOException when the policy directory (or, on the first refresh, the accepted
     *                     copies) cannot be read; nothing has changed then, and the caller must
     *                     keep applying what the previous state said
     */
    public CatalogState refresh() throws IOException {
        List<PolicyDirectory.Candidate> listed = directory.list();
        start();
        Optional<String> dirProblem = FileSafety.directoryProblem(directory.dir());
        Set<String> present = new java.util.HashSet<>();
        List<Entry> toRead = new ArrayList<>();
        for (PolicyDirectory.Candidate c : listed) {
            String name = c.file().getFileName().toString();
            present.add(name);
            Entry e = entries.computeIfAbsent(name, k -> newEntry(c.file()));
            back(name, e);
            if (dirProblem.isPresent()) {
                refuse(e, dirProblem.get());
            } else if (!c.fingerprint().equals(e.fingerprint)) {
                e.fingerprint = c.fingerprint();
                toRead.add(e);
            }
        }
        long now = clock.getAsLong();
        for (String gone : new ArrayList<>(entries.keySet())) {
            if (!present.contains(gone)) {
                missing(gone, now);
            }
        }
        readAll(toRead);
        return resolveAll();
    }

    /**
     * Like {@link #refresh()}, but reads only the files named (as inotify reported them), so an
     * edit costs the same with one policy file or a thousand: the cross-file rules judge those
     * files (and those still waiting to be accepted) against the groups applied now, and only the
     * files whose state that can change get a new status. The first refresh is always a full one.
     */
    public CatalogState refresh(java.util.Collection<String> names) throws IOException {
        if (!started) {
            return refresh();
        }
        Optional<String> dirProblem = FileSafety.directoryProblem(directory.dir());
        if (!Files.isDirectory(directory.dir())) {
            throw new java.nio.file.NoSuchFileException(directory.dir().toString(), null, "policy directory is gone");
        }
        List<Entry> toRead = new ArrayList<>();
        // files missing for a while are looked at on every refresh: back, or due for removal
        Set<String> look = new TreeSet<>(names);
        entries.forEach((name, e) -> {
            if (e.gone) {
                look.add(name);
            }
        });
        long now = clock.getAsLong();
        for (String name : look) {
            Optional<PolicyDirectory.Candidate> c = directory.candidate(name);
            if (c.isEmpty()) {
                missing(name, now);
                continue;
            }
            Entry e = entries.computeIfAbsent(name, k -> newEntry(c.get().file()));
            back(name, e);
            if (dirProblem.isPresent()) {
                refuse(e, dirProblem.get());
            } else {
                // named by an event: read it whatever its fingerprint says
                e.fingerprint = c.get().fingerprint();
                toRead.add(e);
            }
        }
        readAll(toRead);
        return resolve(look);
    }

    private void start() throws IOException {
        if (!started) {
            Map<String, Version> copies = loadAccepted();
            copies.forEach((name, version) -> {
                Entry e = newEntry(directory.dir().resolve(name));
                e.applied = version;
                entries.put(name, e);
            });
            started = true;
        }
    }

    /**
     * {@code name} is not in the directory now. A file that contributes groups keeps them until it
     * has been away for {@code removalDelay}; one that contributes nothing goes at once.
     */
    private void missing(String name, long now) {
        Entry e = entries.get(name);
        if (e == null) {
            return;
        }
        if (e.applied == null || removalDelay.isZero()) {
            remove(name);
        } else if (!e.gone) {
            e.gone = true;
            e.goneSince = now;
            e.fingerprint = null; // whatever comes back is read
            LOG.log(System.Logger.Level.INFO, () -> "policy file " + e.file + " is gone; its groups are removed unless it is back"
                    + " within " + removalDelay.toMillis() + " ms");
        } else if (now - e.goneSince >= removalDelay.toNanos()) {
            LOG.log(System.Logger.Level.INFO, () -> "policy file " + e.file + " stayed away " + removalDelay.toMillis()
                    + " ms: removing its groups");
            remove(name);
        }
    }

    private void remove(String name) {
        Entry e = entries.remove(name);
        deleteCopy(name);
        pending.remove(name);
        recheck.remove(name);
        if (cross != null && e != null && e.applied != null) {
            cross.drop(e.id, e.applied.policies());
        }
        removed.add(name);
    }

    /** The file is in the directory: if it had gone, it was replaced, which is an edit. */
    private void back(String name, Entry e) {
        if (e.gone) {
            e.gone = false;
            long ms = (clock.getAsLong() - e.goneSince) / 1_000_000;
            LOG.log(System.Logger.Level.INFO, () -> "policy file " + e.file + " is back after " + ms + " ms: an edit, nothing removed");
        }
    }

    /**
     * How long until a missing file's groups are due for removal (zero or negative: due now), so
     * that the reconcile loop refreshes then; empty when no file is missing.
     */
    public Optional<java.time.Duration> untilNextRemoval() {
        long now = clock.getAsLong();
        Optional<java.time.Duration> next = Optional.empty();
        for (Entry e : entries.values()) {
            if (e.gone) {
                java.time.Duration left = java.time.Duration.ofNanos(e.goneSince + removalDelay.toNanos() - now);
                if (next.isEmpty() || left.compareTo(next.get()) < 0) {
                    next = Optional.of(left);
                }
            }
        }
        return next;
    }

    private void refuse(Entry e, String dirProblem) {
        e.candidate = null;
        e.fileErrors = List.of(PolicyError.whole(directory.dir(), dirProblem));
        e.fingerprint = null; // read again once the directory is fixed
    }

    /**
     * Reads and parses changed files, on all CPUs when there are many (a cold start reads every
     * file). A file changed within the racy window keeps no fingerprint, so it is read again.
     */
    private void readAll(List<Entry> toRead) {
        if (toRead.size() >= PARALLEL_READS) {
            toRead.parallelStream().forEach(this::read);
        } else {
            toRead.forEach(this::read);
        }
        for (Entry e : toRead) {
            if (e.fingerprint != null && racy(e.fingerprint)) {
                e.fingerprint = null;
            }
        }
    }

    private CrossFile.Input input(Entry e) {
        return new CrossFile.Input(e.file, e.applied == null ? List.of() : e.applied.policies(),
                e.candidate == null ? null : e.candidate.policies());
    }

    /** Applies the cross-file rules to every file's state and says what is desired now. */
    private CatalogState resolveAll() {
        List<String> names = new ArrayList<>(entries.keySet());
        List<CrossFile.Input> inputs = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        CrossFile all = new CrossFile();
        for (String name : names) {
            Entry e = entries.get(name);
            CrossFile.Input in = input(e);
            inputs.add(in);
            ids.add(e.id);
            all.load(e.id, e.file, in.previous());
        }
        List<CrossFile.Settled> settled = all.settle(ids, inputs);
        all.takeChanges();
        cross = all;
        removed.clear();
        pending.clear();
        recheck.clear();
        SortedMap<GroupName, Policy> groups = new TreeMap<>();
        SortedMap<String, CatalogState.FileStatus> byFile = new TreeMap<>();
        Set<PolicyError> allErrors = new LinkedHashSet<>();
        for (int i = 0; i < names.size(); i++) {
            Entry e = entries.get(names.get(i));
            CrossFile.Outcome o = all.outcome(inputs.get(i), settled.get(i));
            CatalogState.FileStatus status = settle(names.get(i), e, o);
            for (ParsedPolicy p : o.applied()) {
                groups.putIfAbsent(p.policy().name(), p.policy());
            }
            byFile.put(names.get(i), status);
            allErrors.addAll(status.errors());
        }
        desired = SortedSnapshot.of(groups);
        statuses = SortedSnapshot.of(byFile);
        errors = List.copyOf(allErrors);
        return new CatalogState(desired, statuses.valueList(), errors);
    }

    /**
     * The cross-file rules for the files in {@code touched} (read again, gone or back) and those
     * whose valid version still waits, against the groups applied now; then a new status for
     * those files and for the files that hold a child of a group that came or went (whether their
     * parent is defined changed). The outcome is the one {@link #resolveAll()} would give:
     * PolicyCatalogIncrementalTest compares the two over random edit sequences.
     */
    private CatalogState resolve(java.util.Collection<String> touched) {
        if (cross == null) {
            return resolveAll();
        }
        SortedSet<String> judged = new TreeSet<>();
        for (String name : touched) {
            if (entries.containsKey(name)) {
                judged.add(name);
            }
        }
        judged.addAll(pending);
        List<CrossFile.Input> inputs = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        for (String name : judged) {
            Entry e = entries.get(name);
            inputs.add(input(e));
            ids.add(e.id);
        }
        List<CrossFile.Settled> settled = cross.settle(ids, inputs);
        Set<String> changedGroups = cross.takeChanges();
        SortedSet<String> restated = new TreeSet<>(judged);
        restated.addAll(recheck);
        for (Path holder : cross.holdersOfChildren(changedGroups)) {
            restated.add(holder.getFileName().toString());
        }
        Map<String, CrossFile.Settled> byName = new HashMap<>();
        int i = 0;
        for (String name : judged) {
            byName.put(name, settled.get(i++));
        }
        SortedMap<String, CatalogState.FileStatus> statusChanges = new TreeMap<>();
        boolean errorsMayChange = !errors.isEmpty();
        for (String name : restated) {
            Entry e = entries.get(name);
            if (e == null) {
                continue;
            }
            CrossFile.Input in = input(e);
            CrossFile.Settled s = byName.get(name);
            CatalogState.FileStatus status = settle(name, e, cross.outcome(in, s == null ? CrossFile.unchanged(in) : s));
            statusChanges.put(name, status);
            errorsMayChange |= !status.errors().isEmpty();
        }
        for (String name : removed) {
            if (!entries.containsKey(name)) {
                statusChanges.put(name, null);
                pending.remove(name);
            }
        }
        removed.clear();
        statuses = statuses.with(statusChanges);
        if (errorsMayChange) {
            Set<PolicyError> allErrors = new LinkedHashSet<>();
            statuses.values().forEach(st -> allErrors.addAll(st.errors()));
            errors = List.copyOf(allErrors);
        }
        SortedMap<GroupName, Policy> groupChanges = new TreeMap<>();
        cross.applied(changedGroups).forEach((g, p) -> groupChanges.put(new GroupName(g), p == null ? null : p.policy()));
        SortedSnapshot<GroupName, Policy> before = desired;
        desired = desired.with(groupChanges);
        return new CatalogState(desired, statuses.valueList(), errors,
                new CatalogState.Change(before, java.util.Collections.unmodifiableSet(groupChanges.keySet())));
    }

    /**
     * One file's outcome made its state: the version it applies from now on (with its accepted
     * copy), and its status, kept as the same object when nothing in it changed.
     */
    private CatalogState.FileStatus settle(String name, Entry e, CrossFile.Outcome o) {
        if (o.moved() && e.applied != e.candidate) {
            boolean newContent = e.applied == null || !e.applied.content().equals(e.candidate.content());
            e.applied = e.candidate; // the same object from now on: an unchanged file is not checked again
            if (newContent) {
                writeCopy(name, e.applied.content());
            }
        }
        if (o.applied().isEmpty() && !o.moved()) {
            e.applied = null;
        }
        if (e.candidate != null && e.candidate != e.applied) {
            pending.add(name); // waits for a name to be given up or a parent to appear
        } else {
            pending.remove(name);
        }
        if (o.moved() && !o.errors().isEmpty()) {
            recheck.add(name);
        } else {
            recheck.remove(name);
        }
        boolean onLastGood = !o.moved() && !o.applied().isEmpty();
        // A file whose state did not move since the last refresh keeps its status object: an
        // edit of one file among thousands does not rebuild every other file's status.
        CatalogState.FileStatus status = e.status;
        if (status == null || e.statusApplied != o.applied() || e.statusFileErrors != e.fileErrors
                || !e.statusCrossErrors.equals(o.errors()) || status.onLastGood() != onLastGood
                || status.removing() != e.gone) {
            List<PolicyError> errors = new ArrayList<>(e.fileErrors);
            errors.addAll(o.errors());
            Set<GroupName> groups = new TreeSet<>();
            for (ParsedPolicy p : o.applied()) {
                groups.add(p.policy().name());
            }
            status = new CatalogState.FileStatus(e.file, errors.isEmpty(), errors, new TreeSet<>(groups), onLastGood,
                    e.gone);
            e.status = status;
            e.statusApplied = o.applied();
            e.statusFileErrors = e.fileErrors;
            e.statusCrossErrors = o.errors();
        }
        return status;
    }

    private boolean racy(PolicyDirectory.Fingerprint f) {
        long newest = Math.max(f.mtimeNanos(), f.ctimeNanos());
        java.time.Instant now = java.time.Instant.now();
        long nowNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        return nowNanos - newest < racyWindow.toNanos();
    }

    /** Reads and parses a changed file; any problem leaves it without a candidate. */
    private void read(Entry e) {
        Version before = e.candidate;
        e.candidate = null;
        Optional<String> unsafe = FileSafety.fileProblem(e.file);
        if (unsafe.isPresent()) {
            // gone, or replaced while it was looked at (unlink + create): judged next pass
            if (unsafe.get().equals(FileSafety.GONE) || !Files.exists(e.file, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                    || !unsafe.equals(FileSafety.fileProblem(e.file))) {
                keepForNextPass(e, before);
                return;
            }
            e.fileErrors = List.of(PolicyError.whole(e.file, unsafe.get()));
            return;
        }
        String content;
        try {
            content = Files.readString(e.file);
        } catch (NoSuchFileException ex) {
            keepForNextPass(e, before);
            return;
        } catch (CharacterCodingException ex) {
            e.fileErrors = List.of(Utf8Errors.of(e.file));
            return;
        } catch (IOException ex) {
            e.fileErrors = List.of(PolicyError.whole(e.file, "cannot read file: " + ex));
            return;
        }
        switch (parser.parse(e.file, content)) {
            case ParseResult.Ok ok -> {
                e.candidate = new Version(content, ok.policies());
                e.fileErrors = List.of();
            }
            case ParseResult.Rejected rejected -> e.fileErrors = rejected.errors();
        }
    }

    /**
     * A file listed in this pass and gone when read (a deploy tool's unlink before create) is
     * not a broken file: it keeps what it had and is read again next pass, which sees it gone
     * or back.
     */
    private static void keepForNextPass(Entry e, Version before) {
        e.candidate = before;
        e.fingerprint = null;
    }

    /**
     * The copies a previous run accepted. A copy whose file is missing now is loaded too: its file
     * may be in the middle of a replacement (a deploy that races the start), so it is treated like
     * a file that went away while the daemon runs, and its groups are removed once the file has
     * stayed away for {@code removalDelay}. A copy that no longer validates (the host changed
     * under it) is not a good version any more and is ignored.
     */
    private Map<String, Version> loadAccepted() throws IOException {
        Files.createDirectories(acceptedDir);
        Map<String, Version> copies = new TreeMap<>();
        List<Path> stale = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(acceptedDir)) {
            for (Path copy : files) {
                String name = copy.getFileName().toString();
                if (name.startsWith(".") || !Files.isRegularFile(copy)) {
                    stale.add(copy);
                    continue;
                }
                Path original = directory.dir().resolve(name);
                switch (parser.parse(original, Files.readString(copy))) {
                    case ParseResult.Ok ok -> copies.put(name, new Version(Files.readString(copy), ok.policies()));
                    case ParseResult.Rejected r -> LOG.log(System.Logger.Level.WARNING,
                            "ignoring the last accepted copy of {0}: it no longer validates: {1}", original, r.errors());
                }
            }
        }
        for (Path copy : stale) {
            if (!Files.isDirectory(copy)) {
                Files.deleteIfExists(copy);
            }
        }
        // Copies from one consistent state never overlap; if they do, keep name order's first.
        Map<GroupName, String> owner = new HashMap<>();
        for (String name : new ArrayList<>(copies.keySet())) {
            boolean clash = copies.get(name).policies().stream()
                    .anyMatch(p -> owner.containsKey(p.policy().name()));
            if (clash) {
                copies.remove(name);
            } else {
                copies.get(name).policies().forEach(p -> owner.put(p.policy().name(), name));
            }
        }
        return copies;
    }

    /**
     * Accepted copies are written by one thread of their own, so a pass does not wait for a
     * thousand file writes before it reaches the kernel (a cold start writes one per policy file).
     * What is made while the thread writes waits in {@link #pendingCopies} (the newest version of
     * each name, a removal as null) and goes out as the next batch, made durable together
     * ({@link DurableFiles#replaceAll}). A crash before a batch is durable keeps the copy before
     * it, which is a version that was valid too. {@link #flushCopies()} waits for the queue.
     */
    private final java.util.concurrent.ExecutorService copyWriter = java.util.concurrent.Executors
            .newSingleThreadExecutor(r -> Thread.ofPlatform().name("jgovernor-accepted-copies").daemon(true).unstarted(() -> {
                copyWriterTid = ownTid();
                // SCHED_IDLE: the copies of a cold start (1000 files: creates, writes, renames)
                // take CPU only when the pass that applies them leaves some; beside it they cost
                // the pass 0.2x of the raw apply's time (issue 18). flushCopies lifts it.
                Libc.schedSetschedulerRaw(Libc.SCHED_IDLE, 0);
                r.run();
            }));
    /** The copy writer's thread id once it runs (0 before): flushCopies raises its class. */
    private volatile int copyWriterTid;
    private final Object copyLock = new Object();
    private java.util.LinkedHashMap<String, byte[]> pendingCopies = new java.util.LinkedHashMap<>();
    private boolean copyBatchQueued;

    private void writeCopy(String name, String content) {
        queueCopy(name, content.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private void deleteCopy(String name) {
        queueCopy(name, null);
    }

    private void queueCopy(String name, byte[] content) {
        synchronized (copyLock) {
            pendingCopies.remove(name); // the newest change of a name goes last
            pendingCopies.put(name, content);
            if (!copyBatchQueued) {
                copyBatchQueued = true;
                copyWriter.execute(this::writeCopies);
            }
        }
    }

    /** Waits until every accepted copy made so far is on disk (for a clean stop, and tests). */
    public void flushCopies() {
        // someone waits now (a stop): on a busy host an idle-class thread could take minutes
        int tid = copyWriterTid;
        if (tid > 0) {
            Libc.schedSetschedulerRaw(tid, Libc.SCHED_OTHER, 0);
        }
        try {
            copyWriter.submit(() -> { }).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } finally {
            if (tid > 0) {
                Libc.schedSetschedulerRaw(tid, Libc.SCHED_IDLE, 0);
            }
        }
    }

    /** This thread's id, from /proc/thread-self ("PID/task/TID"); 0 if it cannot be read. */
    private static int ownTid() {
        try {
            String link = Files.readSymbolicLink(Path.of("/proc/thread-self")).toString();
            return Integer.parseInt(link.substring(link.lastIndexOf('/') + 1));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /**
     * Written durably (temp files, one syncfs, renames, an fsync of the directory), so a crash or a
     * power cut never leaves half a copy, nor loses one the daemon has acted on.
     */
    private void writeCopies() {
        java.util.LinkedHashMap<String, byte[]> batch;
        synchronized (copyLock) {
            batch = pendingCopies;
            pendingCopies = new java.util.LinkedHashMap<>();
            copyBatchQueued = false;
        }
        try {
            Files.createDirectories(acceptedDir);
            DurableFiles.replaceAll(acceptedDir, batch);
        } catch (IOException | RuntimeException ex) {
            // The versions are applied all the same; only a restart with an invalid file would miss them.
            LOG.log(System.Logger.Level.WARNING, "cannot keep the accepted copies of " + batch.keySet() + " in "
                    + acceptedDir, ex);
        }
    }
}
