#!/bin/sh
# Fails, saying what it found, when this machine has a libbatchudp that the
# dynamic linker or pkg-config (with no PKG_CONFIG_PATH) would find.  The
# bindings' bundled-check.sh scripts show that their package manager alone
# is enough; on a machine with the library installed they would prove
# nothing, so each runs this first.
set -eu
status=0
ldconfig=$(PATH=$PATH:/sbin:/usr/sbin command -v ldconfig || true)
if [ -n "$ldconfig" ]; then
    found=$("$ldconfig" -p | grep libbatchudp || true)
    if [ -n "$found" ]; then
        echo "the dynamic linker's cache has libbatchudp (uninstall it first):"
        echo "$found"
        status=1
    else
        echo "  ok: ldconfig -p lists no libbatchudp"
    fi
else
    echo "  (no ldconfig here: the check's own record shows which library was used)"
fi
if command -v pkg-config >/dev/null 2>&1; then
    if env -u PKG_CONFIG_PATH -u PKG_CONFIG_LIBDIR pkg-config --exists batchudp; then
        echo "pkg-config finds batchudp in" \
            "$(env -u PKG_CONFIG_PATH -u PKG_CONFIG_LIBDIR pkg-config --variable=libdir batchudp)" \
            "(uninstall it first)"
        status=1
    else
        echo "  ok: pkg-config finds no batchudp"
    fi
fi
exit $status
