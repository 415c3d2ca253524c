#!/bin/bash
# nvme.sh: guest tests of the NVMe twins (rawnvme, safenvme, and the Rust twin rustnvme where
# it is built: kernel 7) against the stock nvme driver.
# vm-nvme-file: 512M
# The line above makes tests/run.sh boot the guest with one file-backed QEMU NVMe controller.
# Checks: fio write+verify through each twin; data written through one driver reads back
# identically through the others; polled queues and the INTx fallback; a controller reset
# under load that every in-flight I/O survives; unbind under load fails or completes
# requests cleanly; unload and reload; a clean kernel log (tests/lib/guest.sh). Where
# rustnvme.ko is not built, its checks are skipped with the reason. The ablation
# variants (safenvme_no<mechanism>, one safe-layer mechanism compiled out; the host's run.sh
# lists the ones the Kbuild files build in /out/ablation-variants.txt) must stay correct for
# valid input: each gets a short fio write+verify. Each check prints "ok - ..." or
# "not ok - ...". With the Rust twin's sections the guest runs past the default 900 s on a
# loaded host, hence the longer guest timeout.
# vm-kernels: all
# vm-timeout: 1800
set -u
. "$(dirname "$0")/../lib/check.sh"
. "$(dirname "$0")/../lib/guest.sh"

variants=$(tr ' ' '\n' </out/ablation-variants.txt 2>/dev/null | grep '^safenvme_no' | sort)
n_variants=$(echo "$variants" | grep -c .)
# Checks (each section counts its bind), per twin (rawnvme, safenvme, rustnvme): refusals 8,
# write+verify 4, stock-written reads 2, polled and INTx 6, reset 4, unbind under load 7;
# cross-reads 4 per reader (rawnvme, safenvme, rustnvme, nvme: bind and three regions); stock
# write 2; 3 per variant and their tally 1, runner 3, log 1.
twins="rawnvme safenvme rustnvme"
plan $((3 * (8 + 4 + 2 + 6 + 4 + 7) + 4 * 4 + 2 + 3 * n_variants + 1 + 3 + 1))

# have DRV: the driver's module is in the guest (rustnvme: Rust-enabled kernels only).
have() {
	modinfo "$1" >/dev/null 2>&1
}
# skip_n N WHAT: N checks of WHAT that cannot run here.
skip_n() {
	local i
	for i in $(seq "$1"); do skip "$2 ($i/$1)" "$(uname -r) builds no rustnvme.ko (Rust twin: kernel 7)"; done
}


bdf=""
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/class")" = 0x010802 ] && { bdf=${d##*/}; break; }
done
if [ -z "$bdf" ]; then
	not_ok "an NVMe controller is present (boot with --nvme file=PATH)"
	exit 1
fi
pcidev=/sys/bus/pci/devices/$bdf
log=/tmp/nvme-test.log

# The block device a driver made for namespace 1 of the controller, or nothing.
disk_of() {
	local d
	for d in "$pcidev"/*/block/*n1 "$pcidev"/block/*n1 "$pcidev"/nvme/nvme*/nvme*n1; do
		[ -e "$d" ] && { echo "/dev/${d##*/}"; return 0; }
	done
	return 1
}

no_disk() {
	! disk_of >/dev/null
}

unbind() {
	local cur
	[ -e "$pcidev/driver" ] || return 0
	cur=$(readlink -f "$pcidev/driver")
	timeout 120 sh -c "echo $bdf > $cur/unbind"
}

# bind DRIVER [MODULE-PARAMS...]: (re)load the module, hand it the controller, wait for n1.
bind() {
	local drv=$1 i
	shift
	unbind || return 1
	modprobe -r "$drv" 2>/dev/null
	modprobe "$drv" "$@" || return 1
	echo "$drv" >"$pcidev/driver_override"
	echo "$bdf" >"/sys/bus/pci/drivers/$drv/bind" 2>/dev/null ||
		echo "$bdf" >/sys/bus/pci/drivers_probe
	for i in $(seq 100); do
		dev=$(disk_of) && [ -b "$dev" ] && return 0
		sleep 0.1
	done
	echo "# $drv made no block device for $bdf" >&2
	return 1
}

release() {
	unbind
	echo >"$pcidev/driver_override"
}

# irq_count IRQ: interrupts of IRQ over all CPUs (/proc/interrupts).
irq_count() {
	awk -v k="$1:" '$1 == k { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i } END { print s + 0 }' \
		/proc/interrupts
}

# intx_in_use IRQ BEFORE: the controller has no MSI or MSI-X vector allocated, its legacy
# IRQ is routed by the IO-APIC, and that IRQ fired more than 100 times since BEFORE.
intx_in_use() {
	local now
	now=$(irq_count "$1")
	echo "# IRQ $1: $(grep "^ *$1:" /proc/interrupts | tr -s ' ')"
	[ -z "$(ls "$pcidev/msi_irqs" 2>/dev/null)" ] &&
		grep -q "^ *$1:.*IO-APIC" /proc/interrupts && [ $((now - $2)) -gt 100 ]
}

fio_verify() {
	fio --name=verify --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite \
		--bssplit=512/10:4k/50:16k/20:128k/20 --iodepth=16 --size=48M --offset="$1" \
		--verify=crc32c --verify_fatal=1 --do_verify=1 --randrepeat=0 --eta=never "${@:2}" \
		>"$log" 2>&1 ||
		{ sed 's/^/# /' "$log" | tail -n 20; return 1; }
}

# Region checksums: the first 8 MiB at offset A (written by raw) and B (written by safe).
region_sum() {
	dd if="$dev" bs=1M skip="$1" count=8 2>/dev/null | md5sum | cut -d' ' -f1
}
write_region() {
	dd if=/tmp/pattern of="$dev" bs=1M seek="$1" conv=fsync 2>/dev/null
}

for drv in $twins; do
	have "$drv" || { skip_n 8 "$drv refuses bad parameters"; continue; }
	for bad in irq_mode=3 io_queue_depth=1 poll_queues=65 io_timeout=0; do
		modprobe -r "$drv" 2>/dev/null
		mark=$(klog_mark)
		check "$drv refuses $bad" sh -c "! modprobe $drv $bad 2>/dev/null"
		check "$drv names ${bad%%=*} in its refusal" klog_has "$mark" "$drv: $bad: expected"
	done
done

dd if=/dev/urandom of=/tmp/pattern bs=1M count=8 2>/dev/null
want=$(md5sum </tmp/pattern | cut -d' ' -f1)
REGION_RAW=100 REGION_SAFE=200 REGION_RUST=400

for drv in $twins; do
	have "$drv" || { skip_n 4 "$drv write+verify"; continue; }
	if ! bind "$drv"; then
		not_ok "$drv binds to $bdf through driver_override"
		continue
	fi
	ok "$drv binds to $bdf through driver_override ($dev)"
	check "$drv: fio random write+verify, 512 B to 128 KiB" fio_verify 0
	check "$drv: flush (fsync) completes" \
		fio --name=flush --filename="$dev" --direct=0 --rw=write --bs=4k --size=1M \
		--fsync=1 --eta=never --output=/dev/null
	case $drv in
	rawnvme) region=$REGION_RAW ;;
	safenvme) region=$REGION_SAFE ;;
	*) region=$REGION_RUST ;;
	esac
	check "$drv: write an 8 MiB pattern at ${region} MiB" write_region "$region"
	release
done

for drv in $twins nvme; do
	have "$drv" || { skip_n 4 "$drv cross-reads"; continue; }
	if ! bind "$drv"; then
		not_ok "$drv binds for the cross-read"
		continue
	fi
	ok "$drv binds for the cross-read"
	check "$drv reads back the pattern rawnvme wrote" \
		test "$(region_sum $REGION_RAW)" = "$want"
	check "$drv reads back the pattern safenvme wrote" \
		test "$(region_sum $REGION_SAFE)" = "$want"
	if have rustnvme; then
		check "$drv reads back the pattern rustnvme wrote" \
			test "$(region_sum $REGION_RUST)" = "$want"
	else
		skip_n 1 "$drv reads back the pattern rustnvme wrote"
	fi
	release
done

# The stock driver writes, the twins read.
dd if=/dev/urandom of=/tmp/pattern bs=1M count=8 2>/dev/null
want=$(md5sum </tmp/pattern | cut -d' ' -f1)
check "nvme binds to write a pattern for the twins" bind nvme
check "nvme writes an 8 MiB pattern at 300 MiB" write_region 300
release
for drv in $twins; do
	have "$drv" || { skip_n 2 "$drv reads what nvme wrote"; continue; }
	check "$drv binds to read what nvme wrote" bind "$drv"
	check "$drv reads back the pattern nvme wrote" test "$(region_sum 300)" = "$want"
	release
done

subset_skip 18 "polled queues and INTx" ||
for drv in $twins; do
	have "$drv" || { skip_n 6 "$drv polled and INTx"; continue; }
	if bind "$drv" poll_queues=1; then
		ok "$drv binds with poll_queues=1"
		check "$drv: poll_queues=1 turns io_poll on" \
			test "$(cat "/sys/block/${dev#/dev/}/queue/io_poll")" = 1
		check "$drv: polled io_uring (hipri) write+verify" \
			fio_verify 64M --ioengine=io_uring --hipri --bssplit=4k
	else
		not_ok "$drv binds with poll_queues=1"
	fi
	release
	if bind "$drv" irq_mode=2 nr_io_queues=2; then
		ok "$drv binds with irq_mode=2 (INTx)"
		irq=$(cat "$pcidev/irq")
		before=$(irq_count "$irq")
		check "$drv: INTx fallback write+verify" fio_verify 128M
		check "$drv: INTx in use: no MSI/MSI-X vector, IRQ $irq is the IO-APIC's and counted the I/O" \
			intx_in_use "$irq" "$before"
	else
		not_ok "$drv binds with irq_mode=2 (INTx)"
	fi
	release
done

subset_skip 12 "controller reset under load" ||
for drv in $twins; do
	have "$drv" || { skip_n 4 "$drv reset under load"; continue; }
	bind "$drv" || { not_ok "$drv binds for the reset test"; continue; }
	ok "$drv binds for the reset test"
	# Write+verify in flight across the reset: a request the reset drops or fails shows as
	# a fio error, and data it loses as a verify error.
	fio_verify 320M --size=32M --iodepth=32 --loops=4 >/dev/null &
	load=$!
	inflight=0
	for i in $(seq 100); do
		inflight=$(awk '{ print $1 + $2 }' "/sys/block/${dev#/dev/}/inflight")
		[ "$inflight" -gt 0 ] && break
		sleep 0.05
	done
	check "$drv: reset_controller under load succeeds ($inflight requests in flight just before)" \
		sh -c "echo 1 > $pcidev/reset_controller"
	# bounded: I/O the reset never completes leaves fio unkillable (its exit waits for it)
	for i in $(seq 180); do kill -0 "$load" 2>/dev/null || break; sleep 1; done
	if kill -0 "$load" 2>/dev/null; then rc="none after 180 s"; else wait "$load"; rc=$?; fi
	check "$drv: every I/O in flight across the reset completed and verified (fio exit $rc)" \
		test "$rc" = 0
	check "$drv: write+verify after the reset" fio_verify 192M
	release
done

subset_skip 21 "unbind under load" ||
for drv in $twins; do
	have "$drv" || { skip_n 7 "$drv unbind under load"; continue; }
	bind "$drv" || { not_ok "$drv binds for the unbind-under-load test"; continue; }
	ok "$drv binds for the unbind-under-load test"
	fio --name=load --filename="$dev" --direct=1 --ioengine=libaio --rw=randrw --bs=4k \
		--iodepth=32 --numjobs=2 --time_based --runtime=60 \
		--eta=never --output=/dev/null 2>/dev/null &
	load=$!
	sleep 2
	check "$drv: unbind under load returns" unbind
	# fio exits once both jobs saw their I/O fail: 30 s, for a loaded host under TCG
	for i in $(seq 300); do kill -0 "$load" 2>/dev/null || break; sleep 0.1; done
	check "$drv: the load's requests end (completed or failed) after unbind" \
		sh -c "! kill -0 $load 2>/dev/null"
	kill -9 "$load" 2>/dev/null
	wait "$load" 2>/dev/null
	check "$drv: its block device is gone" no_disk
	check "$drv: module unloads" modprobe -r "$drv"
	check "$drv: reload and rebind" bind "$drv"
	check "$drv: write+verify after reload" fio_verify 256M
	release
	modprobe -r "$drv"
done

subset_skip $((3 * n_variants + 1)) "the safenvme ablation variants" || {
before=$fails
for drv in $variants; do
	if ! bind "$drv"; then
		not_ok "$drv (ablation variant) binds to $bdf"
		continue
	fi
	ok "$drv (ablation variant) binds to $bdf"
	check "$drv (ablation variant): fio random write+verify, 512 B to 128 KiB" \
		fio_verify 0 --size=8M
	release
	check "$drv: module unloads" modprobe -r "$drv"
done
check "ablation: all $n_variants safenvme variants the Kbuild builds passed every check" \
	test "$n_variants" -gt 0 -a "$fails" = "$before"
}

# The runner's nvme family: it finds QEMU's controller, takes it from the stock driver for
# each twin, and gives it back, after a clean end and after SIGTERM.
family_plan() {
	mkdir -p /tmp/fam
	cat >/tmp/fam/matrix.ini <<'INI'
[run]
samples = 1
ios = 2000
warmup_ios = 200
timeout = 120

[family nvme]
arms = nvme rawnvme safenvme
params = io_queue_depth=256 poll_queues=0

[workload randread-4k-qd8]
rw = randread
bs = 4k
iodepth = 8
INI
	printf '# twinbench plan 1\n# matrix=matrix.ini\n# clock=wall\n# icount_shift=-1\n' \
		>/tmp/fam/plan.tsv
	printf '# seed=1\nindex\tfamily\tarm\tworkload\tsample\n' >>/tmp/fam/plan.tsv
	printf '1\tnvme\trawnvme\trandread-4k-qd8\t1\n2\tnvme\tsafenvme\trandread-4k-qd8\t1\n' \
		>>/tmp/fam/plan.tsv
	rm -rf /tmp/fam/samples
}
given_back_to_nvme() {
	[ "$(readlink -f "$pcidev/driver")" = /sys/bus/pci/drivers/nvme ] &&
		[ "$(cat "$pcidev/driver_override")" = "(null)" ] &&
		! ls /run/twinbench/nvme-* >/dev/null 2>&1
}
if subset_skip 3 "the runner's nvme family"; then
	:
elif command -v twinbench >/dev/null; then
	family_plan
	bind nvme
	check "runner: the nvme family runs a sample on each twin" \
		sh -c "twinbench exec --plan /tmp/fam/plan.tsv --out /tmp/fam >/tmp/fam.log 2>&1 &&
			test -s /tmp/fam/samples/0001.csv -a -s /tmp/fam/samples/0002.csv"
	check "runner: the controller is given back to nvme afterwards" given_back_to_nvme
	family_plan
	bind nvme
	twinbench exec --plan /tmp/fam/plan.tsv --out /tmp/fam >/tmp/fam.log 2>&1 &
	runner=$!
	# SIGTERM while the first twin holds the controller (bind nvme already set the
	# override to nvme, so wait for the runner's own bind).
	for i in $(seq 300); do
		[ "$(readlink -f "$pcidev/driver")" = /sys/bus/pci/drivers/rawnvme ] && break
		sleep 0.1
	done
	sleep 1
	echo "# SIGTERM with the controller bound to $(basename "$(readlink -f "$pcidev/driver")")"
	kill -TERM "$runner"
	wait "$runner"
	check "runner: the controller is given back to nvme after SIGTERM" given_back_to_nvme
	release
else
	not_ok "runner: twinbench is in the guest"
fi

# Beside the common pattern: the NVMe drivers' own complaints.
{ kernel_problems; dmesg | grep -E 'nvme.*(timed out|reset failed|bad command|no request)'; } >/tmp/bad
if [ -s /tmp/bad ]; then
	sed 's/^/# /' /tmp/bad | head -n 20
	not_ok "kernel log is clean"
else
	ok "kernel log is clean"
fi
finish
