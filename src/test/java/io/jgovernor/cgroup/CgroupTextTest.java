package io.jgovernor.cgroup;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Parsing of text captured from this kernel (6.18, cgroup v1) in src/test/resources/metrics. */
public class CgroupTextTest {
    public static String captured(String name) {
        try (InputStream in = CgroupTextTest.class.getResourceAsStream("/metrics/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("missing test resource /metrics/" + name, e);
        }
    }

    @Test
    void cpuStatOfAThrottledGroup() {
        String stat = captured("cpu.stat-throttled");
        assertEquals(OptionalLong.of(11), CgroupText.keyed(stat, "nr_throttled"));
        assertEquals(OptionalLong.of(817417509), CgroupText.keyed(stat, "throttled_time"));
        assertEquals(OptionalLong.of(11), CgroupText.keyed(stat, "nr_periods"));
        assertEquals(OptionalLong.empty(), CgroupText.keyed(stat, "nr_throttle"), "a prefix is not a key");
    }

    @Test
    void cpuStatOfAnIdleGroup() {
        assertEquals(OptionalLong.of(0), CgroupText.keyed(captured("cpu.stat-idle"), "throttled_time"));
    }

    @Test
    void oomControlAfterAKill() {
        assertEquals(OptionalLong.of(1), CgroupText.keyed(captured("memory.oom_control-killed"), "oom_kill"));
        assertEquals(OptionalLong.of(0), CgroupText.keyed(captured("memory.oom_control-idle"), "oom_kill"));
        // kernels before 4.13 have no oom_kill line
        assertEquals(OptionalLong.empty(), CgroupText.keyed("oom_kill_disable 0\nunder_oom 0\n", "oom_kill"));
    }

    @Test
    void ioServiceBytesPerDevice() {
        List<DeviceIo> io = CgroupText.ioServiceBytes(captured("blkio.throttle.io_service_bytes-host"));
        assertEquals(2, io.size(), io.toString());
        assertEquals("254:0", io.get(0).device());
        assertEquals(1552990208L, io.get(0).readBytes());
        assertEquals(2782728192L, io.get(0).writeBytes());
        assertEquals(new DeviceIo("7:0", 0, 0), io.get(1));
    }

    @Test
    void ioServiceBytesOfAGroupThatDidNoIo() {
        assertEquals(List.of(), CgroupText.ioServiceBytes(captured("blkio.throttle.io_service_bytes-fresh")));
        assertEquals(List.of(), CgroupText.ioServiceBytes(""));
    }

    @Test
    void singleValues() {
        assertEquals(9223372036854771712L, CgroupText.single("9223372036854771712\n"));
        assertEquals(-1, CgroupText.signed("-1\n"));
        assertEquals(100000, CgroupText.signed("100000\n"));
        assertEquals(3, CgroupText.lines("12\n345\n6789\n"));
        assertEquals(0, CgroupText.lines(""));
    }

    @Test
    void malformedTextIsAnError() {
        assertThrows(IllegalArgumentException.class, () -> CgroupText.single("max\n"));
        assertThrows(IllegalArgumentException.class, () -> CgroupText.single(""));
        assertThrows(IllegalArgumentException.class, () -> CgroupText.keyed("nr_throttled x\n", "nr_throttled"));
        assertThrows(IllegalArgumentException.class, () -> CgroupText.ioServiceBytes("8:0 Read\n"));
        assertThrows(IllegalArgumentException.class, () -> CgroupText.single("99999999999999999999\n"));
    }
}
