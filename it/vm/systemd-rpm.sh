#!/bin/bash
# it/vm/systemd-rpm.sh - runs INSIDE the test VM as root (systemd as PID 1), cwd /shared = the
# repo checkout. Booted either with the unified v2 hierarchy (Debian 12's default) or with the
# legacy v1 layout (systemd.unified_cgroup_hierarchy=0); the script reads which from the mount.
#
# The operator's path with the RPM built on the host (target/rpm/RPMS/<arch>/jgovernor-*.rpm):
#   rpm -i -> systemd-analyze verify -> policy in /etc/jgovernor/policies.d -> systemctl start
#   (returns after READY) -> values in the unit's delegated subtree -> edit + systemctl reload ->
#   systemctl status shows STATUS= -> watchdog restarts a SIGSTOPped daemon -> systemctl stop ->
#   rpm -e.
# Host side: bin/test-vm-systemd (boots the VM, shares the host's Java 25 as 9p tag "jdk", which
# this script mounts where the launcher looks: /usr/lib/jvm/temurin-25-jdk-amd64).
# Prints one "ok"/"FAIL" line per check and "N passed, M failed"; exits non-zero on any failure.
set -u
JDK=/usr/lib/jvm/temurin-25-jdk-amd64
UNIT=jgovernor.service
UNITFILE=/usr/lib/systemd/system/$UNIT
DROPIN=/etc/systemd/system/$UNIT.d
POLICIES=/etc/jgovernor/policies.d
START_TIMEOUT=${START_TIMEOUT:-300}          # TCG: the JVM takes 60-90 s to READY
WATCHDOG=${WATCHDOG:-20}                     # seconds, the drop-in's WatchdogSec=
WAIT=${WAIT:-60}

. "$(dirname "$0")/lib.sh"
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
prop() { systemctl show -p "$1" --value $UNIT; }
journal() { journalctl -u $UNIT --no-pager -o cat 2>/dev/null; }
finish() {
    echo "== journal of $UNIT"; journal | sed 's/^/  | /' | tail -n 80
    systemctl stop $UNIT 2>/dev/null
    echo "== $passed passed, $failed failed ($(since "$T0") s in the guest)"
    [ $failed = 0 ]; exit $?
}
die() { bad "$*"; finish; }

echo "== kernel $(uname -r), systemd $(systemctl --version | head -1 | awk '{print $2}'), $(nproc) cpus, cmdline: $(grep -o 'systemd.unified_cgroup_hierarchy=[^ ]*' /proc/cmdline)"
case $(stat -fc %T /sys/fs/cgroup) in
    tmpfs) LAYOUT=v1;;
    cgroup2fs) LAYOUT=v2;;
    *) die "/sys/fs/cgroup is neither the v1 (tmpfs) nor the v2 (cgroup2fs) layout";;
esac
echo "== cgroup layout: $LAYOUT"

# --- Java 25 from the host, where the launcher looks ----------------------------------------------
mkdir -p "$JDK"
mountpoint -q "$JDK" || mount -t 9p -o trans=virtio,version=9p2000.L,ro jdk "$JDK" || die "mount the host JDK (9p tag jdk) at $JDK"
JV=$(sed -n 's/^JAVA_VERSION="\(.*\)"/\1/p' "$JDK/release")
case $JV in 25*) ok "Java $JV mounted at $JDK";; *) die "Java 25 expected at $JDK, release says '$JV'";; esac

# --- rpm -i ----------------------------------------------------------------------------------------
RPM=$(ls /shared/target/rpm/RPMS/*/jgovernor-*.rpm 2>/dev/null | tail -n 1)
[ -n "$RPM" ] || die "no RPM in /shared/target/rpm/RPMS (bin/test-vm-systemd builds it)"
# --nodeps: Debian's rpm database knows no Debian package (java, systemd)
if OUT=$(rpm -i --nodeps "$RPM" 2>&1); then ok "rpm -i --nodeps $(basename "$RPM")${OUT:+ (said: $OUT)}"
else die "rpm -i --nodeps $RPM: $OUT"; fi
for f in /usr/bin/jgovernor /usr/lib/jgovernor/quarkus-run.jar $UNITFILE /etc/jgovernor/jgovernor.properties \
         /usr/share/doc/jgovernor/README.md /usr/share/doc/jgovernor/examples/web.yaml /usr/share/man/man8/jgovernor.8 \
         /usr/share/man/man5/jgovernor.policy.5 /usr/share/bash-completion/completions/jgovernor \
         /usr/share/jgovernor/prometheus/jgovernor-rules.yml /usr/share/jgovernor/ansible/roles/jgovernor/tasks/main.yml; do
    [ -f "$f" ] && ok "installed: $f" || bad "not installed: $f"
done
check "/etc/jgovernor/policies.d owner and mode" "root 755" "$(stat -c '%U %a' $POLICIES 2>/dev/null)"
check "/var/lib/jgovernor owner and mode (StateDirectoryMode= default)" "root 755" "$(stat -c '%U %a' /var/lib/jgovernor 2>/dev/null)"
check "rpm -V jgovernor (no changed file)" "" "$(rpm -V --nodeps jgovernor 2>&1)"
# Fedora's systemd package reloads the manager from an rpm file trigger; Debian's rpm has none.
systemctl daemon-reload

V=$(systemd-analyze verify $UNITFILE 2>&1)
check "systemd-analyze verify $UNITFILE output" "" "$V"

# --- a policy, and the test's drop-in --------------------------------------------------------------
install -o root -g root -m 0644 /dev/stdin $POLICIES/web.yaml <<'YAML'
# written by it/vm/systemd-rpm.sh
name: web
cpu:
  shares: 512
  quota: 50%
  period: 100ms
memory:
  limit: 64Mi
pids:
  max: 32
YAML
note "policy $(stat -c '%U %a' $POLICIES/web.yaml) $POLICIES/web.yaml"
# Test only: TCG makes the JVM start slowly; a short watchdog makes the hang test quick.
mkdir -p $DROPIN
cat > $DROPIN/vm-test.conf <<EOF
[Service]
TimeoutStartSec=${START_TIMEOUT}s
WatchdogSec=${WATCHDOG}s
EOF
systemctl daemon-reload
systemctl cat $UNIT | grep -qx "WatchdogSec=${WATCHDOG}s" && ok "drop-in $DROPIN/vm-test.conf: TimeoutStartSec=${START_TIMEOUT}s WatchdogSec=${WATCHDOG}s" \
    || bad "systemctl cat $UNIT does not show the drop-in"

# --- systemctl start: returns after READY -----------------------------------------------------------
S0=$(date +%s.%N)
if systemctl start $UNIT; then ok "systemctl start $UNIT returned 0 after $(since "$S0") s"
else bad "systemctl start $UNIT failed after $(since "$S0") s"; systemctl status --no-pager $UNIT; finish; fi
STATE="$(prop ActiveState)/$(prop SubState)"; ST=$(prop StatusText)
check "ActiveState/SubState right after start" "active/running" "$STATE"
case $ST in "1 groups from $POLICIES; 1 files valid, 0 invalid"*) ok "StatusText right after start: $ST";;
            *) bad "StatusText right after start: '$ST'";; esac
journal | grep -q "jgovernor ready" && ok "journal: $(journal | grep -o 'jgovernor ready.*' | tail -n 1)" \
    || bad "journal has no 'jgovernor ready' when start returned"
PID1=$(prop MainPID); NR1=$(prop NRestarts)
note "MainPID $PID1, NRestarts $NR1, cgroup $(prop ControlGroup)"
# for docs/benchmarks.md ("Daemon footprint"): memory right after READY, as systemd started it
note "footprint after start: $(grep -E '^(VmRSS|RssAnon|RssFile)' /proc/$PID1/status | tr -s ' \t' ' ' | tr '\n' ' ')"
note "/proc/$PID1/cgroup: $(tr '\n' ' ' < /proc/$PID1/cgroup)"
# The classifier thread asks for SCHED_FIFO priority 1 (jgovernor.classify.realtime-priority);
# under systemd, in the unit's delegated cgroup, the kernel must grant it (policy and priority
# are fields 41 and 40 of the thread's stat).
CLS=$(for t in /proc/$PID1/task/*; do [ "$(cat $t/comm 2>/dev/null)" = jgovernor-class ] && echo $t; done | head -n 1)
check "classifier thread scheduling (policy priority: 1 1 is SCHED_FIFO 1)" "1 1" \
    "$([ -n "$CLS" ] && sed 's/.*) //' $CLS/stat | awk '{ print $39, $38 }')"

# --- the values beneath the unit's delegated cgroup --------------------------------------------------
SUB=system.slice/$UNIT/jgovernor/web
# The same policy, in each layout's files: v2 has one directory, cpu.weight converted from shares
# (shares * 100 / 1024, as systemd converts: 512 -> 50, 256 -> 25), cpu.max "quota period", memory.max.
if [ $LAYOUT = v1 ]; then
    CG=/sys/fs/cgroup/cpu,cpuacct/$SUB; MG=/sys/fs/cgroup/memory/$SUB; PG=/sys/fs/cgroup/pids/$SUB
    SHARES=cpu.shares; SHARES_A=512; SHARES_B=256
    QUOTA=cpu.cfs_quota_us; QUOTA_A=50000; QUOTA_B=25000
    LIMIT=memory.limit_in_bytes
else
    CG=/sys/fs/cgroup/$SUB; MG=$CG; PG=$CG
    SHARES=cpu.weight; SHARES_A=50; SHARES_B=25
    QUOTA=cpu.max; QUOTA_A="50000 100000"; QUOTA_B="25000 100000"
    LIMIT=memory.max
    case $(cat /proc/$PID1/cgroup) in
        "0::/system.slice/$UNIT/supervisor") ok "v2: the daemon moved itself into the leaf system.slice/$UNIT/supervisor";;
        *) bad "v2: the daemon is in $(cat /proc/$PID1/cgroup), not in system.slice/$UNIT/supervisor";;
    esac
    check "v2: controllers enabled beneath the unit" "cpu memory pids" \
        "$(tr ' ' '\n' < /sys/fs/cgroup/system.slice/$UNIT/jgovernor/cgroup.subtree_control | grep -E '^(cpu|memory|pids)$' | sort | tr '\n' ' ' | sed 's/ $//')"
fi
check "$SHARES in $CG (shares 512)" "$SHARES_A" "$(val $CG/$SHARES)"
check "$QUOTA (50% of 100ms)" "$QUOTA_A" "$(val $CG/$QUOTA)"
check "$LIMIT (64Mi) in $MG" 67108864 "$(val $MG/$LIMIT)"
check "pids.max in $PG" 32 "$(val $PG/pids.max)"

# --- edit + drift, then systemctl reload -------------------------------------------------------------
cat > $POLICIES/web.yaml <<'YAML'
# edited by it/vm/systemd-rpm.sh
name: web
cpu:
  shares: 256
  quota: 25%
  period: 100ms
memory:
  limit: 32Mi
pids:
  max: 16
YAML
echo 1000 > $PG/pids.max          # drift a policy edit does not touch... until the reload
R0=$(date +%s.%N)
if systemctl reload $UNIT; then ok "systemctl reload $UNIT returned 0 after $(since "$R0") s"; else bad "systemctl reload $UNIT failed"; fi
reloaded() { is_val $CG/$SHARES "$SHARES_B" && is_val $CG/$QUOTA "$QUOTA_B" && is_val $MG/$LIMIT 33554432 && is_val $PG/pids.max 16; }
until_ "$WAIT" reloaded
check "after reload: $SHARES" "$SHARES_B" "$(val $CG/$SHARES)"
check "after reload: $QUOTA" "$QUOTA_B" "$(val $CG/$QUOTA)"
check "after reload: $LIMIT" 33554432 "$(val $MG/$LIMIT)"
check "after reload: pids.max (edited, and drifted by hand to 1000)" 16 "$(val $PG/pids.max)"
check "ActiveState/SubState after reload" "active/running" "$(prop ActiveState)/$(prop SubState)"
J=$(journal)
echo "$J" | grep -q "SIGHUP: re-reading every policy" && ok "journal: SIGHUP: re-reading every policy" || bad "journal: no SIGHUP line"
echo "$J" | grep -q "^Reloading " && ok "journal (RELOADING=1): $(echo "$J" | grep '^Reloading ' | tail -n 1)" || bad "journal: no 'Reloading' from systemd"
echo "$J" | grep -q "^Reloaded " && ok "journal (READY=1 after reload): $(echo "$J" | grep '^Reloaded ' | tail -n 1)" || bad "journal: no 'Reloaded' from systemd"
SS=$(systemctl status --no-pager $UNIT 2>&1)
STL=$(echo "$SS" | grep -m1 'Status: ')
case $STL in *'Status: "1 groups from '*) ok "systemctl status:$STL";; *) bad "systemctl status has no STATUS line: $SS";; esac

# --- the watchdog restarts a hung daemon -------------------------------------------------------------
W0=$(date +%s.%N)
kill -STOP "$PID1"
note "kill -STOP $PID1; WatchdogSec=${WATCHDOG}s"
restarted() { local p; p=$(prop MainPID); [ "$(prop NRestarts)" -gt "$NR1" ] && [ "$p" != 0 ] && [ "$p" != "$PID1" ] \
              && [ "$(prop ActiveState)/$(prop SubState)" = active/running ]; }
until_ $((WATCHDOG + START_TIMEOUT)) restarted
PID2=$(prop MainPID); NR2=$(prop NRestarts)
note "after $(since "$W0") s: MainPID $PID2, NRestarts $NR2, $(prop ActiveState)/$(prop SubState)"
[ "$NR2" -gt "$NR1" ] && ok "NRestarts grew: $NR1 -> $NR2" || bad "NRestarts did not grow: $NR1 -> $NR2"
[ "$PID2" != 0 ] && [ "$PID2" != "$PID1" ] && ok "new main pid: $PID1 -> $PID2" || bad "main pid: $PID1 -> $PID2"
kill -0 "$PID1" 2>/dev/null && bad "the hung pid $PID1 is still alive" || ok "the hung pid $PID1 is gone"
journal | grep -qi "watchdog timeout" && ok "journal: $(journal | grep -i 'watchdog timeout' | tail -n 1)" || bad "journal: no watchdog timeout"
check "ActiveState/SubState after the watchdog restart" "active/running" "$(prop ActiveState)/$(prop SubState)"
check "$SHARES after the restart" "$SHARES_B" "$(val $CG/$SHARES)"

# a workload of another unit (this script's, vm-runner.service) in the group, across the stop
sleep 600 &
SLEEPER=$!
# (on v2 this makes it a process of jgovernor.service in systemd's eyes: KillMode=process keeps it)
for d in $(printf '%s\n' $CG $MG $PG | sort -u); do echo $SLEEPER > $d/cgroup.procs || bad "echo $SLEEPER > $d/cgroup.procs"; done
note "sleeper $SLEEPER in: $(grep -E ':(cpu,cpuacct|memory|pids|name=systemd|):' /proc/$SLEEPER/cgroup | tr '\n' ' ')"

# --- systemctl stop ------------------------------------------------------------------------------
P0=$(date +%s.%N)
if systemctl stop $UNIT; then ok "systemctl stop returned 0 after $(since "$P0") s"; else bad "systemctl stop failed"; fi
check "Result after stop" success "$(prop Result)"
check "ExecMainStatus after stop" 0 "$(prop ExecMainStatus)"
check "ActiveState after stop" inactive "$(prop ActiveState)"
journal | grep -q "jgovernor stopped; cgroups left in place" && ok "journal: jgovernor stopped; cgroups left in place" \
    || bad "journal: no 'jgovernor stopped; cgroups left in place'"
note "after stop, beneath system.slice/$UNIT: $(find /sys/fs/cgroup/*/system.slice/$UNIT /sys/fs/cgroup/system.slice/$UNIT -maxdepth 3 -type d 2>/dev/null | tr '\n' ' ')"
kill -0 $SLEEPER 2>/dev/null && ok "the process $SLEEPER in the group outlived the stop (KillMode=process: systemd signals only the daemon)" \
    || bad "the workload $SLEEPER was killed by the stop"
# systemd prunes the unit's empty cgroups when it stops; the groups that hold processes stay
check "$SHARES of the occupied group after stop" "$SHARES_B" "$(val $CG/$SHARES)"
check "$LIMIT of the occupied group after stop" 33554432 "$(val $MG/$LIMIT)"
check "pids.max of the occupied group after stop" 16 "$(val $PG/pids.max)"
kill -9 $SLEEPER; wait $SLEEPER 2>/dev/null
note "/var/lib/jgovernor after stop: $(ls -A /var/lib/jgovernor | tr '\n' ' ')"

# --- rpm -e ----------------------------------------------------------------------------------------
echo "jgovernor.reconcile.interval=10s" >> /etc/jgovernor/jgovernor.properties
rm -rf $DROPIN
if OUT=$(rpm -e --nodeps jgovernor 2>&1); then ok "rpm -e jgovernor${OUT:+ (said: $OUT)}"; else bad "rpm -e jgovernor: $OUT"; fi
for f in /usr/bin/jgovernor /usr/lib/jgovernor $UNITFILE /usr/share/doc/jgovernor; do
    [ -e "$f" ] && bad "still there after rpm -e: $f" || ok "removed: $f"
done
[ -f /etc/jgovernor/jgovernor.properties.rpmsave ] && ok "changed config kept: /etc/jgovernor/jgovernor.properties.rpmsave" \
    || bad "no /etc/jgovernor/jgovernor.properties.rpmsave ($(ls -A /etc/jgovernor 2>&1 | tr '\n' ' '))"
[ -f $POLICIES/web.yaml ] && ok "the operator's policy kept: $POLICIES/web.yaml" || bad "$POLICIES/web.yaml removed"
rpm -q jgovernor >/dev/null 2>&1 && bad "rpm -q jgovernor still finds it" || ok "rpm -q: jgovernor not installed"

finish
