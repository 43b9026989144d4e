#!/usr/bin/env bash
# Shows that a new cargo project needs nothing but the dependency line to
# use libbatchudp: with no libbatchudp installed and an empty environment,
# it builds and runs the README's example (two loopback sockets, a batch
# sent from one and checked at the other), and the program loads no
# libbatchudp shared object.  Its src/main.rs and .cargo/config.toml (the
# offline Debian source of the cc crate) are taken from README.md, so what
# the README shows is what runs.
#
#   bindings/rust/bundled-check.sh WORKDIR
#
# The project is made afresh in WORKDIR/hello-batchudp, with its own target
# directory.  Linux (ldconfig, readelf, ldd); needs cargo, a C compiler and
# Debian's librust-cc-dev.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 WORKDIR" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
workdir=$(cd "$1" && pwd)
project=$workdir/hello-batchudp

fail() {
    echo "bundled-check: FAILED: $*" >&2
    exit 1
}

cargo=$(command -v cargo) || fail "cargo not found"
# The environment of the build and the run: the tools, and HOME for
# rustup's and cargo's own settings; nothing of libbatchudp.
clean_env=(env -i "PATH=$(dirname "$cargo"):/usr/local/bin:/usr/bin:/bin" "HOME=$HOME")

bash "$here/../no-system-library.sh" || fail "this check needs a machine without libbatchudp"
compgen -G "/usr/share/cargo/registry/cc-1.*/Cargo.toml" >/dev/null ||
    fail "no cc crate in /usr/share/cargo/registry: apt-get install librust-cc-dev"

# readme_block MARKER: the fenced block after the README's line MARKER.
readme_block() {
    awk -v marker="$1" '
        $0 == marker { found = 1; next }
        found && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }
    ' "$here/README.md"
}

rm -rf "$project"
mkdir -p "$project/src" "$project/.cargo"
readme_block "<!-- bundled-check.sh runs this program as it is here -->" >"$project/src/main.rs"
readme_block "<!-- bundled-check.sh uses this file as it is here -->" >"$project/.cargo/config.toml"
grep -q "fn main" "$project/src/main.rs" || fail "no main.rs found in $here/README.md"
grep -q "replace-with" "$project/.cargo/config.toml" || fail "no config.toml found in $here/README.md"
cat >"$project/Cargo.toml" <<EOF
[package]
name = "hello-batchudp"
version = "0.1.0"
edition = "2021"

[dependencies]
batchudp = { path = "$here/batchudp" }

# A workspace of its own, even when WORKDIR lies inside another one.
[workspace]
EOF

echo "== cargo run in $project (environment: only ${clean_env[*]:2})"
output=$(cd "$project" && "${clean_env[@]}" cargo run 2>&1) || fail "cargo run failed:
$output"
echo "$output"
grep -q "8 datagrams sent and received intact" <<<"$output" ||
    fail "the program did not report the datagrams intact"

bin=$project/target/debug/hello-batchudp
[ -x "$bin" ] || fail "no $bin"
rc=0
found=$(bash "$here/../shared-libbatchudp.sh" "$bin") || rc=$?
[ $rc -ne 0 ] || fail "the program needs a libbatchudp shared object:
$found"
[ $rc -eq 1 ] || fail "cannot tell which libraries $bin needs"
echo "bundled-check: ok: built and ran with nothing installed, no libbatchudp shared object needed"
