#!/bin/bash
# null.sh (guest): the null block twins rawnull and safenull, and stock null_blk beside them.
# For each arm and irqmode 0/1/2 (memory backed, 2 submit queues): fio write+verify with
# crc32c over several jobs, then a separate read-back verify pass, zero errors, flushes that
# reach the twins, a clean kernel log, clean unload; the read-back pass must fail on a fresh
# (empty) device, so it is known to detect lost data. Then, for the twins: a 4 KiB logical block size, discarded
# writes reading back as zeroes, bad parameters refused with a message naming them, and
# rmmod refused while the device is held open. The ablation variants (safenull_no<mechanism>,
# one safe-layer mechanism compiled out) must stay correct for valid input: each gets the
# write+verify and read-back passes in irqmode=2. First, the safe layer's self-test module.
# One line per check: "ok - ..." / "not ok - ...".
# vm-kernels: all
set -u
. "$(dirname "$0")/../lib/check.sh"


JOBS=4
JOB_MB=16
log=/tmp/null-test.log

# dev_of ARM: the first block device of an arm.
dev_of() {
	case "$1" in
	null_blk) echo /dev/nullb0 ;;
	safenull_no*) echo /dev/safenull0 ;;	# ablation variants: the safe twin's devices
	*) echo "/dev/${1}0" ;;
	esac
}

wait_for_dev() {
	local i
	for i in $(seq 50); do
		[ -b "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

kernel_problems() {
	dmesg | grep -E 'WARNING:|BUG:|Oops|general protection fault|soft lockup|hung task|refcount_t:|safe: '
}

# fio_verify DEV MODE: write+verify (MODE=write) or read back and verify (MODE=read).
# Prints "<read bytes> <written bytes>" from fio's JSON; fails if fio reports any error.
fio_verify() {
	local dev=$1 mode=$2 extra=()
	[ "$mode" = read ] && extra=(--verify_only)
	fio --name=nullverify --filename="$dev" --rw=randwrite --bs=4k --ioengine=io_uring \
		--direct=1 --iodepth=16 --numjobs=$JOBS --size=${JOB_MB}M \
		--offset_increment=${JOB_MB}M --fsync=64 --verify=crc32c --verify_fatal=1 \
		--randrepeat=1 --group_reporting --output-format=json "${extra[@]}" >"$log" 2>&1 ||
		return 1
	grep -q '"error" : [1-9]' "$log" && return 1
	awk '/"read" : \{/ { s = "r" } /"write" : \{/ { s = "w" } /"trim" : \{/ { s = "t" }
		/"io_bytes" :/ { v = $3; gsub(/[^0-9]/, "", v); b[s] += v }
		END { printf "%d %d\n", b["r"], b["w"] }' "$log"
}

# load ARM ARGS...: load the arm and wait for its device.
load() {
	local arm=$1
	shift
	modprobe "$arm" "$@" >"$log" 2>&1 && wait_for_dev "$(dev_of "$arm")"
}

unload() {
	rmmod "$1" >"$log" 2>&1 && [ ! -e "/sys/module/$1" ] && [ ! -e "$(dev_of "$1")" ]
}

run_verify() {
	local arm=$1 what=$2 dev bytes flushes
	shift 2
	dev=$(dev_of "$arm")
	dmesg -c >/dev/null
	if ! load "$arm" "$@"; then
		not_ok "$arm $what: loads with $*"
		sed 's/^/#   /' "$log"
		return
	fi
	if bytes=$(fio_verify "$dev" write); then
		ok "$arm $what: fio write+verify, $JOBS jobs, read/written bytes $bytes"
	else
		not_ok "$arm $what: fio write+verify"
		tail -n 20 "$log" | sed 's/^/#   /'
	fi
	if bytes=$(fio_verify "$dev" read); then
		ok "$arm $what: separate read-back verify, read/written bytes $bytes"
	else
		not_ok "$arm $what: separate read-back verify"
		tail -n 20 "$log" | sed 's/^/#   /'
	fi
	if [ "$arm" != null_blk ]; then
		flushes=$(awk '{ print $16 }' "/sys/block/${dev#/dev/}/stat")
		if [ "${flushes:-0}" -gt 0 ]; then
			ok "$arm $what: fio's fsyncs reached the driver as $flushes flush requests"
		else
			not_ok "$arm $what: fio's fsyncs reached the driver as flush requests"
		fi
	fi
	if unload "$arm"; then ok "$arm $what: unloads cleanly"; else not_ok "$arm $what: unloads cleanly"; fi
	if [ "$what" = irqmode=1 ]; then
		if load "$arm" "$@" && ! fio_verify "$dev" read >/dev/null; then
			ok "$arm $what: the read-back verify fails on a freshly loaded (empty) device"
		else
			not_ok "$arm $what: the read-back verify fails on a freshly loaded (empty) device"
		fi
		unload "$arm" || not_ok "$arm $what: unloads cleanly after the empty-device check"
	fi
	if kernel_problems >"$log"; then
		not_ok "$arm $what: kernel log is clean"
		sed 's/^/#   /' "$log"
	else
		ok "$arm $what: kernel log is clean"
	fi
}

# refused ARM PARAM=VALUE: loading fails, the module is not left behind, and the kernel log
# names the parameter and value.
refused() {
	local arm=$1 param=$2
	dmesg -c >/dev/null
	if modprobe "$arm" "$param" >/dev/null 2>&1; then
		not_ok "$arm refuses $param"
		rmmod "$arm"
	elif [ -e "/sys/module/$arm" ]; then
		not_ok "$arm refuses $param (module left loaded)"
	elif ! dmesg | grep -q "$arm: invalid $param:"; then
		not_ok "$arm refuses $param with a message naming it"
		dmesg | tail -n 3 | sed 's/^/#   /'
	else
		ok "$arm refuses $param: $(dmesg | grep "$arm: invalid $param:" | sed 's/^\[[^]]*\] //')"
	fi
}

held_open() {
	local arm=$1 dev
	dev=$(dev_of "$arm")
	if ! load "$arm" gb=1; then
		not_ok "$arm loads for the open-device check"
		return
	fi
	exec 3<"$dev"
	if rmmod "$arm" >/dev/null 2>&1; then
		not_ok "$arm: rmmod refused while $dev is open"
	elif [ -e "/sys/module/$arm" ] && [ -b "$dev" ]; then
		ok "$arm: rmmod refused while $dev is open, module and device stay"
	else
		not_ok "$arm: module and device stay after the refused rmmod"
	fi
	exec 3<&-
	if unload "$arm"; then
		ok "$arm: unloads cleanly after close"
	else
		not_ok "$arm: unloads cleanly after close"
		sed 's/^/#   /' "$log"
	fi
}

discard_mode() {
	local arm=$1 dev
	dev=$(dev_of "$arm")
	if ! load "$arm" gb=1 memory_backed=0; then
		not_ok "$arm loads with memory_backed=0"
		return
	fi
	if dd if=/dev/urandom of="$dev" bs=4096 count=16 oflag=direct 2>"$log" &&
	   cmp -n 65536 "$dev" /dev/zero >>"$log" 2>&1; then
		ok "$arm memory_backed=0: writes are discarded, reads return zeroes"
	else
		not_ok "$arm memory_backed=0: writes are discarded, reads return zeroes"
		sed 's/^/#   /' "$log"
	fi
	unload "$arm" || not_ok "$arm memory_backed=0: unloads cleanly"
}

# The safe layer's own checks (safe_selftest prints one ok/not ok line per check), and
# the promise that a failed check is never silent: the ones it provokes were logged.
layer_selftest() {
	local line
	dmesg -c >/dev/null
	if modprobe safe_selftest >"$log" 2>&1; then
		ok "safe layer self-test module loads (all its checks passed)"
	else
		not_ok "safe layer self-test module loads (all its checks passed)"
	fi
	dmesg | sed -n 's/.*safe_selftest: \(\(not \)\{0,1\}ok - \)/\1/p' >"$log.lines"
	while read -r line; do
		case "$line" in
		"ok - "*) ok "safe layer: ${line#ok - }" ;;
		*) not_ok "safe layer: ${line#not ok - }" ;;
		esac
	done <"$log.lines"
	[ -s "$log.lines" ] || not_ok "safe layer: the self-test printed its checks"
	if dmesg | grep -q -E 'switched off: SAFE_NO_(CHECKED_ARITH|BOUNDS)$'; then
		ok "safe layer: failed checks are reported in the kernel log # SKIP checks switched off"
	elif dmesg | grep -q 'safe: add overflow in selftest_checked' &&
	   dmesg | grep -q 'safe: range .* outside .* in selftest_bounds'; then
		ok "safe layer: failed checks are reported in the kernel log with their function"
	else
		not_ok "safe layer: failed checks are reported in the kernel log with their function"
	fi
	rmmod safe_selftest 2>/dev/null
	dmesg -c >/dev/null
}

layer_selftest

for arm in rawnull safenull null_blk; do
	for mode in 0 1 2; do
		run_verify "$arm" "irqmode=$mode" memory_backed=1 submit_queues=2 gb=1 irqmode=$mode
	done
done

for arm in rawnull safenull; do
	run_verify "$arm" "bs=4096" memory_backed=1 submit_queues=2 gb=1 bs=4096 hw_queue_depth=8
	discard_mode "$arm"
	for p in bs=1000 bs=8192 irqmode=3 hw_queue_depth=0 submit_queues=0 nr_devices=0 gb=0; do
		refused "$arm" "$p"
	done
	held_open "$arm"
done

# variants NAME: the ablation variants of safe twin NAME installed for this kernel.
variants() {
	find "/lib/modules/$(uname -r)" -name "${1}_no*.ko*" 2>/dev/null |
		sed 's|.*/||; s|\.ko.*||' | sort
}

n_variants=0
for arm in $(variants safenull); do
	run_verify "$arm" "irqmode=2" memory_backed=1 submit_queues=2 gb=1 irqmode=2
	n_variants=$((n_variants + 1))
done
if [ "$n_variants" -gt 0 ]; then
	ok "ablation: $n_variants safenull variants verified"
else
	not_ok "ablation: safenull variants are installed (safenull_no*.ko)"
fi

finish
