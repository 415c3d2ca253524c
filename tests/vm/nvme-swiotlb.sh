#!/bin/bash
# nvme-swiotlb.sh: the NVMe drivers with every DMA mapping bounced (swiotlb=force, as in
# SEV/TDX guests or with iommu=soft). A bounce buffer must keep the I/O's offset in its
# controller page (dma_set_min_align_mask), or the PRPs point at the wrong bytes and
# multi-segment I/O from 512-byte-aligned buffers is silently corrupted. For nvme (the
# reference), rawnvme, safenvme and rustnvme (where built: kernel 7; else skipped): fio
# writes with every buffer 512 bytes into its page (mem_align=512) and sizes from 512 B to
# 64 KiB, while swiotlb's own high-water mark of slots in use (kept exactly with
# swiotlb=force,track_hiwater on 7.x; reset before each driver) shows the I/O really was
# bounced (sampling the slots in use every 50 ms once missed a whole write pass), then a
# verifying read-back of every block into page-aligned buffers; then a clean kernel log. A
# scratch rawnvme with the call removed fails (so far always in the write pass already: an
# I/O error where a bounced segment put a PRP entry off its page; the read-back is there for
# the 4 KiB-multiple writes, which shift).
# vm-nvme-file: 256M
# vm-append: swiotlb=force,track_hiwater
# vm-kernels: 7-debug
set -u
. "$(dirname "$0")/../lib/check.sh"
. "$(dirname "$0")/../lib/guest.sh"

# The drivers under test, the one list of them (the plan counts it).
drivers="nvme rawnvme safenvme rustnvme"
# Checks: swiotlb forced 1, 3 per driver, the log 1.
plan $((1 + 3 * $(echo $drivers | wc -w) + 1))

bdf=""
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/class")" = 0x010802 ] && { bdf=${d##*/}; break; }
done
pcidev=/sys/bus/pci/devices/$bdf
hiwater=/sys/kernel/debug/swiotlb/io_tlb_used_hiwater
log=/tmp/swiotlb.log
check "swiotlb is forced and keeps its high-water mark of slots in use ($(cat /proc/cmdline))" \
	sh -c "[ -n '$bdf' ] && grep -q -w swiotlb=force /proc/cmdline && [ -w $hiwater ]"

disk_of() {
	local d
	for d in "$pcidev"/*/block/*n1 "$pcidev"/block/*n1 "$pcidev"/nvme/nvme*/nvme*n1; do
		[ -e "$d" ] || continue
		d=${d##*/}
		echo "/dev/${d/c[0-9]*n/n}"
		return 0
	done
	return 1
}

# bind DRIVER: load it, hand it the controller, wait for its disk.
bind() {
	local i
	[ -e "$pcidev/driver" ] && echo "$bdf" >"$pcidev/driver/unbind"
	modprobe "$1" || return 1
	echo "$1" >"$pcidev/driver_override"
	echo "$bdf" >"/sys/bus/pci/drivers/$1/bind" 2>/dev/null
	for i in $(seq 100); do
		disk_of >/dev/null && wait_for_dev "$(disk_of)" && return 0
		sleep 0.1
	done
	return 1
}

# verify_bounced DEV: writes from buffers 512 bytes into their page, prints swiotlb's
# high-water mark of slots in use over them, then reads every block back with fio's own
# page-aligned buffers and verifies it; fails on an I/O or verify error. A buffer on
# physically contiguous pages is one segment and one bounce buffer, which keeps its layout
# whatever the mask; the writes' buffers are a tmpfs file written page by page in turn with
# another, so no two of its pages are neighbours and every write of 4 KiB or more is
# multi-segment: its first segment (3584 bytes) loses its page offset in a bounce buffer
# without the mask, and the controller takes 512 wrong bytes from it and none of the last
# segment. Read back into the same layout the loss cancels out (and the last segment keeps
# whatever the buffer held), so the read-back pass uses whole pages, which bounce to whole
# pages with or without the mask and so see what the controller really stored.
verify_bounced() {
	local i job
	rm -f /tmp/buf /tmp/gap
	for i in $(seq 0 160); do
		dd if=/dev/zero of=/tmp/buf bs=4k seek="$i" count=1 conv=notrunc 2>/dev/null
		dd if=/dev/zero of=/tmp/gap bs=4k seek="$i" count=1 conv=notrunc 2>/dev/null
	done
	job=(--name=bounce --filename="$1" --direct=1 --ioengine=libaio --rw=randwrite
		--bssplit=512/10:4k/40:16k/25:64k/25 --blockalign=512 --iodepth=8 --size=16M
		--randseed=24 --verify=crc32c --verify_fatal=1 --verify_state_save=0 --eta=never)
	echo 0 >"$hiwater" || return
	fio "${job[@]}" --mem_align=512 --iomem=mmap:/tmp/buf --do_verify=0 >"$log" 2>&1
	i=$?
	cat "$hiwater"
	[ "$i" = 0 ] || return "$i"
	fio "${job[@]}" --verify_only=1 >>"$log" 2>&1
}

for drv in $drivers; do
	if ! modinfo "$drv" >/dev/null 2>&1; then
		for i in 1 2 3; do
			skip "$drv under swiotlb=force ($i/3)" "$(uname -r) builds no $drv.ko (Rust twin: kernel 7)"
		done
		continue
	fi
	if ! bind "$drv"; then
		not_ok "$drv binds the controller"
		not_ok "$drv: writes from 512-byte-aligned buffers read back intact under swiotlb=force"
		not_ok "$drv: its I/O went through swiotlb bounce buffers"
		continue
	fi
	ok "$drv binds the controller"
	peak=$(verify_bounced "$(disk_of)")
	rc=$?
	[ "$rc" = 0 ] || sed 's/^/# /' "$log" | grep -E 'verify|err|bad' | head -n 10
	check "$drv: writes from 512-byte-aligned buffers read back intact under swiotlb=force (fio exit $rc)" \
		test "$rc" = 0
	check "$drv: its I/O went through swiotlb bounce buffers (up to $peak slots in use)" \
		test "$peak" -gt 0
	echo "$bdf" >"$pcidev/driver/unbind"
	echo >"$pcidev/driver_override"
	[ "$drv" = nvme ] || modprobe -r "$drv"
done

bad=$(kernel_problems)
[ -z "$bad" ] || printf '# %s\n' "$bad" | head -n 20
check "kernel log is clean" test -z "$bad"
finish
