// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - twinbench: one binary, one subcommand per job. Running and executing
 * plans live here in bench/; reporting lives in the report*.c files.
 */
#include <stdio.h>
#include <string.h>
#include "exec.h"
#include "insn.h"
#include "dashboard.h"
#include "history.h"
#include "report.h"
#include "report_compare.h"
#include "run.h"
#include "util.h"

struct subcommand {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *help;
};

static const struct subcommand subcommands[] = {
	{ "run", run_main, "validate a matrix, execute it (host or VM), summarise" },
	{ "exec", exec_main, "execute a plan where modules load (guest or host mode)" },
	{ "check", check_main, "validate a matrix file and print its plan" },
	{ "summarise", summarise_main, "rebuild samples.csv and summary.csv of a run folder" },
	{ "report", report_main, "plots and report of a run folder" },
	{ "history", history_main, "keep the nightly history database" },
	{ "compare", compare_main, "regression verdict between two runs" },
	{ "dashboard", dashboard_main, "static HTML trend page" },
	{ "insn", insn_main, "instruction profiles of a run folder (insncount plugin)" },
};

#define N_SUBCOMMANDS ARRAY_LEN(subcommands)

static void usage(FILE *f)
{
	fprintf(f, "usage: twinbench COMMAND [OPTIONS]\n");
	for (size_t i = 0; i < N_SUBCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].help);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < N_SUBCOMMANDS; i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].main(argc - 1, argv + 1);
	fprintf(stderr, "twinbench: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
