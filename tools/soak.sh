#!/usr/bin/env bash
# soak.sh [DATAGRAMS] [SECONDS] [BUILDDIR]: build batchudp-soak if needed and run it:
# DATAGRAMS (default 10 million) through a receiving socket that is closed
# and reopened every 0.2-2 s, at most SECONDS (default 600).  BUILDDIR
# defaults to _build/default; one without a Makefile is configured and
# built by tools/build.sh first.  Exit status: the soak's,
# 0 when every check held (docs/TESTING.md, "Soak").
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
datagrams=${1:-10000000}
seconds=${2:-600}
build=${3:-$top/_build/default}

[ -f "$build/Makefile" ] || bash "$top/tools/build.sh" "$build" >/dev/null
make -C "$build" -j"$(nproc)" tools/batchudp-soak >/dev/null
exec "$build/tools/batchudp-soak" "$datagrams" "$seconds"
