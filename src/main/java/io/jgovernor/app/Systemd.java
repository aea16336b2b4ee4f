package io.jgovernor.app;

import io.jgovernor.sys.Libc;
import io.jgovernor.sys.SdNotify;

import java.time.Duration;
import java.util.Optional;

/**
 * What the daemon tells systemd under {@code Type=notify}: READY=1 after the first full pass,
 * RELOADING=1 and READY=1 around a SIGHUP reload, STATUS= lines for {@code systemctl status}, and
 * WATCHDOG=1 when the unit has {@code WatchdogSec=}. Without {@code $NOTIFY_SOCKET} every call
 * does nothing, so the same daemon runs in a terminal.
 */
final class Systemd {
    private final Optional<SdNotify> notify;
    private final Optional<Duration> watchdog;
    private volatile String lastStatus = "";

    private Systemd(Optional<SdNotify> notify, Optional<Duration> watchdog) {
        this.notify = notify;
        this.watchdog = watchdog;
    }

    static Systemd fromEnvironment() {
        return new Systemd(SdNotify.fromEnvironment(), watchdogInterval(System.getenv("WATCHDOG_USEC"),
                System.getenv("WATCHDOG_PID"), Libc.getpid()));
    }

    /**
     * How often to ping: half of WATCHDOG_USEC, as sd_watchdog_enabled(3) advises, and only when
     * WATCHDOG_PID is absent or names this process.
     */
    static Optional<Duration> watchdogInterval(String usec, String pid, int self) {
        if (usec == null || usec.isBlank() || (pid != null && !pid.isBlank() && !pid.strip().equals(Integer.toString(self)))) {
            return Optional.empty();
        }
        try {
            long micros = Long.parseLong(usec.strip());
            return micros > 0 ? Optional.of(Duration.ofNanos(micros * 1000 / 2)) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    Optional<Duration> watchdog() {
        return watchdog;
    }

    void ready(String status) {
        lastStatus = status;
        send("READY=1\nSTATUS=" + status);
    }

    /** MONOTONIC_USEC lets systemd tell this reload from an earlier one (System.nanoTime is CLOCK_MONOTONIC on Linux). */
    void reloading() {
        send("RELOADING=1\nMONOTONIC_USEC=" + System.nanoTime() / 1000 + "\nSTATUS=reloading policies");
    }

    /** Sends STATUS= only when it changed, so a quiet daemon sends nothing. */
    void status(String status) {
        if (!status.equals(lastStatus)) {
            lastStatus = status;
            send("STATUS=" + status);
        }
    }

    void stopping() {
        send("STOPPING=1");
    }

    void watchdogPing() {
        send("WATCHDOG=1");
    }

    private void send(String message) {
        notify.ifPresent(n -> n.send(message));
    }
}
