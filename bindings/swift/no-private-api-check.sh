#!/bin/sh
# Shows that the package's NoPrivateAPI trait leaves Apple's private
# recvmsg_x/sendmsg_x out of the C library: builds the BatchUDP target
# with `--traits NoPrivateAPI` into a scratch path of its own and checks
# that no object of the CBatchUDP target holds the string "recvmsg_x" (the
# name the msgx backend looks up with dlsym), while the objects of a
# default build do, so that the check is seen to find it.
#
#   bindings/swift/no-private-api-check.sh SCRATCH DEFAULT_BUILD [swift build arguments...]
#
# SCRATCH: where the trait's build goes (its own --scratch-path).
# DEFAULT_BUILD: the --scratch-path of a default build of the package
# (run-tests.sh passes its bundled route's, built just before), whose
# CBatchUDP objects are the counterpart.  The C library compiles the msgx
# backend on every platform (it finds recvmsg_x at run time, or not), so
# the check means the same on Linux as on macOS.
set -eu

if [ $# -lt 2 ]; then
    echo "usage: $0 SCRATCH DEFAULT_BUILD [swift build arguments...]" >&2
    exit 2
fi
scratch=$1
default_build=$2
shift 2
pkgdir=$(cd "$(dirname "$0")/../.." && pwd)

# objects DIR: the CBatchUDP target's object files under a scratch path.
objects() {
    find "$1" -path '*/CBatchUDP.build/*' -name '*.o' -type f
}

# holding DIR: those of them that hold the string, one a line.
holding() {
    find "$1" -path '*/CBatchUDP.build/*' -name '*.o' -type f -exec grep -l recvmsg_x {} + || true
}

start=$(date +%s)
swift build --package-path "$pkgdir" --scratch-path "$scratch" --target BatchUDP \
    --traits NoPrivateAPI -j 2 "$@"
took=$(($(date +%s) - start))

status=0
built=$(objects "$scratch" | wc -l)
if [ "$built" -eq 0 ]; then
    echo "$0: no CBatchUDP objects under $scratch" >&2
    status=1
fi
with_trait=$(holding "$scratch" | wc -l)
if [ "$with_trait" -ne 0 ]; then
    echo "$0: with NoPrivateAPI, CBatchUDP objects still name recvmsg_x:" >&2
    holding "$scratch" >&2
    status=1
fi
without_trait=$(holding "$default_build" | wc -l)
if [ "$without_trait" -eq 0 ]; then
    echo "$0: no CBatchUDP object of the default build under $default_build names" \
        "recvmsg_x: the check would find nothing" >&2
    status=1
fi
echo "NoPrivateAPI: recvmsg_x in $with_trait of $built CBatchUDP objects" \
    "(default build: in $without_trait); the trait's build took ${took}s"
exit "$status"
