package io.jgovernor.metrics;

import io.jgovernor.cgroup.CgroupFiles;
import io.jgovernor.model.GroupName;
import io.jgovernor.sys.Libc;
import io.jgovernor.testing.TestCgroups;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Not a test (no timing assertions): {@code bin/bench-scrape}, or
 * {@code ./mvnw -B -q test -Dtest=ScrapeBenchmark -Djgovernor.benchmark=true}. One scrape of 1000
 * real groups (directories in cpu, cpuacct, memory, blkio and pids: 14 files each: memory.stat for the working set and, on a hybrid host, the unified directory's three pressure files), written out
 * in the text format, against the floor of reading the same 10,000 files in a plain loop: raw
 * open/read/close downcalls on pre-encoded paths into one buffer, and the same loop through
 * CgroupFiles. Interleaved rounds, medians; bytes allocated per scrape from the thread's counter.
 */
class ScrapeBenchmark {
    private static final int GROUPS = 1000;
    private static final int ROUNDS = 15;
    private static final String[][] FILES = {
            {"cpuacct", "cpuacct.usage", "cgroup.procs"},
            {"cpu", "cpu.stat", "cpu.cfs_quota_us", "cpu.cfs_period_us"},
            {"memory", "memory.usage_in_bytes", "memory.limit_in_bytes", "memory.oom_control", "memory.stat"},
            {"blkio", "blkio.throttle.io_service_bytes"},
            {"pids", "pids.current"},
            // the group's directory in a hybrid host's unified tree (jgovernor.cgroup.hybrid-unified)
            {"", "cpu.pressure", "memory.pressure", "io.pressure"}};

    @Test
    void scrapeThousandGroups() throws Exception {
        Assumptions.assumeTrue(Boolean.getBoolean("jgovernor.benchmark"), "benchmark: run with -Djgovernor.benchmark=true");
        try (TestCgroups cg = TestCgroups.create()) {
            List<GroupName> groups = new ArrayList<>();
            List<Path> dirs = new ArrayList<>();
            List<String> names = new ArrayList<>();
            for (int i = 0; i < GROUPS; i++) {
                GroupName g = new GroupName("g" + i);
                groups.add(g);
                for (String[] c : FILES) {
                    if (c[0].isEmpty() && cg.layout().unified().isEmpty()) {
                        continue;
                    }
                    Path dir = cg.makeGroup(c[0], g);
                    for (int f = 1; f < c.length; f++) {
                        dirs.add(dir);
                        names.add(c[f]);
                    }
                }
            }
            CgroupFiles files = cg.files();
            GroupStats stats = GroupStats.of(StatFiles.of(files), io.jgovernor.cgroup.Backend.of(cg.layout(), files));
            // the host's three /proc/pressure files are read once per scrape: once per round in the floor too
            for (String f : new String[]{"cpu", "memory", "io"}) {
                dirs.add(PressureStats.HOST);
                names.add(f);
            }
            Metrics metrics = new Metrics(new GroupCollector(() -> groups, stats, EventCounters.NONE,
                    PressureStats.of(StatFiles.of(files), cg.layout())),
                    new DaemonCollector(() -> null, () -> 0, () -> 0, EventCounters.NONE), true);

            Arena arena = Arena.ofConfined();
            MemorySegment[] paths = new MemorySegment[dirs.size()];
            for (int i = 0; i < paths.length; i++) {
                paths[i] = arena.allocateFrom(dirs.get(i).resolve(names.get(i)).toString());
            }
            MemorySegment buf = arena.allocate(64 * 1024);
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long self = Thread.currentThread().threadId();

            long[] raw = new long[ROUNDS];
            long[] viaFiles = new long[ROUNDS];
            long[] scrape = new long[ROUNDS];
            long[] allocated = new long[ROUNDS];
            for (int warm = 0; warm < 5; warm++) {
                rawLoop(paths, buf);
                filesLoop(files, dirs, names);
                metrics.write(OutputStream.nullOutputStream(), null);
            }
            for (int r = 0; r < ROUNDS; r++) {
                long t0 = System.nanoTime();
                long bytes = rawLoop(paths, buf);
                raw[r] = System.nanoTime() - t0;
                t0 = System.nanoTime();
                filesLoop(files, dirs, names);
                viaFiles[r] = System.nanoTime() - t0;
                long a0 = threads.getThreadAllocatedBytes(self);
                t0 = System.nanoTime();
                metrics.write(OutputStream.nullOutputStream(), null);
                scrape[r] = System.nanoTime() - t0;
                allocated[r] = threads.getThreadAllocatedBytes(self) - a0;
                assertEquals(true, bytes > 0);
            }
            assertEquals(0, stats.errors(), "scrape errors");
            double floor = median(raw) / 1e6;
            double files2 = median(viaFiles) / 1e6;
            double s = median(scrape) / 1e6;
            System.out.printf("scrape benchmark: %d groups, %d files, %d rounds (medians)%n", GROUPS, paths.length, ROUNDS);
            System.out.printf("  floor: raw open/read/close loop         %8.1f ms%n", floor);
            System.out.printf("  same loop through CgroupFiles.read      %8.1f ms%n", files2);
            System.out.printf("  scrape: collect + text exposition       %8.1f ms  (%.2fx the floor)%n", s, s / floor);
            System.out.printf("  allocated per scrape                    %8.1f MiB (%d bytes)%n",
                    median(allocated) / 1048576.0, (long) median(allocated));
        }
    }

    private static long rawLoop(MemorySegment[] paths, MemorySegment buf) {
        long total = 0;
        for (MemorySegment p : paths) {
            int fd = Libc.openRaw(p, Libc.O_RDONLY | Libc.O_CLOEXEC);
            if (fd < 0) {
                throw new IllegalStateException("open failed: " + p.getString(0) + " errno " + -fd);
            }
            long n;
            while ((n = Libc.readRaw(fd, buf, buf.byteSize())) > 0) {
                total += n;
            }
            Libc.closeRaw(fd);
        }
        return total;
    }

    private static void filesLoop(CgroupFiles files, List<Path> dirs, List<String> names) throws Exception {
        for (int i = 0; i < dirs.size(); i++) {
            files.read(dirs.get(i), names.get(i));
        }
    }

    private static double median(long[] values) {
        long[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2.0;
    }
}
