#!/bin/bash
# bpf.sh: twintrace on the host kernel, once with tp_btf and once with the raw_tp fallback.
# Checks: bad options are refused before anything loads; the tracer attaches and says
# "ready"; N direct reads of a loop device give N block completions (tolerance: 1 % either
# way: probes udev may still send, and a rare lost in-flight entry) and a latency histogram holding exactly the counted
# requests; IRQ, softirq and local timer interrupt counts lie between the kernel's own
# /proc/interrupts and /proc/softirqs counts over a window inside the tracer's and one
# around it (tolerance 2 % + 5), and so do the counts of the handlers of the disk under the
# temporary folder, which 64 direct writes must make fire; 400 short sleeps show up as at
# least 360 more hrtimer_wakeup expirations than a window as long without them (other tasks'
# sleeps end in hrtimer_wakeup too, and the host is shared: the idle window is the
# baseline, and a busy host's other sleepers can swamp one pair of windows, so up to three
# pairs are tried and each is printed); loopback network traffic shows up as NET_RX.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
# Checks: refusals 3; per attach mode 13; histogram 1; --func 1.
plan $((3 + 2 * 12 + 1 + 1))
. "$(dirname "$0")/../lib/need.sh"
need jq iperf3 || exit 1

top=$(cd "$(dirname "$0")/../.." && pwd)
tool=$top/bpf/twintrace
reads=2000
work=$(mktemp -d)
loop=""
tracer=""
server=""

cleanup() {
	[ -n "$tracer" ] && kill "$tracer" 2>/dev/null
	[ -n "$server" ] && kill "$server" 2>/dev/null
	[ -n "$loop" ] && losetup -d "$loop"
	rm -rf "$work"
}
trap cleanup EXIT


. "$top/tests/lib/guest.sh"	# holds

# between N INNER OUTER: the traced count N lies between the kernel's count over a window
# inside the tracer's (ready .. stop) and one around it (start .. exit), give or take 2 % + 5.
between() {
	local n=$1 lo=$2 hi=$3
	[ "$n" -ge $((lo - lo / 50 - 5)) ] && [ "$n" -le $((hi + hi / 50 + 5)) ]
}

# counters: hard IRQs, LOC, NET_RX and TIMER softirqs, and the disk's IRQs, as the kernel
# counts them.
counters() {
	echo "$(irq_total) $(loc_total) $(softirq_total NET_RX) $(softirq_total TIMER) $(irq_total "$disk_irqs")"
}
# irq_total [IRQS]: interrupts of the numbered IRQs (all of them when IRQS is empty).
irq_total() {
	awk -v want=" ${1:-} " '$1 ~ /^[0-9]+:$/ && (want == "  " || index(want, " " substr($1, 1, length($1) - 1) " ")) {
		for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i } END { print s + 0 }' /proc/interrupts
}
# disk_irqs_of DIR: the IRQ numbers of the PCI device behind the disk holding DIR.
disk_irqs_of() {
	local src blk d
	src=$(findmnt -n -o SOURCE --target "$1" 2>/dev/null) || return
	blk=$(basename "$(readlink -f "/sys/class/block/${src#/dev/}")")
	[ -e "/sys/class/block/$blk/partition" ] && blk=$(basename "$(dirname "$(readlink -f "/sys/class/block/$blk")")")
	d=$(readlink -f "/sys/class/block/$blk/device" 2>/dev/null) || return
	while [ "$d" != / ] && [ ! -d "$d/msi_irqs" ] && [ ! -e "$d/irq" ]; do d=$(dirname "$d"); done
	if [ -d "$d/msi_irqs" ]; then ls "$d/msi_irqs" | tr '\n' ' '
	elif [ -e "$d/irq" ]; then cat "$d/irq"; fi
}
# irq_names IRQS: the handler names /proc/interrupts gives those IRQs, as a JSON array.
irq_names() {
	awk -v want=" $1 " '$1 ~ /^[0-9]+:$/ && index(want, " " substr($1, 1, length($1) - 1) " ") { print $NF }' \
		/proc/interrupts | jq -R . | jq -s -c .
}
# hrtimer_wakeups JSON ARGS... -- COMMAND...: hrtimer_wakeup expirations a tracer with
# ARGS counted while COMMAND ran; COMMAND's run time (ms) goes to $work/cmd.ms.
hrtimer_wakeups() {
	local json=$1
	shift
	local args=()
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	start_tracer "$json" -e hrtimer "${args[@]}" || return 1
	local t0
	t0=$(date +%s%N)
	"$@"
	echo $((($(date +%s%N) - t0) / 1000000)) >"$work/cmd.ms"
	stop_tracer || return 1
	jq '[.hrtimers.functions[] | select(.function == "hrtimer_wakeup") | .count] | add // 0' "$json"
}
loc_total() { awk '$1 == "LOC:" { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i } END { print s + 0 }' /proc/interrupts; }
softirq_total() { awk -v v="$1:" '$1 == v { for (i = 2; i <= NF; i++) s += $i } END { print s + 0 }' /proc/softirqs; }

# start_tracer JSON ARGS...: runs twintrace in the background until it says "ready".
start_tracer() {
	local json=$1 i
	shift
	"$tool" -o "$json" "$@" >"$work/tracer.out" 2>"$work/tracer.err" &
	tracer=$!
	for i in $(seq 100); do
		grep -q '^ready$' "$work/tracer.out" && return 0
		kill -0 "$tracer" 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^/# /' "$work/tracer.err"
	return 1
}

stop_tracer() {
	kill -INT "$tracer"
	wait "$tracer"
	local rc=$?
	tracer=""
	return $rc
}

if [ ! -x "$tool" ]; then
	make -C "$top/bpf" >/dev/null || { not_ok "bpf/twintrace builds"; exit 1; }
fi

"$tool" -o "$work/x.json" --dev nosuchdev >/dev/null 2>"$work/err"
check "a bad --dev is refused with a one-line error naming the option" \
	test $? -ne 0 -a "$(wc -l <"$work/err")" = 1 -a -n "$(grep -- '--dev' "$work/err")"
"$tool" -o "$work/x.json" --func queue_rq=no_such_function_twin >/dev/null 2>"$work/err"
check "an unknown --func symbol is refused with a one-line error" \
	test $? -ne 0 -a "$(wc -l <"$work/err")" = 1 -a -n "$(grep -- '--func' "$work/err")"
"$tool" -o "$work/x.json" --events block,bogus >/dev/null 2>"$work/err"
check "an unknown --events group is refused" test $? -ne 0 -a -n "$(grep bogus "$work/err")"

truncate -s 64M "$work/disk.img"
loop=$(losetup -f --show "$work/disk.img") || { not_ok "losetup makes a loop device"; exit 1; }
command -v udevadm >/dev/null && udevadm settle 2>/dev/null
ondisk=0
[ "$(stat -f -c %T "$work")" != tmpfs ] && ondisk=1
disk_irqs=$(disk_irqs_of "$work")
[ -n "$disk_irqs" ] || ondisk=0
disk_names=$(irq_names "$disk_irqs")
echo "# disk IRQs under $work: ${disk_irqs:-none} $disk_names"

for mode in tp_btf raw_tp; do
	json=$work/$mode.json
	extra=()
	[ $mode = raw_tp ] && extra=(--raw-tp)
	read -r o_irq0 o_loc0 o_rx0 o_tim0 o_disk0 <<<"$(counters)"
	if ! start_tracer "$json" --dev "$loop" "${extra[@]}"; then
		not_ok "$mode: twintrace attaches and prints ready"
		continue
	fi
	ok "$mode: twintrace attaches and prints ready"
	read -r irq0 loc0 rx0 tim0 disk0 <<<"$(counters)"

	dd if="$loop" of=/dev/null bs=4096 count=$reads iflag=direct status=none
	[ "$ondisk" = 1 ] && dd if=/dev/zero of="$work/burst" bs=64k count=64 oflag=direct status=none
	iperf3 -s -1 -B 127.0.0.1 -p 5399 >/dev/null 2>&1 &
	server=$!
	sleep 0.3
	iperf3 -c 127.0.0.1 -p 5399 -t 1 >/dev/null 2>&1 || not_ok "$mode: iperf3 loopback run"
	wait "$server"
	server=""

	read -r irq1 loc1 rx1 tim1 disk1 <<<"$(counters)"
	stop_tracer
	rc=$?
	read -r o_irq1 o_loc1 o_rx1 o_tim1 o_disk1 <<<"$(counters)"
	if [ $rc != 0 ]; then
		not_ok "$mode: twintrace exits 0 on SIGINT"
		continue
	fi
	check "$mode: the JSON names the attach mode" \
		test "$(jq -r .attach "$json")" = $mode -a "$(jq -r .device "$json")" != null
	count=$(jq .block.count "$json")
	# Within 1 % either way: udev may add probes, and the tag-indexed in-flight table has
	# been seen to lose one request in 2000 (1999 counted); a broken attach counts nothing.
	check "$mode: $reads direct reads give $((reads - reads / 100))..$((reads + reads / 100)) completions ($count)" \
		test "$count" -ge $((reads - reads / 100)) -a "$count" -le $((reads + reads / 100))
	check "$mode: the histogram holds every counted request" \
		test "$(jq '[.block.histogram.buckets[][2]] | add' "$json")" = "$count"
	check "$mode: p50 <= p99 <= p99.9 <= max, mean within [min bucket, max]" \
		holds '.block | .p50_ns > 0 and .p50_ns <= .p99_ns and .p99_ns <= .p999_ns and
			.p999_ns <= .max_ns and .mean_ns <= .max_ns and
			.mean_ns >= .histogram.buckets[0][0]' "$json"
	got=$(jq .hardirqs.count "$json")
	check "$mode: hard IRQs ($got) match /proc/interrupts ($((irq1 - irq0))..$((o_irq1 - o_irq0)))" \
		between "$got" $((irq1 - irq0)) $((o_irq1 - o_irq0))
	got=$(jq --argjson n "$disk_names" '[.hardirqs.handlers[] | select(.name as $h | $n | index($h)) | .count] | add // 0' "$json")
	if [ "$ondisk" = 1 ]; then
		# one request at a time, so each write's completion interrupts (the folder's own
		# file system adds a few more)
		check "$mode: 64 direct writes fire the disk's handlers $disk_names ($got >= 64)" \
			test "$got" -ge 64
		check "$mode: the disk's handlers ($got) match its /proc/interrupts rows ($((disk1 - disk0))..$((o_disk1 - o_disk0)))" \
			between "$got" $((disk1 - disk0)) $((o_disk1 - o_disk0))
	else
		skip "$mode: 64 direct writes fire the disk's handlers" "$work is not on a disk with its own IRQ"
		skip "$mode: the disk's handlers match /proc/interrupts" "$work is not on a disk with its own IRQ"
	fi
	got=$(jq .timer_interrupts.count "$json")
	check "$mode: local timer interrupts ($got) match LOC ($((loc1 - loc0))..$((o_loc1 - o_loc0)))" \
		between "$got" $((loc1 - loc0)) $((o_loc1 - o_loc0))
	got=$(jq '.softirqs.vectors[] | select(.name == "NET_RX") | .count' "$json")
	check "$mode: loopback traffic shows as NET_RX ($got, /proc/softirqs $((rx1 - rx0))..$((o_rx1 - o_rx0)))" \
		eval 'test "$got" -ge 100 && between "$got" $((rx1 - rx0)) $((o_rx1 - o_rx0))'
	got=$(jq '.softirqs.vectors[] | select(.name == "TIMER") | .count' "$json")
	check "$mode: TIMER softirqs ($got) match /proc/softirqs ($((tim1 - tim0))..$((o_tim1 - o_tim0)))" \
		between "$got" $((tim1 - tim0)) $((o_tim1 - o_tim0))
	tries=""
	for try in 1 2 3; do
		sleeps=$(hrtimer_wakeups "$work/sleeps.json" "${extra[@]}" -- \
			perl -e 'select(undef, undef, undef, 0.001) for 1 .. 400')
		idle=$(hrtimer_wakeups "$work/idle.json" "${extra[@]}" -- \
			perl -e "select(undef, undef, undef, $(cat "$work/cmd.ms") / 1000)")
		tries="$tries ${sleeps:-none}/${idle:-none}"
		[ "${sleeps:-0}" -ge $((${idle:-999999} + 360)) ] && break
	done
	check "$mode: 400 sleeps of 1 ms add >= 360 hrtimer_wakeup expirations to an idle window's (sleeps/idle:$tries)" \
		test "${sleeps:-0}" -ge $((${idle:-999999} + 360))
done

"$tool" --histogram --duration 1 --dev "$loop" -e block >"$work/hist.out" 2>&1
check "--histogram --duration prints a text report and exits" grep -q '^count ' "$work/hist.out"

if [ -e /sys/bus/event_source/devices/kprobe ] || [ -e /sys/kernel/tracing/kprobe_events ]; then
	json=$work/func.json
	if start_tracer "$json" --dev "$loop" -e block --func queue_rq=loop_queue_rq; then
		dd if="$loop" of=/dev/null bs=4096 count=500 iflag=direct status=none
		stop_tracer
		check "--func: loop_queue_rq is called once per read (500)" \
			holds '.functions[0] | .calls >= 500 and .calls <= 505 and
				.returns == .calls and .ns > 0' "$json"
	else
		not_ok "--func: twintrace attaches a kprobe"
	fi
else
	ok "--func: this kernel has no kprobes; covered by tests/vm/trace.sh # SKIP"
fi

finish
