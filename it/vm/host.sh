# it/vm/host.sh - sourced by the host-side VM test commands (bin/test-vm-*).
#
# in_vm NAME ARGS...: runs ../shared/vm/run-in-vm.sh ARGS..., streaming its output and keeping a
# copy in target/vm-NAME.log, and returns its exit code. When the run failed and the copy shows
# that a JVM in the guest crashed (HotSpot's "A fatal error has been detected"), it runs once
# more and says so: under QEMU's software emulation (TCG) the JVM was seen to die with SIGSEGV in
# freshly JIT-compiled code in about 1 of 5 guest runs, never on the host; that is the
# emulator's fault, not a failed check. A second crash, or any other failure, fails the test.
in_vm() {
    local name=$1; shift
    local log=target/vm-$name.log attempt rc
    mkdir -p target
    for attempt in 1 2; do
        set +e
        "$VM/run-in-vm.sh" "$@" 2>&1 | tee "$log"
        rc=${PIPESTATUS[0]}
        set -e
        [ "$rc" = 0 ] && return 0
        if [ $attempt = 1 ] && grep -q "A fatal error has been detected by the Java Runtime Environment" "$log"; then
            echo "== $name: a JVM in the guest crashed (see above; emulator, not a check): running the VM test once more" >&2
            cp "$log" "target/vm-$name.crashed.log"
            continue
        fi
        return "$rc"
    done
    return "$rc"
}
