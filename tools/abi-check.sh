#!/usr/bin/env bash
# The library's ABI against the baseline committed in tests/abi/: any
# difference fails, compatible or not, until the baseline is updated in the
# same commit as the change (docs/ABI.md says when that is allowed).
#
#   tools/abi-check.sh BUILDDIR            compare
#   tools/abi-check.sh BUILDDIR --update   write the baseline from BUILDDIR
#
# Two parts: the binary interface as abidw sees it in the shared object's
# DWARF (exported functions, their symbol versions, every type reachable
# from the public header: budp_addr, budp_datagram, budp_stats, the
# callback), and the header's constants (BUDP_* macros and enum values),
# which DWARF does not carry.  Linux x86-64 with abigail-tools.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: $0 BUILDDIR [--update]}" && pwd)
mode=${2:-check}
base=$top/tests/abi
lib=$(readlink -f "$build/lib/.libs/libbatchudp.so")
abi_opts=(--headers-dir "$top/include" --drop-private-types --no-show-locs
          --no-corpus-path --drop-undefined-syms --no-elf-needed)

for tool in abidw abidiff; do
    command -v "$tool" >/dev/null || { echo "abi-check: $tool not found (apt-get install abigail-tools)"; exit 1; }
done
[ "$(uname -m)" = x86_64 ] || { echo "abi-check: the baseline is for x86-64"; exit 1; }

# Every BUDP_ constant of the public header with its value, sorted.
constants() {
    {
        ${CC:-cc} -dM -E -I"$top/include" "$top/include/batchudp.h" |
            awk '$1 == "#define" && $2 ~ /^BUDP_/ && $2 !~ /\(/ &&
                 $2 != "BUDP_EXPORT" && $2 !~ /^BUDP_VERSION/ { $1 = ""; sub(/^ /, ""); print }'
        sed -n 's/^[[:space:]]*\(BUDP_[A-Z0-9_]*\)[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1 \2/p' \
            "$top/include/batchudp.h"
    } | sort
}

soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
if [ "$mode" = --update ]; then
    abidw "${abi_opts[@]}" --out-file "$base/libbatchudp.abi" "$lib"
    constants > "$base/constants.txt"
    echo "$soname" > "$base/soname.txt"
    echo "abi-check: baseline written to tests/abi/ from $lib"
    exit 0
fi

status=0
if [ "$soname" != "$(cat "$base/soname.txt")" ]; then
    echo "abi-check: soname $soname, baseline $(cat "$base/soname.txt")"
    status=1
fi
if ! abidiff \
        "$base/libbatchudp.abi" "$lib" > "$build/abidiff.out" 2>&1; then
    echo "abi-check: the binary interface differs from tests/abi/libbatchudp.abi:"
    cat "$build/abidiff.out"
    status=1
fi
if ! diff -u "$base/constants.txt" <(constants); then
    echo "abi-check: the header's constants differ from tests/abi/constants.txt"
    status=1
fi
if [ $status -eq 0 ]; then
    echo "abi-check: $soname matches the baseline: $(grep -c '<elf-symbol ' "$base/libbatchudp.abi") functions, $(wc -l < "$base/constants.txt") constants"
else
    echo "abi-check: if the change is intended and allowed (docs/ABI.md), run"
    echo "  tools/abi-check.sh BUILDDIR --update   and commit tests/abi/ with it"
fi
exit $status
