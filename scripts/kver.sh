#!/bin/sh
# kver.sh: print the release of the kernel the suite builds for and runs on.
# Usage: scripts/kver.sh [vm|host|auto|mode]
#   vm    the release of the cached kernel VM mode boots ($KERNEL, default: the default line
#         of scripts/kernels.sh); the host's /boot is never used
#   host  the running kernel, if its headers are installed
#   mode  "host: <why>" or "vm: <why>": host mode only where the running kernel can load
#         modules and has its headers; the one place that decides (make and the runner ask it)
#   auto  the release for the mode "mode" picks
set -eu

pick_mode() {
	if [ ! -e /proc/modules ]; then
		echo "vm: the running kernel $(uname -r) cannot load modules (no /proc/modules)"
	elif [ ! -d "/lib/modules/$(uname -r)/build" ]; then
		echo "vm: no headers for the running kernel $(uname -r) (/lib/modules/$(uname -r)/build)"
	elif [ "$(id -u)" != 0 ]; then
		echo "vm: loading modules needs root"
	else
		echo "host: the running kernel $(uname -r) loads modules and has its headers"
	fi
}

mode=${1:-vm}
case "$mode" in
mode) pick_mode; exit 0 ;;
auto) mode=$(pick_mode | cut -d: -f1) ;;
esac

case "$mode" in
vm)
	top=$(cd "$(dirname "$0")/.." && pwd)
	facts=$("$top/scripts/kernels.sh" env "${KERNEL:-$("$top/scripts/kernels.sh" default)}") ||
		exit 1
	sed -n 's/^release=//p' "$facts"
	;;
host)
	ver=$(uname -r)
	if [ ! -d "/lib/modules/$ver/build" ]; then
		echo "kver: no headers for the running kernel $ver (/lib/modules/$ver/build)" >&2
		exit 1
	fi
	echo "$ver"
	;;
*)
	echo "kver: unknown mode '$mode' (expected vm, host, auto or mode)" >&2
	exit 2
	;;
esac
