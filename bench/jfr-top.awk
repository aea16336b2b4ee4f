# Summarises `jfr print --events jdk.CPUTimeSample --stack-depth 64` (or ExecutionSample):
# the share of samples per innermost io.jgovernor frame ("where in jgovernor"), and per leaf
# frame ("what it is doing there"). Usage: awk -v top=10 -f jfr-top.awk
/^jdk\.[A-Za-z]+ \{/ { inev = 1; instack = 0; leaf = ""; jg = ""; next }
inev && /stackTrace = \[/ { instack = 1; next }
instack && /^  \]/ { instack = 0; n++; L[leaf == "" ? "(no stack)" : leaf]++; G[jg == "" ? "(outside io.jgovernor)" : jg]++; next }
instack {
  f = $0; sub(/^ +/, "", f); sub(/ line: [0-9]+$/, "", f); sub(/\(.*\)$/, "", f)
  if (f == "...") next
  if (leaf == "") leaf = f
  if (jg == "" && f ~ /^io\.jgovernor\./ && f !~ /^io\.jgovernor\.bench\./) jg = f
}
END {
  if (top == "") top = 10
  printf "%d samples\n", n
  print "innermost jgovernor frame:"; dump(G)
  print "leaf frame:"; dump(L)
}
function dump(A,   k, i, j, t, keys, m) {
  m = 0; for (k in A) keys[++m] = k
  for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (A[keys[j]] > A[keys[i]]) { t = keys[i]; keys[i] = keys[j]; keys[j] = t }
  for (i = 1; i <= m && i <= top; i++) printf "  %5.1f%%  %s\n", 100 * A[keys[i]] / n, keys[i]
}
