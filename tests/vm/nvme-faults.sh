#!/bin/bash
# nvme-faults.sh: guest tests of the NVMe twins' fault paths, reached for real on QEMU's
# emulated controllers: timeouts and resets under load, a shared INTx line, unbind and
# module removal in the middle of a reset, an admin command that times out during probe,
# and the shutdown a controller sees on unbind (CSTS.SHST read back) and on power-off with a
# twin bound (nvme-faults.after, on the host, counts the CC.SHN writes QEMU traced), for each
# twin: rawnvme, safenvme, and the Rust twin rustnvme where it is built (kernel 7; elsewhere
# its checks count as skipped, with the reason); and the
# runner's guard refusing a namespace that another process has open, on a controller of one
# namespace beside other controllers bound to nvme (not its siblings) and on one of 18 (the
# guard once stopped looking at 16); a twin's disk opened during an arm keeps the twin bound
# at the give-back, and SIGTERM during an arm gives the controller back.
# vm-nvme-file: 256M,addr=5.0,trace-shutdown
# vm-nvme: null=1G,bps=65536,addr=5.1
# vm-nvme: null=16M,addr=6.0,namespaces=18
# vm-nvme: null=64M,latency-ns=2500000000,addr=6.1
# vm-nvme: null=64M,latency-ns=2500000000,addr=7.0
# vm-nvme: null=64M,latency-ns=2500000000,addr=8.0
# vm-kernels: 7-debug
# vm-timeout: 1800
# Controller 00:05.0 is file-backed; 00:05.1 is throttled to 64 KiB/s, so a 128 KiB read
# takes 2 s, longer than the twins' io_timeout=1, while the 4 KiB reads of a partition scan
# pass. Both are functions of one slot, so under INTx they share one line. 00:06.0 has 18
# namespaces (the guard's); every I/O on 00:06.1, 00:07.0 and 00:08.0 takes 2.5 s (a 1 s
# timeout fires within 2 s), so even the partition scan in a twin's probe times out: each
# twin has one of them (rawnvme, safenvme, rustnvme), so their scans, a minute of timeouts
# and resets each, spent waiting, run side by side.
# Every case ends with no WARN and no hang (scripts/vm-run.sh fails the boot on either),
# and fio verify clean on the controller whose I/O completes.
set -u
. "$(dirname "$0")/../lib/check.sh"
. "$(dirname "$0")/../lib/guest.sh"

# 2 guard checks, 4 on the give-back, 3 on 18 namespaces, 17 per twin (2 of them in the
# twins' shared partition-scan case), 2 at the end here and 1 in nvme-faults.after.
twins="rawnvme safenvme rustnvme"
plan $((2 + 4 + 3 + 3 * 17 + 2 + 1))

fast="" slow="" many="" late_rawnvme="" late_safenvme="" late_rustnvme=""
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/class")" = 0x010802 ] || continue
	case "${d##*/}" in
	*:05.0) fast=${d##*/} ;;
	*:05.1) slow=${d##*/} ;;
	*:06.0) many=${d##*/} ;;
	*:06.1) late_rawnvme=${d##*/} ;;
	*:07.0) late_safenvme=${d##*/} ;;
	*:08.0) late_rustnvme=${d##*/} ;;
	esac
done
lates="$late_rawnvme $late_safenvme $late_rustnvme"
if [ -z "$fast" ] || [ -z "$slow" ] || [ -z "$many" ] || [ "$(echo $lates | wc -w)" != 3 ]; then
	not_ok "NVMe controllers at 00:05.0, 00:05.1, 00:06.0, 00:06.1, 00:07.0 and 00:08.0 (found '$fast' '$slow' '$many' '$lates')"
	finish
	exit 1
fi
log=/tmp/faults.log
state=/run/twinbench/nvme-$fast.driver
# max_retries=1: a reset-aborted request is requeued once, then fails.
params="irq_mode=2 nr_io_queues=1 io_timeout=1 max_retries=1 io_queue_depth=64"

# disk_of BDF: namespace 1's block device under any of the three drivers.
disk_of() {
	local d
	for d in "/sys/bus/pci/devices/$1"/*/block/*n1 "/sys/bus/pci/devices/$1"/block/*n1; do
		[ -e "$d" ] && { echo "/dev/${d##*/}"; return 0; }
	done
	ns_disk "$1" 1
}

no_disk() {
	! disk_of "$1" >/dev/null
}

unbind() {
	local drv=/sys/bus/pci/devices/$1/driver
	[ -e "$drv" ] || return 0
	timeout 120 sh -c "echo $1 > $(readlink -f "$drv")/unbind"
}

# attach DRIVER BDF: hand an already loaded driver the controller, wait for its disk.
attach() {
	local i
	unbind "$2" || return 1
	echo "$1" >"/sys/bus/pci/devices/$2/driver_override"
	echo "$2" >"/sys/bus/pci/drivers/$1/bind" 2>/dev/null || return 1
	for i in $(seq 100); do
		disk_of "$2" >/dev/null && return 0
		sleep 0.1
	done
	return 1
}

unbind_clean() {
	unbind "$1" && no_disk "$1"
}

unbound_clean() {
	[ ! -e "/sys/bus/pci/devices/$1/driver" ] && no_disk "$1"
}

release() {
	unbind "$1"
	echo >"/sys/bus/pci/devices/$1/driver_override"
}

resets_seen() {
	dmesg | grep -c "$1.*timed out, resetting controller"
}

# wait_reset DRIVER COUNT: until the log shows more than COUNT timeout resets (60 s).
wait_reset() {
	local i
	for i in $(seq 120); do
		[ "$(resets_seen "$1")" -gt "$2" ] && return 0
		sleep 0.5
	done
	dmesg | tail -n 8 | sed 's/^/# /'
	return 1
}

# The controller's CSTS register, read from BAR0 with no driver bound.
csts() {
	local bar
	bar=$(head -n 1 "/sys/bus/pci/devices/$1/resource" | cut -d' ' -f1)
	echo $(($(devmem $((bar + 0x1c)) 32)))
}

# CSTS.SHST (2 = shutdown complete).
shst() {
	echo $((($(csts "$1") >> 2) & 3))
}

# admin_timeout_probe DRIVER BDF: bind DRIVER while bus mastering is being cleared under it
# (PCI command = memory decode only, rewritten in a loop), so the controller cannot fetch
# the probe's admin commands: QEMU sets CSTS.CFS and completes nothing, and the first admin
# command times out. Prints the bind's exit status and how long it took.
admin_timeout_probe() {
	local cfg=/sys/bus/pci/devices/$2/config clear rc start
	# The dword at 0 (vendor and device ID) is read-only; the word at 4 is the command.
	(while :; do printf '\0\0\0\0\002\000' >"$cfg"; done) 2>/dev/null &
	clear=$!
	echo "$1" >"/sys/bus/pci/devices/$2/driver_override"
	start=$(date +%s)
	timeout 120 sh -c "echo $2 >/sys/bus/pci/drivers/$1/bind" 2>/dev/null
	rc=$?
	kill "$clear"
	wait "$clear" 2>/dev/null
	echo "$rc $(($(date +%s) - start))"
}

# stopped_on_admin_timeout MARK DRIVER CSTS: since MARK, DRIVER logged an admin timeout,
# and the controller's CSTS.RDY is 0.
stopped_on_admin_timeout() {
	[ $(($3 & 1)) = 0 ] &&
		klog_has "$1" "$2 .*admin opcode 0x[0-9a-f]+ timed out, stopping controller"
}

# guard_check WHAT COMMAND...: check, showing the end of the run's log and sample when
# it fails.
guard_check() {
	local what=$1
	shift
	if "$@"; then
		ok "$what"
	else
		not_ok "$what"
		tail -n 4 /tmp/fam.log /tmp/fam/samples/0001.csv 2>/dev/null | sed 's/^/#   /'
	fi
}

# driver_of BDF: the driver bound to BDF (none: "none").
driver_of() {
	local d
	d=$(readlink -f "/sys/bus/pci/devices/$1/driver") && [ -e "$d" ] && echo "${d##*/}" ||
		echo none
}

# twin_disk_during BDF PID: a twin's disk on BDF, once one appears while PID runs and PID
# holds it open (60 s): opened before that, the runner's check at load refuses it instead
# (the debug kernel is slow enough to get there first).
twin_disk_during() {
	local end=$((SECONDS + 60)) d
	while kill -0 "$2" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do
		d=$(disk_of "$1")
		case "$d" in /dev/rawnvme* | /dev/safenvme*)
			ls -l "/proc/$2/fd" 2>/dev/null | grep -q -- "-> $d\$" && { echo "$d"; return 0; } ;;
		esac
		sleep 0.05
	done
	return 1
}

# ns_disk BDF N: namespace N's block device under nvme (with multipath, the head's name
# nvmeXnN, not the hidden path nvmeXcYnN).
ns_disk() {
	local d
	for d in "/sys/bus/pci/devices/$1"/nvme/nvme*/nvme*n"$2"; do
		[ -e "$d" ] || continue
		d=${d##*/}
		echo "/dev/${d/c[0-9]*n/n}"
		return 0
	done
	return 1
}

slow_read() {
	timeout 120 fio --name=slow --filename="$1" --direct=1 --ioengine=libaio --rw=randread \
		--bs=128k --iodepth=4 --number_ios=4 --size=4M --eta=never >"$log" 2>&1
}

# The runner's guard on the emulated controller: a namespace open non-exclusively in
# another process (a raw reader) is refused before anything is loaded or unbound.
# guard_plan EXTRA-PARAMS [IOS]: a one-sample plan in /tmp/fam (rawnvme, IOS reads, 200).
guard_plan() {
	rm -rf /tmp/fam && mkdir -p /tmp/fam
	printf '[run]\nsamples = 1\nios = %s\nwarmup_ios = 0\ntimeout = 60\n\n[family nvme]\narms = nvme rawnvme\nparams = %sio_queue_depth=64 poll_queues=0\n\n[workload randread-4k-qd1]\nrw = randread\nbs = 4k\niodepth = 1\n' \
		"${2:-200}" "$1" >/tmp/fam/matrix.ini
	printf '# twinbench plan 1\n# matrix=matrix.ini\n# clock=wall\n# icount_shift=-1\n# seed=1\nindex\tfamily\tarm\tworkload\tsample\n1\tnvme\trawnvme\trandread-4k-qd1\t1\n' \
		>/tmp/fam/plan.tsv
}
for b in $slow $lates; do echo none >"/sys/bus/pci/devices/$b/driver_override"; done
modprobe nvme
if command -v twinbench >/dev/null && attach nvme "$fast"; then
	guard_plan ""
	wait_for_dev "$(disk_of "$fast")"
	sleep 120 <"$(disk_of "$fast")" &
	reader=$!
	twinbench exec --plan /tmp/fam/plan.tsv --out /tmp/fam >/tmp/fam.log 2>&1
	guard_check "guard: a namespace open in another process is refused, naming it" \
		grep -q "is open in process $reader (sleep)" /tmp/fam/samples/0001.csv
	guard_check "guard: the refused controller stays with nvme" \
		test "$(readlink -f /sys/bus/pci/devices/$fast/driver)" = /sys/bus/pci/drivers/nvme
	kill "$reader"
	wait "$reader" 2>/dev/null

	# A twin's disk opened by another process during the arm: the give-back re-checks,
	# keeps the twin bound and the record; the next run gives the controller back first.
	guard_plan "" 3000
	twinbench exec --plan /tmp/fam/plan.tsv --out /tmp/fam >/tmp/fam.log 2>&1 &
	runner=$!
	reader=""
	if dev=$(twin_disk_during "$fast" "$runner"); then
		sleep 600 <"$dev" &
		reader=$!
	fi
	wait "$runner"
	guard_check "guard: a twin's disk opened during the arm keeps the twin bound, naming the user (process ${reader:-none})" \
		sh -c "[ -n '$reader' ] && grep -q 'left bound to rawnvme.*open in process $reader' /tmp/fam.log &&
			[ $(driver_of "$fast") = rawnvme ]"
	guard_check "guard: ... and keeps its record ($state)" test -s "$state"
	[ -n "$reader" ] && kill "$reader" && wait "$reader" 2>/dev/null
	guard_plan "" 3000
	twinbench exec --plan /tmp/fam/plan.tsv --out /tmp/fam >/tmp/fam.log 2>&1
	guard_check "guard: the next run gives it back to nvme first, and the record goes" \
		sh -c "grep -q 'giving $fast back to .nvme.' /tmp/fam.log &&
			[ $(driver_of "$fast") = nvme ] && [ ! -e '$state' ]"

	# SIGTERM while a twin has the controller: the run stops and gives it back, checked.
	guard_plan "" 3000
	twinbench exec --plan /tmp/fam/plan.tsv --out /tmp/fam >/tmp/fam.log 2>&1 &
	runner=$!
	taken=none
	twin_disk_during "$fast" "$runner" >/dev/null && taken=rawnvme
	kill -TERM "$runner"
	wait "$runner"
	guard_check "guard: SIGTERM while $taken has the controller gives it back to nvme, record gone" \
		sh -c "[ $taken = rawnvme ] && [ $(driver_of "$fast") = nvme ] && [ ! -e '$state' ]"
	release "$fast"
else
	# The six guard and give-back checks above fail alike, so the plan holds.
	for i in 1 2 3 4 5 6; do
		not_ok "guard: twinbench is in the guest and nvme binds $fast (check $i/6)"
	done
fi
# Namespaces 17 and 18 of an 18-namespace controller, each open in another process.
for i in $(seq 100); do ns_disk "$many" 18 >/dev/null && break; sleep 0.1; done
for n in 17 18; do
	if ! command -v twinbench >/dev/null || ! dev=$(ns_disk "$many" "$n"); then
		not_ok "guard: namespace $n of $many is a disk under nvme"
		continue
	fi
	guard_plan "pci=$many "
	sleep 120 <"$dev" &
	reader=$!
	twinbench exec --plan /tmp/fam/plan.tsv --out /tmp/fam >/tmp/fam.log 2>&1
	guard_check "guard: namespace $n of 18 open in another process is refused, naming ${dev#/dev/}" \
		grep -q "${dev#/dev/}.*is open in process $reader (sleep)" /tmp/fam/samples/0001.csv
	kill "$reader"
	wait "$reader" 2>/dev/null
done
guard_check "guard: the 18-namespace controller stays with nvme" \
	test "$(readlink -f /sys/bus/pci/devices/$many/driver)" = /sys/bus/pci/drivers/nvme
modprobe -r nvme
for b in $slow $lates; do release "$b"; done

# late_of DRIVER: the controller of DRIVER's partition-scan case.
late_of() { eval echo "\$late_$1"; }

# scan_bind DRIVER: bind DRIVER to its late controller, whose probe's partition scan times
# out; prints the bind's exit status, its seconds and the timeout resets DRIVER logged.
scan_bind() {
	local before start rc
	echo "$1" >"/sys/bus/pci/devices/$(late_of "$1")/driver_override"
	before=$(resets_seen "$1")
	start=$(date +%s)
	timeout 120 sh -c "echo $(late_of "$1") >/sys/bus/pci/drivers/$1/bind" 2>/dev/null
	rc=$?
	echo "$rc $(($(date +%s) - start)) $(($(resets_seen "$1") - before))"
}

# A timeout during the probe's partition scan, every twin at once on its own controller: the
# reset runs while probe is still under way; the probe ends, and so does the unbind after it.
scans=()
for drv in $twins; do
	modinfo "$drv" >/dev/null 2>&1 || continue
	modprobe -r "$drv" 2>/dev/null
	if modprobe "$drv" $params; then
		scan_bind "$drv" >"/tmp/scan-$drv" &
		scans+=($!)
	else
		echo "load-failed 0 0" >"/tmp/scan-$drv"
	fi
done
for pid in "${scans[@]}"; do wait "$pid"; done
for drv in $twins; do
	modinfo "$drv" >/dev/null 2>&1 || continue
	read -r rc secs n <"/tmp/scan-$drv"
	check "$drv: a probe whose partition scan times out and resets the controller ends (bind exit $rc, $secs s, $n resets)" \
		sh -c "[ $rc != 124 ] && [ $rc != load-failed ] && [ $n -gt 0 ]"
	check "$drv: ... and the unbind after it returns, leaving no disk" \
		unbind_clean "$(late_of "$drv")"
	release "$(late_of "$drv")"
	modprobe -r "$drv"
done

for drv in $twins; do
	if ! modinfo "$drv" >/dev/null 2>&1; then
		for i in $(seq 17); do
			skip "$drv fault paths ($i/17)" "$(uname -r) builds no $drv.ko (Rust twin: kernel 7)"
		done
		continue
	fi
	modprobe -r "$drv" 2>/dev/null
	check "$drv refuses max_retries=256, naming it" \
		sh -c "! modprobe $drv max_retries=256 2>/dev/null && dmesg | grep -q '$drv: max_retries=256: expected'"
	if ! modprobe "$drv" $params; then
		not_ok "$drv loads with $params"
		continue
	fi

	# An admin command that times out during probe: the probe fails in bounded time, the
	# twin has stopped the controller (its buffers may be freed only then), nothing stays
	# bound; the controller then binds and verifies as before (below).
	mark=$(klog_mark)
	res=$(admin_timeout_probe "$drv" "$fast")
	rc=${res% *} secs=${res#* }
	check "$drv: a probe whose admin command times out fails, not hangs (bind exit $rc, $secs s)" \
		sh -c "[ $rc != 0 ] && [ $rc != 124 ]"
	reg=$(csts "$fast")
	check "$drv: ... after stopping the controller on the admin timeout (CSTS.RDY = $((reg & 1)))" \
		stopped_on_admin_timeout "$mark" "$drv" "$reg"
	check "$drv: ... and leaves no driver and no disk on the controller" \
		unbound_clean "$fast"

	# (Its partition-scan case ran above, beside the other twins'.)
	if ! attach "$drv" "$fast" || ! attach "$drv" "$slow"; then
		not_ok "$drv binds both controllers with INTx"
		release "$fast"; release "$slow"; modprobe -r "$drv"
		continue
	fi
	fdev=$(disk_of "$fast") sdev=$(disk_of "$slow")
	check "$drv: both controllers' handlers share one INTx line" \
		sh -c "grep -E '$drv.*$drv' /proc/interrupts >/dev/null"

	# Resets under verify load (with the other controller's handler on the line): what the
	# controller held is requeued, so nothing fails and every block verifies.
	fio --name=verify --filename="$fdev" --direct=1 --ioengine=libaio --rw=randwrite \
		--bssplit=4k/50:64k/50 --iodepth=16 --size=64M --verify=crc32c --verify_fatal=1 \
		--do_verify=1 --eta=never >"$log" 2>&1 &
	load=$!
	resets_ok=0
	for i in 1 2 3; do
		sleep 1
		echo 1 >"/sys/bus/pci/devices/$fast/reset_controller" && resets_ok=$((resets_ok + 1))
	done
	wait "$load"
	rc=$?
	[ "$rc" = 0 ] || sed 's/^/# /' "$log" | tail -n 10
	check "$drv: three resets under write+verify load succeed" test "$resets_ok" = 3
	check "$drv: write+verify across the resets is clean (in-flight I/O requeued, not failed)" \
		test "$rc" = 0

	# Every I/O outlives io_timeout: reap, reset, requeue, and after max_retries EIO.
	before=$(resets_seen "$drv")
	start=$(date +%s)
	slow_read "$sdev"
	rc=$?
	[ "$rc" = 0 ] && sed 's/^/# /' "$log" | grep -E 'lat|IOPS|err' | head -n 5
	check "$drv: reads on the slow controller end with an I/O error, not a hang (rc $rc, $(($(date +%s) - start)) s)" \
		sh -c "[ $rc != 0 ] && [ $rc != 124 ] && grep -q 'error=Input/output error' $log"
	check "$drv: the timeouts reset the slow controller" \
		test "$(resets_seen "$drv")" -gt "$before"
	check "$drv: the fast controller still verifies" \
		fio --name=after --filename="$fdev" --direct=1 --ioengine=libaio --rw=randwrite \
		--bs=4k --iodepth=8 --size=8M --offset=128M --verify=crc32c --verify_fatal=1 \
		--eta=never --output=/dev/null

	# Unbind while a timeout reset of the slow controller is under way.
	before=$(resets_seen "$drv")
	slow_read "$sdev" &
	load=$!
	if wait_reset "$drv" "$before"; then
		check "$drv: unbind during a reset returns" unbind "$slow"
	else
		not_ok "$drv: a timeout reset starts on the slow controller"
	fi
	wait "$load"
	check "$drv: the slow controller's disk is gone" no_disk "$slow"
	release "$slow"

	# The fast controller was unbound cleanly: the twin shut it down (CC.SHN, SHST done).
	release "$fast"
	check "$drv: unbind left the controller shut down (CSTS.SHST = 2)" test "$(shst "$fast")" = 2

	# Module removal while a reset is under way (the reset waits, then the unbind runs).
	if attach "$drv" "$fast"; then
		sh -c "echo 1 > /sys/bus/pci/devices/$fast/reset_controller" 2>/dev/null &
		reset=$!
		check "$drv: module removal during a reset returns" timeout 120 modprobe -r "$drv"
		wait "$reset"
	else
		not_ok "$drv rebinds the fast controller"
	fi
	release "$fast"
	modprobe -r "$drv" 2>/dev/null
	check "$drv: the module is gone" sh -c "! grep -q '^$drv ' /proc/modules"
done

# Left bound for the power-off: each twin must shut its controller down (.shutdown), the
# Rust twin (where built) the 18-namespace one. nvme-faults.after counts the CC.SHN writes
# QEMU saw after this point, one per controller named in /out/shutdowns-want.
bound="rawnvme:$fast safenvme:$slow"
modinfo rustnvme >/dev/null 2>&1 && bound="$bound rustnvme:$many"
for b in $bound; do
	modprobe "${b%%:*}" && attach "${b%%:*}" "${b#*:}"
done
check "every twin is bound for the power-off ($bound)" \
	sh -c "for b in $bound; do [ -e /sys/bus/pci/drivers/\${b%%:*}/\${b#*:} ] || exit 1; done"
if [ -r /out/nvme-trace.log ]; then
	grep -c pci_nvme_mmio_shutdown_set /out/nvme-trace.log >/out/shutdowns-before
	echo "$bound" >/out/shutdowns-want
else
	not_ok "QEMU traces the controllers' shutdowns (/out/nvme-trace.log)"
fi

if { kernel_problems; dmesg | grep -E 'bad command|no request|not ended|ownership count'; } >/tmp/bad &&
	[ -s /tmp/bad ]; then
	sed 's/^/# /' /tmp/bad | head -n 20
	not_ok "kernel log is clean"
else
	ok "kernel log is clean"
fi
finish
