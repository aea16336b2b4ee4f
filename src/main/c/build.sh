#!/bin/sh
# Builds the exec stage (jgovernor-exec.c and the step files beside it) for the Maven build:
# `sh build.sh OUTPUT`. Statically linked when the C library's static archive is installed
# (Debian: libc6-dev), so the stage loads no shared objects at start (about 1 ms less per
# workload start); dynamically otherwise.
set -eu
out=$1
mkdir -p "$(dirname "$out")"
dir=$(dirname "$0")
cc=${CC:-gcc}
static=""
if echo 'int main(void){return 0;}' | "$cc" -static -x c -o "$out.probe" - -lseccomp 2>/dev/null; then
  static=-static
fi
rm -f "$out.probe"
# libseccomp (Debian libseccomp-dev, Fedora libseccomp-devel) builds the seccomp filter; with
# -static its archive is linked in, so the stage still loads no shared object.
"$cc" $static -O2 -s -Wall -Wextra -Werror -o "$out" "$dir"/*.c -lseccomp
