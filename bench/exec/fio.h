/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fio.h - one fio run as the runner needs it: the command line of a
 * fixed-I/O-count io_uring job, and the numbers taken from its JSON output.
 */
#ifndef TWINBENCH_FIO_H
#define TWINBENCH_FIO_H

#include <stdbool.h>
#include <stddef.h>

struct workload;

/*
 * What to run: a workload on one device, a warm-up of @warmup_ios per job
 * (none when 0), then the measured job of @ios per job, in one fio process.
 */
struct fio_job {
	const struct workload *w;
	const char *filename;
	unsigned long ios, warmup_ios;
	unsigned int timeout;	/* seconds before fio is stopped and the run fails */
	/* Shell commands run right before and after the measured job (tracing), or NULL. */
	const char *pre, *post;
};

/* The numbers of the measured job, summed over its clones (group reporting). */
struct fio_result {
	double iops, bw_bytes;
	double lat_p50, lat_p99, lat_p999;	/* ns, completion latency */
	unsigned long long total_ios;
	double runtime_ms;
	/*
	 * /proc/stat and /proc/timer_list read by fio right before and after the
	 * measured job's I/O loop: busy CPU time, interrupts, and the window's
	 * length in ns (which includes starting one shell and one cat).
	 */
	bool have_cpu, have_window;
	double busy_ns, intr, window_ns;
};

#define FIO_MAX_ARGS	40

/*
 * Build fio's argv into @argv (at most FIO_MAX_ARGS entries, NULL-terminated),
 * with strings stored in @store; returns the argument count or -1.
 */
int fio_build_argv(const struct fio_job *job, char **argv, char *store, size_t store_len);

/*
 * Parse fio's --output-format=json output: the entries of job @jobname whose
 * rw is @rw. Text before the JSON object (fio's warning and notice lines) is
 * skipped. 0, or -1 with a reason.
 */
int fio_parse_json(const char *text, const char *jobname, const char *rw,
		   struct fio_result *res, char *err, size_t len);

/* Run @job and parse its output; -1 with a reason ("fio exited 1: ...") on failure. */
int fio_run(const struct fio_job *job, struct fio_result *res, char *err, size_t len);

#endif /* TWINBENCH_FIO_H */
