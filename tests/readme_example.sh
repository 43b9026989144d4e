#!/bin/sh
# make check: the C example in README.md compiles, warning-free, against the
# public header and links against the library.
set -eu
out=$abs_top_builddir/tests/readme-example
mkdir -p "$out"
sed -n '/^```c$/,/^```$/p' "$abs_top_srcdir/README.md" | sed '1d;$d' > "$out/example.c"
[ -s "$out/example.c" ] || { echo "no C example found in README.md"; exit 1; }
${CC:-cc} -std=c11 -Wall -Wextra -Werror -I"$abs_top_srcdir/include" \
    -o "$out/example" "$out/example.c" -L"$abs_top_builddir/lib/.libs" -lbatchudp
echo "README example: compiled and linked"
