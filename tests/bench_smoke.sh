#!/bin/sh
# make check: the benchmark runs in every mode with tiny counts (no timings
# asserted).
exec sh "$abs_top_srcdir/tools/bench-smoke.sh" "$abs_top_builddir"
