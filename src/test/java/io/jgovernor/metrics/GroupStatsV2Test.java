package io.jgovernor.metrics;

import io.jgovernor.cgroup.Backend;
import io.jgovernor.cgroup.DeviceIo;
import io.jgovernor.cgroup.Fixtures;
import io.jgovernor.cgroup.GroupSample;
import io.jgovernor.cgroup.v2.V2Controllers;
import io.jgovernor.model.GroupName;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A v2 group's sample from files captured on the VM's 6.1 kernel (src/test/resources/cgroup/v2). */
class GroupStatsV2Test {
    static final Path ROOT = Path.of("/sys/fs/cgroup/system.slice/jgovernor.service/jgovernor");
    final Map<Path, String> files = new HashMap<>();
    final GroupStats stats = new GroupStats((dir, file) -> Optional.ofNullable(files.get(dir.resolve(file))),
            V2Controllers.all().stream().map(c -> new Backend.StatSource(c, ROOT)).toList());

    void put(String group, String file, String text) {
        files.put(ROOT.resolve(group).resolve(file), text);
    }

    @Test
    void everyFieldFromTheV2FilesInV1Units() {
        put("web", "cpu.stat", Fixtures.text("v2/cpu.stat-throttled"));
        put("web", "cpu.max", Fixtures.text("v2/cpu.max-half"));
        put("web", "memory.current", "1234944\n");
        put("web", "memory.max", "33554432\n");
        put("web", "memory.events", "low 0\nhigh 0\nmax 7\noom 2\noom_kill 1\noom_group_kill 0\n");
        put("web", "memory.stat", "anon 700000\nfile 500000\nkernel 30000\ninactive_anon 0\nactive_anon 700000\n"
                + "inactive_file 234944\nactive_file 265056\n");
        put("web", "io.stat", Fixtures.text("v2/io.stat-vda"));
        put("web", "pids.current", "3\n");
        put("web", "cgroup.procs", "204\n789\n");
        GroupSample s = stats.read(new GroupName("web"));
        assertEquals(OptionalLong.of(1_465_454_000L), s.cpuUsageNanos(), "usage_usec in ns");
        assertEquals(OptionalLong.of(19), s.throttledPeriods());
        assertEquals(OptionalLong.of(822_262_000L), s.throttledNanos(), "throttled_usec in ns");
        assertEquals(OptionalDouble.of(0.5), s.cpuQuotaCores());
        assertEquals(OptionalLong.of(1234944), s.memoryUsageBytes());
        assertEquals(OptionalLong.of(33554432), s.memoryLimitBytes());
        assertFalse(s.memoryUnlimited());
        assertEquals(OptionalLong.of(1), s.oomKills());
        assertEquals(List.of(new DeviceIo("254:0", 4857856, 0)), s.io());
        assertEquals(OptionalLong.of(3), s.pidsCurrent());
        assertEquals(OptionalLong.of(2), s.processes());
        Map<String, Double> own = new java.util.TreeMap<>();
        s.series().forEach(x -> own.put(x.metric() + x.labels(), x.value()));
        assertEquals(1_000_000.0, own.get("jgovernor_group_memory_working_set_bytes{}"), "memory.current - inactive_file");
        assertEquals(7.0, own.get("jgovernor_group_memory_events{event=max}"));
        assertEquals(2.0, own.get("jgovernor_group_memory_events{event=oom}"));
        assertEquals(0.0, own.get("jgovernor_group_memory_events{event=oom_group_kill}"), own.toString());
        assertEquals(0, stats.errors());
    }

    @Test
    void aFreshGroupWithOnlyCpuStatAndNoLimits() {
        put("idle", "cpu.stat", Fixtures.text("v2/cpu.stat-fresh"));
        put("idle", "cpu.max", Fixtures.text("v2/cpu.max-fresh"));
        put("idle", "memory.current", "0\n");
        put("idle", "memory.max", "max\n");
        put("idle", "memory.events", Fixtures.text("v2/memory.events-fresh"));
        put("idle", "io.stat", "");
        put("idle", "cgroup.procs", "");
        GroupSample s = stats.read(new GroupName("idle"));
        assertEquals(OptionalLong.of(0), s.cpuUsageNanos());
        assertEquals(OptionalDouble.empty(), s.cpuQuotaCores(), "max: no quota");
        assertTrue(s.memoryUnlimited());
        assertEquals(OptionalLong.empty(), s.memoryLimitBytes());
        assertEquals(OptionalLong.of(0), s.oomKills());
        assertEquals(List.of(), s.io());
        assertEquals(OptionalLong.empty(), s.pidsCurrent(), "pids not enabled for this group: no file");
        assertEquals(OptionalLong.of(0), s.processes());
    }

    @Test
    void malformedTextIsCountedNotThrown() {
        put("bad", "cpu.stat", "usage_usec x\n");
        put("bad", "io.stat", "garbage\n");
        GroupSample s = stats.read(new GroupName("bad"));
        assertEquals(OptionalLong.empty(), s.cpuUsageNanos());
        assertEquals(2, stats.errors());
    }

    @Test
    void aGroupsDirectoriesAreKeptBetweenScrapesAndForgottenWithTheGroup() {
        List<Path> asked = new java.util.ArrayList<>();
        GroupStats counting = new GroupStats((dir, file) -> {
            asked.add(dir);
            return Optional.empty();
        }, V2Controllers.all().stream().map(c -> new Backend.StatSource(c, ROOT)).toList());
        GroupName web = new GroupName("web");
        counting.read(web);
        List<Path> first = List.copyOf(asked);
        assertFalse(first.isEmpty());
        asked.clear();
        counting.read(web);
        assertEquals(first.size(), asked.size());
        for (int i = 0; i < first.size(); i++) {
            assertTrue(asked.get(i) == first.get(i), "the same Path object, not a new resolve: " + asked.get(i));
        }
        counting.keepOnly(List.of(new GroupName("db")));
        asked.clear();
        counting.read(web);
        assertEquals(first, asked);
        assertTrue(asked.get(0) != first.get(0), "forgotten with the group, made again");
    }
}
