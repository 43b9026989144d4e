#!/usr/bin/env bash
# From a fresh Debian machine: install what is missing, build, and run the
# loopback benchmark (what batching buys on this machine).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/tools/install-deps.sh"
build=$(bash "$top/tools/build.sh")
exec "$build/tools/batchudp-bench" "$@"
