#!/bin/bash
# job.sh: what tests/host/box.sh has the box do, as root in the clone /root/twinbench, with
# the README's own commands in host mode. Its checks print "ok"/"not ok" lines (the host
# script's plan counts them: CHECKS_MAIN, CHECKS_LOCKED); everything worth reading goes to
# the share /out.
# Usage: job.sh main     the guards, the host-mode make bench, SIGTERM and kill -9
#        job.sh locked   a kernel booted to load only signed modules: make bench stops first
set -u
cd /root/twinbench || exit 1
. tests/lib/check.sh
. /run/box.env
mkdir -p /out/logs

state=/run/twinbench/nvme-$FREE_PCI.driver
driver_of() {
	local d
	d=$(readlink -f "/sys/bus/pci/devices/$1/driver") && [ -e "$d" ] && echo "${d##*/}" ||
		echo none
}
# binding WHEN: the drivers of the three controllers, one line in /out/binding.txt.
binding() {
	echo "$1: busy $BUSY_PCI=$(driver_of "$BUSY_PCI") free $FREE_PCI=$(driver_of "$FREE_PCI") root $ROOT_PCI=$(driver_of "$ROOT_PCI") record=$([ -e "$state" ] && cat "$state" || echo none)" |
		tee -a /out/binding.txt
}
# matrix FILE PCI [EXTRA]: the box matrix (tests/box/matrix.ini) for controller PCI.
matrix() {
	sed -e "s/@PCI@/$2/g" -e "s/@EXTRA@/${3:-}/" tests/box/matrix.ini >"$1"
}
# samples_in RUN: how many samples RUN has written (samples/NNNN.csv), and how many valid.
samples_in() {
	local n
	n=$(ls "$1"/samples/[0-9]*.csv 2>/dev/null | wc -l)
	echo "$n $(awk -F, 'FNR > 1 && $9 == 1 { v[FILENAME] = 1 } END { print length(v) }' \
		"$1"/samples/[0-9]*.csv 2>/dev/null || echo 0)"
}
# run_of LOG: the run folder a runner writing LOG announced (waits up to 60 s for it).
run_of() {
	local end=$((SECONDS + 60)) d
	while [ "$SECONDS" -lt "$end" ]; do
		d=$(sed -n 's/.*, run folder //p' "$1" | head -n 1)
		[ -n "$d" ] && { echo "$d"; return 0; }
		sleep 0.2
	done
	return 1
}
# until_twin PID [RUN]: wait (up to 15 min) until PID's run binds a twin to the free
# controller: a twin seen after another driver, so a binding left from before never counts;
# with RUN, only once RUN has a finished sample.
until_twin() {
	local end=$((SECONDS + 900)) other=0
	while kill -0 "$1" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do
		if [ -n "${2:-}" ] && [ "$(samples_in "$2" | cut -d' ' -f1)" = 0 ]; then
			other=0
		else
			case "$(driver_of "$FREE_PCI")" in
			rawnvme | safenvme | rustnvme) [ "$other" = 1 ] && return 0 ;;
			*) other=1 ;;
			esac
		fi
		sleep 0.2
	done
	return 1
}
t() { echo "$1 $2" >>/out/times.txt; }

uname -r >/out/uname.txt
lsblk -o NAME,SIZE,FSTYPE,MOUNTPOINTS,TYPE >/out/lsblk.txt 2>&1
binding boot

# locked_checks WHY: make bench on a kernel that loads only signed modules, WHY being
# what the message must give as the reason: it stops before loading anything.
locked_n=0
locked_checks() {
	local why=$1 log before rc msg
	locked_n=$((locked_n + 1))
	log=/out/logs/bench-locked$locked_n.log
	matrix /root/box.ini "$FREE_PCI" "allow_write=$FREE_PCI"
	before=$(cut -d' ' -f1 /proc/modules | sort)
	make bench MODE=host MATRIX=/root/box.ini FAMILIES=null,nvme >"$log" 2>&1
	rc=$?
	msg=$(grep 'loads only signed modules' "$log" | head -n 1)
	echo "$msg" >>/out/locked-message.txt
	check "locked: make bench stops (status $rc) with the signing message, naming $why" \
		eval '[ $rc != 0 ] && echo "$msg" | grep -q -F "$why"'
	check "locked: the message says why and how (sign-file, MOK, or enforcement off)" \
		eval 'echo "$msg" | grep -q "sign-file" && echo "$msg" | grep -q "mokutil --import" &&
			echo "$msg" | grep -q "enforcement off"'
	check "locked: nothing was loaded" \
		eval '[ "$(cut -d" " -f1 /proc/modules | sort)" = "$before" ] && ! grep -q -E "insmod|modprobe .* failed" "$log"'
	check "locked: the free controller stays with nvme" \
		eval '[ "$(driver_of "$FREE_PCI")" = nvme ] && [ ! -e "$state" ]'
}

case "${1:-}" in
locked)
	if grep -q '\[integrity\]' /sys/kernel/security/lockdown; then
		locked_checks "kernel lockdown [integrity]"
	else
		locked_checks "module.sig_enforce=1"
	fi
	exit 0
	;;
main) ;;
*) echo "job.sh: main or locked" >&2; exit 2 ;;
esac

# The guards, before anything is loaded: the busy controller (its ext4 mounted, then its
# LVM volume active), the virtio root disk; then a write without allow_write.
# refuse NAME PCI: a one-sample-per-arm run on PCI; its refusals in /out/refused-NAME.txt.
refuse() {
	matrix /root/refuse.ini "$2" "allow_write=$2"
	sed -i 's/^samples = .*/samples = 1/' /root/refuse.ini
	bench/twinbench run --mode host --matrix /root/refuse.ini --families nvme \
		>"/out/logs/refuse-$1.log" 2>&1
	grep -h -o -E "(is mounted at|is held by|not an NVMe controller|holds the root)[^,]*" \
		results/latest/samples/*.csv "/out/logs/refuse-$1.log" 2>/dev/null | sort -u \
		>"/out/refused-$1.txt"
	grep -h -E "refus|not an NVMe" "/out/logs/refuse-$1.log" | head -n 4 >>"/out/refused-$1.txt"
}
# each reason alone: the volume group inactive while the mount is checked, then unmounted
vgchange -q -an boxvg >/dev/null
refuse busy-mounted "$BUSY_PCI"
vgchange -q -ay boxvg >/dev/null
umount /srv/data
refuse busy-lvm "$BUSY_PCI"
mount "/dev/${BUSY_DEV}p1" /srv/data
refuse root "$ROOT_PCI"
check "guard: the busy controller is refused while its ext4 is mounted ($(head -n 1 /out/refused-busy-mounted.txt))" \
	grep -q "is mounted at /srv/data" /out/refused-busy-mounted.txt
check "guard: ... and while LVM holds its other partition ($(head -n 1 /out/refused-busy-lvm.txt))" \
	grep -q "is held by dm-" /out/refused-busy-lvm.txt
check "guard: the virtio root disk is refused ($(head -n 1 /out/refused-root.txt))" \
	grep -q "not an NVMe controller" /out/refused-root.txt
binding after-refusals
check "guard: the refused controllers were never rebound, /srv/data stays mounted, boxvg/data active" \
	eval '[ "$(driver_of "$BUSY_PCI")" = nvme ] && [ "$(driver_of "$ROOT_PCI")" = virtio-pci ] &&
		mountpoint -q /srv/data && [ -b /dev/boxvg/data ]'
matrix /root/nowrite.ini "$FREE_PCI"
bench/twinbench run --mode host --matrix /root/nowrite.ini --families nvme \
	>/out/logs/nowrite.log 2>&1
rc=$?
head -n 3 /out/logs/nowrite.log >/out/refused-nowrite.txt
check "guard: a write workload without allow_write=$FREE_PCI is refused before anything is loaded (status $rc)" \
	eval '[ $rc = 2 ] && grep -q "add allow_write=$FREE_PCI" /out/logs/nowrite.log &&
		[ "$(driver_of "$FREE_PCI")" = nvme ]'

# The README's command, host mode, with the box matrix (pci= and allow_write= named).
matrix /root/box.ini "$FREE_PCI" "allow_write=$FREE_PCI"
t0=$SECONDS
make bench MODE=host MATRIX=/root/box.ini FAMILIES=null,nvme >/out/logs/bench.log 2>&1
rc=$?
t bench $((SECONDS - t0))
run=$(readlink -f results/latest)
cp -a "$run" /out/run
binding after-normal-end
check "bench: make bench MODE=host MATRIX=box.ini FAMILIES=null,nvme ends with status 0 ($rc, $((SECONDS - t0)) s)" \
	[ "$rc" = 0 ]
check "bench: the mode is host, on the running kernel $(uname -r)" \
	eval 'grep -q "twinbench run: host mode" /out/logs/bench.log &&
		[ "$(jq -r .kernel.release "$run/manifest.json")" = "$(uname -r)" ]'
# modules.order names them relative to the tree as .o, or absolute as .ko (by kbuild version)
kos=$(sed -e 's/\.o$/.ko/' modules.order)
bad=$(for k in $kos; do [ "$(modinfo -F vermagic "$k" | cut -d' ' -f1)" = "$(uname -r)" ] || echo "$k"; done)
kdir=/lib/modules/$(uname -r)/build
decision=$(scripts/kernels.sh host-rust "$kdir")
echo "$decision" >/out/host-rust.txt
tree=${decision#tree }
check "modules: each of ours ($(echo "$kos" | wc -w)) is for the running kernel (vermagic $(uname -r)), built against $tree, whose .config and Module.symvers are $kdir's" \
	eval '[ -n "$kos" ] && [ -z "$bad" ] && [ "$tree" != "$decision" ] &&
		cmp -s "$tree/.config" "$kdir/.config" && cmp -s "$tree/Module.symvers" "$kdir/Module.symvers"'
awk -F, 'NR > 1 && $9 == 1 { print $2 }' "$run/samples.csv" | sort -u \
	>/out/arms.txt
check "bench: every arm was loaded in turn and gave valid samples ($(tr '\n' ' ' </out/arms.txt))" \
	eval 'for a in null_blk rawnull safenull nvme rawnvme safenvme; do grep -q -x "$a" /out/arms.txt || exit 1; done'
aliases=$(for k in $kos; do case "$k" in *nvme*) modinfo -F alias "$k" ;; esac; done | grep -c '^pci:')
check "bench: the NVMe twins have no PCI id table ($aliases pci: aliases), so only driver_override bound them" \
	[ "$aliases" = 0 ]
override=$(cat "/sys/bus/pci/devices/$FREE_PCI/driver_override")
check "bench: after the normal end the free controller is with nvme, driver_override cleared ($override), record gone" \
	eval '[ "$(driver_of "$FREE_PCI")" = nvme ] && [ ! -e "$state" ] &&
		{ [ -z "$override" ] || [ "$override" = "(null)" ]; }'
missing=""
for f in manifest.json samples.csv settings.csv summary.csv facts.tsv matrix.ini plan.tsv \
	report.md report.html summary.txt; do
	[ -s "$run/$f" ] || missing="$missing $f"
done
ls "$run"/plots/*.svg >/dev/null 2>&1 || missing="$missing plots"
check "bench: the run folder is complete${missing:+ (missing:$missing)}" [ -z "$missing" ]
# E: our unsigned modules; a warning, oops or lockup the run added would be a problem no
# sample's log check saw, which the runner says on stderr
check "bench: the kernel's taint is in the manifest, and the run added no problem to it ($(jq -c .kernel_taint "$run/manifest.json"))" \
	eval 'jq -r .kernel_taint.after.flags "$run/manifest.json" | grep -q E &&
		jq -e ".kernel_taint | has(\"taint_gained\")" "$run/manifest.json" >/dev/null &&
		! grep -q "the kernel was tainted" /out/logs/bench.log'
pmu_line=$(grep -m 1 'no hardware counters here' /out/logs/bench.log)
check "bench: no PMU under TCG: one line says so and no counter columns are written ($pmu_line)" \
	eval '[ -n "$pmu_line" ] && [ "$(grep -c "no hardware counters here" /out/logs/bench.log)" = 1 ] &&
		! grep -q -E ",(cycles_per_io|instructions_per_io|ipc)," "$run/samples.csv"'
check "bench: the refused controllers are untouched after the run" \
	eval '[ "$(driver_of "$BUSY_PCI")" = nvme ] && mountpoint -q /srv/data && [ -b /dev/boxvg/data ]'

# SIGTERM while a twin has the controller, after a finished sample: the runner gives the
# controller back, checked, keeps the finished samples and exits 130 (interrupted).
matrix /root/long.ini "$FREE_PCI" "allow_write=$FREE_PCI"
# Longer samples, but within one pass of the 1 GiB free controller (16384 I/Os of 64 KiB):
# fio ends a random job there, and a sample short of its I/Os is invalid.
sed -i 's/^ios = .*/ios = 16000/' /root/long.ini
bench/twinbench run --mode host --matrix /root/long.ini --families nvme >/out/logs/sigterm.log 2>&1 &
pid=$!
taken=none
trun=$(run_of /out/logs/sigterm.log) && until_twin "$pid" "$trun" && taken=$(driver_of "$FREE_PCI")
kept_before=$(samples_in "${trun:-/nonexistent}")
binding "sigterm-during($taken, samples written/valid: $kept_before)"
kill -TERM "$pid"
wait "$pid"
rc=$?
kept_after=$(samples_in "${trun:-/nonexistent}")
binding "after-sigterm(status $rc, samples written/valid: $kept_after)"
grep -E "signal|kept|giving|left bound" /out/logs/sigterm.log >/out/sigterm-stop.txt
check "stop: SIGTERM while $taken had the controller: status $rc, given back to nvme, record gone" \
	eval '[ "$taken" != none ] && [ $rc = 130 ] && [ "$(driver_of "$FREE_PCI")" = nvme ] && [ ! -e "$state" ]'
check "stop: the samples finished before SIGTERM are kept (written/valid before $kept_before, after $kept_after)" \
	eval '[ "${kept_before#* }" -ge 1 ] && [ "${kept_after% *}" -ge "${kept_before% *}" ] &&
		[ "${kept_after#* }" -ge "${kept_before#* }" ] &&
		grep -q "finished samples are kept" /out/logs/sigterm.log'

# kill -9: nothing runs in the runner; the record stays, and the next run restores it.
bench/twinbench run --mode host --matrix /root/long.ini --families nvme >/out/logs/kill9.log 2>&1 &
pid=$!
taken=none
until_twin "$pid" && taken=$(driver_of "$FREE_PCI")
kill -9 "$pid"
wait "$pid" 2>/dev/null
pkill -9 -x fio 2>/dev/null
sleep 2
binding "after-kill-9($taken)"
check "stop: after kill -9 the twin ($taken) keeps the controller and the record (nvme) stays" \
	eval '[ "$taken" != none ] && [ "$(driver_of "$FREE_PCI")" = "$taken" ] && [ "$(cat "$state")" = nvme ]'
matrix /root/next.ini "$FREE_PCI" "allow_write=$FREE_PCI"
sed -i 's/^samples = .*/samples = 1/' /root/next.ini
bench/twinbench run --mode host --matrix /root/next.ini --families nvme >/out/logs/next.log 2>&1
rc=$?
binding after-next-run
check "stop: the next run gives the controller back to nvme first (status $rc), record gone" \
	eval 'grep -q "giving $FREE_PCI back to .nvme." /out/logs/next.log &&
		[ "$(driver_of "$FREE_PCI")" = nvme ] && [ ! -e "$state" ]'

# The net family in host mode: its namespaces and links inside the box.
matrix /root/net.ini "$FREE_PCI" "allow_write=$FREE_PCI"
sed -i 's/^samples = .*/samples = 1/' /root/net.ini
t0=$SECONDS
bench/twinbench run --mode host --matrix /root/net.ini --families net >/out/logs/net.log 2>&1
rc=$?
t net $((SECONDS - t0))
cp -a "$(readlink -f results/latest)" /out/net-run
check "net: a host-mode run of the net family ends with status 0 ($rc, $((SECONDS - t0)) s)" [ "$rc" = 0 ]
awk -F, 'NR > 1 && $9 == 1 { print $2 }' /out/net-run/samples.csv | sort -u >/out/net-arms.txt
check "net: veth, rawnet and safenet each gave valid samples ($(tr '\n' ' ' </out/net-arms.txt))" \
	eval 'for a in veth rawnet safenet; do grep -q -x "$a" /out/net-arms.txt || exit 1; done'
