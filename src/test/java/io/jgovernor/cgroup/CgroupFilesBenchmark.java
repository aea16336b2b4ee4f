package io.jgovernor.cgroup;

import io.jgovernor.cgroup.v1.V1Controllers;
import io.jgovernor.model.GroupName;
import io.jgovernor.model.Limit;
import io.jgovernor.model.Resources;
import io.jgovernor.sys.Libc;
import io.jgovernor.testing.TestCgroups;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.FileOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.jgovernor.testing.TestResources.all;
import static io.jgovernor.testing.TestResources.cpu;
import static io.jgovernor.testing.TestResources.cpuFull;
import static io.jgovernor.testing.TestResources.cpuset;
import static io.jgovernor.testing.TestResources.device;
import static io.jgovernor.testing.TestResources.io;
import static io.jgovernor.testing.TestResources.memory;
import static io.jgovernor.testing.TestResources.pids;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Not a test (no timing assertions): run with
 * {@code ./mvnw -B -q test -Dtest=CgroupFilesBenchmark -Djgovernor.benchmark=true}
 * and read the numbers it prints. 1000 groups x 14 files on the real cgroupfs, written through
 * CgroupFiles, against a raw loop of open/write/close downcalls on pre-encoded paths and values
 * (the least any Java code can do), and against FileOutputStream.
 */
class CgroupFilesBenchmark {
    private static final int GROUPS = 1000;
    private static final int ROUNDS = 7;

    record Target(Path dir, String file, String value) {
    }

    @Test
    void writeThousandGroups() throws Exception {
        Assumptions.assumeTrue(Boolean.getBoolean("jgovernor.benchmark"),
                "benchmark: run with -Djgovernor.benchmark=true");
        try (TestCgroups cg = TestCgroups.create()) {
            CgroupFiles files = cg.files();
            String[][] perController = {
                    {"cpu", "cpu.shares", "512", "cpu.cfs_period_us", "50000", "cpu.cfs_quota_us", "25000"},
                    {"cpuset", "cpuset.mems", "0", "cpuset.cpus", "0-1"},
                    {"memory", "memory.limit_in_bytes", "268435456", "memory.memsw.limit_in_bytes", "536870912",
                            "memory.oom_control", "0"},
                    {"blkio", "blkio.bfq.weight", "200", "blkio.throttle.read_bps_device", "254:0 10485760",
                            "blkio.throttle.write_bps_device", "254:0 5242880", "blkio.throttle.read_iops_device",
                            "254:0 1000", "blkio.throttle.write_iops_device", "254:0 500"},
                    {"pids", "pids.max", "128"}};
            List<Target> targets = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int g = 0; g < GROUPS; g++) {
                GroupName name = new GroupName("g" + g);
                for (String[] c : perController) {
                    Path dir = cg.makeGroup(c[0], name);
                    for (int i = 1; i < c.length; i += 2) {
                        targets.add(new Target(dir, c[i], c[i + 1]));
                    }
                }
            }
            System.out.printf("mkdir of %d groups in 5 hierarchies: %d ms%n", GROUPS, (System.nanoTime() - t0) / 1_000_000);
            assertEquals(GROUPS * 14, targets.size());

            try (Arena arena = Arena.ofConfined()) {
                MemorySegment[] paths = new MemorySegment[targets.size()];
                MemorySegment[] values = new MemorySegment[targets.size()];
                byte[][] valueBytes = new byte[targets.size()][];
                String[] pathStrings = new String[targets.size()];
                for (int i = 0; i < targets.size(); i++) {
                    Target t = targets.get(i);
                    pathStrings[i] = t.dir() + "/" + t.file();
                    paths[i] = arena.allocateFrom(pathStrings[i]);
                    valueBytes[i] = t.value().getBytes(StandardCharsets.UTF_8);
                    values[i] = arena.allocateFrom(t.value());
                }
                long[] raw = new long[ROUNDS];
                long[] ours = new long[ROUNDS];
                long[] fos = new long[ROUNDS];
                for (int warm = 0; warm < 2; warm++) {
                    rawLoop(paths, values, valueBytes);
                    oursLoop(files, targets);
                }
                for (int r = 0; r < ROUNDS; r++) {
                    long a = System.nanoTime();
                    rawLoop(paths, values, valueBytes);
                    long b = System.nanoTime();
                    oursLoop(files, targets);
                    long c = System.nanoTime();
                    fosLoop(pathStrings, valueBytes);
                    long d = System.nanoTime();
                    raw[r] = b - a;
                    ours[r] = c - b;
                    fos[r] = d - c;
                }
                System.out.printf("%d writes, median of %d rounds: raw downcall loop %.1f ms, CgroupFiles.write %.1f ms"
                                + " (%.2fx), FileOutputStream %.1f ms (%.2fx)%n", targets.size(), ROUNDS,
                        median(raw) / 1e6, median(ours) / 1e6, (double) median(ours) / median(raw),
                        median(fos) / 1e6, (double) median(fos) / median(raw));
            }

            // a full level-based pass: read observed, reconcile, write nothing (already as wanted)
            Resources policy = all(cpu(cpuFull(512, 50, Duration.ofMillis(50))), cpuset("0-1", "0"),
                    memory(Limit.of(268435456), Limit.of(536870912), false),
                    io(200, device("254:0", Limit.of(10485760), Limit.of(5242880), Limit.of(1000), Limit.of(500))),
                    pids(Limit.of(128)));
            GroupContext ctx = new GroupContext("g", io.jgovernor.model.CpuList.parse("0-1"),
                    io.jgovernor.model.CpuList.parse("0"));
            long[] pass = new long[ROUNDS];
            int changes = 0;
            for (int r = 0; r < ROUNDS; r++) {
                long a = System.nanoTime();
                changes = 0;
                for (int g = 0; g < GROUPS; g++) {
                    GroupName name = new GroupName("g" + g);
                    for (Controller c : V1Controllers.all()) {
                        Path dir = cg.layout().groupDir(cg.hierarchy(c.name()), name);
                        Map<String, String> seen = files.readAll(dir, c.observedFiles());
                        for (Write w : c.reconcile(policy, ctx, seen)) {
                            files.write(dir, w.file(), w.value());
                            changes++;
                        }
                    }
                }
                pass[r] = System.nanoTime() - a;
            }
            System.out.printf("reconcile pass over %d groups with nothing to change (read+compare): median %.1f ms, %d writes%n",
                    GROUPS, median(pass) / 1e6, changes);
        }
    }

    private static void rawLoop(MemorySegment[] paths, MemorySegment[] values, byte[][] valueBytes) {
        for (int i = 0; i < paths.length; i++) {
            int fd = Libc.openRaw(paths[i], Libc.O_WRONLY | Libc.O_CLOEXEC);
            if (fd < 0) {
                throw new IllegalStateException("open " + -fd);
            }
            long n = Libc.writeRaw(fd, values[i], valueBytes[i].length);
            Libc.closeRaw(fd);
            if (n < 0) {
                throw new IllegalStateException("write " + -n);
            }
        }
    }

    private static void oursLoop(CgroupFiles files, List<Target> targets) throws CgroupException {
        for (Target t : targets) {
            files.write(t.dir(), t.file(), t.value());
        }
    }

    private static void fosLoop(String[] paths, byte[][] values) throws Exception {
        for (int i = 0; i < paths.length; i++) {
            try (FileOutputStream out = new FileOutputStream(paths[i])) {
                out.write(values[i]);
            }
        }
    }

    private static long median(long[] xs) {
        long[] s = xs.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
