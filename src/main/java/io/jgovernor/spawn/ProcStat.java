package io.jgovernor.spawn;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/** Fields of /proc/PID/stat: 22, when the process started (clock ticks since boot), and 4, its parent. */
final class ProcStat {
    private ProcStat() {
    }

    /** Empty when the process does not exist (any more) or has exited. */
    static OptionalLong startTime(int pid) {
        return field(pid, 22);
    }

    /** The parent's pid (as the host sees it); empty as for {@link #startTime}. */
    static OptionalLong parent(int pid) {
        return field(pid, 4);
    }

    private static OptionalLong field(int pid, int n) {
        try {
            String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
            // comm (field 2) may hold spaces and parentheses: count fields after the last ')'.
            String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            if (rest[0].equals("Z") || rest[0].equals("X")) {
                return OptionalLong.empty(); // exited, not yet reaped by its parent
            }
            return OptionalLong.of(Long.parseLong(rest[n - 3]));
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }
}
