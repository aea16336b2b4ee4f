package io.jgovernor.sys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

class AccountsTest {
    @TempDir
    Path etc;

    private Accounts accounts() throws IOException {
        Files.writeString(etc.resolve("passwd"), """
                root:x:0:0:root:/root:/bin/bash
                # a comment
                www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
                broken:x:notanumber:1::/:/bin/sh
                """);
        Files.writeString(etc.resolve("group"), """
                root:x:0:
                www-data:x:33:
                adm:x:4:syslog,www-data
                video:x:44:www-data
                staff:x:50:wwwdata
                """);
        return new Accounts(etc);
    }

    @Test
    void usersByNameOrUid() throws IOException {
        Accounts a = accounts();
        assertEquals(Optional.of(new Accounts.User("www-data", 33, 33)), a.user("www-data"));
        assertEquals(Optional.of(new Accounts.User("www-data", 33, 33)), a.user("33"));
        // a uid without an entry is a user all the same, its group the same number
        assertEquals(Optional.of(new Accounts.User("4242", 4242, 4242)), a.user("4242"));
        assertEquals(Optional.empty(), a.user("nobody-here"));
        assertEquals(Optional.empty(), a.user("broken"));
    }

    @Test
    void groupsAndSupplementaryGroups() throws IOException {
        Accounts a = accounts();
        assertEquals(OptionalLong.of(4), a.group("adm"));
        assertEquals(OptionalLong.of(999), a.group("999"));
        assertEquals(OptionalLong.empty(), a.group("wheel"));
        assertEquals(List.of(4L, 44L), a.supplementaryGroups("www-data"));
        assertEquals(List.of(), a.supplementaryGroups("root"));
    }

    @Test
    void missingFilesKnowNoNames() {
        Accounts a = new Accounts(etc.resolve("absent"));
        assertEquals(Optional.empty(), a.user("root"));
        assertEquals(Optional.of(new Accounts.User("0", 0, 0)), a.user("0"));
    }
}
