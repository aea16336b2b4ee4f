package io.jgovernor.cgroup;

import io.jgovernor.model.Pressure;
import org.junit.jupiter.api.Test;

import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PsiTest {
    @Test
    void someAndFullTotalsInMicroseconds() {
        Psi p = Psi.parse(Fixtures.text("psi/cpu.pressure-quota"));
        assertEquals(3738629, p.someMicros());
        assertEquals(OptionalLong.of(3738629), p.fullMicros());
        assertEquals(OptionalLong.of(3738629), p.micros(Pressure.Stall.FULL));
    }

    @Test
    void theHostFileHasTheSameShape() {
        Psi p = Psi.parse(Fixtures.text("psi/proc-pressure-io"));
        assertEquals(true, p.fullMicros().isPresent());
        assertEquals(true, p.someMicros() >= p.fullMicros().getAsLong(), "some includes every full stall");
    }

    @Test
    void cpuBefore513HasNoFullLine() {
        Psi p = Psi.parse(Fixtures.text("psi/cpu.pressure-5.10"));
        assertEquals(0, p.someMicros());
        assertEquals(OptionalLong.empty(), p.fullMicros());
    }

    @Test
    void malformedTextIsRefusedWithWhatWasExpected() {
        assertEquals("no \"some ... total=N\" line",
                assertThrows(IllegalArgumentException.class, () -> Psi.parse("")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> Psi.parse("some avg10=0.00 total=x\n"));
        assertThrows(IllegalArgumentException.class, () -> Psi.parse("some avg10=0.00\n"));
        assertThrows(IllegalArgumentException.class, () -> Psi.parse("some total=1\nfull total=99999999999999999999\n"));
    }
}
