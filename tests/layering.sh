#!/bin/sh
# make check: lib/ has no include cycle among its modules, and platform
# calls stay in the platform layer and the backends (tests/check_layering.py).
set -eu
exec python3 "$abs_top_srcdir/tests/check_layering.py" "$abs_top_srcdir/lib"
