#!/usr/bin/env bash
# Install what building and testing libbatchudp needs on Debian/Ubuntu, and
# nothing when it is all there already.
set -euo pipefail

packages=(gcc make autoconf automake libtool pkg-config check libffi-dev
          valgrind iproute2 python3-venv abigail-tools librust-cc-dev librust-tokio-dev
          groff-base man-db liburing-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
