// SPDX-License-Identifier: GPL-2.0
/*
 * test_matrix.c - the matrix parser on a good file (every value checked) and
 * on one broken file per kind of mistake, each with its exact "file:line:
 * message"; the family selection; and the plan built from a matrix (order,
 * sample numbering, seed, round trip through plan.tsv).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "matrix.h"
#include "plan.h"
#include "trace.h"

static struct matrix m;

static void fixture_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/matrix/%s", FIXTURES, name);
}

static void test_good(void **state)
{
	const struct workload *w;
	char path[512], err[512];

	(void)state;
	fixture_path(path, sizeof(path), "good.ini");
	if (matrix_load(path, &m, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(m.samples, 6);
	assert_int_equal(m.ios, 20000);
	assert_int_equal(m.warmup_ios, 3000);
	assert_int_equal(m.timeout, 90);
	assert_true(m.seed_given);
	assert_int_equal(m.seed, 42);
	assert_int_equal(m.n_families, 1);
	assert_string_equal(m.families[0].name, "null");
	assert_int_equal(m.families[0].n_arms, 3);
	assert_string_equal(m.families[0].arms[0], "null_blk");
	assert_string_equal(m.families[0].arms[2], "safenull");
	assert_non_null(strstr(m.families[0].params, "hw_queue_depth=64"));
	/* no compare key: raw against upstream, safe against raw */
	assert_int_equal(m.families[0].n_pairs, 2);
	assert_string_equal(m.families[0].pairs[0].baseline, "null_blk");
	assert_string_equal(m.families[0].pairs[0].candidate, "rawnull");
	assert_string_equal(m.families[0].pairs[1].baseline, "rawnull");
	assert_string_equal(m.families[0].pairs[1].candidate, "safenull");

	assert_int_equal(m.n_workloads, 2);
	w = matrix_workload_by_name(&m, "randread-4k-qd1");
	assert_non_null(w);
	assert_string_equal(w->rw, "randread");
	assert_int_equal(w->bs, 4096);
	assert_int_equal(w->iodepth, 1);
	assert_int_equal(w->numjobs, 1);
	assert_string_equal(w->cpus, "0");
	assert_string_equal(w->queue.scheduler, "none");	/* built-in default */
	assert_int_equal(w->queue.iostats, 0);
	assert_int_equal(w->queue.nomerges, 2);		/* from [workloads] */
	assert_int_equal(w->queue.rq_affinity, 1);
	assert_int_equal(w->queue.max_sectors_kb, -1);
	assert_int_equal(w->line, 19);
	assert_int_equal(w->bs_line, 21);

	w = matrix_workload_by_name(&m, "write-128k-qd16");
	assert_non_null(w);
	assert_string_equal(w->rw, "write");
	assert_int_equal(w->bs, 131072);
	assert_int_equal(w->numjobs, 2);
	assert_string_equal(w->cpus, "0-1");
	assert_string_equal(w->queue.scheduler, "mq-deadline");
	assert_int_equal(w->queue.nomerges, -1);		/* keep */
	assert_int_equal(w->queue.max_sectors_kb, 64);
	assert_int_equal(w->queue.nr_requests, 32);
	assert_true(matrix_workload_applies(w, &m.families[0]));
}

/* Net workloads beside block ones: UDP/TCP kinds, byte-sized payloads, streams, no iodepth. */
static void test_net_workloads(void **state)
{
	const struct workload *w;
	char path[512], err[512];

	(void)state;
	fixture_path(path, sizeof(path), "net-good.ini");
	if (matrix_load(path, &m, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(m.n_families, 2);
	assert_string_equal(m.families[1].name, "net");
	assert_int_equal(m.families[1].n_pairs, 2);
	assert_string_equal(m.families[1].pairs[0].baseline, "veth");
	assert_string_equal(m.families[1].pairs[0].candidate, "rawnet");
	assert_string_equal(m.families[1].pairs[1].baseline, "rawnet");
	assert_string_equal(m.families[1].pairs[1].candidate, "safenet");
	w = matrix_workload_by_name(&m, "udp-1472b");
	assert_non_null(w);
	assert_string_equal(w->rw, "udp");
	assert_int_equal(w->bs, 1472);
	assert_int_equal(w->numjobs, 1);
	assert_string_equal(w->cpus, "0-1");
	assert_true(matrix_workload_applies(w, &m.families[1]));
	assert_false(matrix_workload_applies(w, &m.families[0]));
	w = matrix_workload_by_name(&m, "tcp-128k-4streams");
	assert_non_null(w);
	assert_string_equal(w->rw, "tcp");
	assert_int_equal(w->bs, 131072);
	assert_int_equal(w->numjobs, 4);
	assert_true(matrix_rw_is_net("udp"));
	assert_false(matrix_rw_is_net("read"));
	assert_true(matrix_rw_is_block("randwrite"));
	assert_false(matrix_rw_is_block("tcp"));
}

/* trace = both: every arm twice per sample round, the traced one under ARM+trace. */
static void test_trace_plan(void **state)
{
	char path[512], err[512], plain[32];
	size_t traced = 0;
	struct plan p;

	(void)state;
	fixture_path(path, sizeof(path), "trace-both.ini");
	if (matrix_load(path, &m, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(m.trace, MATRIX_TRACE_BOTH);
	/* the default rate: one request in 16, always attached (no duty cycle) */
	assert_int_equal(m.trace_rate.sample, 16);
	assert_int_equal(m.trace_rate.duty_on_ms, 0);
	assert_int_equal(m.trace_rate.duty_period_ms, 0);
	plan_build(&m, 1, &p);
	assert_int_equal(p.n, 2 * 2 * 2);
	for (size_t i = 0; i < p.n; i++) {
		bool t = trace_arm_split(p.entries[i].arm, plain, sizeof(plain));

		traced += t;
		assert_true(!strcmp(plain, "null_blk") || !strcmp(plain, "rawnull"));
		assert_int_equal(t, strstr(p.entries[i].arm, "+trace") != NULL);
	}
	assert_int_equal(traced, 4);
	plan_free(&p);
	m.trace = MATRIX_TRACE_ON;
	plan_build(&m, 1, &p);
	assert_int_equal(p.n, 2 * 2);
	for (size_t i = 0; i < p.n; i++)
		assert_true(trace_arm_split(p.entries[i].arm, plain, sizeof(plain)));
	plan_free(&p);
}

static void test_compare_and_selection(void **state)
{
	char path[512], err[512];

	(void)state;
	fixture_path(path, sizeof(path), "compare.ini");
	if (matrix_load(path, &m, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(m.families[0].n_pairs, 1);
	assert_string_equal(m.families[0].pairs[0].baseline, "safenull");
	assert_string_equal(m.families[0].pairs[0].candidate, "rawnull");
	assert_string_equal(m.workloads[0].family, "null");
	assert_int_equal(m.samples, 5);
	assert_false(m.seed_given);

	/* without a raw arm: safe against upstream */
	fixture_path(path, sizeof(path), "no-raw.ini");
	if (matrix_load(path, &m, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(m.families[0].n_pairs, 1);
	assert_string_equal(m.families[0].pairs[0].baseline, "null_blk");
	assert_string_equal(m.families[0].pairs[0].candidate, "safenull");

	assert_int_equal(matrix_select_families(&m, "null", err, sizeof(err)), 0);
	assert_true(m.families[0].selected);
	assert_int_equal(matrix_select_families(&m, "null,nvme", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--families: 'nvme' is not a family of"));
}

static const struct {
	const char *file;
	int line;
	const char *message;
} broken[] = {
	{ "unknown-key.ini", 6, "unknown key 'bsize' in a workload section" },
	{ "unknown-section.ini", 1, "unknown section [runner] (expected [run], [workloads], "
				    "[family NAME] or [workload NAME])" },
	{ "bs-not-512.ini", 5, "workload 'r' on family null: bs 1000 is not a multiple of 512" },
	{ "udp-on-null.ini", 3, "workload 'u' on family null: rw = udp: the null family runs "
				"read, write, randread or randwrite (give the workload a family = "
				"line)" },
	{ "block-on-net.ini", 3, "workload 'r' on family net: rw = randread: the net family "
				 "runs udp or tcp (give the workload a family = line)" },
	{ "udp-over-mtu.ini", 6, "workload 'u' on family net: bs = 8972: a datagram of 9000 "
				 "bytes does not fit mtu=1500 (give mtu >= 9000 in params, or a "
				 "smaller bs)" },
	{ "bad-trace.ini", 2, "trace = yes: expected off, on or both" },
	{ "bad-duty.ini", 3, "trace_duty = 640/20: expected ON/PERIOD in ms (0 < ON < PERIOD "
			     "<= 3600000) or off" },
	{ "missing-iodepth.ini", 3, "workload 'r': iodepth is not set (here or in [workloads])" },
	{ "bs-too-large.ini", 6, "workload 'r' on family null: bs 2147483648 is larger than "
				 "the device (1073741824 bytes)" },
	{ "bs-below-lbs.ini", 7, "workload 'r' on family null: bs 512 is not a multiple of "
				 "the device's logical block size (params bs=4096)" },
	{ "qd0.ini", 6, "iodepth = 0: expected 1 to 4096" },
	{ "unknown-arm.ini", 2, "unknown arm 'nosuchnull' in family null (known: null_blk "
				"rawnull safenull safenull-noerror safenull-nochecked "
				"safenull-nobounds safenull-noarc safenull-noguards "
				"safenull-noreqref safenull-noadapter safenull-noresult safenull-noall "
				"rustnull rnull)" },
	{ "missing-rw.ini", 4, "workload 'r': rw is not set (here or in [workloads])" },
	{ "bad-params.ini", 3, "params: unknown null_blk parameter 'queue_mode'" },
	{ "seq-past-end.ini", 2, "workload 'r' on family null: 100000 I/Os of 131072 bytes "
				 "span more than the 1073741824-byte device, and fio stops at "
				 "its end" },
	{ "duplicate-key.ini", 6, "bs given twice in this section" },
	{ "syntax.ini", 3, "syntax error (expected [section] or key = value)" },
	{ "bad-compare.ini", 3, "compare names null_blk:safenull, but arms does not list both" },
	{ "no-workload.ini", 2, "no [workload NAME] section" },
	{ "bad-rw.ini", 4, "rw = randrw: expected read, write, randread, randwrite (block) or "
			   "udp, tcp (net)" },
};

static void test_broken(void **state)
{
	char path[512], err[512], want[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		fixture_path(path, sizeof(path), broken[i].file);
		err[0] = '\0';
		if (!matrix_load(path, &m, err, sizeof(err)))
			fail_msg("%s loaded without error", broken[i].file);
		snprintf(want, sizeof(want), "%s:%d: %s", path, broken[i].line, broken[i].message);
		if (strcmp(err, want))
			fail_msg("%s:\n got  %s\n want %s", broken[i].file, err, want);
	}
}

static void test_unknown_family(void **state)
{
	char path[512], err[512];

	(void)state;
	fixture_path(path, sizeof(path), "unknown-family.ini");
	assert_int_equal(matrix_load(path, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown-family.ini:1: unknown family 'scsi' (known: "));
	assert_int_equal(matrix_load("/nonexistent/matrix.ini", &m, err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/matrix.ini: No such file or directory");
}

static void test_parse_size(void **state)
{
	unsigned long long v;

	(void)state;
	assert_int_equal(parse_size("512", &v), 0);
	assert_int_equal(v, 512);
	assert_int_equal(parse_size("4k", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("128KiB", &v), 0);
	assert_int_equal(v, 131072);
	assert_int_equal(parse_size("1M", &v), 0);
	assert_int_equal(v, 1 << 20);
	assert_int_equal(parse_size("4x", &v), -1);
	assert_int_equal(parse_size("k", &v), -1);
	assert_int_equal(parse_size("-4k", &v), -1);
	assert_int_equal(parse_size("4kbytes", &v), -1);
}

static void test_plan(void **state)
{
	char path[512], err[512], tsv[] = "/tmp/test_matrix_plan_XXXXXX";
	struct plan p, again, back;
	unsigned int seen[3][2][7] = { 0 };
	int fd;

	(void)state;
	fixture_path(path, sizeof(path), "good.ini");
	if (matrix_load(path, &m, err, sizeof(err)))
		fail_msg("%s", err);
	plan_build(&m, 7, &p);
	assert_int_equal(p.n, 3 * 2 * 6);
	for (size_t i = 0; i < p.n; i++) {
		const struct plan_entry *e = &p.entries[i];
		size_t a, w = strcmp(e->workload, "randread-4k-qd1") != 0;

		for (a = 0; a < 3 && strcmp(m.families[0].arms[a], e->arm); a++)
			;
		assert_true(a < 3);
		assert_int_equal(e->index, i + 1);
		/* rounds: the samples of round s fill entries [6(s-1), 6s) */
		assert_int_equal(e->sample, i / 6 + 1);
		seen[a][w][e->sample]++;
	}
	for (size_t a = 0; a < 3; a++)
		for (size_t w = 0; w < 2; w++)
			for (unsigned int s = 1; s <= 6; s++)
				assert_int_equal(seen[a][w][s], 1);

	plan_build(&m, 7, &again);
	assert_memory_equal(p.entries, again.entries, p.n * sizeof(*p.entries));
	plan_free(&again);
	plan_build(&m, 8, &again);
	assert_true(memcmp(p.entries, again.entries, p.n * sizeof(*p.entries)) != 0);
	plan_free(&again);

	snprintf(p.matrix, sizeof(p.matrix), "matrix.ini");
	snprintf(p.clock, sizeof(p.clock), "icount");
	p.icount_shift = 1;
	fd = mkstemp(tsv);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(plan_write(tsv, &p, err, sizeof(err)), 0);
	assert_int_equal(plan_read(tsv, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n, p.n);
	assert_int_equal(back.seed, 7);
	assert_int_equal(back.icount_shift, 1);
	assert_string_equal(back.clock, "icount");
	assert_string_equal(back.matrix, "matrix.ini");
	assert_memory_equal(back.entries, p.entries, p.n * sizeof(*p.entries));
	unlink(tsv);
	plan_free(&back);
	plan_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_net_workloads),
		cmocka_unit_test(test_trace_plan),
		cmocka_unit_test(test_compare_and_selection),
		cmocka_unit_test(test_broken),
		cmocka_unit_test(test_unknown_family),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_plan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
