#!/bin/bash
# box.sh: host mode proven in a machine in a box (scripts/box.sh): a Debian system of the
# newest kernel line, booted under QEMU with a busy NVMe controller (ext4 mounted, an LVM
# volume) and a free one, runs the README's make bench in host mode on a fresh clone of
# HEAD (tests/box/job.sh: the guards, the binding after a normal end, SIGTERM and kill -9,
# the net family); then the same system booted with lockdown=integrity and with
# module.sig_enforce=1 must stop make bench before anything is loaded (job.sh locked).
# TWINBENCH_BOX=0 leaves the box out, as one skipped check. Logs: build/test-logs/box/.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)

# The checks tests/box/job.sh makes in each kind of boot.
CHECKS_MAIN=21
CHECKS_LOCKED=4
LOCKS="lockdown=integrity module.sig_enforce=1"

if [ "${TWINBENCH_BOX:-1}" = 0 ]; then
	plan 1
	skip "box: host mode in a machine in a box" "left out (TWINBENCH_BOX=0)"
	exit 0
fi
# The image, the tree, and a clean end of each boot; the box's own checks.
plan $((2 + 1 + CHECKS_MAIN + 2 * (1 + CHECKS_LOCKED)))
[ "$(id -u)" = 0 ] || { not_ok "box: runs as root (chroot, mkfs)"; exit 1; }

logs=$top/build/test-logs/box
rm -rf "$logs"
mkdir -p "$logs"
# The shares live outside the tree: the box writes nothing below /work.
shares=$(mktemp -d /tmp/twinbench-box.XXXXXX)
trap 'rm -rf "$shares"' EXIT

t0=$SECONDS
"$top/scripts/box.sh" image >"$logs/image.log" 2>&1
rc=$?
check "box: the system image is ready ($(cat "$(tail -n 1 "$logs/image.log")/built" 2>/dev/null), $((SECONDS - t0)) s now)" \
	[ "$rc" = 0 ]
[ "$rc" = 0 ] || { tail -n 5 "$logs/image.log" | sed 's/^/#   /'; exit 1; }
cat "$logs/image.log" | sed 's/^/# /'

t0=$SECONDS
"$top/scripts/box.sh" tree "$shares/main" >"$logs/tree.log" 2>&1
rc=$?
check "box: a clean clone of HEAD builds in the box's system ($((SECONDS - t0)) s)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || { tail -n 15 "$shares/main/tree-build.log" | sed 's/^/#   /'; exit 1; }

# boot NAME JOB TIMEOUT [APPEND]: boot the box on share NAME with job.sh JOB, stopped after
# TIMEOUT s (about four times its time here, so a hang costs minutes, not CI's whole
# limit); its checks relayed.
boot() {
	local share=$shares/$1 t0=$SECONDS rc
	echo "exec bash /root/twinbench/tests/box/job.sh $2" >"$share/job.sh"
	"$top/scripts/box.sh" boot "$share" --timeout "$3" ${4:+--append "$4"} >"$logs/$1.host.log" 2>&1
	rc=$?
	grep -E '^(not )?ok( |$)' "$share/job.log" >"$share/checks.tap" 2>/dev/null
	replay "$share/checks.tap"
	check "box: the $1 boot ran to the end with a clean kernel log (vm-run exit $rc, $((SECONDS - t0)) s)" \
		[ "$rc" = 0 ]
	[ "$rc" = 0 ] || sed 's/^/#   /' "$logs/$1.host.log" | tail -n 5
	echo "$1 boot $((SECONDS - t0))" >>"$logs/times.txt"
	mkdir -p "$logs/$1"
	cp -a "$share/job.log" "$share/console.log" "$share"/*.txt "$logs/$1/" 2>/dev/null
	[ -d "$share/logs" ] && cp -a "$share/logs" "$logs/$1/"
	[ -d "$share/run" ] && cp -a "$share/run" "$logs/$1/run"
}
boot main main 1500
sed 's/^/# /' "$logs/main/binding.txt" 2>/dev/null
sed 's/^/# sigterm: /' "$logs/main/sigterm-stop.txt" 2>/dev/null
for f in "$logs"/main/refused-*.txt; do [ -e "$f" ] && sed "s|^|# $(basename "$f" .txt): |" "$f"; done
sed 's/^/# /' "$logs/main/run/summary.txt" 2>/dev/null

n=0
for lock in $LOCKS; do
	n=$((n + 1))
	mkdir -p "$shares/locked$n"
	cp -a "$shares/main/twinbench" "$shares/locked$n/"
	boot "locked$n" locked 500 "$lock"
	sed "s|^|# $lock: |" "$logs/locked$n/locked-message.txt" 2>/dev/null
done
sed 's/^/# time: /' "$logs/times.txt"
finish
