#!/bin/bash
# rnull.sh (guest, a Rust-enabled kernel): the upstream Rust null block driver the rnull arm
# measures, built from the kernel's own source. On 7.x its device is made through configfs
# (rnull/rnullb0: 4096-byte blocks, 4096 MiB, then power 1); earlier ones made it at load.
# rnull keeps no data (every request ends successfully inside queue_rq), so what can be
# verified is: it loads and announces itself, its device has the shape the rust profile
# matches the other arms to (4 GiB, 4096-byte blocks, one hardware queue of 256 tags), reads
# and writes of fixed counts all succeed and reach the device's I/O counters exactly, a
# 512-byte direct read is refused (4096-byte blocks), load/unload cycles are clean, and the
# kernel log stays clean. One line per check: "ok - ..." / "not ok - ...".
# vm-needs: rnull_mod
# vm-kernels: all
set -u
. "$(dirname "$0")/../lib/check.sh"
. "$(dirname "$0")/../lib/guest.sh"
# Checks: load, announce, shape, four fio runs, the 512-byte refusal, unload, kernel log.
plan 10

MOD=rnull_mod
DEV=/dev/rnullb0
SYS=/sys/block/rnullb0
CFG=/sys/kernel/config/rnull/rnullb0
IOS=20000
log=/tmp/rnull-test.log

# fio_count RW IODEPTH: run exactly $IOS 4 KiB direct I/Os; prints the I/Os fio completed.
fio_count() {
	fio --name=rnull --filename=$DEV --rw="$1" --bs=4k --ioengine=io_uring --direct=1 \
		--iodepth="$2" --number_ios=$IOS --size=1G --norandommap --randrepeat=1 \
		--output-format=json >"$log" 2>&1 || return 1
	grep -q '"error" : [1-9]' "$log" && return 1
	awk -v s="$1" '/"read" : \{/ { k = "r" } /"write" : \{/ { k = "w" } /"trim" : \{/ { k = "t" }
		/"total_ios" :/ { v = $3; gsub(/[^0-9]/, "", v); n[k] += v }
		END { print (s ~ /read/) ? n["r"] : n["w"] }' "$log"
}

# stat_field N: field N of the device's stat file (1 = reads completed, 5 = writes completed).
stat_field() {
	awk -v f="$1" '{ print $f }' "$SYS/stat"
}

# rnull_up: load the module and, where rnull is configured through configfs, power a device.
rnull_up() {
	modprobe $MOD || return 1
	[ -d "${CFG%/*}" ] || return 0
	mkdir "$CFG" && echo 4096 >"$CFG/blocksize" && echo 4096 >"$CFG/size" &&
		echo 0 >"$CFG/irqmode" && echo 1 >"$CFG/power"
}

# rnull_down: power the configfs device off and remove it, then unload the module.
rnull_down() {
	if [ -d "$CFG" ]; then
		echo 0 >"$CFG/power" && rmdir "$CFG" || return 1
	fi
	rmmod $MOD
}

mark=$(klog_mark)
if ! rnull_up >"$log" 2>&1 || ! wait_for_dev $DEV; then
	not_ok "$MOD loads and $DEV appears"
	sed 's/^/#   /' "$log"
	echo "# rnull is not loadable: no further checks"
	exit 1
fi
ok "$MOD loads and $DEV appears"
if klog_has "$mark" 'Rust null_blk loaded'; then
	ok "$MOD announces itself (Rust null_blk loaded)"
else
	not_ok "$MOD announces itself (Rust null_blk loaded)"
fi

size=$(cat "$SYS/size")
lbs=$(cat "$SYS/queue/logical_block_size")
hwq=$(ls -d "$SYS"/mq/[0-9]* | wc -l)
tags=$(cat "$SYS/mq/0/nr_tags")
if [ "$size" = $((4 << 21)) ] && [ "$lbs" = 4096 ] && [ "$hwq" = 1 ] && [ "$tags" = 256 ]; then
	ok "$DEV shape: 4 GiB, 4096-byte blocks, 1 hardware queue, 256 tags"
else
	not_ok "$DEV shape: 4 GiB, 4096-byte blocks, 1 hardware queue, 256 tags" \
		"(got $size sectors, $lbs, $hwq, $tags)"
fi

echo none >"$SYS/queue/scheduler"
echo 1 >"$SYS/queue/iostats"
for rw in randread:1 randread:32 randwrite:32 read:8; do
	kind=${rw%:*} qd=${rw#*:}
	field=1
	[ "${kind#rand}" = write ] && field=5
	before=$(stat_field $field)
	if done_ios=$(fio_count "$kind" "$qd") && [ "$done_ios" = $IOS ]; then
		after=$(stat_field $field)
		if [ $((after - before)) = $IOS ]; then
			ok "$kind QD$qd: $IOS I/Os succeed and the device counts exactly $IOS"
		else
			not_ok "$kind QD$qd: the device counts $((after - before)) of $IOS I/Os"
		fi
	else
		not_ok "$kind QD$qd: $IOS I/Os succeed (fio completed ${done_ios:-none})"
		tail -n 20 "$log" | sed 's/^/#   /'
	fi
done

fio --name=small --filename=$DEV --rw=read --bs=512 --ioengine=psync --direct=1 \
	--number_ios=1 --size=1M >"$log" 2>&1
if grep -q 'err=22\|Invalid argument' "$log"; then
	ok "a 512-byte direct read of a 4096-byte-block device is refused (EINVAL)"
else
	not_ok "a 512-byte direct read of a 4096-byte-block device is refused (EINVAL)"
	tail -n 5 "$log" | sed 's/^/#   /'
fi

unload_ok=1
for cycle in 1 2 3; do
	if ! rnull_down >"$log" 2>&1 || [ -e /sys/module/$MOD ] || [ -e $DEV ]; then
		unload_ok=0
		break
	fi
	[ $cycle = 3 ] && break
	rnull_up >"$log" 2>&1 && wait_for_dev $DEV || { unload_ok=0; break; }
done
if [ $unload_ok = 1 ]; then
	ok "$MOD unloads cleanly (3 unload/load cycles, module and device gone)"
else
	not_ok "$MOD unloads cleanly (3 unload/load cycles, module and device gone)"
	sed 's/^/#   /' "$log"
fi

check "kernel log is clean" klog_clean "$mark"
finish
