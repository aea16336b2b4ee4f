package io.jgovernor.events;

import io.jgovernor.sys.DurableFiles;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The durable queue of undelivered events, {@code <state-dir>/spool/}: one file per event, written
 * before any delivery is tried, removed when every receiver acknowledged it.
 *
 * <p>An event file is written under a temporary name, fsync'd, renamed into place and the directory
 * fsync'd, so a crash leaves either no file or a whole one. It names the receivers the event must
 * reach (resolved when the event was made) and ends with an {@code end} line, so a file cut short
 * is recognised. Acknowledgements are appended, one receiver per line, to {@code NAME.acked} and
 * fsync'd: after a restart a receiver that already has the event does not get it again (a line cut
 * short by a crash only means one more delivery, which at-least-once allows).
 *
 * <p>An event can be sent before its file is written ({@link #prepare} then {@link #persist}, on
 * another thread): the two fsyncs are then off the path from the kernel's notification to the
 * receiver. An acknowledgement that arrives first is kept in memory, and {@code persist} writes
 * only what is still owed (nothing, when every receiver already has it).
 *
 * <p>A file that cannot be read back at startup is logged, counted and moved to {@code corrupt/};
 * it never stops the daemon. When the spool holds {@code maxEvents} events, the oldest are dropped
 * (logged and counted) to make room: the newest news about a memory problem is the most useful.
 */
public final class Spool {
    private static final System.Logger LOG = System.getLogger(Spool.class.getName());
    private static final String MAGIC = "jgovernor-spool 1";
    private static final Pattern NAME = Pattern.compile("(\\d{16})-([0-9a-f-]{36})\\.event");
    private static final String ACKED = ".acked";
    private static final String TMP = ".tmp-";

    /** One spooled event: the document as sent, and which receivers still need it. */
    public static final class Entry {
        private final String name;
        private final Event event;
        private final byte[] body;
        private final List<URI> receivers;
        private final Set<URI> acked = ConcurrentHashMap.newKeySet();
        private final boolean durable;
        /** Prepared and not persisted yet: deliverable, but not in the spool's map (guarded by the spool). */
        private boolean preparing;

        Entry(String name, Event event, List<URI> receivers, boolean durable) {
            this.name = name;
            this.event = event;
            this.body = event.toCloudEvent().getBytes(StandardCharsets.UTF_8);
            this.receivers = List.copyOf(receivers);
            this.durable = durable;
        }

        public Event event() {
            return event;
        }

        /** The exact bytes POSTed (and signed). */
        public byte[] body() {
            return body.clone();
        }

        byte[] bodyBytes() {
            return body;
        }

        public List<URI> receivers() {
            return receivers;
        }

        /** Receivers that have not acknowledged the event yet. */
        public List<URI> pending() {
            return receivers.stream().filter(r -> !acked.contains(r)).toList();
        }

        public boolean durable() {
            return durable;
        }

        String name() {
            return name;
        }
    }

    private final Path dir;
    private final int maxEvents;
    private final DeliveryStats stats;
    private final TreeMap<String, Entry> entries = new TreeMap<>();
    /** Prepared, not persisted yet: owed like the others, so counted and listed with them. */
    private final Set<Entry> prepared = new LinkedHashSet<>();
    private long nextSequence;

    public Spool(Path dir, int maxEvents, DeliveryStats stats) throws IOException {
        if (maxEvents < 1) {
            throw new IllegalArgumentException("jgovernor.webhook.spool-max-events must be at least 1, got " + maxEvents);
        }
        this.dir = dir;
        this.maxEvents = maxEvents;
        this.stats = stats;
        Files.createDirectories(dir);
    }

    public Path dir() {
        return dir;
    }

    /**
     * Reads what an earlier run left: the undelivered events, oldest first. Files cut short or
     * unreadable are moved to {@code corrupt/}; temporary files of an interrupted write are removed.
     */
    public synchronized List<Entry> load() throws IOException {
        List<Path> names = new ArrayList<>();
        try (DirectoryStream<Path> list = Files.newDirectoryStream(dir)) {
            list.forEach(names::add);
        }
        Collections.sort(names);
        Set<String> events = new LinkedHashSet<>();
        for (Path p : names) {
            String n = p.getFileName().toString();
            if (n.startsWith(TMP)) {
                Files.deleteIfExists(p); // a write that never reached its rename: nothing was promised
            } else if (n.endsWith(".event")) {
                events.add(n);
            }
        }
        List<Entry> loaded = new ArrayList<>();
        for (String n : events) {
            Matcher m = NAME.matcher(n);
            Entry e = null;
            String problem;
            try {
                problem = m.matches() ? null : "unexpected name";
                if (problem == null) {
                    e = read(n);
                }
            } catch (IOException | RuntimeException ex) {
                problem = ex.getMessage();
            }
            if (e == null) {
                moveAside(n, problem);
                continue;
            }
            nextSequence = Math.max(nextSequence, Long.parseLong(m.group(1)) + 1);
            if (e.pending().isEmpty()) {
                remove(e); // every receiver had it; the crash came before the file went
                continue;
            }
            entries.put(n, e);
            loaded.add(e);
        }
        for (Path p : names) {
            String n = p.getFileName().toString();
            if (n.endsWith(ACKED) && !entries.containsKey(n.substring(0, n.length() - ACKED.length()))) {
                Files.deleteIfExists(p); // its event is gone
            }
        }
        if (!loaded.isEmpty()) {
            LOG.log(System.Logger.Level.INFO, "spool " + dir + ": " + loaded.size() + " undelivered events from an earlier run");
        }
        return loaded;
    }

    private Entry read(String name) throws IOException {
        String text = Files.readString(dir.resolve(name), StandardCharsets.UTF_8);
        List<String> lines = text.lines().toList();
        if (lines.size() < 3 || !lines.getFirst().equals(MAGIC) || !text.endsWith("\nend\n")) {
            throw new IOException("not a whole spool file (cut short by a crash?)");
        }
        List<URI> receivers = new ArrayList<>();
        Event event = null;
        for (String line : lines.subList(1, lines.size() - 1)) {
            if (line.startsWith("to ")) {
                receivers.add(URI.create(line.substring(3)));
            } else if (line.startsWith("event ")) {
                event = Event.fromCloudEvent(line.substring(6));
            } else {
                throw new IOException("unexpected line \"" + line + "\"");
            }
        }
        if (event == null) {
            throw new IOException("no event line");
        }
        if (!name.contains(event.id().toString())) {
            throw new IOException("the event id " + event.id() + " does not match the file name");
        }
        Entry e = new Entry(name, event, receivers, true);
        Path acked = dir.resolve(name + ACKED);
        if (Files.exists(acked)) {
            String a = Files.readString(acked, StandardCharsets.UTF_8);
            int end = a.lastIndexOf('\n');
            // only whole lines count: a line cut short means the receiver gets the event again
            for (String line : (end < 0 ? "" : a.substring(0, end)).lines().toList()) {
                for (URI r : receivers) {
                    if (r.toString().equals(line)) {
                        e.acked.add(r);
                    }
                }
            }
        }
        return e;
    }

    private void moveAside(String name, String problem) {
        stats.corrupt.increment();
        try {
            Path corrupt = Files.createDirectories(dir.resolve("corrupt"));
            Files.move(dir.resolve(name), corrupt.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            Files.deleteIfExists(dir.resolve(name + ACKED));
            LOG.log(System.Logger.Level.WARNING, "spool file " + dir.resolve(name) + " cannot be read (" + problem
                    + "); moved to " + corrupt.resolve(name) + "; the other events are delivered as usual");
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "spool file " + dir.resolve(name) + " cannot be read (" + problem
                    + ") nor moved aside (" + e.getMessage() + "); it is ignored");
        }
    }

    /**
     * Makes {@code event} durable for {@code receivers} and returns its entry. With no receivers
     * nothing is written (there is nobody to deliver to).
     *
     * @throws IOException when it cannot be written; the event can still be delivered from memory
     */
    public synchronized Entry add(Event event, List<URI> receivers) throws IOException {
        Entry e = prepare(event, receivers);
        persist(e);
        return e;
    }

    /**
     * The entry of {@code event}, deliverable at once, before anything is written; {@link #persist}
     * makes it durable. A crash in between loses it from the spool only: the kill counts that
     * {@link OomEvents} keeps after the persist report its kills again at the next start.
     */
    public synchronized Entry prepare(Event event, List<URI> receivers) {
        String name = String.format("%016d-%s.event", nextSequence++, event.id());
        if (receivers.isEmpty()) {
            return new Entry(name, event, receivers, false);
        }
        Entry e = new Entry(name, event, receivers, true);
        e.preparing = true;
        prepared.add(e);
        return e;
    }

    /**
     * Makes a prepared entry durable with what it still owes: nothing is written when every
     * receiver acknowledged it meanwhile, and the receivers that did are written as acknowledged.
     *
     * @throws IOException when it cannot be written; it is then delivered from memory only
     */
    public synchronized void persist(Entry e) throws IOException {
        if (!e.preparing) {
            return;
        }
        e.preparing = false;
        prepared.remove(e);
        if (e.pending().isEmpty()) {
            return; // delivered before it was written: nothing is owed
        }
        while (entries.size() >= maxEvents) {
            Entry oldest = entries.firstEntry().getValue();
            stats.dropped.increment();
            LOG.log(System.Logger.Level.WARNING, "spool full (" + maxEvents + " events, jgovernor.webhook.spool-max-events):"
                    + " dropped the oldest undelivered event " + oldest.event.id() + " (group " + oldest.event.group()
                    + ", " + oldest.event.time() + "), not delivered to " + oldest.pending());
            remove(oldest);
        }
        String name = e.name;
        List<URI> receivers = e.receivers;
        StringBuilder text = new StringBuilder(e.body.length + 128).append(MAGIC).append('\n');
        for (URI r : receivers) {
            text.append("to ").append(r).append('\n');
        }
        text.append("event ").append(new String(e.body, StandardCharsets.UTF_8)).append("\nend\n");
        Path tmp = dir.resolve(TMP + name);
        DurableFiles.write(tmp, text.toString().getBytes(StandardCharsets.UTF_8), false);
        Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
        DurableFiles.syncDirectory(dir);
        entries.put(name, e);
        StringBuilder acked = new StringBuilder();
        receivers.stream().filter(e.acked::contains).forEach(r -> acked.append(r).append('\n'));
        if (!acked.isEmpty()) {
            DurableFiles.write(dir.resolve(name + ACKED), acked.toString().getBytes(StandardCharsets.UTF_8), true);
        }
    }

    /**
     * Records that {@code receiver} acknowledged the event; when it was the last one, the event
     * leaves the spool. Returns whether every receiver now has it.
     */
    public boolean ack(Entry e, URI receiver) throws IOException {
        synchronized (this) {
            if (!e.acked.add(receiver)) {
                return e.pending().isEmpty();
            }
            if (!e.durable || !entries.containsKey(e.name)) {
                return e.pending().isEmpty();
            }
            if (!e.pending().isEmpty()) {
                DurableFiles.write(dir.resolve(e.name + ACKED), (receiver + "\n").getBytes(StandardCharsets.UTF_8), true);
                return false;
            }
            remove(e);
            return true;
        }
    }

    /** Whether the entry still waits for delivery (false once delivered or dropped). */
    public synchronized boolean holds(Entry e) {
        return !e.durable || e.preparing ? !e.pending().isEmpty() : entries.get(e.name) == e;
    }

    /** Undelivered events in the spool. */
    public synchronized int size() {
        return entries.size() + (int) prepared.stream().filter(e -> !e.pending().isEmpty()).count();
    }

    /** (event, receiver) deliveries still owed by the spooled events: the queue depth. */
    public synchronized long pendingDeliveries() {
        long n = 0;
        for (Entry e : entries.values()) {
            n += e.pending().size();
        }
        for (Entry e : prepared) {
            n += e.pending().size();
        }
        return n;
    }

    /** The spooled entries, oldest first, then those still being written. */
    public synchronized List<Entry> entries() {
        List<Entry> all = new ArrayList<>(entries.values());
        prepared.stream().filter(e -> !e.pending().isEmpty()).forEach(all::add);
        return all;
    }

    private void remove(Entry e) throws IOException {
        entries.remove(e.name);
        // the event first: an acked file without its event is cleaned up at the next start
        Files.deleteIfExists(dir.resolve(e.name));
        Files.deleteIfExists(dir.resolve(e.name + ACKED));
    }

    /** For tests: the file of an entry. */
    Path fileOf(Entry e) {
        return dir.resolve(e.name);
    }

    Map<String, Entry> view() {
        return Collections.unmodifiableMap(entries);
    }
}
