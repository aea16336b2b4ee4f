package io.jgovernor.model;

import java.util.EnumSet;
import java.util.Set;

/**
 * The kernel's capabilities (include/uapi/linux/capability.h), by the names and numbers it gives
 * them. The one place a capability's name becomes its number: the exec stage takes numbers.
 */
public enum Capability {
    CAP_CHOWN(0), CAP_DAC_OVERRIDE(1), CAP_DAC_READ_SEARCH(2), CAP_FOWNER(3), CAP_FSETID(4), CAP_KILL(5),
    CAP_SETGID(6), CAP_SETUID(7), CAP_SETPCAP(8), CAP_LINUX_IMMUTABLE(9), CAP_NET_BIND_SERVICE(10),
    CAP_NET_BROADCAST(11), CAP_NET_ADMIN(12), CAP_NET_RAW(13), CAP_IPC_LOCK(14), CAP_IPC_OWNER(15),
    CAP_SYS_MODULE(16), CAP_SYS_RAWIO(17), CAP_SYS_CHROOT(18), CAP_SYS_PTRACE(19), CAP_SYS_PACCT(20),
    CAP_SYS_ADMIN(21), CAP_SYS_BOOT(22), CAP_SYS_NICE(23), CAP_SYS_RESOURCE(24), CAP_SYS_TIME(25),
    CAP_SYS_TTY_CONFIG(26), CAP_MKNOD(27), CAP_LEASE(28), CAP_AUDIT_WRITE(29), CAP_AUDIT_CONTROL(30),
    CAP_SETFCAP(31), CAP_MAC_OVERRIDE(32), CAP_MAC_ADMIN(33), CAP_SYSLOG(34), CAP_WAKE_ALARM(35),
    CAP_BLOCK_SUSPEND(36), CAP_AUDIT_READ(37), CAP_PERFMON(38), CAP_BPF(39), CAP_CHECKPOINT_RESTORE(40);

    /**
     * What a root workload keeps when the policy names no list: runc's default set (the one
     * Docker and containerd give a container), 14 capabilities. Not among them: SYS_ADMIN,
     * SYS_MODULE, SYS_PTRACE, SYS_RAWIO, NET_ADMIN, DAC_READ_SEARCH, SYS_TIME, SYS_BOOT ...
     */
    public static final Set<Capability> RUNC_DEFAULT = Set.copyOf(EnumSet.of(CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID,
            CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW, CAP_SETGID, CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE,
            CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE));

    /** The bit number the kernel gives it (capget/capset, PR_CAPBSET_DROP, PR_CAP_AMBIENT). */
    public final int number;

    Capability(int number) {
        this.number = number;
    }
}
