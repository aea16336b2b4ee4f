package io.jgovernor.sys;

import io.jgovernor.testing.Json;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every downcall Libc makes must be registered for native-image, and nothing stale may be listed. */
class LibcMetadataTest {
    private static final String RESOURCE = "META-INF/native-image/io.jgovernor/jgovernor/reachability-metadata.json";

    /** A descriptor with its options, in a form both sides can produce. */
    record Entry(FunctionDescriptor descriptor, boolean captureCallState, long firstVariadicArg) {
    }

    @SuppressWarnings("unchecked")
    private static List<Entry> listed() throws IOException {
        try (InputStream in = LibcMetadataTest.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            assertNotNull(in, RESOURCE + " is missing from the classpath");
            Map<String, Object> root = (Map<String, Object>) Json.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            Map<String, Object> foreign = (Map<String, Object>) root.get("foreign");
            List<Entry> out = new ArrayList<>();
            for (Object o : (List<Object>) foreign.get("downcalls")) {
                Map<String, Object> d = (Map<String, Object>) o;
                assertTrue(Set.of("returnType", "parameterTypes", "options").containsAll(d.keySet()),
                        "native-image rejects unknown keys in a downcall entry: " + d.keySet());
                Map<String, Object> options = (Map<String, Object>) d.getOrDefault("options", Map.of());
                List<MemoryLayout> params = new ArrayList<>();
                for (Object p : (List<Object>) d.get("parameterTypes")) {
                    params.add(layout((String) p));
                }
                String ret = (String) d.get("returnType");
                FunctionDescriptor fd = ret.equals("void")
                        ? FunctionDescriptor.ofVoid(params.toArray(MemoryLayout[]::new))
                        : FunctionDescriptor.of(layout(ret), params.toArray(MemoryLayout[]::new));
                out.add(new Entry(fd, Boolean.TRUE.equals(options.get("captureCallState")),
                        options.containsKey("firstVariadicArg") ? (Long) options.get("firstVariadicArg") : -1));
            }
            return out;
        }
    }

    private static MemoryLayout layout(String canonical) {
        MemoryLayout l = Linker.nativeLinker().canonicalLayouts().get(canonical);
        assertNotNull(l, "\"" + canonical + "\" is not a canonical layout name");
        return l;
    }

    private static Entry entry(Libc.Downcall d) {
        return new Entry(strip(d.descriptor()), d.capturesErrno(), d.firstVariadicArg());
    }

    /** Layout names ("fd", ...) do not matter to native-image; compare without them. */
    private static FunctionDescriptor strip(FunctionDescriptor fd) {
        MemoryLayout[] args = fd.argumentLayouts().stream().map(LibcMetadataTest::unnamed).toArray(MemoryLayout[]::new);
        return fd.returnLayout().map(r -> FunctionDescriptor.of(unnamed(r), args)).orElse(FunctionDescriptor.ofVoid(args));
    }

    private static MemoryLayout unnamed(MemoryLayout l) {
        return l.withoutName();
    }

    @Test
    void everyDowncallIsListed() throws IOException {
        List<Entry> listed = listed();
        for (Libc.Downcall d : Libc.downcalls()) {
            assertTrue(listed.contains(entry(d)), d.function() + " " + d.descriptor() + " (captureCallState="
                    + d.capturesErrno() + ", firstVariadicArg=" + d.firstVariadicArg() + ") is not in " + RESOURCE);
        }
    }

    @Test
    void nothingStaleIsListed() throws IOException {
        Set<Entry> used = new HashSet<>();
        for (Libc.Downcall d : Libc.downcalls()) {
            used.add(entry(d));
        }
        for (Entry e : listed()) {
            assertTrue(used.contains(e), e + " is listed in " + RESOURCE + " but Libc makes no such downcall");
        }
        assertEquals(used.size(), new HashSet<>(listed()).size(), "duplicate entries in " + RESOURCE);
    }

    @Test
    void coversTheFunctionsTheDaemonNeeds() {
        Set<String> functions = new HashSet<>();
        Libc.downcalls().forEach(d -> functions.add(d.function()));
        assertTrue(functions.containsAll(Set.of("open", "read", "write", "close", "poll", "eventfd", "inotify_init1",
                "inotify_add_watch", "inotify_rm_watch", "getpid", "sysconf")), functions.toString());
    }
}
