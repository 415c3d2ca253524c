// SPDX-License-Identifier: GPL-2.0
/*
 * test_insn.c - the host side of the instruction profiles (bench/insn.c) on a run folder
 * written here by hand: per-I/O metrics worked out by hand, functions resolved through
 * vmlinux and module symbols, broken windows and broken plugin output, and the guest hooks;
 * instruction classes and the cycle estimate by hand, and the cost table of
 * docs/insn-classes.md against plugin/insnclass.h.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "insn.h"

static char run_dir[] = "/tmp/test_insn-XXXXXX";

static void put_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", run_dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Two core functions, one other kernel function, a driver, its layer and another module. */
static const char vmlinux_syms[] =
	"ffffffff81000000 T blk_mq_submit_bio\n"
	"ffffffff81000800 D some_data\n"
	"ffffffff81001000 t do_other_work\n";

static const char window_1[] =
	"family=null\narm=rawnull\nworkload=rr\nsample=1\nmodules=rawnull\ncore=block\n"
	"ios=10\n"
	"ffffffffc0001000 t rawnull_queue_rq\t[rawnull]\n"
	"ffffffffc0001100 t safe_check\t[rawnull]\n"
	"ffffffffc0002000 t other_fn\t[othermod]\n"
	"module rawnull 512 0 - Live 0xffffffffc0001000 (O)\n";

/* The block at ...c0001400 lies past the end of rawnull (512 bytes): not the driver's. */
static const char plugin_out[] =
	"insncount api 1 qemu-api 0..1 target x86_64 vcpus 1\n"
	"window 1 total 1050 kernel 650 user 400\n"
	"tb 0xffffffff81000000 100 10\n"
	"tb 0xffffffff81000010 50 10\n"
	"tb 0xffffffff81001000 200 5\n"
	"tb 0xffffffffc0001000 150 10\n"
	"tb 0xffffffffc0001100 20 10\n"
	"tb 0xffffffffc0002000 80 1\n"
	"tb 0xffffffffc0001400 50 1\n"
	"end 1\n"
	"exit total 5000 kernel 3000 windows 1\n";

/*
 * The safe twin of window 1: its queue_rq adapter (named after the adapter set, not the
 * raw twin's function) runs 7 more instructions per I/O.
 */
static const char window_2[] =
	"family=null\narm=safenull\nworkload=rr\nsample=1\nmodules=safenull\ncore=block\n"
	"ios=10\n"
	"ffffffffc0001000 t safenull_mq_queue_rq_adapter\t[safenull]\n"
	"ffffffffc0002000 t other_fn\t[othermod]\n";

static const char plugin_out_2[] =
	"window 2 total 1050 kernel 650 user 400\n"
	"tb 0xffffffff81000000 100 10\n"
	"tb 0xffffffff81000010 50 10\n"
	"tb 0xffffffff81001000 200 5\n"
	"tb 0xffffffffc0001000 220 10\n"
	"tb 0xffffffffc0002000 80 1\n"
	"end 2\n";

static int setup(void **state)
{
	char insn_dir[256];

	(void)state;
	strcpy(run_dir, "/tmp/test_insn-XXXXXX");
	if (!mkdtemp(run_dir))
		return -1;
	put_file("insncount-1.txt", plugin_out);
	/* the roles pair the raw twin with the safe one, as the runner records them */
	put_file("facts.tsv", "# twinbench facts 1\n"
		 "arm\tnull\trawnull\trole=raw\tmodule=rawnull\n"
		 "arm\tnull\tsafenull\trole=safe\tmodule=safenull\n");
	snprintf(insn_dir, sizeof(insn_dir), "%s/insn", run_dir);
	mkdir(insn_dir, 0755);
	put_file("insn/kallsyms-vmlinux.txt", vmlinux_syms);
	put_file("insn/window-1.txt", window_1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", run_dir);
	return system(cmd);
}

static const struct sample_row *find_row(const struct sample_table *t, const char *metric)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->rows[i].metric, metric))
			return &t->rows[i];
	fail_msg("no %s row", metric);
	return NULL;
}

static void test_metrics_by_hand(void **state)
{
	struct sample_table t = { 0 };
	char err[512];

	(void)state;
	assert_int_equal(insn_merge(run_dir, &t, err, sizeof(err)), 1);
	assert_int_equal(t.n, 6);
	/* 1050 and 650 instructions over 10 I/Os; driver 150 + layer 20; core 100 + 50. */
	assert_true(find_row(&t, "insn_per_io")->value == 105);
	assert_true(find_row(&t, "kernel_insn_per_io")->value == 65);
	assert_true(find_row(&t, "driver_insn_per_io")->value == 17);
	assert_true(find_row(&t, "core_insn_per_io")->value == 15);
	assert_true(find_row(&t, "driver_insn_per_io")->valid);
	assert_string_equal(find_row(&t, "insn_per_io")->arm, "rawnull");
	assert_int_equal(find_row(&t, "insn_per_io")->sample, 1);
	sample_table_free(&t);
}

static void test_function_table(void **state)
{
	struct sample_table t = { 0 };
	char err[512], path[300], line[512];
	bool queue_rq = false, layer = false, core = false, unknown = false;
	FILE *f;

	(void)state;
	assert_int_equal(insn_merge(run_dir, &t, err, sizeof(err)), 1);
	snprintf(path, sizeof(path), "%s/insn-functions.csv", run_dir);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		queue_rq |= !!strstr(line, ",rawnull_queue_rq,rawnull,driver,15.000,1.0000,15.00,1");
		layer |= !!strstr(line, ",safe_check,rawnull,layer,2.000,1.0000,2.00,1");
		/* two blocks of blk_mq_submit_bio; only the one at its start counts calls */
		core |= !!strstr(line, ",blk_mq_submit_bio,,core,15.000,1.0000,15.00,1");
		unknown |= !!strstr(line, ",[unknown],,kernel,5.000,0.0000,,1");
	}
	fclose(f);
	assert_true(queue_rq);
	assert_true(layer);
	assert_true(core);
	assert_true(unknown);
	sample_table_free(&t);
}

/* The twin map pairs the raw op with the safe adapter and the typed op it inlines. */
static const char twin_map[] =
	"# family\traw\tsafe\trust\treason\n"
	"\n"
	"null\trawnull_queue_rq\tsafenull_queue_rq\t-\tthe typed op\n"
	"null\trawnull_queue_rq\tsafenull_mq_queue_rq\t-\tops adapter: inlines the op\n"
	"nvme\trawnvme_queue_rq\tsafenvme_queue_rq\t-\tanother family\n";

/* Whether RUN/insn-diff.csv has a line starting with @start. */
static bool diff_has(const char *start)
{
	char path[300], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/insn-diff.csv", run_dir);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		found |= !strncmp(line, start, strlen(start));
	fclose(f);
	return found;
}

static void test_diff_pairs_by_twin_map(void **state)
{
	struct sample_table t = { 0 };
	char err[512];

	(void)state;
	put_file("insncount-2.txt", plugin_out_2);
	put_file("insn/window-2.txt", window_2);
	assert_int_equal(insn_merge(run_dir, &t, err, sizeof(err)), 2);
	/* no map: the moved function shows twice, once removed, once added */
	assert_true(diff_has("null,rr,rawnull,safenull,rawnull_queue_rq,rawnull,driver,"
			     "15.000,0.000,-15.000\n"));
	assert_true(diff_has("null,rr,rawnull,safenull,safenull_mq_queue_rq_adapter,safenull,"
			     "driver,0.000,22.000,22.000\n"));
	sample_table_free(&t);
	memset(&t, 0, sizeof(t));
	put_file("twins.tsv", twin_map);
	assert_int_equal(insn_merge(run_dir, &t, err, sizeof(err)), 2);
	assert_true(diff_has("null,rr,rawnull,safenull,rawnull_queue_rq/safenull_queue_rq+"
			     "safenull_mq_queue_rq,rawnull/safenull,driver,15.000,22.000,7.000\n"));
	assert_false(diff_has("null,rr,rawnull,safenull,rawnull_queue_rq,"));
	assert_false(diff_has("null,rr,rawnull,safenull,safenull_mq_queue_rq_adapter,"));
	sample_table_free(&t);
}

static void test_twin_map_checked(void **state)
{
	char err[512], top[300], path[400];

	(void)state;
	snprintf(top, sizeof(top), "%s/tree", run_dir);
	mkdir(top, 0755);
	assert_int_equal(insn_twins_copy(top, run_dir, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/twins.tsv", run_dir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/drivers-safe", top);
	mkdir(path, 0755);
	put_file("tree/drivers-safe/twins.tsv", "null\trawnull_a\tsafenull_a\t-\tok\n"
		 "null\trawnull_b safenull_b\n");
	assert_int_equal(insn_twins_copy(top, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "drivers-safe/twins.tsv:2: expected family, raw_function"));
	put_file("tree/drivers-safe/twins.tsv", twin_map);
	assert_int_equal(insn_twins_copy(top, NULL, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/twins.tsv", run_dir);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(insn_twins_copy(top, run_dir, err, sizeof(err)), 0);
	assert_int_equal(access(path, F_OK), 0);
}

static void test_diff_table(void **state)
{
	struct sample_table t = { 0 };
	char err[512], path[300], line[512];
	bool driver_total = false, core_total = false, queue_rq = false;
	FILE *f;

	(void)state;
	put_file("twins.tsv", twin_map);
	put_file("insncount-2.txt", plugin_out_2);
	put_file("insn/window-2.txt", window_2);
	assert_int_equal(insn_merge(run_dir, &t, err, sizeof(err)), 2);
	snprintf(path, sizeof(path), "%s/insn-diff.csv", run_dir);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		/* driver 15 (and layer 2) against 22; the adapter matches the raw op */
		driver_total |= !strcmp(line, "null,rr,rawnull,safenull,[total],,driver,"
					"15.000,22.000,7.000\n");
		core_total |= !strcmp(line, "null,rr,rawnull,safenull,[total],,core,"
				      "15.000,15.000,0.000\n");
		queue_rq |= !strcmp(line, "null,rr,rawnull,safenull,rawnull_queue_rq/"
				    "safenull_queue_rq+safenull_mq_queue_rq,rawnull/safenull,"
				    "driver,15.000,22.000,7.000\n");
	}
	fclose(f);
	assert_true(driver_total);
	assert_true(core_total);
	assert_true(queue_rq);
	sample_table_free(&t);
}

static void test_replaces_and_inherits_invalid(void **state)
{
	struct sample_table t = { 0 };
	struct sample_row runner = { .sample = 1, .value = 123, .valid = false };
	char err[512];

	(void)state;
	strcpy(runner.family, "null");
	strcpy(runner.arm, "rawnull");
	strcpy(runner.workload, "rr");
	strcpy(runner.metric, "iops");
	strcpy(runner.note, "kernel-warning: planted");
	sample_table_add(&t, &runner);
	strcpy(runner.metric, "insn_per_io");
	runner.valid = true;
	runner.note[0] = '\0';
	sample_table_add(&t, &runner);
	strcpy(runner.note, "kernel-warning: planted");
	assert_int_equal(insn_merge(run_dir, &t, err, sizeof(err)), 1);
	assert_int_equal(t.n, 7);
	assert_true(find_row(&t, "insn_per_io")->value == 105);
	assert_false(find_row(&t, "driver_insn_per_io")->valid);
	assert_string_equal(find_row(&t, "driver_insn_per_io")->note, "kernel-warning: planted");
	sample_table_free(&t);
}

static void test_marker_error_invalidates(void **state)
{
	struct sample_table t = { 0 };
	char err[512];

	(void)state;
	put_file("insncount-2.txt", "error window 1 closed while window 7 is open\n");
	assert_int_equal(insn_merge(run_dir, &t, err, sizeof(err)), 1);
	assert_false(find_row(&t, "insn_per_io")->valid);
	assert_string_equal(find_row(&t, "insn_per_io")->note, "insn-marker-out-of-order");
	sample_table_free(&t);
}

static void test_broken_plugin_output(void **state)
{
	struct sample_table t = { 0 };
	char err[512];

	(void)state;
	put_file("insncount-3.txt", "window 2 total 1 kernel 1 user 0\nbogus line\n");
	assert_int_equal(insn_merge(run_dir, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "insncount-3.txt:2: not an insncount line"));
	sample_table_free(&t);
}

static void test_no_plugin_output(void **state)
{
	struct sample_table t = { 0 };
	char err[512], path[300];

	(void)state;
	snprintf(path, sizeof(path), "%s/insncount-1.txt", run_dir);
	unlink(path);
	assert_int_equal(insn_merge(run_dir, &t, err, sizeof(err)), 0);
	assert_int_equal(t.n, 0);
}

static void test_hooks(void **state)
{
	const struct insn_window_desc d = { .family = "nvme", .arm = "nvme", .workload = "rr",
					    .sample = 2, .module = "nvme" };
	char buf[1024];

	(void)state;
	unsetenv("TWINBENCH_GUEST");
	insn_window_set("/out", 7, &d);
	assert_int_equal(insn_hook_start(buf, sizeof(buf), "cat /proc/stat"), 0);
	assert_string_equal(buf, "cat /proc/stat");
	setenv("TWINBENCH_GUEST", "1", 1);
	insn_window_set("/out", 7, &d);
	assert_int_equal(insn_hook_start(buf, sizeof(buf), "cat /proc/stat"), 0);
	assert_string_equal(buf, "{ twinmark start 7; cat /proc/stat; }");
	assert_int_equal(insn_hook_stop(buf, sizeof(buf), "cat /proc/stat", 40000), 0);
	assert_string_equal(buf, "{ cat /proc/stat; twinmark stop 7 -o '/out/insn' "
			    "family='nvme' arm='nvme' workload='rr' sample=2 "
			    "modules=nvme,nvme_core core=block ios=40000; }");
	assert_int_equal(insn_hook_stop(buf, 20, "cat /proc/stat", 1), -1);
	insn_window_set(NULL, 0, NULL);
	assert_int_equal(insn_hook_stop(buf, sizeof(buf), "true", 1), 0);
	assert_string_equal(buf, "true");
	unsetenv("TWINBENCH_GUEST");
}

/*
 * Window 3 with class counts: the user slot, a driver block that ends in a call of a
 * retpoline thunk (one indirect call per execution that reached the call: 10 of its 12, two
 * cut short by QEMU), a layer block, a core block that jumps
 * to the thunk (an indirect jump), and the thunk itself, whose call and ret stay its own.
 */
static const char window_3[] =
	"family=null\narm=rawnull\nworkload=rr\nsample=2\nmodules=rawnull\ncore=block\n"
	"ios=10\n"
	"ffffffffc0001000 t rawnull_queue_rq\t[rawnull]\n"
	"ffffffffc0001100 t safe_check\t[rawnull]\n";

static const char plugin_classes[] =
	"insncount api 1 qemu-api 0..1 target x86_64 vcpus 1\n"
	"classes atomic fence serial icall ijmp ret jcc rep load store mem on\n"
	"window 3 total 1000 kernel 600 user 400\n"
	"user 0 0 0 0 0 10 40 0 100 50\n"
	"tb 0xffffffffc0001000 200 12 call 0xffffffff81002000 10 20 10 0 0 0 0 30 80 60 40\n"
	"tb 0xffffffffc0001100 100 10 0 0 0 0 0 10 10 0 20 10\n"
	"tb 0xffffffff81000000 250 10 jmp 0xffffffff81002000 10 0 0 0 0 0 0 20 0 0 0\n"
	"tb 0xffffffff81002000 50 20 0 0 0 0 0 20 0 0 0 0\n"
	"end 3\n";

static const char vmlinux_thunk[] =
	"ffffffff81000000 T blk_mq_submit_bio\n"
	"ffffffff81002000 T __x86_indirect_thunk_rax\n";

static double metric(const struct sample_table *t, const char *name)
{
	return find_row(t, name)->value;
}

static void test_classes_by_hand(void **state)
{
	struct sample_table t = { 0 };
	double cls[N_INSN_CLASSES] = { 0 }, driver[N_INSN_CLASSES] = { 0 };
	char err[512];

	(void)state;
	put_file("insncount-1.txt", plugin_classes);
	put_file("insn/kallsyms-vmlinux.txt", vmlinux_thunk);
	put_file("insn/window-3.txt", window_3);
	assert_int_equal(insn_merge(run_dir, &t, err, sizeof(err)), 1);
	/* whole path per I/O: user + all blocks; driver: the two rawnull blocks */
	assert_true(metric(&t, "atomic_per_io") == 2);
	assert_true(metric(&t, "fence_per_io") == 1);
	assert_true(metric(&t, "icall_per_io") == 1);	/* 10 thunk calls */
	assert_true(metric(&t, "ijmp_per_io") == 1);	/* 10 thunk jumps */
	assert_true(metric(&t, "ret_per_io") == 4);	/* 10 + 10 + 20 */
	assert_true(metric(&t, "jcc_per_io") == 10);	/* 40 + 30 + 10 + 20 */
	assert_true(metric(&t, "rep_per_io") == 8);
	assert_true(metric(&t, "load_per_io") == 18);
	assert_true(metric(&t, "store_per_io") == 10);
	assert_true(metric(&t, "driver_atomic_per_io") == 2);
	assert_true(metric(&t, "driver_icall_per_io") == 1);
	assert_true(metric(&t, "driver_ijmp_per_io") == 0);
	assert_true(metric(&t, "driver_ret_per_io") == 1);
	assert_true(metric(&t, "driver_jcc_per_io") == 4);
	assert_true(metric(&t, "driver_rep_per_io") == 8);
	assert_string_equal(find_row(&t, "rep_per_io")->unit, "count");
	/* the estimate: 30 driver insns per I/O, 2 atomic, 1 fence, 1 icall, 1 ret, 4 jcc, 8 rep */
	driver[INSN_CLASS_ATOMIC] = 2;
	driver[INSN_CLASS_FENCE] = 1;
	driver[INSN_CLASS_ICALL] = 1;
	driver[INSN_CLASS_RET] = 1;
	driver[INSN_CLASS_JCC] = 4;
	driver[INSN_CLASS_REP] = 8;
	assert_true(fabs(metric(&t, "driver_est_cycles_glc_per_io") -
			 (13 * 0.25 + 2 * 19 + 33 + 2 + 1 + 4 * 0.5 + 8)) < 1e-9);
	assert_true(fabs(metric(&t, "driver_est_cycles_zen4_per_io") -
			 insn_estimate(driver, 30, INSN_UARCH_ZEN4)) < 1e-9);
	assert_true(fabs(insn_estimate(cls, 100, INSN_UARCH_GLC) - 25) < 1e-9);
	assert_string_equal(find_row(&t, "est_cycles_glc_per_io")->unit, "est-cycles");
	for (size_t i = 0; i < t.n; i++)
		if (!metric_lookup(t.rows[i].metric))
			fail_msg("%s is not in the metric table (not compared)", t.rows[i].metric);
	sample_table_free(&t);
}

/* Old plugin output (no classes line) gives no class rows; a short class row is an error. */
static void test_classes_absent_or_broken(void **state)
{
	struct sample_table t = { 0 };
	char err[512];

	(void)state;
	assert_int_equal(insn_merge(run_dir, &t, err, sizeof(err)), 1);
	for (size_t i = 0; i < t.n; i++)
		assert_null(strstr(t.rows[i].metric, "atomic"));
	sample_table_free(&t);
	put_file("insncount-1.txt",
		 "classes atomic fence serial icall ijmp ret jcc rep load store mem off\n"
		 "window 1 total 1050 kernel 650 user 400\n"
		 "tb 0xffffffff81000000 100 10 1 2 3\n"
		 "end 1\n");
	assert_int_equal(insn_merge(run_dir, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "insncount-1.txt:3: expected tb ADDR"));
	sample_table_free(&t);
}

/* docs/insn-classes.md's cost table says what plugin/insnclass.h says, row for row. */
static void test_cost_table_documented(void **state)
{
	char line[512];
	int rows = 0;
	bool in_table = false;
	FILE *f = fopen(FIXTURES "/../../docs/insn-classes.md", "r");

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char name[32];
		double glc, zen4;

		if (strstr(line, "<!-- cost table"))
			in_table = true;
		if (!in_table || sscanf(line, "| %31[a-z] | %lf | %lf |", name, &glc, &zen4) != 3)
			continue;
		if (!strcmp(name, "other")) {
			assert_true(glc == insn_cost_other[INSN_UARCH_GLC]);
			assert_true(zen4 == insn_cost_other[INSN_UARCH_ZEN4]);
			rows++;
			continue;
		}
		for (int c = 0; c < N_INSN_CLASSES; c++)
			if (!strcmp(name, insn_class_table[c].name)) {
				assert_true(glc == insn_class_table[c].cost[INSN_UARCH_GLC]);
				assert_true(zen4 == insn_class_table[c].cost[INSN_UARCH_ZEN4]);
				rows++;
			}
	}
	fclose(f);
	assert_int_equal(rows, N_INSN_CLASSES + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_metrics_by_hand, setup, teardown),
		cmocka_unit_test_setup_teardown(test_function_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diff_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diff_pairs_by_twin_map, setup, teardown),
		cmocka_unit_test_setup_teardown(test_twin_map_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replaces_and_inherits_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_marker_error_invalidates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_plugin_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_plugin_output, setup, teardown),
		cmocka_unit_test(test_hooks),
		cmocka_unit_test_setup_teardown(test_classes_by_hand, setup, teardown),
		cmocka_unit_test_setup_teardown(test_classes_absent_or_broken, setup, teardown),
		cmocka_unit_test(test_cost_table_documented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
