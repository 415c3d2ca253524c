#!/bin/bash
# nvme-swiotlb.sh: the NVMe drivers with every DMA mapping bounced (swiotlb=force, as in
# SEV/TDX guests or with iommu=soft). A bounce buffer must keep the I/O's offset in its
# controller page (dma_set_min_align_mask), or the PRPs point at the wrong bytes and
# multi-segment I/O from 512-byte-aligned buffers is silently corrupted. For nvme (the
# reference), rawnvme, safenvme and rustnvme (where built: kernel 7; else skipped): fio write+verify with every buffer 512 bytes into its
# page (mem_align=512) and sizes from 512 B to 128 KiB, while swiotlb's own count of slots in
# use shows the I/O really was bounced; then a clean kernel log.
# vm-nvme-file: 256M
# vm-append: swiotlb=force
# vm-kernels: 7-debug
set -u
. "$(dirname "$0")/../lib/check.sh"
. "$(dirname "$0")/../lib/guest.sh"

drivers="nvme rawnvme safenvme rustnvme"
# Checks: swiotlb forced 1, 3 per driver, the log 1.
plan $((1 + 3 * 4 + 1))

bdf=""
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/class")" = 0x010802 ] && { bdf=${d##*/}; break; }
done
pcidev=/sys/bus/pci/devices/$bdf
used=/sys/kernel/debug/swiotlb/io_tlb_used
log=/tmp/swiotlb.log
check "swiotlb is forced and its slot count is readable ($(cat /proc/cmdline))" \
	sh -c "[ -n '$bdf' ] && grep -q -w swiotlb=force /proc/cmdline && [ -r $used ]"

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

# verify_bounced DEV: write+verify from buffers 512 bytes into their page, sampling the
# swiotlb slots in use meanwhile; prints the most seen, fails on a verify error. A buffer
# on physically contiguous pages is one segment and one bounce buffer, which keeps its
# layout whatever the mask; fio's buffers are a tmpfs file written page by page in turn
# with another, so no two of its pages are neighbours and the I/O is multi-segment.
verify_bounced() {
	local load peak=0 n i
	rm -f /tmp/buf /tmp/gap
	for i in $(seq 0 160); do
		dd if=/dev/zero of=/tmp/buf bs=4k seek="$i" count=1 conv=notrunc 2>/dev/null
		dd if=/dev/zero of=/tmp/gap bs=4k seek="$i" count=1 conv=notrunc 2>/dev/null
	done
	fio --name=bounce --filename="$1" --direct=1 --ioengine=libaio --rw=randwrite \
		--bssplit=512/10:4k/40:16k/25:64k/25 --blockalign=512 --mem_align=512 \
		--iomem=mmap:/tmp/buf --iodepth=8 --size=32M --verify=crc32c --verify_fatal=1 \
		--do_verify=1 --verify_state_save=0 --randrepeat=0 --eta=never >"$log" 2>&1 &
	load=$!
	while kill -0 "$load" 2>/dev/null; do
		n=$(cat "$used" 2>/dev/null || echo 0)
		[ "$n" -gt "$peak" ] && peak=$n
		sleep 0.05
	done
	echo "$peak"
	wait "$load"
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
		not_ok "$drv: write+verify from 512-byte-aligned buffers under swiotlb=force"
		not_ok "$drv: its I/O went through swiotlb bounce buffers"
		continue
	fi
	ok "$drv binds the controller"
	peak=$(verify_bounced "$(disk_of)")
	rc=$?
	[ "$rc" = 0 ] || sed 's/^/# /' "$log" | grep -E 'verify|err|bad' | head -n 10
	check "$drv: write+verify from 512-byte-aligned buffers under swiotlb=force (fio exit $rc)" \
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
