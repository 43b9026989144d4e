#!/usr/bin/env bash
# Each binding with nothing installed: SwiftPM, cargo and pip alone build
# the C library from the sources (or carry it), in an environment without
# PKG_CONFIG_PATH or LD_LIBRARY_PATH, on a machine where no libbatchudp is
# installed.  Each binding's bundled-check.sh is one scenario; see there.
#
#   tools/bundled-check.sh WORKDIR
set -uo pipefail
if [ $# -ne 1 ]; then
    echo "usage: $0 WORKDIR" >&2
    exit 2
fi
top=$(cd "$(dirname "$0")/.." && pwd)
work=$1
status=0
for binding in swift rust python; do
    echo "== $binding, nothing installed"
    start=$SECONDS
    if bash "$top/bindings/$binding/bundled-check.sh" "$work/$binding"; then
        echo "PASS: $binding with nothing installed ($((SECONDS - start)) s)"
    else
        echo "FAIL: $binding with nothing installed"
        status=1
    fi
done
exit $status
