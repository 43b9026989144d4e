#!/bin/sh
# make check: lib/build_config.h, which builds without configure (SwiftPM,
# cargo's bundled feature, the Python wheel) use, says what configure found
# on this machine, for every HAVE_* and BUDP_WITH_* macro the library tests.
set -eu
src=$abs_top_srcdir
config=$abs_top_builddir/config.h
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

grep -h -o -E '\b(HAVE|BUDP_WITH)_[A-Z0-9_]+' "$src"/lib/*.c "$src"/lib/*.h |
    grep -v '^HAVE_CONFIG_H$' | sort -u >"$tmp/used"
[ -s "$tmp/used" ] || { echo "no feature macro found in lib/"; exit 1; }

# configure's --disable-msgx has its bundled equivalent.
extra=
grep -q '^#define BUDP_WITH_MSGX ' "$config" || extra=-DBUDP_WITHOUT_MSGX
# and --with-liburing too.
grep -q '^#define BUDP_WITH_URING ' "$config" && extra="$extra -DBUDP_WITH_URING"
${CC:-cc} -E -dM $extra -x c "$src/lib/build_config.h" >"$tmp/bundled"

status=0
while read -r name; do
    in_configure=no in_bundled=no
    grep -q "^#define $name " "$config" && in_configure=yes
    grep -q "^#define $name " "$tmp/bundled" && in_bundled=yes
    echo "$name: configure $in_configure, build_config.h $in_bundled"
    [ "$in_configure" = "$in_bundled" ] || status=1
done <"$tmp/used"
[ $status -eq 0 ] || echo "FAIL: lib/build_config.h disagrees with configure on this platform"
exit $status
