package io.jgovernor.spawn;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/** Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. */
final class ProcStat {
    private ProcStat() {
    }

    /** Empty when the process does not exist (any more) or has exited. */
    static OptionalLong startTime(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
            // comm (field 2) may hold spaces and parentheses: count fields after the last ')'.
            String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            if (rest[0].equals("Z") || rest[0].equals("X")) {
                return OptionalLong.empty(); // exited, not yet reaped by its parent
            }
            return OptionalLong.of(Long.parseLong(rest[22 - 3]));
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }
}
