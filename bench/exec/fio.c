// SPDX-License-Identifier: GPL-2.0
/*
 * fio.c - builds the fio command line of a sample and reads fio's JSON report
 * with jansson, tolerating the warning lines fio prints before the JSON.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "fio.h"
#include "insn.h"
#include "matrix.h"
#include "procstat.h"
#include "util.h"

/* Extra seconds the watchdog allows beyond fio's own --runtime caps. */
#define FIO_WATCHDOG_SLACK	30
/* Name of the warm-up job that runs before the measured one. */
#define FIO_WARMUP_JOB		"twinbench-warmup"

struct argv_builder {
	char **argv;
	size_t argc;
	char *store;
	size_t used, size;
	bool overflow;
};

static void add_arg(struct argv_builder *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_arg(struct argv_builder *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->overflow || b->argc + 1 >= FIO_MAX_ARGS) {
		b->overflow = true;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(b->store + b->used, b->size - b->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->size - b->used) {
		b->overflow = true;
		return;
	}
	b->argv[b->argc++] = b->store + b->used;
	b->argv[b->argc] = NULL;
	b->used += n + 1;
}

int fio_build_argv(const struct fio_job *job, char **argv, char *store, size_t store_len)
{
	struct argv_builder b = { .argv = argv, .store = store, .size = store_len };
	const struct workload *w = job->w;
	char hook[1024];

	add_arg(&b, "timeout");
	add_arg(&b, "-s");
	add_arg(&b, "KILL");
	add_arg(&b, "%u", 2 * job->timeout + FIO_WATCHDOG_SLACK);
	add_arg(&b, "fio");
	add_arg(&b, "--output-format=json");
	add_arg(&b, "--filename=%s", job->filename);
	add_arg(&b, "--ioengine=io_uring");
	add_arg(&b, "--direct=1");
	add_arg(&b, "--rw=%s", w->rw);
	add_arg(&b, "--bs=%u", w->bs);
	add_arg(&b, "--iodepth=%u", w->iodepth);
	if (w->hipri)
		add_arg(&b, "--hipri=1");
	add_arg(&b, "--numjobs=%u", w->numjobs);
	add_arg(&b, "--cpus_allowed=%s", w->cpus);
	add_arg(&b, "--group_reporting=1");
	add_arg(&b, "--runtime=%u", job->timeout);
	add_arg(&b, "--norandommap=1");
	add_arg(&b, "--random_generator=lfsr");
	add_arg(&b, "--randrepeat=1");
	add_arg(&b, "--percentile_list=50:99:99.9");
	if (job->warmup_ios) {
		add_arg(&b, "--name=%s", FIO_WARMUP_JOB);
		add_arg(&b, "--number_ios=%lu", job->warmup_ios);
	}
	add_arg(&b, "--name=%s", w->name);
	if (job->warmup_ios)
		add_arg(&b, "--stonewall");
	add_arg(&b, "--number_ios=%lu", job->ios);
	/*
	 * CPU counters and the clock around the measured I/O: the clock is read
	 * last before it and first after it. insn.h: the instruction window of
	 * the sample, if any, opens and closes there too.
	 */
	if (insn_hook_start(hook, sizeof(hook), "cat /proc/stat /proc/timer_list"))
		return -1;
	/* fio redirects the hook's output to a file: one group, so all of it goes there. */
	if (job->pre)
		add_arg(&b, "--exec_prerun={ %s; %s; }", job->pre, hook);
	else
		add_arg(&b, "--exec_prerun=%s", hook);
	if (insn_hook_stop(hook, sizeof(hook), "cat /proc/timer_list /proc/stat",
			   (double)job->ios * w->numjobs))
		return -1;
	if (job->post)
		add_arg(&b, "--exec_postrun={ %s; %s; }", hook, job->post);
	else
		add_arg(&b, "--exec_postrun=%s", hook);
	return b.overflow ? -1 : (int)b.argc;
}

static const char *json_start(const char *text)
{
	const char *p = text;

	while (p && *p) {
		if (*p == '{')
			return p;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static int get_number(json_t *obj, const char *key, double *out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_number(v))
		return -1;
	*out = json_number_value(v);
	return 0;
}

int fio_parse_json(const char *text, const char *jobname, const char *rw,
		   struct fio_result *res, char *err, size_t len)
{
	const char *dir = strstr(rw, "read") ? "read" : "write";
	const char *start = json_start(text);
	json_t *root, *jobs, *job, *pct;
	json_error_t jerr;
	size_t i, found = 0;
	bool have_pct = false;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	if (!start)
		return seterr(err, len, "no JSON object in fio output");
	root = json_loads(start, JSON_DISABLE_EOF_CHECK, &jerr);
	if (!root)
		return seterr(err, len, "fio JSON: %s (JSON line %d)", jerr.text, jerr.line);
	jobs = json_object_get(root, "jobs");
	if (!json_is_array(jobs) || !json_array_size(jobs)) {
		seterr(err, len, "fio JSON: no jobs array");
		goto out;
	}
	json_array_foreach(jobs, i, job) {
		json_t *d = json_object_get(job, dir);
		json_t *error = json_object_get(job, "error");
		const char *name = json_string_value(json_object_get(job, "jobname"));
		double iops, bw, ios, runtime;

		if (!name) {
			seterr(err, len, "fio JSON: job %zu has no jobname", i);
			goto out;
		}
		if (strcmp(name, jobname))
			continue;
		if (!json_is_integer(error)) {
			seterr(err, len, "fio JSON: job %zu has no error field", i);
			goto out;
		}
		if (json_integer_value(error)) {
			seterr(err, len, "fio job %zu failed with error %lld", i,
			       (long long)json_integer_value(error));
			goto out;
		}
		if (!json_is_object(d) || get_number(d, "iops", &iops) ||
		    get_number(d, "bw_bytes", &bw) || get_number(d, "total_ios", &ios) ||
		    get_number(d, "runtime", &runtime)) {
			seterr(err, len, "fio JSON: job %zu has no complete '%s' section", i, dir);
			goto out;
		}
		found++;
		res->iops += iops;
		res->bw_bytes += bw;
		res->total_ios += (unsigned long long)ios;
		if (runtime > res->runtime_ms)
			res->runtime_ms = runtime;
		if (!ios || have_pct)
			continue;
		have_pct = true;
		pct = json_object_get(json_object_get(d, "clat_ns"), "percentile");
		if (get_number(pct, "50.000000", &res->lat_p50) ||
		    get_number(pct, "99.000000", &res->lat_p99) ||
		    get_number(pct, "99.900000", &res->lat_p999)) {
			seterr(err, len, "fio JSON: job %zu has no clat_ns percentiles 50/99/99.9",
			       i);
			goto out;
		}
	}
	if (!found) {
		seterr(err, len, "fio JSON: no job named '%s'", jobname);
		goto out;
	}
	if (!res->total_ios) {
		seterr(err, len, "fio did no %s I/O", dir);
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* /proc/stat as fio's exec_prerun/exec_postrun left it in @dir/NAME.WHEN.txt. */
static int read_counters(const char *dir, const char *name, const char *when,
			 struct cpu_counters *c)
{
	char path[4096];
	char *text;
	int rc;

	path_printf(path, sizeof(path), "%s/%s.%s.txt", dir, name, when);
	text = file_read(path, NULL, NULL, 0);
	rc = text ? procstat_parse(text, c) : -1;
	free(text);
	return rc;
}

static void remove_counters(const char *dir, const char *name)
{
	char path[4096];

	path_printf(path, sizeof(path), "%s/%s.prerun.txt", dir, name);
	unlink(path);
	path_printf(path, sizeof(path), "%s/%s.postrun.txt", dir, name);
	unlink(path);
	rmdir(dir);
}

int fio_run(const struct fio_job *job, struct fio_result *res, char *err, size_t len)
{
	char *argv[FIO_MAX_ARGS], store[2048], why[256], dir[] = "/tmp/twinbench-fio-XXXXXX";
	unsigned long long want = (unsigned long long)job->ios * job->w->numjobs;
	struct cpu_counters before, after;
	struct proc_result pr;
	int rc;

	if (fio_build_argv(job, argv, store, sizeof(store)) < 0)
		return seterr(err, len, "fio command line too long");
	if (!mkdtemp(dir))
		return seterr(err, len, "mkdtemp %s: %s", dir, strerror(errno));
	rc = proc_run(argv, dir, &pr, err, len);
	if (!rc && pr.status) {
		char *first = strtrim(pr.errout);

		first[strcspn(first, "\n")] = '\0';
		rc = seterr(err, len, "fio exited %d%s: %s", pr.status,
			    pr.status == 137 ? " (killed by the watchdog)" : "", first);
	} else if (!rc && fio_parse_json(pr.out, job->w->name, job->w->rw, res, why,
					 sizeof(why))) {
		rc = seterr(err, len, "%s", why);
	} else if (!rc && res->total_ios < want) {
		rc = seterr(err, len, "fio did %llu of %llu I/Os (runtime cap %u s reached?)",
			    res->total_ios, want, job->timeout);
	}
	if (!rc && !read_counters(dir, job->w->name, "prerun", &before) &&
	    !read_counters(dir, job->w->name, "postrun", &after)) {
		res->have_cpu = true;
		res->busy_ns = procstat_busy_ns(&before, &after);
		res->intr = after.intr - before.intr;
		res->have_window = before.have_now && after.have_now;
		res->window_ns = after.now_ns - before.now_ns;
	}
	proc_result_free(&pr);
	remove_counters(dir, job->w->name);
	return rc;
}
