# Shared by the scripts of it/vm/ (sourced, run inside the VM): one ok/FAIL line per check and
# a final "N passed, M failed", as the test runners read it.
T0=$(date +%s.%N)
passed=0; failed=0
ok()   { echo "ok   $*"; passed=$((passed + 1)); }
bad()  { echo "FAIL $*"; failed=$((failed + 1)); }
note() { echo "--   $*"; }
# check DESCRIPTION EXPECTED ACTUAL
check() { if [ "$2" = "$3" ]; then ok "$1 = $3"; else bad "$1: expected '$2', got '$3'"; fi; }
# until_ SECONDS COMMAND...: true as soon as COMMAND succeeds, false after SECONDS
until_() { local end=$(( $(date +%s) + $1 )); shift
           while ! "$@"; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.2; done; return 0; }
# a cgroup (or any) file's value without its newline; empty when it cannot be read
val() { cat "$1" 2>/dev/null | tr -d '\n' || true; }
is_val() { [ "$(val "$1")" = "$2" ]; }
