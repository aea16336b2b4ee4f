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

# Mounts the host's Java 25 (9p tag "jdk") at $JDK unless it is there, sets MOUNTED_JDK=1 when it
# mounted it (for the caller's cleanup), checks the version and that the host-built $JAR exists.
# Needs the caller's die().
mount_host_jdk() {
    mkdir -p "$JDK"
    if ! mountpoint -q "$JDK"; then
        mount -t 9p -o trans=virtio,version=9p2000.L,ro jdk "$JDK" || die "mount the host JDK (9p tag jdk) at $JDK"
        MOUNTED_JDK=1
    fi
    local jv
    jv=$(sed -n 's/^JAVA_VERSION="\(.*\)"/\1/p' "$JDK/release")
    case $jv in 25*) ok "Java $jv mounted at $JDK";; *) die "Java 25 expected at $JDK, release says '$jv'";; esac
    [ -s "$JAR" ] || die "$JAR missing (build on the host: ./mvnw -B -q package -DskipTests)"
}
