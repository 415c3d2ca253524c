#!/bin/bash
# harness.sh: the VM harness itself: the guest's exit status comes back, a kernel warning in
# the guest log fails the run, a hung guest times out, bad options are refused up front, and
# the initramfs carries the tools and modules the suite needs.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
# Checks: exit status and logs 4, five tools, warning 2 and a safe-layer report 2, hang 1,
# bad options 3.
plan 17
. "$(dirname "$0")/../lib/need.sh"
need qemu-system-x86_64 busybox cpio fio iperf3 ip ethtool modprobe || exit 1
top=$(cd "$(dirname "$0")/../.." && pwd)
kver=$("$top/scripts/kver.sh" vm) || { echo "not ok - a Debian guest kernel is installed"; exit 1; }
initrd=$top/build/initramfs-$kver.img
[ -r "$initrd" ] || "$top/scripts/mkinitramfs.sh" -o "$initrd" -k "$kver" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT


vm() {
	local share=$1; shift
	"$top/scripts/vm-run.sh" --share "$share" --initrd "$initrd" --kver "$kver" --quiet "$@" \
		>"$share.out" 2>&1
}

# The hung guest waits out its 30 s beside the other boots. This case is about the timeout,
# so the guest's stall and lockup detectors are off: on the wall clock of a loaded host its
# vCPU can be starved long enough for them to report (then vm-run says 126, a kernel problem).
mkdir -p "$work/hang"
echo 'sleep 100000' >"$work/hang/job.sh"
vm "$work/hang" --clock wall --accel tcg --timeout 30 \
	--append "rcupdate.rcu_cpu_stall_suppress=1 nowatchdog" &
hang=$!

mkdir -p "$work/status"
cat >"$work/status/job.sh" <<'JOB'
for t in fio iperf3 ip ethtool modprobe twinbench; do
	command -v "$t" >/dev/null && echo "tool $t"
done
modprobe null_blk nr_devices=1 && [ -b /dev/nullb0 ] && echo "stock null_blk loads"
rmmod null_blk
exit 3
JOB
vm "$work/status" --clock icount
rc=$?
check "the job's exit status (3) comes back from an icount-clock guest" [ "$rc" = 3 ]
check "the console log holds the job's output" grep -q "^tool fio" "$work/status/console.log"
check "the guest kernel log is kept" test -s "$work/status/dmesg.txt"
check "stock null_blk loads in the guest by name" grep -q "stock null_blk loads" "$work/status/console.log"
for t in fio iperf3 ip ethtool modprobe; do
	check "the guest has $t" grep -q "^tool $t" "$work/status/console.log"
done

mkdir -p "$work/warn"
echo 'echo "<4>WARNING: CPU: 0 PID: 1 at harness-test planted warning" >/dev/kmsg' >"$work/warn/job.sh"
vm "$work/warn" --clock wall --accel tcg
rc=$?
check "a kernel warning in the guest log fails the run (exit 126)" [ "$rc" = 126 ]
check "the warning is printed loudly" grep -q "KERNEL PROBLEM" "$work/warn.out"

# The safe layer's reports are kernel problems too, except the ones its self-test modules
# provoke on purpose (tests/lib/guest.sh).
mkdir -p "$work/safe" "$work/selftest"
echo 'echo "<3>safenull: safe: range 8+8 outside 8 in harness_test line 1" >/dev/kmsg' >"$work/safe/job.sh"
vm "$work/safe" --clock wall --accel tcg
rc=$?
check "a safe-layer report in the guest log fails the run (exit $rc, want 126)" [ "$rc" = 126 ]
echo 'echo "<3>safe_selftest: safe: add overflow in selftest_checked line 1" >/dev/kmsg' \
	>"$work/selftest/job.sh"
vm "$work/selftest" --clock wall --accel tcg
rc=$?
check "a report the layer's self-test provokes on purpose does not (exit $rc, want 0)" [ "$rc" = 0 ]

wait "$hang"
rc=$?
[ "$rc" = 124 ] || sed 's/^/#   /' "$work/hang.out" | tail -n 5
check "a guest that never finishes times out (exit $rc, want 124)" [ "$rc" = 124 ]

mkdir -p "$work/bad"
vm "$work/bad" --clock icount
check "a share without job.sh is refused" grep -q "job.sh is missing" "$work/bad.out"
echo true >"$work/bad/job.sh"
vm "$work/bad" --clock icount --smp 2
rc=$?
check "the icount clock refuses more than one vCPU" [ "$rc" = 2 ]
vm "$work/bad" --clock sundial
check "an unknown clock is named in the error" grep -q -- "--clock sundial" "$work/bad.out"
finish
