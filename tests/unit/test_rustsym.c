// SPDX-License-Identifier: GPL-2.0
/*
 * test_rustsym.c - the Rust symbol names the instruction diff pairs through the twin map
 * (bench/stats/rustsym.c): real symbols, as `nm` lists them, of rustnvme.ko and rustnull.ko
 * built for kernel 7 (v0 mangling, the kernel's), and of the same modules built with
 * -Csymbol-mangling-version=legacy; malformed and foreign names, which must be refused; and
 * the safe-minus-Rust diff of the run folder tests/fixtures/run-rust with a twin map, whose
 * Rust functions must land on their safe counterparts' rows.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "insn.h"
#include "results.h"
#include "rustsym.h"

struct sym_case {
	const char *sym, *want;
};

static void check_cases(const struct sym_case *c, size_t n)
{
	char out[256];

	for (size_t i = 0; i < n; i++) {
		memset(out, 0, sizeof(out));
		if (rustsym_path(c[i].sym, out, sizeof(out)))
			fail_msg("%s: refused, want %s", c[i].sym, c[i].want);
		if (strcmp(out, c[i].want))
			fail_msg("%s: got %s, want %s", c[i].sym, out, c[i].want);
	}
}

/* v0: free functions, inherent and trait impls, generics, closures, backrefs, consts. */
static const struct sym_case v0_cases[] = {
	{ "_RNvCsh9AB6d9XsAf_8rustnvme19rustnvme_admin_exec", "rustnvme_admin_exec" },
	{ "_RNvCs81etf6cedvd_8rustnull17rustnull_transfer", "rustnull_transfer" },
	{ "_RNvXs9_Csh9AB6d9XsAf_8rustnvmeNtB5_8RustNvmeNtNtNtNtB5_5layer6blk_mq10operations"
	  "10Operations8queue_rq", "RustNvme::queue_rq" },
	{ "_RNvMNtNtNtCsh9AB6d9XsAf_8rustnvme5layer6blk_mq10operationsINtB2_16OperationsVTable"
	  "NtB8_8RustNvmeE17queue_rq_callbackB8_", "OperationsVTable::queue_rq_callback" },
	{ "_RNvMNtNtNtCs81etf6cedvd_8rustnull5layer6blk_mq10operationsINtB2_16OperationsVTable"
	  "NtB8_8RustnullE17queue_rq_callbackB8_", "OperationsVTable::queue_rq_callback" },
	{ "_RNvXs7_Csh9AB6d9XsAf_8rustnvmeNtB5_5QueueNtNtNtCsb5MLIFMWygY_6kernel3irq7request"
	  "7Handler6handle", "Queue::handle" },
	{ "_RNvXs8_Csh9AB6d9XsAf_8rustnvmeNtB5_8CtrlCoreNtNtCsb5MLIFMWygY_6kernel9workqueue"
	  "8WorkItem3run", "CtrlCore::run" },
	{ "_RNvXsr_Csh9AB6d9XsAf_8rustnvmeNtB5_4CtrlNtCs2s63OvngmLq_8pin_init10PinnedDrop4drop",
	  "Ctrl::drop" },
	/* An impl inside `const _: () = { ... }` (pin_data): a value path with a "_" name. */
	{ "_RNvXs3_NvCsh9AB6d9XsAf_8rustnvmes2_1__NtB7_4CtrlNtNtNtCs2lKf6AS60Zg_4core3ops4drop"
	  "4Drop4drop", "Ctrl::drop" },
	{ "_RNvXsa_Csh9AB6d9XsAf_8rustnvmeNtB5_13InstanceGuardNtNtNtCs2lKf6AS60Zg_4core3ops4drop"
	  "4Drop4drop", "InstanceGuard::drop" },
	{ "_RNvXsd_Csh9AB6d9XsAf_8rustnvmeNtB5_11RustNvmePciNtNtNtB5_5layer7pci_ext"
	  "14ShutdownDriver8shutdown", "RustNvmePci::shutdown" },
	{ "_RNvXs_Cs81etf6cedvd_8rustnullNtB4_14RustnullModuleNtNtCsb5MLIFMWygY_6kernel6module"
	  "6Module4init", "RustnullModule::init" },
	{ "_RNvXs_NtNtNtCs81etf6cedvd_8rustnull5layer6blk_mq7segmentNtB4_8SegmentsNtNtNtNtCs2lKf"
	  "6AS60Zg_4core4iter6traits8iterator8Iterator4next", "Segments::next" },
	{ "_RNvMs0_NtCsb5MLIFMWygY_6kernel3pciINtB5_7AdapterNtCsh9AB6d9XsAf_8rustnvme"
	  "11RustNvmePciE14probe_callbackBM_", "Adapter::probe_callback" },
	{ "_RNvMs0_NtCsb5MLIFMWygY_6kernel6driverINtB5_12RegistrationINtNtNtCsh9AB6d9XsAf_"
	  "8rustnvme5layer7pci_ext15ShutdownAdapterNtB10_11RustNvmePciEE20post_unbind_callback"
	  "B10_", "Registration::post_unbind_callback" },
	/* A trait's default method: <T as Trait>::method ("Y"). */
	{ "_RNvYNtNtCsb5MLIFMWygY_6kernel3str23NullTerminatedFormatterNtNtCs2lKf6AS60Zg_4core3fmt"
	  "5Write9write_fmtCsh9AB6d9XsAf_8rustnvme", "NullTerminatedFormatter::write_fmt" },
	/* A const generic argument (Ky0_). */
	{ "_RNvXs8_NtCsb5MLIFMWygY_6kernel9workqueueINtNtNtB7_4sync3arc3ArcNtCsh9AB6d9XsAf_"
	  "8rustnvme8CtrlCoreEINtB5_15WorkItemPointerKy0_E3runB11_", "Arc::run" },
	/* Generic functions: the function's own name. */
	{ "_RINvNtNtCsh9AB6d9XsAf_8rustnvme5layer7pci_ext17shutdown_callbackNtB6_11RustNvmePciEB6_",
	  "shutdown_callback" },
	{ "_RINvNtNtNtCsh9AB6d9XsAf_8rustnvme5layer6blk_mq8hw_queue12busy_iter_fnNtB8_8RustNvme"
	  "NvB8_18rustnvme_cancel_rqEB8_", "busy_iter_fn" },
	{ "_RINvNtCs2lKf6AS60Zg_4core3ptr13drop_in_placeNtCsh9AB6d9XsAf_8rustnvme13InstanceGuard"
	  "EBI_", "drop_in_place" },
	{ "_RINvNtCs2lKf6AS60Zg_4core3ptr13drop_in_placeINtNtNtCsb5MLIFMWygY_6kernel5alloc4kvec"
	  "3VecINtNtNtNtCsh9AB6d9XsAf_8rustnvme5layer6blk_mq8gen_disk7GenDiskNtB1w_8RustNvmeENtNt"
	  "BL_9allocator7KmallocEEB1w_", "drop_in_place" },
	/* Closures (NC) inside generic arguments, deep backrefs. */
	{ "_RINvXsh_NtNtCsb5MLIFMWygY_6kernel4sync3arcINtB6_9UniqueArcNtCsh9AB6d9XsAf_8rustnvme"
	  "8CtrlCoreEINtNtBa_4init11InPlaceInitBU_E12try_pin_initNtNtBa_5error5ErrorINtCs2s63Ovng"
	  "mLq_8pin_init11InitClosureNCINvYINtB6_3ArcBU_EIB1u_BU_E8pin_initB2b_IB2v_NCNvBW_"
	  "14rustnvme_probes1_0BU_EE0BU_EEBW_", "UniqueArc::try_pin_init" },
	/* A static inside a closure: the closure's empty name is "0", not part of a length. */
	{ "_RNvNCNvCsh9AB6d9XsAf_8rustnvme14rustnvme_probe05CLASS", "CLASS" },
};

static void test_v0(void **state)
{
	(void)state;
	check_cases(v0_cases, sizeof(v0_cases) / sizeof(*v0_cases));
}

/* Legacy: the same functions; the hash goes, generics go, "<T as Trait>" gives T. */
static const struct sym_case legacy_cases[] = {
	{ "_ZN8rustnvme19rustnvme_admin_exec17h5cd1eeb91cdf093aE", "rustnvme_admin_exec" },
	{ "_ZN8rustnull17rustnull_transfer17hfb6ddf8e6045169bE", "rustnull_transfer" },
	{ "_ZN86_$LT$rustnvme..RustNvme$u20$as$u20$rustnvme..layer..blk_mq..operations..Operations"
	  "$GT$8queue_rq17h689688abcffe786aE", "RustNvme::queue_rq" },
	{ "_ZN8rustnvme5layer6blk_mq10operations25OperationsVTable$LT$T$GT$17queue_rq_callback"
	  "17hce2d797b73651008E", "OperationsVTable::queue_rq_callback" },
	{ "_ZN65_$LT$rustnvme..Queue$u20$as$u20$kernel..irq..request..Handler$GT$6handle"
	  "17ha531b5df93add735E", "Queue::handle" },
	{ "_ZN66_$LT$rustnvme..CtrlCore$u20$as$u20$kernel..workqueue..WorkItem$GT$3run"
	  "17h20ed8ebc42ec4491E", "CtrlCore::run" },
	{ "_ZN55_$LT$rustnvme..Ctrl$u20$as$u20$pin_init..PinnedDrop$GT$4drop17h2d90c376f8715120E",
	  "Ctrl::drop" },
	{ "_ZN65_$LT$rustnvme..InstanceGuard$u20$as$u20$core..ops..drop..Drop$GT$4drop"
	  "17h763d4762280b46bfE", "InstanceGuard::drop" },
	{ "_ZN82_$LT$rustnvme..RustNvmePci$u20$as$u20$rustnvme..layer..pci_ext..ShutdownDriver"
	  "$GT$8shutdown17hb6b6dd03d0ccedc3E", "RustNvmePci::shutdown" },
	{ "_ZN67_$LT$rustnull..RustnullModule$u20$as$u20$kernel..module..Module$GT$4init"
	  "17h6a088aaaa7b57ef1E", "RustnullModule::init" },
	{ "_ZN101_$LT$rustnull..layer..blk_mq..segment..Segments$u20$as$u20$core..iter..traits.."
	  "iterator..Iterator$GT$4next17hae606edde52db65bE", "Segments::next" },
	{ "_ZN6kernel3pci16Adapter$LT$T$GT$14probe_callback17h8f487c9d5fefde54E",
	  "Adapter::probe_callback" },
	{ "_ZN4core3ptr157drop_in_place$LT$kernel..alloc..kvec..Vec$LT$rustnvme..layer..blk_mq.."
	  "gen_disk..GenDisk$LT$rustnvme..RustNvme$GT$$C$kernel..alloc..allocator..Kmalloc$GT$"
	  "$GT$17h7f8075d08c9a08d7E", "drop_in_place" },
	/* A default method: legacy names the trait, not the self type. */
	{ "_ZN4core3fmt5Write9write_fmt17hc6501e46db55b700E", "Write::write_fmt" },
};

static void test_legacy(void **state)
{
	(void)state;
	check_cases(legacy_cases, sizeof(legacy_cases) / sizeof(*legacy_cases));
}

/* Not Rust, cut short, looping or overlong: refused, never read past the end. */
static void test_refused(void **state)
{
	static const char *const bad[] = {
		"rawnvme_queue_rq",
		"safenvme_queue_rq_adapter",
		"_R",
		"_RNvCsh9AB6d9XsAf_8rustnvme19rustnvme_admin_ex",
		"_RNvCsh9AB6d9XsAf_8rustnvme99rustnvme_admin_exec",
		"_RNvCsh9AB6d9XsAf_8rustnvme",
		"_RCsh9AB6d9XsAf_8rustnvme",
		"_RNvB_3foo",
		"_RNvB9_3foo",
		"_RNvMNtNtNtCsh9AB6d9XsAf_8rustnvme5layer6blk_mq10operationsINtB2_16OperationsVTable",
		"_ZN8rustnvme19rustnvme_admin_exec17h5cd1eeb91cdf093a",
		"_ZN8rustnvme99rustnvme_admin_execE",
		"_ZN19rustnvme_admin_exec17h5cd1eeb91cdf093aE",
		NULL,
	};
	char out[256], small[8];

	(void)state;
	for (size_t i = 0; bad[i]; i++)
		if (!rustsym_path(bad[i], out, sizeof(out)))
			fail_msg("%s: accepted as %s", bad[i], out);
	assert_int_equal(rustsym_path("_RNvCsh9AB6d9XsAf_8rustnvme19rustnvme_admin_exec", small,
				      sizeof(small)), -1);
	assert_int_equal(rustsym_path(NULL, out, sizeof(out)), -1);
}

/*
 * The fixture's arms (safenull: its queue_rq adapter 20 and 20.768 per I/O, safe_check 4;
 * rustnull: rustnull_transfer 10 and 10.96, the layer's queue_rq callback 12, Rustnull::
 * queue_rq 2) with a twin map that pairs them: the Rust functions, mangled in kallsyms,
 * join their counterparts' rows (queue_rq: 20.384 against 12 + 2; the transfer: 0 against
 * 10.48), an unpaired one (the kernel crate's tag_id, 1) is shown by its path, and the class
 * totals stay those of each function's own class (driver 20.384
 * against 12.48, layer 4 against 18), as without the map.
 */
static void test_diff_pairs_rust(void **state)
{
	static const char map[] =
		"null\trawnull_queue_rq\tsafenull_queue_rq\tRustnull::queue_rq\t-\n"
		"null\trawnull_queue_rq\tsafenull_mq_queue_rq_adapter\t"
		"OperationsVTable::queue_rq_callback\tlayer: adapter\n"
		"null\trawnull_transfer\tsafenull_transfer\trustnull_transfer\t-\n";
	char scratch[] = "/tmp/test_rustsym-XXXXXX", run[64], path[128], cmd[256], err[256];
	char line[512];
	struct sample_table t = { 0 };
	bool queue = false, transfer = false, tag_id = false, driver = false, layer = false;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(scratch));
	snprintf(run, sizeof(run), "%s/run-rust", scratch);
	snprintf(cmd, sizeof(cmd), "cp -r '%s/run-rust' '%s/'", FIXTURES, scratch);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/twins.tsv", run);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(map, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/samples.csv", run);
	assert_int_equal(results_load_samples(path, &t, err, sizeof(err)), 0);
	if (insn_merge(run, &t, err, sizeof(err)) != 6)
		fail_msg("insn_merge: %s", err);
	sample_table_free(&t);
	snprintf(path, sizeof(path), "%s/insn-diff.csv", run);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "null,rr,safenull,rustnull,", 26))
			continue;
		assert_null(strstr(line, "rustnull_transfer,"));
		assert_null(strstr(line, "8queue_rq"));
		queue |= !strcmp(line + 26, "rawnull_queue_rq/safenull_queue_rq+"
				 "safenull_mq_queue_rq_adapter,safenull/rustnull,driver,20.384,14.000,"
				 "-6.384\n");
		transfer |= !strcmp(line + 26, "rawnull_transfer/safenull_transfer,"
				    "safenull/rustnull,driver,0.000,10.480,10.480\n");
		tag_id |= !strcmp(line + 26, "tag_id,,layer,0.000,1.000,1.000\n");
		driver |= !strcmp(line + 26, "[total],,driver,20.384,12.480,-7.904\n");
		layer |= !strcmp(line + 26, "[total],,layer,4.000,18.000,14.000\n");
	}
	fclose(f);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	assert_int_equal(system(cmd), 0);
	assert_true(queue);
	assert_true(transfer);
	assert_true(tag_id);
	assert_true(driver);
	assert_true(layer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v0),
		cmocka_unit_test(test_legacy),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_diff_pairs_rust),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
