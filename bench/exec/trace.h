/* SPDX-License-Identifier: GPL-2.0 */
/*
 * trace.h - per-sample tracing: bpf/twintrace attached around a sample's measured I/O, its
 * JSON turned into per-I/O metrics, and the cost of tracing measured in the same run.
 *
 * The matrix key `trace = off|on|both` ([run]) decides which samples are traced. A traced
 * sample runs under the arm name ARM+trace (plan.tsv, samples.csv), so traced and untraced
 * samples are never mixed in a comparison; with `both`, tracing_overhead (untraced over
 * traced mean of the family's primary metric) is added per arm and workload.
 */
#ifndef TWINBENCH_TRACE_H
#define TWINBENCH_TRACE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include "plan.h"

struct family_arm;
struct family_ops;
struct matrix;
struct matrix_trace_rate;
struct run_output;
struct sample_table;

/* A twintrace run being prepared: shell commands that attach it and detach it. */
struct trace_session {
	char dir[64];		/* temporary folder holding the scripts and twintrace's log */
	char json[PATH_MAX];	/* where twintrace writes its JSON (kept beside the sample) */
	char start[160];	/* "sh DIR/start.sh": attaches, returns once twintrace is ready */
	char stop[160];		/* "sh DIR/stop.sh": detaches, returns once the JSON is written */
};

/* Is @arm a traced arm name? Its plain arm name goes to @plain either way. */
bool trace_arm_split(const char *arm, char *plain, size_t len);

/*
 * The driver functions twintrace times for @arm of @ops: its trace_funcs, or for a safe
 * variant (TWIN-noMECH, the same source built without one mechanism) its twin's.
 */
const char *trace_funcs_of(const struct family_ops *ops, const struct family_arm *arm);

/*
 * Write the scripts for tracing @funcs ("ROLE=SYMBOL ...", may be NULL) into a new
 * temporary folder; @dev (NULL for none) filters block latency to one disk, of which
 * @rate says how much is timed: one request in rate->sample, and with a duty cycle only
 * while the block programs are attached (--duty ON/PERIOD). 0, or -1 with a reason.
 */
int trace_prepare(struct trace_session *t, const char *json, const char *funcs,
		  const char *dev, const struct matrix_trace_rate *rate, char *err, size_t len);

/*
 * The driver functions a traced sample times: none in the icount clock, where the
 * insncount plugin counts every driver instruction exactly and kprobes would cost more
 * than the driver itself; otherwise trace_funcs_of().
 */
const char *trace_funcs_for_clock(const struct family_ops *ops, const struct family_arm *arm,
				  const char *clock);
/* Run one of the session's commands outside fio (the net family); 0 or -1 with a reason. */
int trace_run(const struct trace_session *t, const char *cmd, char *err, size_t len);
void trace_cleanup(struct trace_session *t);

/*
 * Add irqs_per_io, hardirq_ns_per_io, softirq_ns_per_io, driver_ns_per_io and (block)
 * bpf_lat_p50/p99/p999 from the session's JSON, per @ios units of work, and the settings
 * trace_sample (1 request in N timed), trace_duty (ON/PERIOD ms, or off) and
 * trace_timed (the fraction of @ios timed). -1 with a reason ("trace-failed: ...") when
 * the JSON is missing or its count of issued block requests disagrees with @ios: equal
 * within 1 % when always attached, at most @ios (and some when attached at all) with a
 * duty cycle, which counts only the requests issued while attached.
 */
int trace_metrics(const struct trace_session *t, double ios, struct run_output *out,
		  char *err, size_t len);

/*
 * With trace = both: a tracing_overhead row per traced sample in @samples (under the
 * plain arm; untraced mean over that sample's value of @m's primary metric). The summary
 * row per arm and workload is summary.c's.
 */
void trace_overhead_rows(const struct matrix *m, struct sample_table *samples);

#endif /* TWINBENCH_TRACE_H */
