#!/usr/bin/env bash
# The Python package on a machine with no libbatchudp installed: pip is the
# only install step, and the library comes inside the wheel.
#   bindings/python/bundled-check.sh WORKDIR
# Checks that no libbatchudp is visible to the system, then installs
# bindings/python with pip into a fresh venv, and an sdist of it into a
# second one, each with no library path, pkg-config path or BATCHUDP_*
# variable set, and in each imports batchudp and sends a batch on loopback
# (tests/import_probe.py).  Everything is written under WORKDIR; the source
# tree is only read.  pip fetches setuptools from the package index.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 WORKDIR" >&2
    exit 2
fi
mkdir -p "$1"
work=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/../.." && pwd)
python=$(command -v "${PYTHON:-python3}") || { echo "$0: ${PYTHON:-python3} not found" >&2; exit 2; }
start=$SECONDS
# The probe runs from an empty directory outside the source tree (WORKDIR
# may be inside it, e.g. under _build).
away=$(mktemp -d)
trap 'rm -rf "$away"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# The environment of a machine where nothing points at a libbatchudp.  The
# rest is kept: pip may need the proxy and certificate settings.
clean=(env -u LD_LIBRARY_PATH -u DYLD_LIBRARY_PATH -u PKG_CONFIG_PATH
       -u PKG_CONFIG_LIBDIR -u PYTHONPATH -u PYTHONHOME)
for v in $(compgen -e); do
    case $v in BATCHUDP_*) clean+=(-u "$v") ;; esac
done

echo "== no libbatchudp visible to the system"
bash "$srcdir/bindings/no-system-library.sh" || fail "this check needs a machine without libbatchudp"

# A fresh venv, and pip for it.  Where this Python's pip can install into
# another environment (pip >= 22.3, --python), the venv gets no pip of its
# own: installing one takes longer than the rest of a run.
new_venv() {
    local venv=$1
    rm -rf "$venv"
    if "$python" -m pip --python "$python" --version >/dev/null 2>&1; then
        "$python" -m venv --without-pip "$venv" || fail "'$python -m venv' failed"
        pip=("$python" -m pip --python "$venv/bin/python")
    else
        "$python" -m venv "$venv" ||
            fail "'$python -m venv' failed (on Debian: apt-get install python3-venv)"
        pip=("$venv/bin/python" -m pip)
    fi
}

# $1: venv directory; $2: what to pip install.  Then the probe, run with -I
# (no PYTHON* variables, neither the current nor the script's directory on
# sys.path), so only the installed package can be imported.
install_and_probe() {
    local venv=$1 what=$2
    new_venv "$venv"
    "${clean[@]}" "${pip[@]}" install -q --disable-pip-version-check "$what" ||
        fail "pip install $what"
    local wheel
    wheel=$(echo "$venv"/lib/python*/site-packages/batchudp-*.dist-info/WHEEL)
    grep -q '^Root-Is-Purelib: false$' "$wheel" || fail "the wheel is marked pure ($wheel)"
    grep -q '^Tag: py3-none-' "$wheel" || fail "the wheel is not tagged py3-none-<platform>: $(grep ^Tag: "$wheel")"
    echo "  ok: installed from a wheel tagged $(sed -n 's/^Tag: //p' "$wheel")"
    if [ "$(uname -s)" = Linux ]; then
        # As tests/install-check.sh checks the autotools build's.
        local lib exported
        lib=$(echo "$venv"/lib/python*/site-packages/batchudp/libbatchudp.so)
        exported=$(nm -D --defined-only "$lib" | awk '{print $3}')
        ! grep -v -e '^budp_' -e '^BATCHUDP_' <<<"$exported" ||
            fail "$lib exports more than budp_*"
        grep -q '^budp_bind@@BATCHUDP_0\.2$' <<<"$exported" ||
            fail "$lib has no versioned budp_bind (was lib/batchudp.map applied?)"
        echo "  ok: the library exports budp_* alone, versioned as lib/batchudp.map says"
    fi
    (cd "$away" && "${clean[@]}" "$venv/bin/python" -I "$here/tests/import_probe.py" \
        --roundtrip --expect-bundled) || fail "import batchudp from $venv"
}

echo "== pip install $here"
install_and_probe "$work/venv-tree" "$here"

echo "== sdist"
# Made from a copy of what it is made of (lib, include and the package's
# files), so that setuptools writes its egg-info there, not into the tree.
tree=$work/tree
rm -rf "$tree" "$work/dist"
mkdir -p "$tree/bindings/python"
cp -R "$srcdir/lib" "$srcdir/include" "$tree/"
cp -R "$here/pyproject.toml" "$here/setup.py" "$here/README.md" "$here/src" "$tree/bindings/python/"
# Any setuptools pyproject.toml accepts will do: the sdist is copied files.
# -W: older ones warn that [tool.setuptools] is beta.
new_venv "$work/venv-sdist-tool"
"${clean[@]}" "${pip[@]}" install -q --disable-pip-version-check "setuptools>=64" ||
    fail "pip install setuptools (to make the sdist)"
sdist=$(cd "$tree/bindings/python" && "${clean[@]}" "$work/venv-sdist-tool/bin/python" -W ignore -c '
import sys
from setuptools import build_meta
print(build_meta.build_sdist(sys.argv[1]))' "$work/dist" | tail -n 1)
sdist=$work/dist/$sdist
[ -f "$sdist" ] || fail "no sdist made"
listing=$(tar -tzf "$sdist")
want=$( (cd "$srcdir" && ls lib/*.c lib/*.h lib/batchudp.map include/batchudp.h) | sed 's|^|csrc/|')
for f in $want; do
    grep -q "/$f\$" <<<"$listing" || fail "$f is missing from $sdist"
done
echo "  ok: $(basename "$sdist") carries the $(wc -w <<<"$want") C sources under csrc/"

echo "== pip install $(basename "$sdist")"
install_and_probe "$work/venv-sdist" "$sdist"

echo "== bundled-check passed in $((SECONDS - start)) s"
