#!/bin/bash
# null.sh (guest): the null block twins rawnull and safenull, the Rust twin rustnull where it is
# built (kernels built with Rust: 7.x, not its debug line), and stock null_blk beside them.
# For each arm and irqmode 0/1/2 (memory backed, 2 submit queues): fio write+verify with
# crc32c over several jobs, then a separate read-back verify pass, zero errors, flushes that
# reach the twins, a clean kernel log (tests/lib/guest.sh, safe-layer reports included),
# clean unload; in every completion mode, after a reload the read-back pass must fail with a
# verify error on the fresh (empty) device, so it is known to detect lost data. Then, for the twins:
# bs=4096 gives a 4 KiB logical block size, memory_backed=0 discards writes as null_blk does
# (direct reads complete, the data is left alone), max_sectors sets the largest request (also
# on null_blk), bad parameters are refused with a message naming them, and rmmod is refused
# while the device is held open.
# The ablation variants (safenull_no<mechanism>, one safe-layer mechanism compiled out; the
# host's run.sh lists the ones the Kbuild files build in /out/ablation-variants.txt) must stay
# correct for valid input: each gets the same passes in irqmode=2. First, the safe layer's
# self-test module. One line per check: "ok - ..." / "not ok - ...".
# vm-kernels: all
# vm-timeout: 1800
set -u
. "$(dirname "$0")/../lib/check.sh"
. "$(dirname "$0")/../lib/guest.sh"


JOBS=4
JOB_MB=16
integrity_only && JOB_MB=4	# the subset checks the data path, not volume
log=/tmp/null-test.log

# dev_of ARM: the first block device of an arm.
dev_of() {
	case "$1" in
	null_blk) echo /dev/nullb0 ;;
	safenull_no*) echo /dev/safenull0 ;;	# ablation variants: the safe twin's devices
	*) echo "/dev/${1}0" ;;
	esac
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
	local arm=$1 what=$2 dev bytes flushes lbs mark
	shift 2
	dev=$(dev_of "$arm")
	mark=$(klog_mark)
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
	case " $* " in *" bs=4096 "*)
		lbs=$(cat "/sys/block/${dev#/dev/}/queue/logical_block_size")
		check "$arm $what: the logical block size is 4096 ($lbs)" test "$lbs" = 4096
	esac
	if [ "$arm" != null_blk ]; then
		flushes=$(awk '{ print $16 }' "/sys/block/${dev#/dev/}/stat")
		if [ "${flushes:-0}" -gt 0 ]; then
			ok "$arm $what: fio's fsyncs reached the driver as $flushes flush requests"
		else
			not_ok "$arm $what: fio's fsyncs reached the driver as flush requests"
		fi
	fi
	if unload "$arm"; then ok "$arm $what: unloads cleanly"; else not_ok "$arm $what: unloads cleanly"; fi
	# the control once per arm and completion mode (the variants share the safe twin's paths)
	case $arm:$what in rawnull:irqmode=*|safenull:irqmode=*|rustnull:irqmode=*|null_blk:irqmode=*)
		check "$arm $what: the read-back verify fails with a verify error on a freshly loaded (empty) device" \
			empty_device_fails "$arm" "$dev" "$@"
	esac
	check "$arm $what: kernel log is clean" klog_clean "$mark"
}

# empty_device_fails ARM DEV PARAMS...: reloaded, the device has lost what the passes wrote,
# and the read-back pass says so with a verify error (not any other failure); then unloaded.
empty_device_fails() {
	local arm=$1 dev=$2 rc=0
	shift 2
	load "$arm" "$@" || return 1
	if fio_verify "$dev" read >/dev/null; then
		rc=1
	elif ! grep -q -E 'verify: bad magic header|verify failed|"error" : 84' "$log"; then
		tail -n 5 "$log" | sed 's/^/#   /'
		rc=1
	fi
	unload "$arm" || rc=1
	return $rc
}

# refused ARM PARAM=VALUE: loading fails, the module is not left behind, and the kernel log
# names the parameter and value.
refused() {
	local arm=$1 param=$2 mark
	mark=$(klog_mark)
	if modprobe "$arm" "$param" >/dev/null 2>&1; then
		not_ok "$arm refuses $param"
		rmmod "$arm"
	elif [ -e "/sys/module/$arm" ]; then
		not_ok "$arm refuses $param (module left loaded)"
	elif ! klog_has "$mark" "$arm: invalid $param:" || ! klog_clean "$mark"; then
		not_ok "$arm refuses $param with a message naming it and a clean kernel log"
		klog_since "$mark" | tail -n 3 | sed 's/^/#   /'
	else
		ok "$arm refuses $param: $(klog_since "$mark" | grep "$arm: invalid $param:" | sed 's/^\[[^]]*\] //')"
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

# memory_backed=0, as null_blk: writes are discarded and reads complete without the driver
# touching the data, so written data never reads back.
discard_mode() {
	local arm=$1 dev
	dev=$(dev_of "$arm")
	if ! load "$arm" gb=1 memory_backed=0; then
		not_ok "$arm loads with memory_backed=0"
		return
	fi
	if head -c 65536 /dev/urandom >/tmp/discard.in &&
	   dd if=/tmp/discard.in of="$dev" bs=4096 count=16 oflag=direct 2>"$log" &&
	   dd if="$dev" of=/tmp/discard.out bs=4096 count=16 iflag=direct 2>>"$log" &&
	   [ "$(stat -c %s /tmp/discard.out)" = 65536 ] &&
	   ! cmp -s /tmp/discard.in /tmp/discard.out && unload "$arm"; then
		ok "$arm memory_backed=0: writes are discarded, direct reads complete, unloads cleanly"
	else
		not_ok "$arm memory_backed=0: writes are discarded, direct reads complete, unloads cleanly"
		sed 's/^/#   /' "$log"
		rmmod "$arm" 2>/dev/null
	fi
}

# max_sectors (null_blk's parameter) sets the device's largest request, so a 128 KiB I/O
# is one request on every arm alike.
max_sectors_mode() {
	local arm=$1 dev kb
	dev=$(dev_of "$arm")
	if ! load "$arm" gb=1 max_sectors=256; then
		not_ok "$arm loads with max_sectors=256"
		return
	fi
	kb=$(cat "/sys/block/${dev#/dev/}/queue/max_hw_sectors_kb" 2>/dev/null)
	check "$arm max_sectors=256: max_hw_sectors_kb is 128 (got ${kb:-none})" [ "$kb" = 128 ]
	unload "$arm" || not_ok "$arm max_sectors=256: unloads cleanly"
}

# The safe layer's own checks (safe_selftest prints one ok/not ok line per check, shown
# here as comments; one check says they all passed), and the promise that a failed check is
# never silent: the ones it provokes were logged.
layer_selftest() {
	local mark n
	mark=$(klog_mark)
	check "safe layer self-test module loads (all its checks passed)" modprobe safe_selftest
	klog_since "$mark" | sed -n 's/.*safe_selftest: \(\(not \)\{0,1\}ok - \)/\1/p' >"$log.lines"
	sed 's/^/#   /' "$log.lines"
	n=$(grep -c '^ok - ' "$log.lines")
	check "safe layer: the self-test printed its checks, all ok ($n)" \
		test "$n" -gt 0 -a "$(grep -c -v '^ok - ' "$log.lines")" = 0
	if klog_has "$mark" 'switched off: SAFE_NO_(CHECKED_ARITH|BOUNDS)$'; then
		skip "safe layer: failed checks are reported in the kernel log" "checks switched off"
	else
		check "safe layer: failed checks are reported in the kernel log with their function" \
			eval "klog_has '$mark' 'safe: add overflow in selftest_checked' &&
				klog_has '$mark' 'safe: range .* outside .* in selftest_bounds'"
	fi
	rmmod safe_selftest 2>/dev/null
}

# The variants the Kbuild files build (the host's run.sh lists them in the share).
variants=$(tr ' ' '\n' </out/ablation-variants.txt 2>/dev/null | grep '^safenull_no' | sort)
n_variants=$(echo "$variants" | grep -c .)
# The Rust twin is built only for kernels built with Rust (their symbol table holds the Rust
# core's symbols, _RNv...); there it must be present. The debug line (7-debug) has no Rust.
twins="rawnull safenull rustnull"
if modinfo rustnull >/dev/null 2>&1 || grep -q -m 1 ' _RNv' /proc/kallsyms; then
	rust_why=""	# a missing rustnull.ko on a kernel with Rust: its checks run and fail
else
	rust_why="rustnull.ko is built only for kernels with Rust; $(uname -r) has none (no Rust symbols in /proc/kallsyms)"
fi
# Checks per twin: run_verify per irqmode 6, bs=4096 6 (no empty-device control, one block
# size check), discard 1, max_sectors 1, refusals 8, held open 2 (36); null_blk run_verify
# per irqmode 5 (no flush count) and max_sectors 1; self-test 3; each variant 5 (no
# control); the tally 1.
per_twin=$((3 * 6 + 6 + 1 + 1 + 8 + 2))
plan $((3 + 3 * per_twin + 3 * 5 + 1 + 5 * n_variants + 1))

layer_selftest

# The integrity subset: the twins in irqmode=1 (null_blk's default), refusals, held open.
for arm in $twins null_blk; do
	if [ "$arm" = rustnull ] && [ -n "$rust_why" ]; then
		continue
	fi
	for mode in 0 1 2; do
		case $arm:$mode in
		*null:1) ;;
		null_blk:*) subset_skip 5 "$arm irqmode=$mode" && continue ;;
		*) subset_skip 6 "$arm irqmode=$mode" && continue ;;
		esac
		run_verify "$arm" "irqmode=$mode" memory_backed=1 submit_queues=2 gb=1 irqmode=$mode
	done
done

for arm in $twins; do
	if [ "$arm" = rustnull ] && [ -n "$rust_why" ]; then
		for i in $(seq "$per_twin"); do skip "rustnull check $i of $per_twin" "$rust_why"; done
		continue
	fi
	subset_skip $((6 + 1 + 1)) "$arm bs=4096, memory_backed=0, max_sectors" || {
		run_verify "$arm" "bs=4096" memory_backed=1 submit_queues=2 gb=1 bs=4096 hw_queue_depth=8
		discard_mode "$arm"
		max_sectors_mode "$arm"
	}
	for p in bs=1000 bs=8192 irqmode=3 hw_queue_depth=0 submit_queues=0 nr_devices=0 gb=0 \
		max_sectors=4; do
		refused "$arm" "$p"
	done
	held_open "$arm"
done
subset_skip 1 "null_blk max_sectors" || max_sectors_mode null_blk

subset_skip $((5 * n_variants + 1)) "the safenull ablation variants" || {
	before=$fails
	for arm in $variants; do
		run_verify "$arm" "irqmode=2" memory_backed=1 submit_queues=2 gb=1 irqmode=2
	done
	check "ablation: all $n_variants safenull variants the Kbuild builds passed every check" \
		test "$n_variants" -gt 0 -a "$fails" = "$before"
}

finish
