#!/bin/sh
# install-deps.sh: the one idempotent installer for everything twinbench builds and runs with.
# Usage: scripts/install-deps.sh [--check]
#   --check  only report what is missing (exit 1 if anything is), install nothing.
# On Debian as root it installs the missing packages with apt; elsewhere it says what to get.
set -eu

# Debian packages, one per line: build tools, headers for host-mode builds, the VM, the
# workloads, tracing, and the libraries the runner links against. The guest kernels are not
# here: scripts/kernels.sh unpacks them into its cache, never onto the host.
PACKAGES="
make gcc pkg-config kmod cpio busybox-static xz-utils util-linux
linux-headers-amd64
qemu-system-x86
fio iperf3 iproute2 ethtool
clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev linux-perf
sqlite3 libjansson-dev libinih-dev libsqlite3-dev libcmocka-dev libcsv-dev
gnuplot-nox
jq
chromium
linux-source-6.1 flex bison bc libssl-dev universal-ctags
debootstrap
"

check_only=0
[ "${1:-}" = "--check" ] && check_only=1

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done 2>/dev/null || true

if [ -z "$missing" ]; then
	exit 0
fi

if [ "$check_only" = 1 ]; then
	echo "install-deps: missing packages:$missing" >&2
	exit 1
fi

if ! command -v apt-get >/dev/null 2>&1 || [ ! -r /etc/debian_version ]; then
	echo "install-deps: not a Debian system; install the equivalents of:$missing" >&2
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing; run as root (or: sudo $0)" >&2
	exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
