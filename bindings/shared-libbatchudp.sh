#!/bin/sh
# Prints the libbatchudp shared objects BINARY needs: named in its own
# dynamic section (readelf -d on ELF, otool -L on Mach-O) or loaded through
# another library (ldd, where there is one).  The bindings' checks use it to
# tell a library compiled into the program from a shared one.
#
#   bindings/shared-libbatchudp.sh BINARY
#
# Exit 0: it needs one (printed); 1: it needs none; 2: BINARY could not be
# read, or neither readelf nor otool is here.
set -eu
if [ $# -ne 1 ]; then
    echo "usage: $0 BINARY" >&2
    exit 2
fi
bin=$1
if command -v readelf >/dev/null 2>&1; then
    dynamic=$(readelf -d "$bin") || exit 2
    direct=$(printf '%s\n' "$dynamic" | grep NEEDED || true)
elif command -v otool >/dev/null 2>&1; then
    direct=$(otool -L "$bin") || exit 2
else
    echo "$0: neither readelf nor otool found" >&2
    exit 2
fi
loaded=
if command -v ldd >/dev/null 2>&1; then
    loaded=$(ldd "$bin" 2>/dev/null || true)
fi
found=$(printf '%s\n%s\n' "$direct" "$loaded" | grep libbatchudp || true)
[ -n "$found" ] || exit 1
printf '%s\n' "$found"
