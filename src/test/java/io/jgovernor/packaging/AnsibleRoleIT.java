package io.jgovernor.packaging;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Ansible role packaging/ansible/roles/jgovernor as an operator runs it: ansible-playbook
 * -c local against a policy directory in a temp dir, jgovernor_validate the checkout's launcher
 * (bin/jgovernor-dev validate: the built app), package and service management off. A new file is
 * deployed root-owned 0644; a changed file replaces the live one (validated with --as as that
 * file, so its own group is no duplicate); an invalid file fails the play and the live file stays.
 */
class AnsibleRoleIT {
    private static final Path ROLES = Tool.REPO.resolve("packaging/ansible/roles");

    @TempDir
    Path tmp;
    private Path src;
    private Path live;

    @BeforeEach
    void dirs() throws Exception {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        src = Files.createDirectories(tmp.resolve("src"));
        live = tmp.resolve("policies.d");
        Files.writeString(tmp.resolve("play.yml"), """
                - hosts: localhost
                  gather_facts: false
                  roles:
                    - jgovernor
                """);
    }

    private Tool.Result play() throws Exception {
        String vars = """
                {"jgovernor_policies_src": "%s", "jgovernor_policy_dir": "%s",
                 "jgovernor_validate": "%s validate",
                 "jgovernor_manage_package": false, "jgovernor_manage_service": false}
                """.formatted(src, live, Tool.REPO.resolve("bin/jgovernor-dev"));
        return Tool.run(Map.of("ANSIBLE_ROLES_PATH", ROLES.toString(), "ANSIBLE_NOCOLOR", "1",
                        "ANSIBLE_LOCAL_TEMP", tmp.resolve("ansible-local").toString(),
                        "ANSIBLE_REMOTE_TEMP", tmp.resolve("ansible-remote").toString(),
                        "ANSIBLE_RETRY_FILES_ENABLED", "0"),
                List.of(Tool.path("ansible-playbook", "ansible-core"), "-c", "local", "-i", "localhost,",
                        tmp.resolve("play.yml").toString(), "-e", vars));
    }

    private static String recap(Tool.Result r) {
        return r.out().lines().filter(l -> l.startsWith("localhost ") && l.contains("ok=")).findFirst().orElse("(no recap)\n" + r.both());
    }

    private void newFileDeployed() throws Exception {
        Files.writeString(src.resolve("web.yaml"), "name: web\ncpu:\n  shares: 512\n");
        Files.writeString(src.resolve("batch.yml"), "name: batch\n---\nname: batch/low\npids:\n  max: 8\n");
        Tool.Result r = play();
        assertEquals(0, r.exit(), r.both());
        // changed counts tasks, not loop items: the directory and the copy task
        assertTrue(recap(r).contains("changed=2"), "policy directory and files: " + recap(r));
        for (String f : List.of("web.yaml", "batch.yml")) {
            Path p = live.resolve(f);
            assertEquals(Files.readString(src.resolve(f)), Files.readString(p));
            assertEquals("root", Files.getOwner(p).getName(), f);
            assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)), f);
        }
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(live)));
        assertTrue(r.out().contains("RUNNING HANDLER [jgovernor : Reload jgovernor]"), "the reload is notified: " + r.out());
    }

    @Test
    void aNewFileIsDeployedRootOwned0644AndAnUnchangedRerunChangesNothing() throws Exception {
        newFileDeployed();
        Tool.Result again = play();
        assertEquals(0, again.exit(), again.both());
        assertTrue(recap(again).contains("changed=0"), recap(again));
        assertTrue(!again.out().contains("RUNNING HANDLER"), "nothing changed, no reload: " + again.out());
    }

    @Test
    void aChangedFileReplacesTheLiveOneWithoutAFalseDuplicate() throws Exception {
        newFileDeployed();
        // the same group, a new value: judged "as web.yaml", it replaces web.yaml rather than duplicating web
        Files.writeString(src.resolve("web.yaml"), "name: web\ncpu:\n  shares: 256\n");
        Tool.Result r = play();
        assertEquals(0, r.exit(), r.both());
        assertTrue(recap(r).contains("changed=1"), recap(r));
        assertEquals("name: web\ncpu:\n  shares: 256\n", Files.readString(live.resolve("web.yaml")));
        // a child whose parent is live in another file is valid too (judged with the live directory)
        Files.writeString(src.resolve("web-static.yaml"), "name: web/static\npids:\n  max: 16\n");
        r = play();
        assertEquals(0, r.exit(), r.both());
        assertTrue(Files.exists(live.resolve("web-static.yaml")));
    }

    @Test
    void anInvalidFileFailsThePlayAndTheLiveFileStays() throws Exception {
        newFileDeployed();
        String before = Files.readString(live.resolve("web.yaml"));
        Files.writeString(src.resolve("web.yaml"), "name: web\nmemroy:\n  limit: 64Mi\n");
        Tool.Result r = play();
        assertNotEquals(0, r.exit(), "the play must fail: " + r.both());
        assertTrue(r.out().contains("failed to validate"), r.both());
        // the validator's located message reaches the operator
        assertTrue(r.out().contains(":2:1: unknown key \\\"memroy\\\" (did you mean \\\"memory\\\"?)"), r.out());
        assertEquals(before, Files.readString(live.resolve("web.yaml")), "the live file is untouched");
        // a second file naming a live group is refused with the other file named
        Files.writeString(src.resolve("web.yaml"), before);
        Files.writeString(src.resolve("zz-copy.yaml"), "name: web\n");
        r = play();
        assertNotEquals(0, r.exit(), r.both());
        assertTrue(r.out().contains("already defined in"), r.out());
        assertTrue(!Files.exists(live.resolve("zz-copy.yaml")));
    }
}
