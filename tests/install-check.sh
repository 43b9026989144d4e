#!/usr/bin/env bash
# Install a build into a staging root and build a program outside the tree
# against it with nothing but pkg-config, as a user would; then check that
# only budp_* symbols are exported and the soname is right.
# Usage: tests/install-check.sh BUILDDIR
set -euo pipefail
build=$1
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
make -C "$build" install DESTDIR="$stage" >/dev/null
prefix=$(sed -n 's/^prefix=//p' "$build/lib/batchudp.pc")
libdir=$(sed -n 's/^libdir=//p' "$build/lib/batchudp.pc" | sed "s#\${exec_prefix}#$prefix#")
root=$stage$prefix
lib=$stage$(eval echo "$libdir")

for f in "$root/include/batchudp.h" "$lib/pkgconfig/batchudp.pc" "$lib/libbatchudp.so.1" \
         "$root/bin/batchudp-bench"; do
    [ -e "$f" ] || { echo "install-check: missing $f"; exit 1; }
done
soname=$(objdump -p "$lib/libbatchudp.so.1" | awk '/SONAME/ {print $2}')
[ "$soname" = libbatchudp.so.1 ] || { echo "install-check: soname $soname"; exit 1; }
others=$(nm -D --defined-only "$lib/libbatchudp.so.1" | awk '{print $3}' | grep -v '^budp_' | grep -v '^BATCHUDP_' || true)
[ -z "$others" ] || { echo "install-check: exported beyond budp_*: $others"; exit 1; }

# The manual: man finds each exported function's page in the installed tree
# (as `man -M PREFIX/share/man budp_recv` would for a private prefix), and a
# constant's alias page takes the reader to the page that documents it.
page=$(find "$stage" -path '*/man3/budp_recv.3')
[ -n "$page" ] || { echo "install-check: no man3/budp_recv.3 installed"; exit 1; }
mandir=${page%/man3/budp_recv.3}
if command -v man >/dev/null 2>&1; then
    for sym in $(nm -D --defined-only "$lib/libbatchudp.so.1" | awk '$3 ~ /^budp_/ {sub(/@.*/, "", $3); print $3}'); do
        found=$(man -M "$mandir" -w "$sym" 2>/dev/null) || { echo "install-check: man finds no page for $sym"; exit 1; }
        [ "$found" = "$mandir/man3/$sym.3" ] || { echo "install-check: man -w $sym: $found"; exit 1; }
    done
    if command -v groff >/dev/null 2>&1; then
        MANWIDTH=80 man -M "$mandir" -P cat BUDP_OPT_GRO 2>/dev/null | grep -q '^ *budp_options - ' ||
            { echo "install-check: man BUDP_OPT_GRO does not show budp_options(3)"; exit 1; }
    fi
    echo "install-check: man finds the page of every exported function"
else
    echo "install-check: man not found: pages installed, lookup not checked"
fi

cat > "$stage/prog.c" <<'C'
#include <batchudp.h>
#include <stdio.h>
int main(void)
{
    budp_socket *s;
    int rc = budp_bind(&s, "127.0.0.1", 0, NULL);
    if (rc < 0) { printf("bind: %s\n", budp_strerror(rc)); return 1; }
    printf("libbatchudp %s, backend %s\n", budp_version_string(), budp_backend_name(s));
    budp_close(s);
    return 0;
}
C
export PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_PATH=$lib/pkgconfig
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -o "$stage/prog" "$stage/prog.c" $(pkg-config --cflags --libs batchudp)
LD_LIBRARY_PATH=$lib "$stage/prog"
echo "install-check: installed tree, pkg-config build, exports and manual OK"
