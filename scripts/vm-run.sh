#!/bin/bash
# vm-run.sh: boot the Debian kernel under QEMU with the twinbench initramfs and run one job.
# The host folder given with --share is the guest's /out; the guest runs `sh /out/job.sh`
# there. The console log lands in SHARE/console.log, the guest's kernel log in SHARE/dmesg.txt.
# Exit status: the job's own; 123 when the share's filesystem is full (ENOSPC); 124 on
# timeout; 125 when the guest died without a status; 126 when the kernel log shows a
# warning, BUG, oops, lockup or hung task (printed loudly).
# The guest dies with the caller: vm-run.sh stops QEMU on SIGTERM (a caller sets it as its
# parent-death signal), and timeout(1) and QEMU each get one from their own parent.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
usage() {
	cat >&2 <<USAGE
usage: $0 --share DIR [--clock icount|wall] [--smp N] [--mem MB] [--timeout SECONDS]
          [--kver KVER] [--kernel-image FILE] [--initrd FILE] [--accel auto|kvm|tcg]
          [--nvme file=PATH|null[=SIZE][,latency-ns=N][,bps=N][,addr=SLOT.FN][,namespaces=N][,trace-shutdown]]...
          [--append KERNEL-ARGS] [--qemu-arg ARG]... [--plugin ARGS] [--quiet]
USAGE
	exit 2
}

share="" clock=icount smp="" mem=2048 tmo=1800 kver="" initrd="" accel=auto quiet=0
kernel="" append="" nvme=() qemu_extra=() plugin=
while [ $# -gt 0 ]; do
	case "$1" in
	--share) share=${2:?}; shift ;;
	--clock) clock=${2:?}; shift ;;
	--smp) smp=${2:?}; shift ;;
	--mem) mem=${2:?}; shift ;;
	--timeout) tmo=${2:?}; shift ;;
	--kver) kver=${2:?}; shift ;;
	--kernel-image) kernel=${2:?}; shift ;;
	--initrd) initrd=${2:?}; shift ;;
	--accel) accel=${2:?}; shift ;;
	--nvme) nvme+=("${2:?}"); shift ;;
	--append) append=${2:?}; shift ;;
	--qemu-arg) qemu_extra+=("${2:?}"); shift ;;
	--plugin) plugin=${2?}; plugin=${plugin:-none}; shift ;;
	--quiet) quiet=1 ;;
	*) echo "vm-run: unknown option '$1'" >&2; usage ;;
	esac
	shift
done
[ -n "$share" ] || { echo "vm-run: --share DIR is required" >&2; usage; }
[ -d "$share" ] || { echo "vm-run: --share $share: no such folder" >&2; exit 2; }
[ -r "$share/job.sh" ] || { echo "vm-run: $share/job.sh is missing" >&2; exit 2; }
case "$clock" in icount|wall) ;; *) echo "vm-run: --clock $clock: expected icount or wall" >&2; exit 2 ;; esac
case "$accel" in auto|kvm|tcg) ;; *) echo "vm-run: --accel $accel: expected auto, kvm or tcg" >&2; exit 2 ;; esac
[[ "$mem" =~ ^[0-9]+$ ]] || { echo "vm-run: --mem $mem: expected megabytes" >&2; exit 2; }
[[ "$tmo" =~ ^[0-9]+$ ]] || { echo "vm-run: --timeout $tmo: expected seconds" >&2; exit 2; }

share=$(cd "$share" && pwd)
# Without --kver/--kernel-image/--initrd: the default cached kernel (scripts/kernels.sh).
if [ -z "$kver" ] || [ -z "$kernel" ] || [ -z "$initrd" ]; then
	line=$("$top/scripts/kernels.sh" default)
	facts=$("$top/scripts/kernels.sh" env "$line") || exit 2
	[ -n "$kver" ] || kver=$(sed -n 's/^release=//p' "$facts")
	[ -n "$kernel" ] || kernel=$(sed -n 's/^image=//p' "$facts")
	if [ -z "$initrd" ]; then
		initrd=$top/build/initramfs-$kver.img
		"$top/scripts/mkinitramfs.sh" -o "$initrd" -k "$kver" \
			-r "$(sed -n 's/^modroot=//p' "$facts")" -M "$top/build/kernels/$line/ko" >/dev/null
	fi
fi
# The kernel arguments its line asks for on every boot (kernel.env boot_args: 7-debug's no5lvl).
if line=$("$top/scripts/kernels.sh" line-of "$kver"); then
	append="$(sed -n 's/^boot_args=//p' "$("$top/scripts/kernels.sh" env "$line")") $append"
fi
[ -r "$kernel" ] || { echo "vm-run: no kernel image $kernel" >&2; exit 2; }
[ -r "$initrd" ] || { echo "vm-run: --initrd $initrd: no such file" >&2; exit 2; }

# KVM cannot count instructions, so the icount clock always runs under TCG. In the wall clock,
# "auto" uses KVM only if a probe guest boots under it (a paravirtual /dev/kvm may hang).
kvm_works() {
	[ -w /dev/kvm ] || return 1
	timeout 15 qemu-system-x86_64 -accel kvm -cpu host -m 128 -display none -serial none \
		-monitor none -no-reboot -kernel "$kernel" -append "panic=-1" </dev/null \
		>/dev/null 2>&1
}
if [ "$clock" = icount ]; then
	[ "$accel" = kvm ] && { echo "vm-run: the icount clock needs TCG; --accel kvm refused" >&2; exit 2; }
	accel=tcg
	[ -n "$smp" ] || smp=1
	if [ "$smp" != 1 ]; then
		echo "vm-run: the icount clock is deterministic only with one vCPU; --smp $smp refused" >&2
		exit 2
	fi
elif [ "$accel" = auto ]; then
	if kvm_works; then accel=kvm; else accel=tcg; fi
fi
[ -n "$smp" ] || smp=2

args=(-machine q35 -m "$mem" -smp "$smp" -display none -monitor none -no-reboot
	-serial "file:$share/console.log"
	-kernel "$kernel" -initrd "$initrd"
	-virtfs "local,path=$share,mount_tag=out,security_model=none,id=out")
if [ "$accel" = kvm ]; then
	args+=(-accel kvm -cpu host)
else
	args+=(-accel tcg -cpu max)
fi
[ "$clock" = icount ] && args+=(-icount shift=1,sleep=off -rtc clock=vm)
# --nvme options after the backend, for the fault tests: latency-ns (null backend: every
# I/O takes that long, so a twin's io_timeout fires), bps (QEMU throttles the drive to that
# many bytes per second: large I/O outlives io_timeout, small I/O does not), addr=SLOT.FN (functions of one slot
# share an INTx line; function 0 is made multifunction), namespaces=N (null backend: N
# namespaces of SIZE each, for the guard's namespace count), trace-shutdown (QEMU logs each
# CC.SHN the controllers see to SHARE/nvme-trace.log).
i=0
for spec in "${nvme[@]}"; do
	IFS=, read -r -a opts <<<"$spec"
	drive_extra="" dev_extra="" nsn=1 ns_args=()
	for o in "${opts[@]:1}"; do
		case "$o" in
		latency-ns=*)
			[[ "${o#*=}" =~ ^[0-9]+$ && "${opts[0]}" == null* ]] ||
				{ echo "vm-run: --nvme $spec: latency-ns=NANOSECONDS needs the null backend" >&2; exit 2; }
			drive_extra+=",$o"
			;;
		bps=*)
			[[ "${o#*=}" =~ ^[0-9]+$ ]] ||
				{ echo "vm-run: --nvme $spec: bps=BYTES-PER-SECOND expected" >&2; exit 2; }
			drive_extra+=",throttling.bps-total=${o#*=}"
			;;
		addr=*)
			[[ "${o#addr=}" =~ ^[0-9a-f]{1,2}\.[0-7]$ ]] ||
				{ echo "vm-run: --nvme $spec: addr=SLOT.FN expected (hex slot, function 0-7)" >&2; exit 2; }
			dev_extra+=",$o"
			[[ "$o" == *.0 ]] && dev_extra+=",multifunction=on"
			;;
		namespaces=*)
			nsn=${o#*=}
			[[ "$nsn" =~ ^[1-9][0-9]{0,2}$ && "${opts[0]}" == null* ]] ||
				{ echo "vm-run: --nvme $spec: namespaces=N (1-999) needs the null backend" >&2; exit 2; }
			;;
		trace-shutdown)
			args+=(-trace "pci_nvme_mmio_shutdown_set,file=$share/nvme-trace.log")
			;;
		*) echo "vm-run: --nvme $spec: unknown option '$o' (latency-ns=, bps=, addr=, namespaces=, trace-shutdown)" >&2; exit 2 ;;
		esac
	done
	case "${opts[0]}" in
	file=*)
		f=${opts[0]#file=}
		[ -e "$f" ] || { echo "vm-run: --nvme $spec: no such file" >&2; exit 2; }
		args+=(-drive "file=$f,if=none,id=nvm$i,format=raw")
		;;
	null|null=*)
		size=${opts[0]#null}; size=${size#=}; size=${size:-4G}
		for n in $(seq 2 "$nsn"); do
			ns_args+=(-drive "driver=null-co,read-zeroes=on,size=$size,if=none,id=nvm${i}n$n$drive_extra"
				-device "nvme-ns,drive=nvm${i}n$n,bus=nvme$i,nsid=$n")
		done
		args+=(-drive "driver=null-co,read-zeroes=on,size=$size,if=none,id=nvm$i$drive_extra")
		;;
	*) echo "vm-run: --nvme $spec: expected file=PATH or null[=SIZE]" >&2; exit 2 ;;
	esac
	args+=(-device "nvme,serial=twinbench$i,id=nvme$i,drive=nvm$i$dev_extra" "${ns_args[@]}")
	i=$((i + 1))
done
# The insncount plugin (plugin/): each boot's window counts go to their own
# SHARE/insncount-<time>.txt, so a resumed run keeps the counts of earlier boots.
if [ -n "$plugin" ]; then
	so=$top/plugin/insncount.so
	[ -r "$so" ] || { echo "vm-run: --plugin: $so is not built (make -C plugin)" >&2; exit 2; }
	[ "$plugin" = none ] && plugin="" || plugin=",$plugin"
	args+=(-plugin "$so$plugin" -d plugin -D "$share/insncount-$(date +%Y%m%dT%H%M%S.%N).txt")
fi
args+=("${qemu_extra[@]}")
# no_timer_check: a TCG guest on a loaded host can fail the IO-APIC timer check and panic.
args+=(-append "console=ttyS0 loglevel=5 panic=-1 oops=panic nokaslr no_timer_check $append")

# What marks a guest log as broken: the one pattern of tests/lib/guest.sh (kernel_problems).
. "$top/tests/lib/guest.sh"
rm -f "$share/.guest-rc" "$share/console.log" "$share/dmesg.txt"
[ "$quiet" = 1 ] || echo "vm-run: kernel $kver, $accel, clock $clock, $smp vCPU, ${mem} MiB, timeout ${tmo}s" >&2

tail_pid=""
if [ "$quiet" = 0 ]; then
	: >"$share/console.log"
	tail -n +1 -F "$share/console.log" 2>/dev/null &
	tail_pid=$!
fi
# timeout(1) runs QEMU in a process group of its own, out of reach of signals sent to ours:
# pass them on, so an interrupted caller never leaves a guest running.
set +e
setpriv --pdeathsig TERM timeout --kill-after=10 "$tmo" \
	setpriv --pdeathsig KILL qemu-system-x86_64 "${args[@]}" </dev/null &
qemu_pid=$!
stop_guest() {
	kill -TERM "$qemu_pid" 2>/dev/null
	wait "$qemu_pid" 2>/dev/null
	[ -n "$tail_pid" ] && kill "$tail_pid" 2>/dev/null
	echo "vm-run: interrupted; the guest was stopped" >&2
	exit "$1"
}
trap 'stop_guest 130' INT
trap 'stop_guest 143' TERM
trap 'stop_guest 129' HUP
wait "$qemu_pid"
qemu_rc=$?
trap - INT TERM HUP
set -e
[ -n "$tail_pid" ] && { sleep 0.2; kill "$tail_pid" 2>/dev/null; wait "$tail_pid" 2>/dev/null || true; }

# A full share loses what the guest writes (samples, its exit status, the console log):
# say so before anything that follows from it.
if ! head -c 65536 /dev/zero 2>/dev/null >"$share/.space-probe"; then
	rm -f "$share/.space-probe"
	echo "vm-run: No space left on device: $share is full (a 64 KiB test write failed)" >&2
	exit 123
fi
rm -f "$share/.space-probe"
problems=$(kernel_problems "$share/console.log" "$share/dmesg.txt" | sort -u | head -n 20 || true)
if [ -n "$problems" ]; then
	echo "vm-run: KERNEL PROBLEM in the guest log ($share/console.log):" >&2
	printf '  %s\n' "$problems" >&2
	exit 126
fi
if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
	echo "vm-run: timeout after ${tmo}s; console log: $share/console.log" >&2
	exit 124
fi
if [ ! -s "$share/.guest-rc" ]; then
	echo "vm-run: the guest stopped without an exit status (qemu exit $qemu_rc); console log: $share/console.log" >&2
	exit 125
fi
exit "$(cat "$share/.guest-rc")"
