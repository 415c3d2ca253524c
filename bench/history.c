// SPDX-License-Identifier: GPL-2.0
/* history.c - twinbench history add: the SQLite history of runs. */
#include <stdio.h>
#include "report.h"

int history_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "twinbench history: not implemented yet\n");
	return 1;
}
