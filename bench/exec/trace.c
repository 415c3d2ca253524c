// SPDX-License-Identifier: GPL-2.0
/*
 * trace.c - bpf/twintrace around a sample's measured I/O. The attach and detach steps
 * are two small shell scripts, because fio can only run shell commands at the edges of
 * its measured job (exec_prerun/exec_postrun); the net family runs the same scripts around
 * its measured iperf3 client. The JSON stays beside the sample (samples/NNNN.trace.json)
 * for the report's latency distribution; docs/architecture.md defines the metrics.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "family.h"
#include "kmod.h"
#include "matrix.h"
#include "results.h"
#include "trace.h"
#include "util.h"

/* Seconds twintrace may take to attach, and to detach and write its JSON. */
#define TRACE_WAIT_SECONDS	60
/* A traced block sample whose BPF completion count is further than this from fio's is invalid. */
#define TRACE_COUNT_TOLERANCE	0.01

bool trace_arm_split(const char *arm, char *plain, size_t len)
{
	size_t n = strlen(arm), s = strlen(TRACE_ARM_SUFFIX);
	bool traced = n > s && !strcmp(arm + n - s, TRACE_ARM_SUFFIX);

	snprintf(plain, len, "%.*s", (int)(traced ? n - s : n), arm);
	return traced;
}

static int write_script(const char *path, const char *text, char *err, size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f))
		return seterr(err, len, "%s: %s", path, strerror(errno));
	return 0;
}

const char *trace_funcs_of(const struct family_ops *ops, const struct family_arm *arm)
{
	const struct family_arm *twin;
	char name[64];

	if (arm->trace_funcs || arm->role != ARM_VARIANT)
		return arm->trace_funcs;
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(arm->name, "-"), arm->name);
	twin = family_find_arm(ops, name);
	return twin ? twin->trace_funcs : NULL;
}

const char *trace_funcs_for_clock(const struct family_ops *ops, const struct family_arm *arm,
				  const char *clock)
{
	return strcmp(clock, "icount") ? trace_funcs_of(ops, arm) : NULL;
}

int trace_prepare(struct trace_session *t, const char *json, const char *funcs,
		  const char *dev, const struct matrix_trace_rate *rate, char *err, size_t len)
{
	char path[128], args[1024] = "", script[2048];
	const char *f = funcs;

	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/twinbench-trace-XXXXXX");
	if (!mkdtemp(t->dir))
		return seterr(err, len, "mkdtemp: %s", strerror(errno));
	snprintf(t->json, sizeof(t->json), "%s", json);
	unlink(json);
	if (dev && rate->duty_on_ms)
		snprintf(args, sizeof(args), " --dev %s --sample %u --duty %u/%u", dev,
			 rate->sample, rate->duty_on_ms, rate->duty_period_ms);
	else if (dev)
		snprintf(args, sizeof(args), " --dev %s --sample %u", dev, rate->sample);
	else
		snprintf(args, sizeof(args), " --events hardirq,softirq,timer,hrtimer");
	while (f && *f) {
		size_t n = strcspn(f, " ");

		if (n)
			snprintf(args + strlen(args), sizeof(args) - strlen(args), " --func %.*s",
				 (int)n, f);
		f += n + strspn(f + n, " ");
	}
	snprintf(script, sizeof(script),
		 "twintrace -o %s%s >%s/log 2>&1 &\n"
		 "echo $! >%s/pid\n"
		 "i=0\n"
		 "until grep -q '^ready' %s/log; do\n"
		 "\t[ -d /proc/$(cat %s/pid) ] && ! grep -q ') Z' /proc/$(cat %s/pid)/stat "
		 "2>/dev/null || exit 1\n"
		 "\ti=$((i + 1)); [ $i -lt %d ] || exit 1; sleep 0.1\n"
		 "done\n", json, args, t->dir, t->dir, t->dir, t->dir, t->dir,
		 TRACE_WAIT_SECONDS * 10);
	snprintf(path, sizeof(path), "%s/start.sh", t->dir);
	if (write_script(path, script, err, len))
		goto fail;
	snprintf(t->start, sizeof(t->start), "sh %s", path);
	snprintf(script, sizeof(script),
		 "pid=$(cat %s/pid) || exit 1\n"
		 "kill -INT $pid\n"
		 "i=0\n"
		 "until [ -e %s ]; do\n"
		 "\t[ -d /proc/$pid ] && ! grep -q ') Z' /proc/$pid/stat 2>/dev/null || exit 1\n"
		 "\ti=$((i + 1)); [ $i -lt %d ] || exit 1; sleep 0.05\n"
		 "done\n", t->dir, json, TRACE_WAIT_SECONDS * 20);
	snprintf(path, sizeof(path), "%s/stop.sh", t->dir);
	if (write_script(path, script, err, len))
		goto fail;
	snprintf(t->stop, sizeof(t->stop), "sh %s", path);
	return 0;
fail:
	trace_cleanup(t);
	return -1;
}

/* twintrace's own words when it failed: the first line of its log. */
static void trace_log_line(const struct trace_session *t, char *buf, size_t len)
{
	char path[128];
	char *text;

	snprintf(path, sizeof(path), "%s/log", t->dir);
	text = file_read(path, NULL, NULL, 0);
	snprintf(buf, len, "%s", text && *strtrim(text) ? strtrim(text) : "no output");
	buf[strcspn(buf, "\n")] = '\0';
	free(text);
}

int trace_run(const struct trace_session *t, const char *cmd, char *err, size_t len)
{
	char *argv[] = { "sh", "-c", (char *)cmd, NULL }, why[200];
	struct proc_result pr;
	int status;

	if (proc_run(argv, NULL, &pr, err, len))
		return -1;
	status = pr.status;
	proc_result_free(&pr);
	if (!status)
		return 0;
	trace_log_line(t, why, sizeof(why));
	return seterr(err, len, "twintrace: %s", why);
}

/*
 * A twintrace the stop script never reached (fio killed, a failed run) must not stay
 * attached: SIGTERM makes it detach, and it is given a few seconds to do so.
 */
static bool pid_running(long pid)
{
	char path[64], stat[256], *paren;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (file_read_line(path, stat, sizeof(stat)))
		return false;
	paren = strrchr(stat, ')');
	return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

static void trace_kill_leftover(const struct trace_session *t)
{
	char path[128], line[32];
	long pid;

	snprintf(path, sizeof(path), "%s/pid", t->dir);
	if (file_read_line(path, line, sizeof(line)))
		return;
	pid = strtol(line, NULL, 10);
	if (pid <= 1 || !pid_running(pid) || kill((pid_t)pid, SIGTERM))
		return;
	for (int i = 0; i < 50 && pid_running(pid); i++)
		usleep(100000);
}

void trace_cleanup(struct trace_session *t)
{
	static const char *const files[] = { "start.sh", "stop.sh", "log", "pid" };
	char path[128];

	if (!t->dir[0])
		return;
	trace_kill_leftover(t);
	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", t->dir, files[i]);
		unlink(path);
	}
	rmdir(t->dir);
	t->dir[0] = '\0';
}

/* @section.@field as a number; false when the section is null (not traced) or lacks it. */
static bool json_num(json_t *root, const char *section, const char *field, double *out)
{
	json_t *v = json_object_get(json_object_get(root, section), field);

	if (!json_is_number(v))
		return false;
	*out = json_number_value(v);
	return true;
}

/*
 * Whether twintrace's count of issued requests @issued fits fio's @ios: within 1 % when the
 * block programs stayed attached; with a duty cycle (block.duty) no more than @ios, and
 * some when they were attached at all. 0, or -1 with the reason in @why.
 */
static int block_count_check(json_t *root, double issued, double ios, char *why, size_t len)
{
	json_t *duty = json_object_get(json_object_get(root, "block"), "duty");
	double attached = json_number_value(json_object_get(duty, "attached_ns"));

	if (!json_is_object(duty) && fabs(issued - ios) > TRACE_COUNT_TOLERANCE * ios)
		return seterr(why, len, "twintrace saw %.0f requests, fio did %.0f I/Os",
			      issued, ios);
	if (json_is_object(duty) && issued > (1 + TRACE_COUNT_TOLERANCE) * ios)
		return seterr(why, len, "twintrace saw %.0f requests in its duty cycle, fio did "
			      "only %.0f I/Os", issued, ios);
	if (json_is_object(duty) && attached > 0 && issued < 1)
		return seterr(why, len, "twintrace saw no request in %.0f ms attached",
			      attached / 1e6);
	return 0;
}

/* The sample's settings trace_sample, trace_duty and trace_timed (timed requests / @ios). */
static void block_rate_settings(json_t *root, double ios, struct run_output *out)
{
	json_t *block = json_object_get(root, "block"), *duty = json_object_get(block, "duty");
	char text[48];
	double v;

	if (json_num(root, "block", "sample_every", &v)) {
		snprintf(text, sizeof(text), "%.0f", v);
		run_output_setting(out, "trace_sample", text);
	}
	if (json_is_object(duty))
		snprintf(text, sizeof(text), "%lld/%lld",
			 (long long)json_integer_value(json_object_get(duty, "on_ms")),
			 (long long)json_integer_value(json_object_get(duty, "period_ms")));
	else
		snprintf(text, sizeof(text), "off");
	run_output_setting(out, "trace_duty", text);
	if (json_num(root, "block", "count", &v)) {
		snprintf(text, sizeof(text), "%.4g", v / ios);
		run_output_setting(out, "trace_timed", text);
	}
}

int trace_metrics(const struct trace_session *t, double ios, struct run_output *out,
		  char *err, size_t len)
{
	double hard_n, hard_ns, timer_n, timer_ns, soft_ns, count, v, driver_ns = 0;
	json_t *root, *funcs, *f;
	json_error_t jerr;
	char why[200];
	size_t i;

	root = json_load_file(t->json, 0, &jerr);
	if (!root) {
		trace_log_line(t, why, sizeof(why));
		return seterr(err, len, "trace-failed: no JSON from twintrace (%s)", why);
	}
	if (ios <= 0) {
		json_decref(root);
		return seterr(err, len, "trace-failed: no I/O count");
	}
	if (json_num(root, "hardirqs", "count", &hard_n) &&
	    json_num(root, "hardirqs", "ns", &hard_ns)) {
		if (!json_num(root, "timer_interrupts", "count", &timer_n) ||
		    !json_num(root, "timer_interrupts", "ns", &timer_ns))
			timer_n = timer_ns = 0;
		run_output_metric(out, "irqs_per_io", (hard_n + timer_n) / ios);
		run_output_metric(out, "hardirq_ns_per_io", (hard_ns + timer_ns) / ios);
	}
	if (json_num(root, "softirqs", "ns", &soft_ns))
		run_output_metric(out, "softirq_ns_per_io", soft_ns / ios);
	funcs = json_object_get(root, "functions");
	if (json_array_size(funcs)) {
		/* duty-cycled, the probes ran while the block programs did: per issued request */
		double per = json_is_object(json_object_get(json_object_get(root, "block"), "duty")) &&
			     json_num(root, "block", "issued", &v) && v > 0 ? v : ios;

		json_array_foreach(funcs, i, f)
			driver_ns += json_number_value(json_object_get(f, "ns"));
		run_output_metric(out, "driver_ns_per_io", driver_ns / per);
	}
	if (json_num(root, "block", "issued", &count) ||
	    json_num(root, "block", "count", &count)) {
		if (block_count_check(root, count, ios, why, sizeof(why))) {
			json_decref(root);
			return seterr(err, len, "trace-failed: %s", why);
		}
		block_rate_settings(root, ios, out);
		if (json_num(root, "block", "p50_ns", &v))
			run_output_metric(out, "bpf_lat_p50", v);
		if (json_num(root, "block", "p99_ns", &v))
			run_output_metric(out, "bpf_lat_p99", v);
		if (json_num(root, "block", "p999_ns", &v))
			run_output_metric(out, "bpf_lat_p999", v);
	}
	json_decref(root);
	return 0;
}

/* Mean of the valid @metric values of (family, arm, workload); NAN when there are none. */
static double series_mean(const struct sample_table *s, const char *family, const char *arm,
			  const char *workload, const char *metric)
{
	double sum = 0;
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++) {
		const struct sample_row *r = &s->rows[i];

		if (r->valid && !strcmp(r->family, family) && !strcmp(r->arm, arm) &&
		    !strcmp(r->workload, workload) && !strcmp(r->metric, metric)) {
			sum += r->value;
			n++;
		}
	}
	return n ? sum / n : NAN;
}

void trace_overhead_rows(const struct matrix *m, struct sample_table *samples)
{
	size_t n = samples->n;
	char plain[RESULTS_NAME_LEN];

	if (m->trace != MATRIX_TRACE_BOTH)
		return;
	for (size_t i = 0; i < n; i++) {
		struct sample_row r = samples->rows[i];
		const struct matrix_family *fam = matrix_family_by_name(m, r.family);
		double untraced;

		if (!fam || !r.valid || r.value <= 0 ||
		    strcmp(r.metric, fam->ops->primary_metric) ||
		    !trace_arm_split(r.arm, plain, sizeof(plain)))
			continue;
		untraced = series_mean(samples, r.family, plain, r.workload, r.metric);
		if (isnan(untraced))
			continue;
		snprintf(r.arm, sizeof(r.arm), "%s", plain);
		snprintf(r.metric, sizeof(r.metric), "tracing_overhead");
		snprintf(r.unit, sizeof(r.unit), "ratio");
		/* pps and iops are both higher-is-better: untraced over traced is the cost. */
		r.value = untraced / r.value;
		sample_table_add(samples, &r);
	}
}
