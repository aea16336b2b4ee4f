#!/bin/bash
# it/vm/v1-comounted.sh - runs INSIDE the test VM as root, cwd /shared = the repo checkout.
#
# Proves the daemon on systemd's legacy (v1) layout, where cpu and cpuacct are co-mounted at
# /sys/fs/cgroup/cpu,cpuacct (RHEL 7/8 style), with ONE JVM start:
#   apply (cpu/cpuacct, memory, pids) -> accounting of a process in the group -> drift repaired
#   on SIGHUP -> in-place edit -> delete (dirs removed, processes to the parent) -> SIGTERM exit 0.
# Host side: bin/test-vm-v1 (boots the VM with systemd.unified_cgroup_hierarchy=0 and shares the
# host's Java 25 as 9p tag "jdk"). Prints one "ok"/"FAIL" line per check and "N passed, M failed";
# exits non-zero on any failure.
#
# DELEGATE_SCOPE=1: start the daemon in a transient systemd scope with Delegate=yes (as the
# packaged service runs); systemd then gives it its own cgroup in every hierarchy, also in
# cpu,cpuacct, where the vm-runner service (no CPUAccounting) sits at "/". Default: the daemon
# runs in this script's cgroups.
set -u
DELEGATE_SCOPE=${DELEGATE_SCOPE:-0}

JAR=${JAR:-/shared/target/quarkus-app/quarkus-run.jar}
JDK=/opt/jdk
ROOTNAME=jgovernor-test-vm
BASE=/run/jgovernor-test-vm                  # /run: root-owned 0755, tmpfs
POLICIES=$BASE/policies.d
STATE=$BASE/state
LOG=$BASE/daemon.log
WAIT=${WAIT:-60}                             # seconds for anything the daemon should do (TCG is slow)

. "$(dirname "$0")/lib.sh"
elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
log_has() { grep -qF -- "$1" "$LOG"; }
alive() { kill -0 "$1" 2>/dev/null; }

DPID=""; SPIN=""; SLEEPER=""; MOUNTED_JDK=0
CPU_ROOT=""; MEM_ROOT=""; PIDS_ROOT=""
cleanup() {
    for p in $SPIN $SLEEPER; do alive "$p" && kill -9 "$p" 2>/dev/null; done
    if [ -n "$DPID" ] && alive "$DPID"; then
        kill -TERM "$DPID"; until_ 20 eval '! alive $DPID' || kill -9 "$DPID"; wait "$DPID" 2>/dev/null
    fi
    # remove our tree in every hierarchy, deepest first; leftover processes go back to our own cgroup
    for r in "$CPU_ROOT" "$MEM_ROOT" "$PIDS_ROOT"; do
        [ -n "$r" ] && [ -d "$r" ] || continue
        find "$r" -depth -type d | while read -r d; do
            for p in $(cat "$d/cgroup.procs" 2>/dev/null); do echo "$p" > "$(dirname "$r")/cgroup.procs" 2>/dev/null; done
            rmdir "$d" 2>/dev/null || echo "--   cleanup: cannot remove $d"
        done
    done
    # the daemon may have created the root in hierarchies we did not look at
    find /sys/fs/cgroup -mindepth 1 -depth -type d -name "$ROOTNAME" 2>/dev/null | while read -r d; do
        find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
    rm -rf "$BASE"
    [ $MOUNTED_JDK = 1 ] && umount "$JDK" 2>/dev/null
}
trap cleanup EXIT
die() { bad "$*"; finish; }
finish() {
    if [ -s "$LOG" ]; then echo "== daemon log ($LOG)"; sed 's/^/  | /' "$LOG"; fi
    trap - EXIT; cleanup
    echo "== $passed passed, $failed failed ($(elapsed) s in the guest)"
    [ $failed = 0 ]; exit $?
}

echo "== kernel $(uname -r), systemd $(systemctl --version | head -1 | awk '{print $2}'), $(nproc) cpus, cmdline: $(grep -o 'systemd.unified_cgroup_hierarchy=[^ ]*' /proc/cmdline)"

# --- Java 25 from the host (9p tag "jdk") ---------------------------------------------------------
mount_host_jdk

# --- the layout: cpu and cpuacct really co-mounted -------------------------------------------------
# mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
V1=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i+1) == "cgroup") print $5, $(i+3); break } }' /proc/self/mountinfo)
echo "== v1 cgroup mounts (mount point, super options):"; echo "$V1" | sed 's/^/     /'
has_opt() { echo ",$2," | grep -q ",$1,"; }   # has_opt OPT SUPEROPTS
CPU_MNT=""; CPU_ONLY=0; CPUACCT_ONLY=0; MEM_MNT=""; PIDS_MNT=""
while read -r mp opts; do
    [ -n "$mp" ] || continue
    if has_opt cpu "$opts" && has_opt cpuacct "$opts"; then CPU_MNT=${CPU_MNT:+$CPU_MNT }$mp
    elif has_opt cpu "$opts"; then CPU_ONLY=1
    elif has_opt cpuacct "$opts"; then CPUACCT_ONLY=1; fi
    has_opt memory "$opts" && MEM_MNT=$mp
    has_opt pids "$opts" && PIDS_MNT=$mp
done <<< "$V1"
if [ "$CPU_MNT" = "/sys/fs/cgroup/cpu,cpuacct" ] && [ $CPU_ONLY = 0 ] && [ $CPUACCT_ONLY = 0 ]; then
    ok "mountinfo: cpu and cpuacct co-mounted in one hierarchy at $CPU_MNT"
else
    die "mountinfo: cpu,cpuacct NOT co-mounted as expected (co-mounted at '$CPU_MNT', cpu alone: $CPU_ONLY, cpuacct alone: $CPUACCT_ONLY); boot with systemd.unified_cgroup_hierarchy=0"
fi
[ -n "$MEM_MNT" ] && [ -n "$PIDS_MNT" ] || die "memory ('$MEM_MNT') and pids ('$PIDS_MNT') v1 hierarchies expected"

# the daemon's own cgroup in each hierarchy: the root "jgovernor-test-vm" is relative to it
own() { awk -F: -v c="$1" '$2 == c { print $3 }' "$2" | sed 's#/$##'; }
set_paths() {   # set_paths /proc/PID/cgroup
    CPU_OWN=$(own cpu,cpuacct "$1"); MEM_OWN=$(own memory "$1"); PIDS_OWN=$(own pids "$1")
    CPU_ROOT=$CPU_MNT$CPU_OWN/$ROOTNAME; MEM_ROOT=$MEM_MNT$MEM_OWN/$ROOTNAME; PIDS_ROOT=$PIDS_MNT$PIDS_OWN/$ROOTNAME
    CG=$CPU_ROOT/web; MG=$MEM_ROOT/web; PG=$PIDS_ROOT/web
}
echo "== /proc/self/cgroup (this script):"; sed 's/^/     /' /proc/self/cgroup
set_paths /proc/self/cgroup
[ -e "$CPU_MNT/$ROOTNAME" ] && die "$CPU_MNT/$ROOTNAME exists before the test (left over?)"
for r in "$CPU_ROOT" "$MEM_ROOT" "$PIDS_ROOT"; do [ -e "$r" ] && die "$r exists before the test (left over?)"; done

# --- policy dir: root-owned 0755, files 0644 -------------------------------------------------------
rm -rf "$BASE"
install -d -o root -g root -m 0755 "$BASE" "$POLICIES"
write_policy() {   # write_policy FILE < content; in place (truncate + write + close: one IN_CLOSE_WRITE)
    cat > "$1"; chown root:root "$1"; chmod 0644 "$1"
}
write_policy "$POLICIES/web.yaml" <<'YAML'
# written by it/vm/v1-comounted.sh
name: web
description: v1 co-mounted cpu,cpuacct test
cpu:
  shares: 512
  quota: 50%
  period: 100ms
memory:
  limit: 64Mi
pids:
  max: 32
YAML
note "policy dir $(stat -c '%U %a' "$POLICIES"), web.yaml $(stat -c '%U %a' "$POLICIES/web.yaml")"

# --- the daemon (the only JVM start) ---------------------------------------------------------------
# a long interval: drift must be repaired by SIGHUP, not by a periodic pass
SCOPE=()
# systemd-run --scope execs the command itself: $! is the JVM's pid, and the JVM is our child
[ "$DELEGATE_SCOPE" = 1 ] && SCOPE=(systemd-run --quiet --scope --unit=jgovernor-test-vm-daemon -p Delegate=yes)
"${SCOPE[@]}" "$JDK/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC \
    -Djgovernor.policy-dir="$POLICIES" -Djgovernor.state-dir="$STATE" \
    -Djgovernor.cgroup.root="$ROOTNAME" -Djgovernor.reconcile.interval=1h \
    -jar "$JAR" > "$LOG" 2>&1 &
DPID=$!
S0=$(date +%s.%N)
if [ "$DELEGATE_SCOPE" = 1 ]; then
    until_ 10 grep -q jgovernor-test-vm-daemon.scope /proc/$DPID/cgroup || die "daemon $DPID not in jgovernor-test-vm-daemon.scope"
    set_paths /proc/$DPID/cgroup
    echo "== /proc/$DPID/cgroup (the daemon, in a Delegate=yes scope):"; sed 's/^/     /' /proc/$DPID/cgroup
    [ -n "$CPU_OWN" ] && ok "the daemon has its own cgroup in cpu,cpuacct: $CPU_OWN" || bad "daemon's cpu,cpuacct cgroup is the root"
fi
ready() { log_has "jgovernor ready" || ! alive "$DPID"; }
# The JVM is emulated (TCG): 70-95 s to READY alone, much more when the host is busy.
until_ 360 ready
alive "$DPID" || die "daemon exited before it was ready"
log_has "jgovernor ready" || die "no 'jgovernor ready' within 360 s"
ok "daemon pid $DPID ready after $(awk -v a="$S0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s: $(grep -o 'jgovernor ready.*' "$LOG")"
grep -q "cgroup hybrid\|cgroup v1" "$LOG" && note "daemon says: $(grep -o 'cgroup \(hybrid\|v1\).*' "$LOG" | head -1)"
log_has "jgovernor ready: 1 groups" && ok "daemon reports 1 group" || bad "daemon does not report 1 group"

# --- applied: one directory in the co-mounted hierarchy, values as the policy says -----------------
FOUND=$(find "$CPU_MNT" -type d -path "*/$ROOTNAME/web")
check "directories named $ROOTNAME/web in $CPU_MNT" "$CG" "$FOUND"
note "all $ROOTNAME/web dirs under /sys/fs/cgroup: $(find /sys/fs/cgroup -type d -path "*/$ROOTNAME/web" | tr '\n' ' ')"
check "cpu.shares" 512 "$(val "$CG/cpu.shares")"
check "cpu.cfs_period_us" 100000 "$(val "$CG/cpu.cfs_period_us")"
check "cpu.cfs_quota_us (50%)" 50000 "$(val "$CG/cpu.cfs_quota_us")"
[ -f "$CG/cpuacct.usage" ] && ok "cpuacct.usage exists in the same directory ($(val "$CG/cpuacct.usage") ns)" \
    || bad "no $CG/cpuacct.usage"
check "memory.limit_in_bytes (64Mi) in $MG" 67108864 "$(val "$MG/memory.limit_in_bytes")"
check "pids.max in $PG" 32 "$(val "$PG/pids.max")"

# --- accounting: a spinning process in the group is charged in cpuacct.usage -----------------------
sh -c 'while :; do :; done' &
SPIN=$!
echo "$SPIN" > "$CG/cgroup.procs" || bad "echo $SPIN > $CG/cgroup.procs"
check "spinner's cpu,cpuacct cgroup" "$CPU_OWN/$ROOTNAME/web" "$(awk -F: '$2 == "cpu,cpuacct" { print $3 }' /proc/$SPIN/cgroup)"
U0=$(val "$CG/cpuacct.usage"); TH0=$(awk '$1 == "nr_throttled" { print $2 }' "$CG/cpu.stat")
sleep 2
U1=$(val "$CG/cpuacct.usage"); TH1=$(awk '$1 == "nr_throttled" { print $2 }' "$CG/cpu.stat")
kill -9 "$SPIN"; wait "$SPIN" 2>/dev/null; SPIN=""
if [ -n "$U0" ] && [ -n "$U1" ] && [ "$U1" -gt "$U0" ]; then
    ok "cpuacct.usage grew while the spinner ran: $U0 -> $U1 (+$(( (U1 - U0) / 1000000 )) ms in 2 s wall)"
else bad "cpuacct.usage did not grow: '$U0' -> '$U1'"; fi
if [ "${TH1:-0}" -gt "${TH0:-0}" ]; then ok "quota enforced: cpu.stat nr_throttled $TH0 -> $TH1"
else bad "cpu.stat nr_throttled did not grow: '$TH0' -> '$TH1'"; fi

# --- drift: changed by hand, put back on SIGHUP ----------------------------------------------------
echo 1024 > "$CG/cpu.shares"; echo 20000 > "$CG/cpu.cfs_quota_us"
note "by hand: cpu.shares=$(val "$CG/cpu.shares") cpu.cfs_quota_us=$(val "$CG/cpu.cfs_quota_us")"
kill -HUP "$DPID"
drift_fixed() { is_val "$CG/cpu.shares" 512 && is_val "$CG/cpu.cfs_quota_us" 50000; }
if until_ "$WAIT" drift_fixed; then ok "after SIGHUP: cpu.shares = 512, cpu.cfs_quota_us = 50000 again"
else bad "after SIGHUP: cpu.shares = $(val "$CG/cpu.shares"), cpu.cfs_quota_us = $(val "$CG/cpu.cfs_quota_us")"; fi
until_ 10 log_has "drift repaired: web: cpu.shares 1024 -> 512" \
    && ok "log: $(grep -o 'drift repaired: web: cpu.shares.*' "$LOG" | head -1)" \
    || bad "log has no 'drift repaired: web: cpu.shares 1024 -> 512'"
log_has "drift repaired: web: cpu.cfs_quota_us" \
    && ok "log: $(grep -o 'drift repaired: web: cpu.cfs_quota_us.*' "$LOG" | head -1)" \
    || bad "log has no 'drift repaired: web: cpu.cfs_quota_us'"
log_has "SIGHUP: re-reading every policy" && ok "log: SIGHUP: re-reading every policy" || bad "SIGHUP not logged"

# --- edit in place ---------------------------------------------------------------------------------
write_policy "$POLICIES/web.yaml" <<'YAML'
# edited in place by it/vm/v1-comounted.sh
name: web
cpu:
  shares: 256
  quota: 25%
  period: 50ms
memory:
  limit: 32Mi
pids:
  max: 16
YAML
edited() { is_val "$CG/cpu.shares" 256 && is_val "$CG/cpu.cfs_period_us" 50000 && is_val "$CG/cpu.cfs_quota_us" 12500 \
           && is_val "$MG/memory.limit_in_bytes" 33554432 && is_val "$PG/pids.max" 16; }
E0=$(date +%s.%N)
until_ "$WAIT" edited; note "edit landed after $(awk -v a="$E0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
check "after edit: cpu.shares" 256 "$(val "$CG/cpu.shares")"
check "after edit: cpu.cfs_period_us (50ms)" 50000 "$(val "$CG/cpu.cfs_period_us")"
check "after edit: cpu.cfs_quota_us (25% of 50ms)" 12500 "$(val "$CG/cpu.cfs_quota_us")"
check "after edit: memory.limit_in_bytes (32Mi)" 33554432 "$(val "$MG/memory.limit_in_bytes")"
check "after edit: pids.max" 16 "$(val "$PG/pids.max")"

# --- the subsystems a container uses: net_cls, net_prio, hugetlb, perf_event, freezer (issue 14) -----
# each in its own v1 hierarchy of this boot (net_cls,net_prio co-mounted); the group's directory in
# each holds the policy's values. A member joins the freezer directory and stops running.
mnt_of() { echo "$V1" | while read -r mp opts; do has_opt "$1" "$opts" && { echo "$mp"; break; }; done; }
own_of() { awk -F: -v c="$1" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' \
           /proc/$DPID/cgroup | sed 's#/$##'; }
sub_dir() { echo "$(mnt_of "$1")$(own_of "$1")/$ROOTNAME/subsys"; }
SUB_OK=1
for c in net_cls net_prio hugetlb perf_event freezer; do
    [ -n "$(mnt_of $c)" ] || { bad "no v1 $c hierarchy mounted in this boot"; SUB_OK=0; }
done
HP=$(ls -d /sys/kernel/mm/hugepages/hugepages-2048kB 2>/dev/null)
[ -n "$HP" ] || { bad "no 2 MB huge pages in this kernel"; SUB_OK=0; }
if [ $SUB_OK = 1 ]; then
    write_policy "$POLICIES/subsys.yaml" <<'YAML'
# written by it/vm/v1-comounted.sh
name: subsys
network:
  classId: "10:1"
  priorities: {lo: 5}
hugetlb:
  - {pageSize: 2Mi, limit: 4Mi}
perfEvent: true
freezer: {frozen: true}
YAML
    NC=$(sub_dir net_cls); NP=$(sub_dir net_prio); HT=$(sub_dir hugetlb); PE=$(sub_dir perf_event); FZ=$(sub_dir freezer)
    applied() { is_val "$NC/net_cls.classid" 1048577 && grep -qx "lo 5" "$NP/net_prio.ifpriomap" 2>/dev/null \
                && is_val "$HT/hugetlb.2MB.limit_in_bytes" 4194304 && [ -d "$PE" ] && is_val "$FZ/freezer.state" FROZEN; }
    until_ "$WAIT" applied || note "subsys not applied within $WAIT s: $(grep -E 'subsys|ERROR|WARN' "$LOG" | tail -3)"
    check "subsys net_cls.classid (\"10:1\" = 0x100001) in $NC" 1048577 "$(val "$NC/net_cls.classid")"
    check "subsys net_prio.ifpriomap lo" "lo 5" "$(grep '^lo ' "$NP/net_prio.ifpriomap" 2>/dev/null)"
    check "subsys hugetlb.2MB.limit_in_bytes (4Mi) in $HT" 4194304 "$(val "$HT/hugetlb.2MB.limit_in_bytes")"
    if [ -e "$HT/hugetlb.2MB.rsvd.limit_in_bytes" ]; then
        check "subsys hugetlb.2MB.rsvd.limit_in_bytes (4Mi)" 4194304 "$(val "$HT/hugetlb.2MB.rsvd.limit_in_bytes")"
    fi
    [ -d "$PE" ] && ok "subsys has a perf_event directory: $PE" || bad "no perf_event directory $PE"
    check "subsys freezer.state" FROZEN "$(val "$FZ/freezer.state")"
    # a member of the frozen group does not run: its counter file stays still
    COUNT=$BASE/subsys.count
    sh -c "i=0; while :; do i=\$((i+1)); echo \$i >> $COUNT; sleep 0.05; done" &
    SPIN=$!
    until_ 10 test -s "$COUNT"
    echo "$SPIN" > "$FZ/cgroup.procs" || bad "echo $SPIN > $FZ/cgroup.procs"
    sleep 0.5; C0=$(tail -n1 "$COUNT"); sleep 2
    check "a member's count over 2 s in the frozen subsys (does not run)" "$C0" "$(tail -n1 "$COUNT")"
    write_policy "$POLICIES/subsys.yaml" <<'YAML'
name: subsys
network:
  classId: "10:1"
  priorities: {lo: 5}
hugetlb:
  - {pageSize: 2Mi, limit: 4Mi}
perfEvent: true
freezer: {frozen: false}
YAML
    until_ "$WAIT" is_val "$FZ/freezer.state" THAWED && ok "subsys thawed by the edited policy" || bad "subsys still $(val "$FZ/freezer.state")"
    runs() { local a; a=$(tail -n1 "$COUNT"); sleep 0.5; [ "$(tail -n1 "$COUNT")" != "$a" ]; }
    until_ "$WAIT" runs && ok "the member counts again after thaw ($C0 -> $(tail -n1 "$COUNT"))" || bad "the member does not run after thaw"
    kill -9 "$SPIN"; wait "$SPIN" 2>/dev/null; SPIN=""
    rm "$POLICIES/subsys.yaml"
    sub_gone() { [ ! -e "$NC" ] && [ ! -e "$NP" ] && [ ! -e "$HT" ] && [ ! -e "$PE" ] && [ ! -e "$FZ" ]; }
    until_ "$WAIT" sub_gone && ok "subsys directories removed with its policy" \
        || bad "subsys directories left: $(for d in "$NC" "$NP" "$HT" "$PE" "$FZ"; do [ -e "$d" ] && echo -n "$d "; done)"
fi

# --- delete: directories removed, processes moved to the parent ------------------------------------
sleep 600 &
SLEEPER=$!
echo "$SLEEPER" > "$CG/cgroup.procs"; echo "$SLEEPER" > "$MG/cgroup.procs"; echo "$SLEEPER" > "$PG/cgroup.procs"
note "sleeper $SLEEPER in: $(grep -E ':(cpu,cpuacct|memory|pids):' /proc/$SLEEPER/cgroup | tr '\n' ' ')"
rm "$POLICIES/web.yaml"
gone() { [ ! -e "$CG" ] && [ ! -e "$MG" ] && [ ! -e "$PG" ]; }
if until_ "$WAIT" gone; then ok "after delete: $CG, $MG, $PG removed"
else bad "after delete: still there: $(for d in "$CG" "$MG" "$PG"; do [ -e "$d" ] && echo -n "$d "; done)"; fi
REST=$(find "$CPU_MNT" "$MEM_MNT" "$PIDS_MNT" -type d -path "*/$ROOTNAME/*")
check "directories left beneath $ROOTNAME/ after delete" "" "$REST"
for c in cpu,cpuacct memory pids; do
    case $c in cpu,cpuacct) o=$CPU_OWN;; memory) o=$MEM_OWN;; pids) o=$PIDS_OWN;; esac
    check "sleeper's $c cgroup after delete (the parent)" "$o/$ROOTNAME" "$(awk -F: -v c=$c '$2 == c { print $3 }' /proc/$SLEEPER/cgroup)"
done
alive "$SLEEPER" && ok "sleeper $SLEEPER still alive" || bad "sleeper $SLEEPER died"
kill -9 "$SLEEPER"; wait "$SLEEPER" 2>/dev/null; SLEEPER=""

# --- SIGTERM: exit 0 -------------------------------------------------------------------------------
kill -TERM "$DPID"
until_ "$WAIT" eval '! alive $DPID'
if alive "$DPID"; then bad "daemon still running $WAIT s after SIGTERM"
else wait "$DPID"; RC=$?; DPID=""; check "daemon exit code after SIGTERM" 0 "$RC"; fi
log_has "jgovernor stopped; cgroups left in place" && ok "log: jgovernor stopped; cgroups left in place" \
    || bad "log has no 'jgovernor stopped; cgroups left in place'"
ERRS=$(grep -E ' (ERROR|WARN) ' "$LOG" | grep -v 'drift repaired')
[ -z "$ERRS" ] && ok "no other WARN/ERROR lines in the daemon log" || bad "WARN/ERROR in the log: $ERRS"

finish
