// SPDX-License-Identifier: GPL-2.0
/*
 * test_manifest.c - manifest.json of a run folder, written for this host (host mode: the
 * running kernel, this tree) and read back: mode and profile, the kernel line, and the
 * concurrent runs merged in without duplicates.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "manifest.h"
#include "matrix.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_manifest-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static json_t *load(void)
{
	char path[PATH_MAX];
	json_error_t jerr;
	json_t *root;

	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	root = json_load_file(path, 0, &jerr);
	assert_non_null(root);
	return root;
}

static void test_write_and_read(void **state)
{
	struct matrix *m = calloc(1, sizeof(*m));
	struct manifest_info mi = {
		.top = FIXTURES "/../..", .rundir = dir, .run_id = "test-run",
		.profile = "quick", .mode = "host", .mode_reason = "unit test",
		.clock = "wall", .icount_shift = -1, .seed = 42,
	};
	char err[512], mode[16], profile[32], line[32];
	char release[256];
	json_t *root, *runs;
	FILE *f;

	(void)state;
	f = fopen("/proc/sys/kernel/osrelease", "r");
	assert_non_null(f);
	assert_non_null(fgets(release, sizeof(release), f));
	fclose(f);
	release[strcspn(release, "\n")] = '\0';
	mi.kver = release;
	assert_int_equal(matrix_load(FIXTURES "/matrix/good.ini", m, err, sizeof(err)), 0);
	assert_int_equal(manifest_write(&mi, m, err, sizeof(err)), 0);
	root = load();
	assert_string_equal(json_string_value(json_object_get(root, "run_id")), "test-run");
	assert_int_equal(json_integer_value(json_object_get(root, "seed")), 42);
	assert_string_equal(json_string_value(json_object_get(json_object_get(root, "kernel"),
							      "release")), release);
	{
		/* the machine identity a shared history keys runs by */
		json_t *host = json_object_get(root, "host");
		char id[64] = "";

		f = fopen("/etc/machine-id", "r");
		if (f) {
			assert_non_null(fgets(id, sizeof(id), f));
			id[strcspn(id, "\n")] = '\0';
			fclose(f);
			assert_string_equal(json_string_value(json_object_get(host, "machine_id")),
					    id);
		}
		assert_true(json_integer_value(json_object_get(host, "cores")) >= 1);
		assert_true(json_integer_value(json_object_get(host, "memory_bytes")) > 1 << 20);
	}
	json_decref(root);
	assert_int_equal(manifest_read_mode(dir, mode, sizeof(mode), profile, sizeof(profile),
					    err, sizeof(err)), 0);
	assert_string_equal(mode, "host");
	assert_string_equal(profile, "quick");
	/* host mode names no kernel line */
	assert_int_not_equal(manifest_read_kernel_line(dir, line, sizeof(line)), 0);
	runs = json_pack("[{s:i, s:s}]", "pid", 99, "run", "other");
	assert_int_equal(manifest_set_concurrent(dir, runs, err, sizeof(err)), 0);
	assert_int_equal(manifest_set_concurrent(dir, runs, err, sizeof(err)), 0);
	json_decref(runs);
	assert_int_equal(manifest_set(dir, "kernel_taint", json_pack("{s:i}", "before", 0),
				      err, sizeof(err)), 0);
	root = load();
	assert_int_equal(json_array_size(json_object_get(root, "concurrent_runs")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(root, "kernel_taint"),
							    "before")), 0);
	assert_string_equal(json_string_value(json_object_get(root, "mode")), "host");
	json_decref(root);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_and_read),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
