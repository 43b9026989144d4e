#!/bin/sh
# make check: every exported function (lib/batchudp.map), public type and
# constant of include/batchudp.h has a manual page among those make installs
# (BUDP_MAN_PAGES, from man/local.mk), each renders without a groff warning,
# and each SYNOPSIS shows the declaration as the header has it.
set -eu
command -v groff >/dev/null 2>&1 || { echo "man_pages: groff is needed (Debian: groff-base)"; exit 1; }
exec python3 "$abs_top_srcdir/tests/check_man.py" "$abs_top_srcdir" "$abs_top_builddir" $BUDP_MAN_PAGES
