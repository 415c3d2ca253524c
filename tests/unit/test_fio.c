// SPDX-License-Identifier: GPL-2.0
/*
 * test_fio.c - the fio side of a sample: the command line the runner builds,
 * and the JSON parser on real fio output, on output behind warning lines, and
 * on broken output (truncated, failed job, missing fields, no JSON at all);
 * plus the /proc/stat reader on what fio's prerun/postrun hooks saved.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "fio.h"
#include "matrix.h"
#include "procstat.h"
#include "util.h"

static char *fixture(const char *name)
{
	char path[512], err[256];
	char *text;

	snprintf(path, sizeof(path), "%s/fio/%s", FIXTURES, name);
	text = file_read(path, NULL, err, sizeof(err));
	if (!text)
		fail_msg("%s", err);
	return text;
}

static int parse(const char *name, const char *job, const char *rw, struct fio_result *r,
		 char *err, size_t len)
{
	char *text = fixture(name);
	int rc = fio_parse_json(text, job, rw, r, err, len);

	free(text);
	return rc;
}

static void test_measured_job_after_warmup(void **state)
{
	struct fio_result r;
	char err[256];

	(void)state;
	assert_int_equal(parse("randread-notices.json", "randread-4k-qd8", "randread", &r, err,
			       sizeof(err)), 0);
	/* the measured job only: the warm-up did 200 I/Os at 3125 IOPS */
	assert_int_equal(r.total_ios, 2000);
	assert_true(r.iops == 15625.0);
	assert_true(r.bw_bytes == 64000000.0);
	assert_true(r.runtime_ms == 128.0);
	assert_true(r.lat_p50 == 156672.0);
	assert_true(r.lat_p99 == 5734400.0);
	assert_true(r.lat_p999 == 33423360.0);
}

static void test_write_group_and_warnings(void **state)
{
	struct fio_result plain, warned;
	char err[256];

	(void)state;
	assert_int_equal(parse("randwrite-2jobs.json", "randwrite-64k-2jobs", "randwrite", &plain,
			       err, sizeof(err)), 0);
	assert_int_equal(plain.total_ios, 512);
	assert_true(plain.iops > 8126.98 && plain.iops < 8126.99);
	assert_true(plain.lat_p99 == 4882432.0);
	assert_int_equal(parse("warning-lines.json", "randwrite-64k-2jobs", "randwrite", &warned,
			       err, sizeof(err)), 0);
	assert_memory_equal(&plain, &warned, sizeof(plain));
}

static void expect_error(const char *name, const char *job, const char *needle)
{
	struct fio_result r;
	char err[256] = "";

	if (parse(name, job, "randread", &r, err, sizeof(err)) != -1)
		fail_msg("%s parsed without error", name);
	if (!strstr(err, needle))
		fail_msg("%s: error '%s' lacks '%s'", name, err, needle);
}

static void test_broken_output(void **state)
{
	(void)state;
	expect_error("truncated.json", "randread-4k-qd8", "fio JSON:");
	expect_error("job-error.json", "randread-4k-qd8", "failed with error 5");
	expect_error("no-percentiles.json", "randread-4k-qd8", "percentiles");
	expect_error("no-json.txt", "randread-4k-qd8", "no JSON object");
	expect_error("randread-notices.json", "randread-4k-qd1", "no job named 'randread-4k-qd1'");
}

static bool has_arg(char **argv, const char *arg)
{
	for (; *argv; argv++)
		if (!strcmp(*argv, arg))
			return true;
	return false;
}

static int arg_index(char **argv, const char *arg)
{
	for (int i = 0; argv[i]; i++)
		if (!strcmp(argv[i], arg))
			return i;
	return -1;
}

static void test_command_line(void **state)
{
	struct workload w = { .name = "randread-4k-qd32", .rw = "randread", .bs = 4096,
			      .iodepth = 32, .numjobs = 1, .cpus = "0" };
	struct fio_job job = { .w = &w, .filename = "/dev/nullb0", .ios = 40000,
			       .warmup_ios = 4000, .timeout = 60 };
	char *argv[FIO_MAX_ARGS], store[2048];

	(void)state;
	assert_true(fio_build_argv(&job, argv, store, sizeof(store)) > 0);
	assert_string_equal(argv[0], "timeout");
	for (const char *const *a = (const char *const[]){ "--output-format=json",
			"--filename=/dev/nullb0", "--ioengine=io_uring", "--direct=1",
			"--rw=randread", "--bs=4096", "--iodepth=32", "--numjobs=1",
			"--cpus_allowed=0", "--group_reporting=1", "--runtime=60",
			"--exec_prerun=cat /proc/stat /proc/timer_list",
			"--exec_postrun=cat /proc/timer_list /proc/stat", "--stonewall", NULL }; *a;
	     a++)
		if (!has_arg(argv, *a))
			fail_msg("missing %s", *a);
	/* warm-up job first, then the measured job with its own I/O count */
	assert_true(arg_index(argv, "--number_ios=4000") <
		    arg_index(argv, "--name=randread-4k-qd32"));
	assert_true(arg_index(argv, "--name=randread-4k-qd32") <
		    arg_index(argv, "--number_ios=40000"));

	job.warmup_ios = 0;
	assert_true(fio_build_argv(&job, argv, store, sizeof(store)) > 0);
	assert_false(has_arg(argv, "--stonewall"));
	assert_int_equal(arg_index(argv, "--name=twinbench-warmup"), -1);
	/* too little room is refused, not truncated */
	assert_int_equal(fio_build_argv(&job, argv, store, 100), -1);

	/* tracing: attach before the counters are read, detach after; one redirected group */
	job.pre = "sh /tmp/t/start.sh";
	job.post = "sh /tmp/t/stop.sh";
	assert_true(fio_build_argv(&job, argv, store, sizeof(store)) > 0);
	assert_true(has_arg(argv, "--exec_prerun={ sh /tmp/t/start.sh; "
			    "cat /proc/stat /proc/timer_list; }"));
	assert_true(has_arg(argv, "--exec_postrun={ cat /proc/timer_list /proc/stat; "
			    "sh /tmp/t/stop.sh; }"));
}

/* cpu line: busy 138334 -> 138359 ticks; intr 1895397 -> 1896211. */
static void test_proc_stat(void **state)
{
	char *before_text = fixture("proc-stat-before.txt");
	char *after_text = fixture("proc-stat-after.txt");
	struct cpu_counters before, after;

	(void)state;
	assert_int_equal(procstat_parse(before_text, &before), 0);
	assert_int_equal(procstat_parse(after_text, &after), 0);
	assert_int_equal(before.busy_ticks, 138334);
	assert_int_equal(after.busy_ticks, 138359);
	assert_int_equal(after.intr - before.intr, 814);
	assert_true(procstat_busy_ns(&before, &after) == 25 * 1e9 / sysconf(_SC_CLK_TCK));
	assert_false(before.have_now);
	assert_int_equal(procstat_parse("cpu  1 2 3\n", &before), -1);
	free(before_text);
	free(after_text);
	/* with /proc/timer_list read along: its "now at" line is the clock */
	before_text = fixture("proc-stat-timer-list.txt");
	assert_int_equal(procstat_parse(before_text, &before), 0);
	assert_true(before.have_now);
	assert_int_equal(before.now_ns, 1723604587677ULL);
	free(before_text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_measured_job_after_warmup),
		cmocka_unit_test(test_write_group_and_warnings),
		cmocka_unit_test(test_broken_output),
		cmocka_unit_test(test_command_line),
		cmocka_unit_test(test_proc_stat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
