#!/bin/sh
# overhead.sh: what tracing costs. A guest job (run it with scripts/vm-run.sh, icount clock)
# that alternates untraced and traced fio samples on the null arms at QD32 and prints each
# sample's IOPS and the traced/untraced ratio per arm and tracer setting:
#   events:   twintrace with every event group on the device, no kprobes, every request timed;
#   events/N: the same with --sample N (the runner's trace_sample);
#   full:     events plus kprobes on queue_rq, complete and timer, every call timed;
#   full/N:   the same with --sample N (one request and one call in N timed);
#   duty:     events with --duty ON/PERIOD (block programs attached part of the time);
# and the latency percentiles of events against events/N and duty (p50, p99 from the JSON).
# Usage (host): mkdir D && cp bpf/overhead.sh D/job.sh && scripts/vm-run.sh --share D
# --clock icount (the guest runs it with sh; it needs no bash). Settings, as variables at the
# top of a copy: IOS (I/Os per sample, default 100000), REPS (3), IRQMODES ("0 2"),
# SAMPLE (N, default 16), DUTY (ON/PERIOD ms, default 10/320), ARMS (default "null_blk rawnull
# safenull").
set -u

ios=${IOS:-100000}
reps=${REPS:-3}
irqmodes=${IRQMODES:-0 2}
sample=${SAMPLE:-16}
duty=${DUTY:-10/320}
arms=${ARMS:-null_blk rawnull safenull}

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

# pct NAME: percentile NAME (p50_ns, p99_ns) of the last traced sample's JSON result.
pct() {
	sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p" /tmp/overhead.json | head -n 1
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

for mod in $arms; do
	case $mod in null_blk) dev=/dev/nullb0 ;; *) dev=/dev/${mod}0 ;; esac
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
		base="" full="" events="" events_s="" full_s="" lat="" lat_s="" ev_d="" lat_d=""
		for r in $(seq "$reps"); do
			base="$base $(iops "$dev")"
			events="$events $(iops "$dev" --dev "$dev")"
			lat="$lat $(pct p50_ns)/$(pct p99_ns)"
			events_s="$events_s $(iops "$dev" --dev "$dev" --sample "$sample")"
			lat_s="$lat_s $(pct p50_ns)/$(pct p99_ns)"
			ev_d="$ev_d $(iops "$dev" --dev "$dev" --duty "$duty")"
			lat_d="$lat_d $(pct p50_ns)/$(pct p99_ns)"
			full="$full $(iops "$dev" --dev "$dev" $(funcs_for "$mod"))"
			full_s="$full_s $(iops "$dev" --dev "$dev" --sample "$sample" $(funcs_for "$mod"))"
		done
		rmmod "$mod"
		echo "$mod irqmode=$mode untraced:$base events:$events events/$sample:$events_s" \
			"full:$full full/$sample:$full_s duty:$ev_d" |
		awk -v n_="$sample" '{ for (i = 3; i <= NF; i++) { if ($i ~ /:$/) k = $i; else { s[k] += $i; n[k]++ } }
			b = s["untraced:"] / n["untraced:"]
			printf "%s => mean IOPS untraced %.0f", $0, b
			split("events: events/" n_ ": full: full/" n_ ": duty:", ks, " ")
			for (j = 1; j <= 5; j++) {
				m = s[ks[j]] / n[ks[j]]
				printf " %s %.0f (-%.2f %%)", ks[j], m, 100 * (1 - m / b)
			}
			printf "\n" }'
		echo "$mod irqmode=$mode latency p50/p99 ns, events:$lat events/$sample:$lat_s duty:$lat_d" |
		awk '{ for (i = 6; i <= NF; i++) { if ($i ~ /:$/) k = $i
			else { split($i, v, "/"); p50[k] += v[1]; p99[k] += v[2]; n[k]++ } }
			for (k in n) { m50[k] = p50[k] / n[k]; m99[k] = p99[k] / n[k] }
			printf "%s => mean", $0
			for (k in n) printf " %s p50 %.0f p99 %.0f", k, m50[k], m99[k]
			printf "\n" }'
	done
done
