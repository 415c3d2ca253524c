// SPDX-License-Identifier: GPL-2.0
/*
 * kmod.c - what every module-backed family does to its arms in the guest: load and unload
 * a module, wait for its device, and record a sample's metrics and settings. In host mode
 * our modules are not installed: they are loaded from the tree they were built in (its
 * modules.order), the kernel's own through modprobe.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "kmod.h"
#include "matrix.h"
#include "util.h"

static void sysfs_module_dir(const char *module, char *buf, size_t size)
{
	size_t off = snprintf(buf, size, "/sys/module/");

	for (const char *p = module; *p && off + 1 < size; p++)
		buf[off++] = *p == '-' ? '_' : *p;
	buf[off] = '\0';
}

bool kmod_is_loaded(const char *module)
{
	char dir[256], path[300];

	sysfs_module_dir(module, dir, sizeof(dir));
	path_printf(path, sizeof(path), "%s/initstate", dir);
	return path_exists(path);
}

static char tree_top[PATH_MAX];

void kmod_use_tree(const char *top)
{
	snprintf(tree_top, sizeof(tree_top), "%s", top);
}

FILE *kmod_tree_open(void)
{
	char path[PATH_MAX + 16];

	if (!tree_top[0])
		return NULL;
	path_printf(path, sizeof(path), "%s/modules.order", tree_top);
	return fopen(path, "r");
}

/* modules.order names objects absolute (.ko) or relative to the tree (.o), by kbuild version. */
bool kmod_tree_next(FILE *order, char *path, size_t size)
{
	char line[PATH_MAX];
	size_t n;

	while (fgets(line, sizeof(line), order)) {
		n = strcspn(line, "\n");
		line[n] = '\0';
		if (n > 2 && !strcmp(line + n - 2, ".o"))
			line[n - 2] = '\0';
		else if (n > 3 && !strcmp(line + n - 3, ".ko"))
			line[n - 3] = '\0';
		else
			continue;
		if (line[0] == '/')
			path_printf(path, size, "%s.ko", line);
		else
			path_printf(path, size, "%s/%s.ko", tree_top, line);
		return true;
	}
	return false;
}

bool kmod_tree_module(const char *module, char *path, size_t size)
{
	char want[256];
	bool found = false;
	size_t w;
	FILE *f = kmod_tree_open();

	if (!f)
		return false;
	w = snprintf(want, sizeof(want), "/%s.ko", module);
	while (!found && kmod_tree_next(f, path, size))
		found = strlen(path) > w && !strcmp(path + strlen(path) - w, want) &&
			path_exists(path);
	fclose(f);
	return found;
}

bool wait_for_path(const char *path, double seconds)
{
	double end = now_seconds() + seconds;

	while (!path_exists(path)) {
		if (now_seconds() > end)
			return false;
		usleep(10000);
	}
	return true;
}

int kmod_load(const char *module, const char *params, char *err, size_t len)
{
	char buf[MATRIX_PARAMS_LEN], ko[PATH_MAX], *argv[40], *save = NULL, *tok;
	bool ours = kmod_tree_module(module, ko, sizeof(ko));
	struct proc_result res;
	size_t argc = 0;

	snprintf(buf, sizeof(buf), "%s", params);
	argv[argc++] = ours ? "insmod" : "modprobe";
	argv[argc++] = ours ? ko : (char *)module;
	for (tok = strtok_r(buf, " \t", &save); tok && argc < 39;
	     tok = strtok_r(NULL, " \t", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	if (proc_run(argv, NULL, &res, err, len))
		return -1;
	if (res.status) {
		seterr(err, len, "%s %s failed (status %d): %s", argv[0], argv[1], res.status,
		       strtrim(res.errout));
		proc_result_free(&res);
		return -1;
	}
	proc_result_free(&res);
	if (!kmod_is_loaded(module))
		return seterr(err, len, "modprobe %s succeeded but the module is not loaded",
			      module);
	return 0;
}

int kmod_unload(const char *module, char *err, size_t len)
{
	char ko[PATH_MAX], *argv[] = { "modprobe", "-r", (char *)module, NULL };
	struct proc_result res = { 0 };

	if (kmod_tree_module(module, ko, sizeof(ko))) {
		argv[0] = "rmmod";
		argv[1] = (char *)module;
		argv[2] = NULL;
	}
	for (int attempt = 0; attempt < 50 && kmod_is_loaded(module); attempt++) {
		proc_result_free(&res);
		if (proc_run(argv, NULL, &res, err, len))
			return -1;
		if (!res.status)
			break;
		usleep(100000);	/* a device still held open by a closing fio */
	}
	if (kmod_is_loaded(module)) {
		seterr(err, len, "%s %s failed: %s", argv[0], module,
		       res.errout ? strtrim(res.errout) : "still loaded");
		proc_result_free(&res);
		return -1;
	}
	proc_result_free(&res);
	return 0;
}

void run_output_metric(struct run_output *out, const char *metric, double value)
{
	if (out->n_metrics == FAMILY_MAX_METRICS)
		return;
	out->metrics[out->n_metrics].metric = metric;
	out->metrics[out->n_metrics++].value = value;
}

void run_output_setting(struct run_output *out, const char *name, const char *value)
{
	if (out->n_settings == FAMILY_MAX_SETTINGS)
		return;
	snprintf(out->settings[out->n_settings].name, sizeof(out->settings[0].name), "%s", name);
	snprintf(out->settings[out->n_settings].value, sizeof(out->settings[0].value), "%s",
		 value);
	out->n_settings++;
}
