package io.jgovernor.cgroup;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The one set of parsers for the text of cgroup stat files (v1 and v2), written for a scrape of a
 * thousand groups: they scan the string once, without regular expressions or split arrays.
 * Malformed text is an {@link IllegalArgumentException} naming what was expected, which a scrape
 * counts as an error. The controllers' stats and OOM files read through these; no other class
 * parses a "key value" file.
 */
public final class CgroupText {
    private CgroupText() {
    }

    /** A file holding one decimal that may be negative, like cpu.cfs_quota_us ("-1": no quota). */
    public static long signed(String text) {
        String t = text.strip();
        if (t.startsWith("-")) {
            return -single(t.substring(1));
        }
        return single(t);
    }

    /** A file holding one non-negative decimal, like cpuacct.usage or memory.usage_in_bytes. */
    public static long single(String text) {
        int end = text.length();
        while (end > 0 && Character.isWhitespace(text.charAt(end - 1))) {
            end--;
        }
        return digits(text, 0, end, text);
    }

    /**
     * The value of {@code key} in a flat keyed file ("key value" per line, like cpu.stat and
     * memory.oom_control); empty when the key is not there (an older kernel).
     */
    public static OptionalLong keyed(String text, String key) {
        int n = text.length();
        int line = 0;
        while (line < n) {
            int eol = lineEnd(text, line);
            int k = key.length();
            if (eol - line > k && text.startsWith(key, line) && text.charAt(line + k) == ' ') {
                return OptionalLong.of(digits(text, line + k + 1, eol, text));
            }
            line = eol + 1;
        }
        return OptionalLong.empty();
    }

    /** Where the line that starts at {@code from} ends: its newline, or the end of the text. */
    static int lineEnd(String text, int from) {
        int eol = text.indexOf('\n', from);
        return eol < 0 ? text.length() : eol;
    }

    /** The number of non-empty lines, e.g. the processes in cgroup.procs. */
    public static long lines(String text) {
        long count = 0;
        int n = text.length();
        int start = 0;
        while (start < n) {
            int eol = lineEnd(text, start);
            if (eol > start) {
                count++;
            }
            start = eol + 1;
        }
        return count;
    }

    /**
     * blkio.throttle.io_service_bytes: lines "MAJ:MIN Op N" for Op in Read, Write, Sync, Async,
     * Discard, Total, and a last line "Total N". Devices in the order the kernel lists them.
     */
    public static List<DeviceIo> ioServiceBytes(String text) {
        List<DeviceIo> out = new ArrayList<>(2);
        String device = null;
        long read = 0;
        long write = 0;
        int n = text.length();
        int line = 0;
        while (line < n) {
            int eol = lineEnd(text, line);
            int sp1 = text.indexOf(' ', line);
            if (eol > line && (sp1 < 0 || sp1 > eol)) {
                throw new IllegalArgumentException("expected \"MAJ:MIN Op N\", got \"" + text.substring(line, eol) + "\"");
            }
            if (eol > line && text.indexOf(':', line) > 0 && text.indexOf(':', line) < sp1) {
                int sp2 = text.indexOf(' ', sp1 + 1);
                if (sp2 < 0 || sp2 > eol) {
                    throw new IllegalArgumentException("expected \"MAJ:MIN Op N\", got \"" + text.substring(line, eol) + "\"");
                }
                boolean same = device != null && device.length() == sp1 - line
                        && text.regionMatches(line, device, 0, sp1 - line);
                if (!same) {
                    if (device != null) {
                        out.add(new DeviceIo(device, read, write));
                    }
                    device = text.substring(line, sp1);
                    read = 0;
                    write = 0;
                }
                if (text.startsWith("Read ", sp1 + 1)) {
                    read = digits(text, sp2 + 1, eol, text);
                } else if (text.startsWith("Write ", sp1 + 1)) {
                    write = digits(text, sp2 + 1, eol, text);
                }
            }
            line = eol + 1;
        }
        if (device != null) {
            out.add(new DeviceIo(device, read, write));
        }
        return out;
    }

    /**
     * cgroup v2 io.stat: one line per device, "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N
     * dios=N" (the key set grows with kernel versions; only rbytes and wbytes are read).
     */
    public static List<DeviceIo> ioStat(String text) {
        List<DeviceIo> out = new ArrayList<>(2);
        for (String line : text.split("\n")) {
            String l = line.strip();
            if (l.isEmpty()) {
                continue;
            }
            String[] f = l.split(" ");
            if (f[0].indexOf(':') <= 0) {
                throw new IllegalArgumentException("expected \"MAJ:MIN key=N ...\", got \"" + l + "\"");
            }
            long read = 0;
            long write = 0;
            for (int i = 1; i < f.length; i++) {
                if (f[i].startsWith("rbytes=")) {
                    read = single(f[i].substring("rbytes=".length()));
                } else if (f[i].startsWith("wbytes=")) {
                    write = single(f[i].substring("wbytes=".length()));
                }
            }
            out.add(new DeviceIo(f[0], read, write));
        }
        return out;
    }

    private static long digits(String s, int from, int to, String whole) {
        if (from >= to) {
            throw new IllegalArgumentException("expected a number, got \"" + whole.strip() + "\"");
        }
        long v = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                if (c == '\r' || c == ' ') {
                    if (i > from && s.substring(i, to).isBlank()) {
                        return v;
                    }
                }
                throw new IllegalArgumentException("expected a number, got \"" + s.substring(from, to).strip() + "\"");
            }
            long next = v * 10 + (c - '0');
            if (next < v) {
                throw new IllegalArgumentException("number out of range: \"" + s.substring(from, to) + "\"");
            }
            v = next;
        }
        return v;
    }
}
