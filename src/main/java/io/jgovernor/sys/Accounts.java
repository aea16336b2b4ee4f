package io.jgovernor.sys;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Users and groups from {@code /etc/passwd} and {@code /etc/group}, read as text. Not through
 * getpwnam(3): the exec stage is linked statically, where NSS cannot load its modules, and the
 * daemon resolves names once, in Java, and passes numbers. Accounts that only NSS modules know
 * (LDAP, systemd's dynamic users) are therefore not found: give their numeric ids instead.
 */
public final class Accounts {
    /** A user: its primary group is {@code gid}. */
    public record User(String name, long uid, long gid) {
    }

    private final Path etc;

    public Accounts(Path etc) {
        this.etc = etc;
    }

    public static Accounts host() {
        return new Accounts(Path.of("/etc"));
    }

    /**
     * A name, or a numeric uid. A uid that /etc/passwd does not list is still a user (the kernel
     * needs no entry); its primary group is then the same number.
     */
    public Optional<User> user(String nameOrId) {
        boolean numeric = isNumber(nameOrId);
        for (String[] f : entries("passwd", 4)) {
            if (numeric ? f[2].equals(nameOrId) : f[0].equals(nameOrId)) {
                if (isNumber(f[2]) && isNumber(f[3])) {
                    return Optional.of(new User(f[0], Long.parseLong(f[2]), Long.parseLong(f[3])));
                }
            }
        }
        if (numeric) {
            long id = Long.parseLong(nameOrId);
            return Optional.of(new User(nameOrId, id, id));
        }
        return Optional.empty();
    }

    /** A group name, or a numeric gid (any number is accepted). */
    public OptionalLong group(String nameOrId) {
        if (isNumber(nameOrId)) {
            return OptionalLong.of(Long.parseLong(nameOrId));
        }
        for (String[] f : entries("group", 3)) {
            if (f[0].equals(nameOrId) && isNumber(f[2])) {
                return OptionalLong.of(Long.parseLong(f[2]));
            }
        }
        return OptionalLong.empty();
    }

    /** The groups that list {@code userName} as a member (what initgroups(3) would add). */
    public List<Long> supplementaryGroups(String userName) {
        List<Long> out = new ArrayList<>();
        for (String[] f : entries("group", 4)) {
            if (isNumber(f[2]) && List.of(f[3].split(",")).contains(userName)) {
                out.add(Long.parseLong(f[2]));
            }
        }
        return out;
    }

    private List<String[]> entries(String file, int fields) {
        try {
            List<String[]> out = new ArrayList<>();
            for (String line : Files.readAllLines(etc.resolve(file))) {
                String[] f = line.split(":", -1);
                if (f.length >= fields && !line.startsWith("#")) {
                    out.add(f);
                }
            }
            return out;
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(etc.resolve(file) + ": " + e.getMessage(), e);
        }
    }

    private static boolean isNumber(String s) {
        return !s.isEmpty() && s.length() < 11 && s.chars().allMatch(Character::isDigit);
    }
}
