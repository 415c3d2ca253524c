// SPDX-License-Identifier: GPL-2.0
/*
 * family.c - the registry of device families (validated at registration) and
 * the module-loading helpers every module-backed family uses.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "family.h"
#include "util.h"

#define MAX_FAMILIES	8

static const struct family_ops *registered[MAX_FAMILIES];
static size_t n_registered, n_rejected;

static const char *family_defect(const struct family_ops *ops)
{
	if (ops->version != FAMILY_OPS_VERSION)
		return "ops version differs from FAMILY_OPS_VERSION";
	if (!ops->name || !*ops->name || strlen(ops->name) >= MATRIX_NAME_LEN)
		return "no name, or a name too long";
	if (!ops->arms || !ops->arms[0].name)
		return "no arms";
	for (const struct family_arm *a = ops->arms; a->name; a++)
		if (!a->module || !a->device || strlen(a->name) >= MATRIX_NAME_LEN)
			return "an arm without module or device, or with a name too long";
	if (!ops->default_params || !ops->unit_metric || !ops->primary_metric)
		return "default_params, unit_metric or primary_metric missing";
	if (!ops->check_params || !ops->check_workload || !ops->load || !ops->devices ||
	    !ops->run || !ops->unload)
		return "a required op is missing";
	if (family_find(ops->name))
		return "registered twice";
	if (n_registered == MAX_FAMILIES)
		return "too many families";
	return NULL;
}

int family_register(const struct family_ops *ops)
{
	const char *defect = family_defect(ops);

	if (defect) {
		fprintf(stderr, "twinbench: family '%s' rejected: %s\n",
			ops->name ? ops->name : "?", defect);
		n_rejected++;
		return -1;
	}
	registered[n_registered++] = ops;
	return 0;
}

const struct family_ops *family_find(const char *name)
{
	for (size_t i = 0; i < n_registered; i++)
		if (!strcmp(registered[i]->name, name))
			return registered[i];
	return NULL;
}

size_t family_registration_errors(void)
{
	return n_rejected;
}

const char *family_names(void)
{
	static char names[MAX_FAMILIES * (MATRIX_NAME_LEN + 1)];
	size_t off = 0;

	names[0] = '\0';
	for (size_t i = 0; i < n_registered; i++)
		off += snprintf(names + off, sizeof(names) - off, "%s%s", i ? " " : "",
				registered[i]->name);
	return names;
}

const struct family_arm *family_find_arm(const struct family_ops *ops, const char *arm)
{
	for (const struct family_arm *a = ops->arms; a->name; a++)
		if (!strcmp(a->name, arm))
			return a;
	return NULL;
}

bool family_arm_serves(const struct family_ops *ops, const char *arm, const struct matrix *m,
		       const struct workload *w, char *why, size_t len)
{
	const struct family_arm *a = family_find_arm(ops, arm);

	if (len)
		why[0] = '\0';
	return !a || !a->serves || !a->serves(m, w, why, len);
}

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
	char buf[MATRIX_PARAMS_LEN], *argv[40], *save = NULL, *tok;
	struct proc_result res;
	size_t argc = 0;

	snprintf(buf, sizeof(buf), "%s", params);
	argv[argc++] = "modprobe";
	argv[argc++] = (char *)module;
	for (tok = strtok_r(buf, " \t", &save); tok && argc < 39;
	     tok = strtok_r(NULL, " \t", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	if (proc_run(argv, NULL, &res, err, len))
		return -1;
	if (res.status) {
		seterr(err, len, "modprobe %s failed (status %d): %s", module, res.status,
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
	char *argv[] = { "modprobe", "-r", (char *)module, NULL };
	struct proc_result res = { 0 };

	for (int attempt = 0; attempt < 50 && kmod_is_loaded(module); attempt++) {
		proc_result_free(&res);
		if (proc_run(argv, NULL, &res, err, len))
			return -1;
		if (!res.status)
			break;
		usleep(100000);	/* a device still held open by a closing fio */
	}
	if (kmod_is_loaded(module)) {
		seterr(err, len, "modprobe -r %s failed: %s", module,
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
