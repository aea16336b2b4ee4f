#!/usr/bin/env bash
# Generates the benchmark's inputs from one table, so that every tool applies the same settings:
#   $OUT/groups.tsv       name shares quota% cpus mems limitMi swapMi readMi writeMi pidsMax
#   $OUT/policies/*.yaml  one jgovernor policy file per group (g0001.yaml ...)
#   $OUT/raw.plan         the raw write loop's script: "M dir" (mkdir) / "W dir file value"
#   $OUT/cgconfig.conf    the same groups for libcgroup's cgconfigparser
#   $OUT/expected.tsv     "absolute-file<TAB>expected line" for every setting of every group
# Environment: OUT, COUNT, ROOT (name of the groups' parent, beneath this process's own cgroup),
# DEV (block device path), MAJMIN, HIERS (hierarchies every group gets a directory in, in order).
set -euo pipefail
: "${OUT:?}" "${COUNT:?}" "${ROOT:?}" "${DEV:?}" "${MAJMIN:?}" "${HIERS:?}"
mkdir -p "$OUT/policies"
rm -f "$OUT"/policies/*.yaml

# This process's own cgroup in each hierarchy (it differs per hierarchy: never hard-coded).
own() { awk -F: -v c="$1" '{n=split($2,a,","); for(i=1;i<=n;i++) if(a[i]==c) print $3}' /proc/self/cgroup; }
ownpaths=""
for h in $HIERS; do
  p=$(own "$h"); [ -n "$p" ] || { echo "gen: no $h line in /proc/self/cgroup" >&2; exit 1; }
  ownpaths+="$h=${p%/}"$'\n'
done

awk -v count="$COUNT" 'BEGIN {
  OFS="\t"
  for (i = 1; i <= count; i++) {
    name = sprintf("g%04d", i)
    shares = 2 + (i * 37) % 4000                 # 2..4001
    quota = 10 + (i * 13) % 190                  # 10%..199% of one CPU
    c = i % 3; cpus = (c == 0 ? "0" : (c == 1 ? "1" : "0-1"))
    mems = "0"
    limit = 64 + (i * 7) % 960                   # MiB
    swap = limit + 16 + i % 512                  # MiB, memsw >= limit
    rd = 1 + (i * 11) % 200                      # MiB/s
    wr = 1 + (i * 17) % 100
    pids = 16 + (i * 5) % 4000
    print name, shares, quota, cpus, mems, limit, swap, rd, wr, pids
  }
}' > "$OUT/groups.tsv"

# Policies.
awk -F'\t' -v dir="$OUT/policies" -v dev="$DEV" '{
  f = dir "/" $1 ".yaml"
  printf "name: %s\ndescription: benchmark group %s\ncpu:\n  shares: %d\n  quota: %d%%\ncpuset:\n  cpus: \"%s\"\n  mems: \"%s\"\nmemory:\n  limit: %dMi\n  swapLimit: %dMi\nio:\n  devices:\n    - device: %s\n      readBps: %dMi\n      writeBps: %dMi\npids:\n  max: %d\n", $1, $1, $2, $3, $4, $5, $6, $7, dev, $8, $9, $10 > f
  close(f)
}' "$OUT/groups.tsv"

# Raw plan, expected values and cgconfig.conf, all from the same table.
printf '%s' "$ownpaths" | awk -F'\t' -v root="$ROOT" -v hiers="$HIERS" -v mm="$MAJMIN" \
    -v plan="$OUT/raw.plan" -v expf="$OUT/expected.tsv" -v conf="$OUT/cgconfig.conf" '
  NR == FNR { split($0, kv, "="); own[kv[1]] = kv[2]; next }
  FNR == 1 && !started {
    started = 1
    nh = split(hiers, H, " ")
    for (k = 1; k <= nh; k++) base[H[k]] = "/sys/fs/cgroup/" H[k] own[H[k]] "/" root
    # The root: every tool makes it, and a v1 cpuset directory needs cpus and mems first.
    for (k = 1; k <= nh; k++) {
      print "M " base[H[k]] > plan
      if (H[k] == "cpuset") { print "W " base[H[k]] " cpuset.mems 0" > plan; print "W " base[H[k]] " cpuset.cpus " cpusAll > plan }
    }
    # cgconfigparser: one group statement per distinct own path (memory differs here).
    for (k = 1; k <= nh; k++) { p = own[H[k]]; if (!(p in seen)) { seen[p] = 1; paths[++np] = p }; ctl[p] = ctl[p] " " H[k] }
    for (q = 1; q <= np; q++) {
      rel = substr(paths[q] "/" root, 2)
      printf "group %s {\n", rel > conf
      m = split(ctl[paths[q]], C, " ")
      for (k = 1; k <= m; k++) {
        if (C[k] == "cpuset") printf "  cpuset { cpuset.mems = \"0\"; cpuset.cpus = \"%s\"; }\n", cpusAll > conf
        else printf "  %s { }\n", C[k] > conf
      }
      printf "}\n" > conf
    }
  }
  {
    name=$1; shares=$2; quotaUs=$3 * 1000; cpus=$4; mems=$5
    limit=$6 * 1048576; swap=$7 * 1048576; rd=$8 * 1048576; wr=$9 * 1048576; pids=$10
    for (k = 1; k <= nh; k++) {
      h = H[k]; d = base[h] "/" name
      print "M " d > plan
      if (h == "cpu") { w(d, "cpu.shares", shares); w(d, "cpu.cfs_quota_us", quotaUs) }
      if (h == "cpuset") { w(d, "cpuset.mems", mems); w(d, "cpuset.cpus", cpus) }
      if (h == "memory") { w(d, "memory.limit_in_bytes", limit); w(d, "memory.memsw.limit_in_bytes", swap) }
      if (h == "blkio") { w(d, "blkio.throttle.read_bps_device", mm " " rd); w(d, "blkio.throttle.write_bps_device", mm " " wr) }
      if (h == "pids") { w(d, "pids.max", pids) }
    }
    for (q = 1; q <= np; q++) {
      rel = substr(paths[q] "/" root "/" name, 2)
      printf "group %s {\n", rel > conf
      m = split(ctl[paths[q]], C, " ")
      for (k = 1; k <= m; k++) {
        h = C[k]
        if (h == "cpu") printf "  cpu { cpu.shares = %d; cpu.cfs_quota_us = %d; }\n", shares, quotaUs > conf
        else if (h == "cpuset") printf "  cpuset { cpuset.mems = \"%s\"; cpuset.cpus = \"%s\"; }\n", mems, cpus > conf
        else if (h == "memory") printf "  memory { memory.limit_in_bytes = %d; memory.memsw.limit_in_bytes = %d; }\n", limit, swap > conf
        else if (h == "blkio") printf "  blkio { blkio.throttle.read_bps_device = \"%s %d\"; blkio.throttle.write_bps_device = \"%s %d\"; }\n", mm, rd, mm, wr > conf
        else if (h == "pids") printf "  pids { pids.max = %d; }\n", pids > conf
        else printf "  %s { }\n", h > conf
      }
      printf "}\n" > conf
    }
  }
  function w(d, f, v) { print "W " d " " f " " v > plan; print d "/" f "\t" v > expf }
' - cpusAll="$(cat /sys/fs/cgroup/cpuset/cpuset.effective_cpus 2>/dev/null || cat /sys/fs/cgroup/cpuset/cpuset.cpus)" "$OUT/groups.tsv"
