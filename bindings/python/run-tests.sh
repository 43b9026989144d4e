#!/bin/sh
# Run the Python binding's test suite against the library built in BUILDDIR.
#   bindings/python/run-tests.sh BUILDDIR
# Everything written goes under BUILDDIR/bindings/python (a venv with pytest
# and mypy, mypy's cache); the source tree is only read.  Exits with pytest's
# status; tests/test_readme.py fails the suite on a typing regression.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILDDIR" >&2
    exit 2
fi
builddir=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/../.." && pwd)
work=$builddir/bindings/python
venv=$work/venv
python=${PYTHON:-python3}

lib=
for f in "$builddir/lib/.libs/libbatchudp.so.1" "$builddir/lib/.libs/libbatchudp.1.dylib"; do
    if [ -e "$f" ]; then lib=$f; break; fi
done
if [ -z "$lib" ]; then
    echo "$0: no libbatchudp in $builddir/lib/.libs (build the library first)" >&2
    exit 2
fi

mkdir -p "$work"
# Reuse the venv unless it is missing or its interpreter no longer runs.
if ! "$venv/bin/python" -c '' 2>/dev/null; then
    if ! "$python" -m venv --clear "$venv"; then
        echo "$0: '$python -m venv' failed (on Debian: apt-get install python3-venv)" >&2
        exit 2
    fi
fi
if ! "$venv/bin/python" -c 'import pytest, mypy' 2>/dev/null; then
    "$venv/bin/python" -m pip install -q --disable-pip-version-check pytest mypy
fi

PYTHONPATH=$here/src
PYTHONDONTWRITEBYTECODE=1
BATCHUDP_LIBRARY=$lib
BATCHUDP_SOURCE_DIR=$srcdir
# The typing test must run mypy here rather than skip without it.
BATCHUDP_MYPY_CACHE=$work/mypy-cache
LD_LIBRARY_PATH=$builddir/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
DYLD_LIBRARY_PATH=$builddir/lib/.libs${DYLD_LIBRARY_PATH:+:$DYLD_LIBRARY_PATH}
export PYTHONPATH PYTHONDONTWRITEBYTECODE BATCHUDP_LIBRARY BATCHUDP_SOURCE_DIR BATCHUDP_MYPY_CACHE \
    LD_LIBRARY_PATH DYLD_LIBRARY_PATH

cd "$here"
exec "$venv/bin/python" -m pytest -q -rs -p no:cacheprovider --basetemp="$work/tmp" tests
