#!/usr/bin/env bash
# Run the suites that need the fq or etf queue discipline (test_pacing_fq:
# departure times honoured, 20 datagrams 10 ms apart; test_pacing_etf: the
# support query reads etf's clock) and test_netpath inside a virtual
# machine booted with Debian's kernel, which has both as modules, sharing
# this machine's files.  For machines whose own kernel is built without
# them (CONFIG_NET_SCH_FQ, CONFIG_NET_SCH_ETF), where those suites skip.
#
# Installs what it needs when missing (as root): qemu-system-x86 and
# linux-image-amd64 from Debian, virtme-ng from PyPI.  The machine boots
# without KVM by default (nested KVM hangs on some hosts); BUDP_VM_KVM=1
# uses it.  About a minute per run without KVM.
#
# Usage: tools/pacing-vm.sh [BUILDDIR] [RUNS]   (default _build/plain, 1)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/_build/plain}" && pwd)
runs=${2:-1}

need_install() {
    command -v qemu-system-x86_64 >/dev/null && command -v vng >/dev/null &&
        ls /boot/vmlinuz-* >/dev/null 2>&1
}
if ! need_install; then
    if [ "$(id -u)" != 0 ]; then
        echo "pacing-vm: needs qemu-system-x86, linux-image-amd64 and virtme-ng (run as root to install them)" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        qemu-system-x86 linux-image-amd64 busybox-static >/dev/null
    command -v vng >/dev/null || pip install -q virtme-ng
fi

kernel=
for k in /boot/vmlinuz-*; do
    config=/boot/config-${k#/boot/vmlinuz-}
    if grep -qE '^CONFIG_NET_SCH_FQ=(m|y)' "$config" 2>/dev/null; then
        kernel=$k
    fi
done
if [ -z "$kernel" ]; then
    echo "pacing-vm: no kernel in /boot with the fq queue discipline" >&2
    exit 1
fi

# Without KVM the machine is emulated, and its timers fire up to a few ms
# late: the arrival tolerance goes from 2 ms to 5 (the test's
# BUDP_PACING_TOLERANCE_MS; set it to choose another).
kvm=(--disable-kvm)
tolerance=${BUDP_PACING_TOLERANCE_MS:-5}
if [ "${BUDP_VM_KVM:-0}" = 1 ]; then
    kvm=()
    tolerance=${BUDP_PACING_TOLERANCE_MS:-2}
fi
make -C "$build" -s tests/test_pacing_fq tests/test_pacing_etf tests/test_netpath
script="cd '$build' && export BUDP_PACING_TOLERANCE_MS=$tolerance && status=0 && for i in \$(seq $runs); do
    ./tests/test_pacing_fq || status=1; ./tests/test_pacing_etf || status=1;
    ./tests/test_netpath || status=1; done; echo vm-status=\$status"
echo "pacing-vm: $kernel, $runs run(s), arrivals within ${tolerance} ms"
out=$(vng --run "$kernel" --force-9p --disable-microvm "${kvm[@]}" --cpus 2 -- "$script" 2>&1 |
      grep -v '^\[ ' || true)
echo "$out"
case "$out" in
    *vm-status=0*) exit 0 ;;
    *) exit 1 ;;
esac
