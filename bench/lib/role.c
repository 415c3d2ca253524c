// SPDX-License-Identifier: GPL-2.0
/*
 * role.c - names of the arm roles, as the run folder records them.
 */
#include <string.h>
#include "role.h"

static const char *const role_names[] = {
	[ARM_RAW] = "raw", [ARM_SAFE] = "safe", [ARM_RUST] = "rust",
	[ARM_UPSTREAM] = "upstream", [ARM_VARIANT] = "variant", [ARM_NONE] = "none",
};

const char *arm_role_name(enum arm_role role)
{
	return role <= ARM_NONE ? role_names[role] : "none";
}

enum arm_role arm_role_parse(const char *name)
{
	for (unsigned int r = 0; r < ARM_NONE; r++)
		if (!strcmp(name, role_names[r]))
			return r;
	return ARM_NONE;
}
