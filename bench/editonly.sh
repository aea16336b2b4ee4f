#!/usr/bin/env bash
# The edit-latency part of bin/bench alone, for A/B runs under the same load: 1000 generated
# groups (bench/gen.sh), the daemon of checkout $APP (default: this one; build it first) started as
# bin/bench starts it, then bench/editlat.c in place and by rename. Run as root on a cgroup v1 host.
#
#   bench/editonly.sh OUTDIR [EDITS]        # APP=/path/to/other/checkout EXTRA='-Dkey=value ...'
#
# Prints one summary line per mode; OUTDIR keeps the latencies and the daemon's log. Groups go
# beneath this shell's own cgroup as jgovernor-test-edits-<pid> and are removed on exit. EXTRA
# passes more daemon options, e.g. the debug categories io.jgovernor.reconcile.ReconcileLoop and
# io.jgovernor.reconcile.Reconciler for the per-pass spans.
set -euo pipefail
out=$(realpath -m "$1"); edits=${2:-100}
cd "${APP:-$(dirname "$0")/..}"
mkdir -p "$out"
ROOT=jgovernor-test-edits-$$
work=/run/$ROOT
HIERS="cpu cpuacct cpuset memory blkio pids"
own() { awk -F: -v c="$1" '{n=split($2,a,","); for(i=1;i<=n;i++) if(a[i]==c) print $3}' /proc/self/cgroup; }
base() { local p; p=$(own "$1"); echo "/sys/fs/cgroup/$1${p%/}"; }
# the unified tree of a hybrid host too ("0::"): the daemon gives each group a directory there
unified_base() { local p; p=$(awk -F: '$1 == "0" {print $3}' /proc/self/cgroup); echo "/sys/fs/cgroup/unified${p%/}"; }
remove_groups() { local h d; for d in $(for h in $HIERS devices freezer; do echo "$(base "$h")/$1"; done) "$(unified_base)/$1"; do [ -d "$d" ] || continue; find "$d" -depth -type d -print0 | xargs -0 -r rmdir 2>/dev/null || true; done; }
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    # || true: this runs under set -e, and the daemon may be gone already
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  # a memory cgroup stays busy for a moment after its last process exits: try a few times
  for _ in 1 2 3 4 5; do
    remove_groups "$ROOT"
    [ -z "$(for h in $HIERS devices freezer; do d="$(base "$h")/$ROOT"; [ -d "$d" ] && echo "$d"; done)" ] && [ ! -d "$(unified_base)/$ROOT" ] && break
    sleep 0.5
  done
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work"/{bin,state,inputs}
MAJMIN=$(printf '%d:%d' "0x$(stat -c %t /dev/vda)" "0x$(stat -c %T /dev/vda)")
OUT=$work/inputs COUNT=1000 ROOT=$ROOT DEV=/dev/vda MAJMIN=$MAJMIN HIERS=$HIERS bench/gen.sh
install -d -m 0755 "$work/policies"; install -m 0644 "$work"/inputs/policies/*.yaml "$work/policies/"
gcc -O2 -o "$work/bin/editlat" bench/editlat.c
g=g0500; read -r _ _ _ _ _ limit _ < <(awk -F'\t' -v g="$g" '$1 == g' "$work/inputs/groups.tsv")
cp "$work/policies/$g.yaml" "$work/edit-a.yaml"
sed "s/^  limit: ${limit}Mi$/  limit: $((limit + 1))Mi/" "$work/edit-a.yaml" > "$work/edit-b.yaml"
bin/jgovernor-dev -Djgovernor.policy-dir="$work/policies" -Djgovernor.state-dir="$work/state" \
  -Djgovernor.cgroup.root="$ROOT" -Djgovernor.api.socket="$work/api.sock" -Dquarkus.http.port=0 \
  ${EXTRA:-} > "$out/daemon.log" 2>&1 &
pid=$!
until grep -q "jgovernor ready" "$out/daemon.log"; do sleep 0.05; kill -0 $pid; done
sleep 1
watched="$(base memory)/$ROOT/$g/memory.limit_in_bytes"
for mode in inplace rename; do
  "$work/bin/editlat" $mode "$edits" "$work/policies/$g.yaml" "$work/edit-a.yaml" "$work/edit-b.yaml" \
    $((limit * 1048576)) $(((limit + 1) * 1048576)) "$watched" 20 5000 > "$out/edit.$mode" || true
done
for mode in inplace rename; do
  sort -g "$out/edit.$mode" | awk -v m=$mode '{v[NR]=$1} END{printf "%s n=%d p50=%.2f p90=%.2f p99=%.2f max=%.2f\n", m, NR, v[int(NR*0.5+0.5)], v[int(NR*0.9+0.5)], v[int(NR*0.99+0.5)], v[NR]}'
done | tee "$out/summary"
