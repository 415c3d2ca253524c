// SPDX-License-Identifier: GPL-2.0
/*
 * exec.c - twinbench exec: works through a plan where modules can be loaded
 * (the guest in VM mode, the machine itself in host mode). Per sample: load
 * the arm, set and record the queue settings, warm up, measure, count CPU
 * time and interrupts, unload, look for new kernel warnings, and write the
 * sample atomically so an interrupted run can be resumed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "exec.h"
#include "family.h"
#include "insn.h"
#include "kmod.h"
#include "trace.h"
#include "util.h"

void sample_path(char *buf, size_t size, const char *outdir, const char *sub,
		 unsigned int index)
{
	path_printf(buf, size, "%s/%s/%04u.csv", outdir, sub, index);
}

/* New kernel log records since open, scanned for warnings, BUGs, oopses and lockups. */
struct kmsg_watch {
	int fd;
};

static const char *const kernel_problems[] = {
	"WARNING:", "BUG:", "Oops", "general protection fault", "Kernel panic",
	"soft lockup", "hard LOCKUP", "rcu_sched detected stall", "rcu: INFO:",
	"blocked for more than", "UBSAN:", "KASAN:", "refcount_t:", "list_add corruption",
	"list_del corruption",
};

/*
 * What a driver logs when a request timed out (stock nvme: "I/O tag N (...) ... timeout,
 * aborting|reset controller"; the NVMe twins: "tag N timed out, ..."): the sample then
 * waited out a timeout instead of measuring the I/O path, so it is invalid too.
 */
static const char *const io_timeouts[] = { ") QID ", " timed out, completion reaped",
					   " timed out, resetting controller" };

static void kmsg_start(struct kmsg_watch *k)
{
	static bool warned;

	k->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (k->fd < 0) {
		if (!warned)
			fprintf(stderr, "twinbench exec: WARNING: cannot read /dev/kmsg (%s): "
				"kernel warnings will not mark samples invalid\n",
				strerror(errno));
		warned = true;
		return;
	}
	lseek(k->fd, 0, SEEK_END);
}

static bool kmsg_io_timeout(const char *msg)
{
	for (size_t i = 0; i < ARRAY_LEN(io_timeouts); i++)
		if (strstr(msg, io_timeouts[i]) && strstr(msg, "tag ") && strstr(msg, "time"))
			return true;
	return false;
}

/*
 * First problem line logged since kmsg_start into @line, its kind ("kernel-warning",
 * "io-timeout") in *@kind; false when the log is clean.
 */
static bool kmsg_problem(struct kmsg_watch *k, char *line, size_t size, const char **kind)
{
	char rec[8192];
	bool found = false;
	ssize_t n;

	if (k->fd < 0)
		return false;
	for (;;) {
		char *msg;

		n = read(k->fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = '\0';
		for (size_t i = 0; !found && i < ARRAY_LEN(kernel_problems);
		     i++) {
			if (strstr(msg, kernel_problems[i])) {
				snprintf(line, size, "%.*s", (int)size - 1, msg);
				*kind = "kernel-warning";
				found = true;
			}
		}
		if (!found && kmsg_io_timeout(msg)) {
			snprintf(line, size, "%.*s", (int)size - 1, msg);
			*kind = "io-timeout";
			found = true;
		}
	}
	close(k->fd);
	k->fd = -1;
	return found;
}

static void module_srcversion(const char *module, struct run_output *out)
{
	char path[256], v[64];

	snprintf(path, sizeof(path), "/sys/module/%s/srcversion", module);
	if (file_read_line(path, v, sizeof(v)))
		snprintf(v, sizeof(v), "unknown");
	run_output_setting(out, "srcversion", v);
}

static void add_row(struct sample_table *t, const struct plan_entry *e, const char *metric,
		    double value, bool valid, const char *note)
{
	const struct metric_info *mi = metric_lookup(metric);
	struct sample_row r = { .sample = e->sample, .boot = e->boot, .value = value,
				.valid = valid };

	snprintf(r.family, sizeof(r.family), "%s", e->family);
	snprintf(r.arm, sizeof(r.arm), "%s", e->arm);
	snprintf(r.workload, sizeof(r.workload), "%s", e->workload);
	snprintf(r.metric, sizeof(r.metric), "%s", metric);
	snprintf(r.unit, sizeof(r.unit), "%s", mi ? mi->unit : "?");
	snprintf(r.note, sizeof(r.note), "%s", note);
	sample_table_add(t, &r);
}

static int write_sample(const char *outdir, const struct plan_entry *e,
			const struct run_output *out, const struct sample_table *rows)
{
	struct settings_table st = { 0 };
	char path[4096], err[512];
	int rc;

	for (size_t i = 0; i < out->n_settings; i++) {
		struct setting_row s = { .sample = e->sample };

		snprintf(s.family, sizeof(s.family), "%s", e->family);
		snprintf(s.arm, sizeof(s.arm), "%s", e->arm);
		snprintf(s.workload, sizeof(s.workload), "%s", e->workload);
		snprintf(s.setting, sizeof(s.setting), "%s", out->settings[i].name);
		snprintf(s.value, sizeof(s.value), "%s", out->settings[i].value);
		settings_table_add(&st, &s);
	}
	sample_path(path, sizeof(path), outdir, "settings", e->index);
	rc = results_write_settings(path, &st, err, sizeof(err));
	settings_table_free(&st);
	sample_path(path, sizeof(path), outdir, "samples", e->index);
	if (!rc)
		rc = results_write_samples(path, rows, err, sizeof(err));
	if (rc)
		fprintf(stderr, "twinbench exec: %s\n", err);
	return rc;
}

int sample_write_invalid(const struct matrix *m, const char *outdir, const struct plan_entry *e,
			 const char *note)
{
	const struct matrix_family *fam = matrix_family_by_name(m, e->family);
	struct run_output *out = calloc(1, sizeof(*out));
	struct sample_table rows = { 0 };
	int rc;

	if (!out)
		abort();
	add_row(&rows, e, fam ? fam->ops->primary_metric : "iops", NAN, false, note);
	rc = write_sample(outdir, e, out, &rows);
	sample_table_free(&rows);
	free(out);
	return rc;
}

/*
 * TWINBENCH_TEST_HANG=INDEX (tests only: tests/host/faults.sh) makes plan entry INDEX
 * hang once its arm is loaded, as a driver lockup would, until a signal stops it.
 */
static void test_hang(const struct plan_entry *e)
{
	const char *v = getenv("TWINBENCH_TEST_HANG");

	if (!v || strtoul(v, NULL, 10) != e->index)
		return;
	fprintf(stderr, "twinbench exec: TWINBENCH_TEST_HANG: sample %04u hangs\n", e->index);
	while (!stop_signal)
		pause();
}

/* Run one sample; returns 0 valid, 1 failed or invalid, -1 when it could not be written. */
static int exec_sample(const struct matrix *m, const struct plan *p, const struct plan_entry *e,
		       const char *outdir, char *summary, size_t summary_len)
{
	const struct matrix_family *fam = matrix_family_by_name(m, e->family);
	const struct workload *w = matrix_workload_by_name(m, e->workload);
	struct family_ctx ctx = { .matrix = m, .family = fam, .timeout = m->timeout,
				  .icount_shift = p->icount_shift };
	struct sample_table rows = { 0 };
	struct run_output *out = calloc(1, sizeof(*out));
	struct kmsg_watch kmsg;
	struct trace_session trace = { 0 };
	char why[256], problem[512] = "", arm[MATRIX_NAME_LEN], json[4096];
	const char *kind = "";
	bool ran = false, traced = trace_arm_split(e->arm, arm, sizeof(arm));
	int rc;

	if (!out)
		abort();
	if (!fam || !w || !(ctx.arm = family_find_arm(fam->ops, arm))) {
		snprintf(out->failure, sizeof(out->failure),
			 "plan names %s/%s/%s, which the matrix does not have",
			 e->family, e->arm, e->workload);
		goto record;
	}
	kmsg_start(&kmsg);
	if (fam->ops->load(&ctx, why, sizeof(why))) {
		snprintf(out->failure, sizeof(out->failure), "%s%.200s",
			 strncmp(why, "no-device", 9) ? "load-failed: " : "", why);
	} else {
		module_srcversion(ctx.arm->module, out);
		test_hang(e);
		insn_window_set(outdir, e->index, &(struct insn_window_desc){
			.family = e->family, .arm = e->arm, .workload = e->workload,
			.sample = e->sample, .module = ctx.arm->module });
		path_printf(json, sizeof(json), "%s/samples/%04u.trace.json", outdir, e->index);
		/* A device node (block) filters the latency; an interface name (net) cannot. */
		if (traced && trace_prepare(&trace, json,
					    trace_funcs_for_clock(fam->ops, ctx.arm, p->clock),
					    ctx.devices[0][0] == '/' ? ctx.devices[0] : NULL,
					    &m->trace_rate, why, sizeof(why)))
			snprintf(out->failure, sizeof(out->failure), "trace-failed: %.200s", why);
		else
			ctx.trace = traced ? &trace : NULL;
		ran = !out->failure[0] && !fam->ops->run(&ctx, w, out);
		if (ran && traced && trace_metrics(&trace, out->units, out, why, sizeof(why))) {
			snprintf(out->failure, sizeof(out->failure), "%.250s", why);
			ran = false;
		}
		trace_cleanup(&trace);
		insn_window_set(NULL, 0, NULL);
	}
	if (fam->ops->unload(&ctx, why, sizeof(why)) && !out->failure[0]) {
		snprintf(out->failure, sizeof(out->failure), "unload-failed: %.200s", why);
		ran = false;
	}
	if (kmsg_problem(&kmsg, why, sizeof(why), &kind))
		snprintf(problem, sizeof(problem), "%s: %s", kind, why);
	if (stop_signal) {
		free(out);
		return 1;
	}
record:
	if (ran) {
		for (size_t i = 0; i < out->n_metrics; i++)
			add_row(&rows, e, out->metrics[i].metric, out->metrics[i].value,
				!problem[0], problem);
		if (out->have_cpu && out->units > 0) {
			add_row(&rows, e, fam->ops->unit_metric, out->busy_ns / out->units,
				!problem[0], problem);
			if (!traced)
				add_row(&rows, e, "irqs_per_io", out->intr / out->units,
					!problem[0], problem);
		}
	}
	if (!rows.n) {
		ran = false;
		add_row(&rows, e, fam ? fam->ops->primary_metric : "iops", NAN, false,
			problem[0] ? problem : out->failure[0] ? out->failure : "no-metrics");
	}
	rc = write_sample(outdir, e, out, &rows) ? -1 : (ran && !problem[0] ? 0 : 1);
	if (ran && !problem[0])
		snprintf(summary, summary_len, "%s=%.6g", rows.rows[0].metric, rows.rows[0].value);
	else
		snprintf(summary, summary_len, "INVALID: %s", rows.rows[0].note);
	if (rc == 1)
		fprintf(stderr, "twinbench exec: SAMPLE %04u (%s %s %s #%u) INVALID: %s\n",
			e->index, e->family, e->arm, e->workload, e->sample, rows.rows[0].note);
	sample_table_free(&rows);
	free(out);
	return rc;
}

static void format_duration(char *buf, size_t size, double s)
{
	if (s < 0 || isnan(s))
		snprintf(buf, size, "?");
	else
		snprintf(buf, size, "%dm%02ds", (int)(s / 60), (int)s % 60);
}

/* OUTDIR/.exec-current names the sample being run, for the host's watchdog (run.c). */
static void note_current(const char *outdir, unsigned int index)
{
	char path[4096], text[16], err[512];
	int n = snprintf(text, sizeof(text), "%u\n", index);

	path_printf(path, sizeof(path), "%s/" EXEC_CURRENT_FILE, outdir);
	if (file_write_atomic(path, text, n, err, sizeof(err)))
		fprintf(stderr, "twinbench exec: %s\n", err);
}

int exec_plan(const struct matrix *m, const struct plan *p, const char *outdir)
{
	char path[4096], err[512], eta[32], summary[300];
	size_t todo = 0, done = 0, bad = 0;
	double start = now_seconds();

	path_printf(path, sizeof(path), "%s/samples", outdir);
	if (mkdir_p(path, err, sizeof(err)))
		goto fail;
	path_printf(path, sizeof(path), "%s/settings", outdir);
	if (mkdir_p(path, err, sizeof(err)))
		goto fail;
	for (size_t i = 0; i < p->n; i++) {
		sample_path(path, sizeof(path), outdir, "samples", p->entries[i].index);
		todo += !path_exists(path);
	}
	fprintf(stderr, "twinbench exec: %zu of %zu samples to run\n", todo, p->n);
	for (size_t i = 0; i < p->n && !stop_signal; i++) {
		const struct plan_entry *e = &p->entries[i];
		int rc;

		sample_path(path, sizeof(path), outdir, "samples", e->index);
		if (path_exists(path))
			continue;
		note_current(outdir, e->index);
		rc = exec_sample(m, p, e, outdir, summary, sizeof(summary));
		if (stop_signal)
			break;
		if (rc < 0)
			return 1;
		bad += rc;
		done++;
		if (p->icount_shift >= 0)
			snprintf(eta, sizeof(eta), "on the host");
		else
			format_duration(eta, sizeof(eta),
					(now_seconds() - start) / done * (todo - done));
		fprintf(stderr, "twinbench exec: [%zu/%zu] %s %s %s #%u: %s (ETA %s)\n", done, todo,
			e->family, e->arm, e->workload, e->sample, summary, eta);
	}
	if (stop_signal) {
		fprintf(stderr, "twinbench exec: stopped by signal %d after %zu samples; "
			"finished samples are kept\n", (int)stop_signal, done);
		return EXIT_INTERRUPTED;
	}
	return bad ? 1 : 0;
fail:
	fprintf(stderr, "twinbench exec: %s\n", err);
	return 1;
}

static void exec_usage(FILE *f)
{
	fprintf(f, "usage: twinbench exec --plan FILE --out DIR [--boot N]\n"
		"  runs the samples of FILE (of its boot N only) that DIR/samples/ lacks,\n"
		"  loading modules here\n");
}

int exec_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "plan", required_argument, NULL, 'p' },
		{ "out", required_argument, NULL, 'o' },
		{ "boot", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *plan_path = NULL, *outdir = NULL;
	char err[1024], dir[4096], mpath[4400];
	struct matrix *m;
	unsigned int boot = 0;
	struct plan p;
	size_t kept;
	char extra;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (sscanf(optarg, "%u%c", &boot, &extra) != 1 || !boot) {
				fprintf(stderr, "twinbench exec: --boot '%s': want a boot number "
					"from 1\n", optarg);
				return EXIT_BAD_INPUT;
			}
			break;
		case 'p':
			plan_path = optarg;
			break;
		case 'o':
			outdir = optarg;
			break;
		case 'h':
			exec_usage(stdout);
			return 0;
		default:
			exec_usage(stderr);
			return EXIT_BAD_INPUT;
		}
	}
	if (!plan_path || !outdir || optind != argc) {
		exec_usage(stderr);
		return EXIT_BAD_INPUT;
	}
	if (!path_exists("/proc/modules")) {
		fprintf(stderr, "twinbench exec: this kernel cannot load modules "
			"(no /proc/modules); use twinbench run, which picks VM mode here\n");
		return EXIT_BAD_INPUT;
	}
	if (plan_read(plan_path, &p, err, sizeof(err))) {
		fprintf(stderr, "twinbench exec: %s\n", err);
		return EXIT_BAD_INPUT;
	}
	/* one boot of the plan: keep its entries (their indices name the sample files) */
	kept = 0;
	for (size_t i = 0; i < p.n; i++)
		if (!boot || p.entries[i].boot == boot)
			p.entries[kept++] = p.entries[i];
	p.n = kept;
	snprintf(dir, sizeof(dir), "%s", plan_path);
	path_printf(mpath, sizeof(mpath), "%s/%s", dirname(dir), p.matrix);
	m = calloc(1, sizeof(*m));
	if (!m)
		abort();
	if (matrix_load(mpath, m, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		plan_free(&p);
		free(m);
		return EXIT_BAD_INPUT;
	}
	install_stop_handlers();
	rc = exec_plan(m, &p, outdir);
	plan_free(&p);
	free(m);
	return rc;
}
