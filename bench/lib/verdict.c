// SPDX-License-Identifier: GPL-2.0
/* verdict.c - verdict names, written and read back. */
#include <string.h>

#include "util.h"
#include "verdict.h"

static const char *const verdict_names[] = {
	[VERDICT_INCONCLUSIVE] = "inconclusive",
	[VERDICT_EQUIVALENT] = "equivalent",
	[VERDICT_FASTER] = "faster",
	[VERDICT_SLOWER] = "slower",
};

const char *verdict_name(enum verdict v)
{
	return (unsigned int)v < ARRAY_LEN(verdict_names) ? verdict_names[v] : "?";
}

int verdict_parse(const char *s, enum verdict *v)
{
	for (unsigned int i = 0; i < ARRAY_LEN(verdict_names); i++) {
		if (!strcmp(s, verdict_names[i])) {
			*v = (enum verdict)i;
			return 0;
		}
	}
	/* summary.csv files written before the three-way verdict: "same" meant no evidence */
	if (!strcmp(s, "same")) {
		*v = VERDICT_INCONCLUSIVE;
		return 0;
	}
	return -1;
}
