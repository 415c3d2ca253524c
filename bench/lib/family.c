// SPDX-License-Identifier: GPL-2.0
/*
 * family.c - the registry of device families (validated at registration), and the lookups
 * of their arm tables.
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
	if (!ops->name || !*ops->name || strlen(ops->name) >= FAMILY_NAME_LEN)
		return "no name, or a name too long";
	if (!ops->arms || !ops->arms[0].name)
		return "no arms";
	for (const struct family_arm *a = ops->arms; a->name; a++)
		if (!a->module || !a->device || strlen(a->name) >= FAMILY_NAME_LEN)
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
	static char names[MAX_FAMILIES * (FAMILY_NAME_LEN + 1)];
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
