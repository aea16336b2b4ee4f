package io.jgovernor.app;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SystemdTest {
    @Test
    void theWatchdogIsPingedAtHalfItsInterval() {
        assertEquals(Optional.of(Duration.ofSeconds(5)), Systemd.watchdogInterval("10000000", null, 42));
        assertEquals(Optional.of(Duration.ofSeconds(5)), Systemd.watchdogInterval("10000000", "42", 42));
    }

    @Test
    void aWatchdogMeantForAnotherProcessOrMalformedIsIgnored() {
        assertEquals(Optional.empty(), Systemd.watchdogInterval("10000000", "7", 42));
        assertEquals(Optional.empty(), Systemd.watchdogInterval(null, null, 42));
        assertEquals(Optional.empty(), Systemd.watchdogInterval("soon", null, 42));
        assertEquals(Optional.empty(), Systemd.watchdogInterval("0", null, 42));
    }
}
