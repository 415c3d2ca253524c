// SPDX-License-Identifier: GPL-2.0
/*
 * blockq.c - sets and reads back the files of /sys/block/NAME/queue for the block families.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "blockq.h"
#include "fio.h"
#include "kmod.h"
#include "pmu.h"
#include "trace.h"
#include "util.h"

static const char *dev_name(const char *dev)
{
	const char *slash = strrchr(dev, '/');

	return slash ? slash + 1 : dev;
}

/* The active scheduler is the bracketed word of "[none] mq-deadline". */
static void active_scheduler(const char *line, char *out, size_t size)
{
	const char *open = strchr(line, '['), *close = open ? strchr(open, ']') : NULL;

	if (open && close)
		snprintf(out, size, "%.*s", (int)(close - open - 1), open + 1);
	else
		snprintf(out, size, "%s", line);
}

static void set_one(const char *qdir, const char *name, const char *want, struct run_output *out)
{
	char path[512], got[128], shown[160];

	path_printf(path, sizeof(path), "%s/%s", qdir, name);
	if (want)
		file_write_str(path, want);
	if (file_read_line(path, got, sizeof(got))) {
		snprintf(got, sizeof(got), "unreadable");
	} else if (!strcmp(name, "scheduler")) {
		char line[128];

		memcpy(line, got, sizeof(line));
		active_scheduler(line, got, sizeof(got));
	}
	if (want && strcmp(got, want))
		snprintf(shown, sizeof(shown), "%s (wanted %s)", got, want);
	else
		snprintf(shown, sizeof(shown), "%s", got);
	run_output_setting(out, name, shown);
}

static void set_int(const char *qdir, const char *name, int want, struct run_output *out)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", want);
	set_one(qdir, name, want >= 0 ? buf : NULL, out);
}

static int count_hw_queues(const char *dev)
{
	char path[256];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/block/%s/mq", dev_name(dev));
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

int blockq_apply(const char *dev, const struct queue_settings *q, struct run_output *out,
		 char *err, size_t len)
{
	char qdir[256], path[300], hw[32];
	int max_kb = q->max_sectors_kb;

	snprintf(qdir, sizeof(qdir), "/sys/block/%s/queue", dev_name(dev));
	if (!path_exists(qdir))
		return seterr(err, len, "%s: no queue folder %s", dev, qdir);
	path_printf(path, sizeof(path), "%s/max_hw_sectors_kb", qdir);
	if (max_kb > 0 && !file_read_line(path, hw, sizeof(hw)) && atoi(hw) > 0 &&
	    atoi(hw) < max_kb)
		max_kb = atoi(hw);
	set_one(qdir, "scheduler", q->scheduler[0] ? q->scheduler : NULL, out);
	set_int(qdir, "iostats", q->iostats, out);
	set_int(qdir, "add_random", q->add_random, out);
	set_int(qdir, "nomerges", q->nomerges, out);
	set_int(qdir, "rq_affinity", q->rq_affinity, out);
	set_int(qdir, "max_sectors_kb", max_kb, out);
	set_int(qdir, "nr_requests", q->nr_requests, out);
	set_one(qdir, "logical_block_size", NULL, out);
	set_one(qdir, "max_hw_sectors_kb", NULL, out);
	snprintf(hw, sizeof(hw), "%d", count_hw_queues(dev));
	run_output_setting(out, "nr_hw_queues", hw);
	return 0;
}

int block_run(struct family_ctx *ctx, const struct workload *w, struct run_output *out)
{
	const struct matrix *m = ctx->matrix;
	struct fio_job job = { .w = w, .filename = ctx->devices[0], .timeout = ctx->timeout,
			       .pre = ctx->trace ? ctx->trace->start : NULL,
			       .post = ctx->trace ? ctx->trace->stop : NULL };
	struct pmu_counts pc;
	struct fio_result res;
	char why[200];
	int rc;

	if (!ctx->n_devices) {
		snprintf(out->failure, sizeof(out->failure), "no-device");
		return -1;
	}
	if (blockq_apply(job.filename, &w->queue, out, why, sizeof(why))) {
		snprintf(out->failure, sizeof(out->failure), "no-device: %s", why);
		return -1;
	}
	job.ios = m->ios;
	job.warmup_ios = m->warmup_ios;
	pmu_start();
	rc = fio_run(&job, &res, why, sizeof(why));
	pmu_stop(&pc);
	if (rc) {
		snprintf(out->failure, sizeof(out->failure), "fio-failed: %.200s", why);
		return -1;
	}
	run_output_metric(out, "iops", res.iops);
	run_output_metric(out, "bw", res.bw_bytes);
	run_output_metric(out, "lat_p50", res.lat_p50);
	run_output_metric(out, "lat_p99", res.lat_p99);
	run_output_metric(out, "lat_p999", res.lat_p999);
	if (ctx->icount_shift >= 0)
		run_output_metric(out, "insn_per_io", (res.have_window ? res.window_ns :
				  res.total_ios * 1e9 / res.iops) / (1 << ctx->icount_shift) /
				  res.total_ios);
	if (pc.have) {
		/* the counters span fio's warm-up too: per I/O of both */
		double ios = res.total_ios + (double)m->warmup_ios * w->numjobs;

		for (int e = 0; e < PMU_EVENTS; e++)
			run_output_metric(out, pmu_metric[e], pc.value[e] / ios);
		if (pc.value[PMU_CYCLES] > 0)
			run_output_metric(out, "ipc", pc.value[PMU_INSTRUCTIONS] /
					  pc.value[PMU_CYCLES]);
	}
	out->units = res.total_ios;
	out->have_cpu = res.have_cpu;
	out->busy_ns = res.busy_ns;
	out->intr = res.intr;
	return 0;
}
