#!/usr/bin/env bash
# Configure and build libbatchudp in a build directory (default _build/default).
# Usage: tools/build.sh [BUILDDIR] [configure arguments...]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build/default}
shift || true
cd "$top"
[ -x configure ] || autoreconf -fi >/dev/null
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$top/configure" -q "$@"
make -j"$(nproc)" >/dev/null
echo "$build"
