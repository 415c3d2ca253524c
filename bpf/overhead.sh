#!/bin/sh
# overhead.sh: what tracing costs. A guest job (run it with scripts/vm-run.sh, icount clock)
# that alternates untraced and traced fio samples on the null arms at QD32 and prints each
# sample's IOPS and the traced/untraced ratio per arm and tracer setting:
#   events: twintrace with every event group on the device, no kprobes;
#   full:   the same plus kprobes on queue_rq, complete and timer.
# Usage (host): mkdir D && cp bpf/overhead.sh D/job.sh && scripts/vm-run.sh --share D
# --clock icount (the guest runs it with sh; it needs no bash). Settings, as variables at the
# top of a copy: IOS (I/Os per sample, default 100000), REPS (3), IRQMODES ("0 2").
set -u

ios=${IOS:-100000}
reps=${REPS:-3}
irqmodes=${IRQMODES:-0 2}

# iops DEV [TRACER-ARGS...]: one fio sample's read IOPS, traced when TRACER-ARGS are given.
iops() {
	local dev=$1 tracer="" i
	shift
	if [ $# -gt 0 ]; then
		twintrace -o /tmp/overhead.json "$@" >/tmp/overhead.out 2>&1 &
		tracer=$!
		for i in $(seq 300); do
			grep -q '^ready$' /tmp/overhead.out && break
			sleep 0.1
		done
		if ! grep -q '^ready$' /tmp/overhead.out; then
			echo "overhead: twintrace $*: did not attach" >&2
			cat /tmp/overhead.out >&2
			exit 1
		fi
	fi
	fio --minimal --name=o --filename="$dev" --ioengine=io_uring --direct=1 --rw=randread \
		--bs=4k --iodepth=32 --number_ios="$ios" --size=1G --norandommap \
		--randrepeat=1 | awk -F';' '{ print $8 }'
	if [ -n "$tracer" ]; then
		kill -INT $tracer
		wait $tracer
	fi
}

funcs_for() {
	case $1 in
	null_blk) echo "--func queue_rq=null_queue_rq --func complete=null_complete_rq" \
		"--func timer=null_cmd_timer_expired" ;;
	rawnull) echo "--func queue_rq=rawnull_queue_rq --func complete=rawnull_complete" \
		"--func timer=rawnull_timer" ;;
	safenull) echo "--func queue_rq=safenull_mq_queue_rq_adapter" \
		"--func complete=safenull_mq_complete_adapter --func timer=safenull_mq_timer_adapter" ;;
	esac
}

for arm in null_blk:nullb0 rawnull:rawnull0 safenull:safenull0; do
	mod=${arm%%:*}
	dev=/dev/${arm#*:}
	modinfo "$mod" >/dev/null 2>&1 || continue
	for mode in $irqmodes; do
		extra=""
		[ "$mod" = null_blk ] && extra=poll_queues=0
		modprobe "$mod" nr_devices=1 irqmode=$mode submit_queues=1 hw_queue_depth=64 gb=1 \
			bs=4096 $extra || { echo "overhead: modprobe $mod failed" >&2; exit 1; }
		q=/sys/block/${dev#/dev/}/queue
		echo none >$q/scheduler
		echo 0 >$q/iostats 2>/dev/null
		echo 0 >$q/add_random 2>/dev/null
		echo 2 >$q/nomerges 2>/dev/null
		iops "$dev" >/dev/null
		base="" full="" events=""
		for r in $(seq "$reps"); do
			base="$base $(iops "$dev")"
			events="$events $(iops "$dev" --dev "$dev")"
			full="$full $(iops "$dev" --dev "$dev" $(funcs_for "$mod"))"
		done
		rmmod "$mod"
		echo "$mod irqmode=$mode untraced:$base events:$events full:$full" |
		awk '{ for (i = 3; i <= NF; i++) { if ($i ~ /:$/) k = $i; else { s[k] += $i; n[k]++ } }
			b = s["untraced:"] / n["untraced:"]; e = s["events:"] / n["events:"]
			f = s["full:"] / n["full:"]
			printf "%s => mean IOPS untraced %.0f events %.0f (-%.2f %%) full %.0f (-%.2f %%)\n",
			$0, b, e, 100 * (1 - e / b), f, 100 * (1 - f / b) }'
	done
done
