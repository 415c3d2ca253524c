/* SPDX-License-Identifier: GPL-2.0 */
/*
 * matrix.h - the benchmark matrix: which device families and arms run which
 * workloads, how many samples of how many I/Os. Parsed from an INI file
 * (bench/profiles/NAME.ini) and validated completely, with "file:line: message"
 * errors, before anything is loaded.
 */
#ifndef TWINBENCH_MATRIX_H
#define TWINBENCH_MATRIX_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MATRIX_NAME_LEN		32	/* = FAMILY_NAME_LEN */
#define MATRIX_MAX_ARMS		16
#define MATRIX_MAX_PAIRS	32
#define MATRIX_MAX_FAMILIES	8
#define MATRIX_MAX_WORKLOADS	64
#define MATRIX_PARAMS_LEN	256

struct family_ops;

/* Block queue settings the runner sets before each sample; -1 leaves one as it is. */
struct queue_settings {
	char scheduler[MATRIX_NAME_LEN];
	int iostats, add_random, nomerges, rq_affinity, max_sectors_kb, nr_requests;
};

/* One fio job shape. Each field remembers the line it came from, for later checks. */
struct workload {
	char name[64];
	char family[MATRIX_NAME_LEN];	/* "" = every family of the matrix */
	char rw[16];			/* read, write, randread, randwrite; udp, tcp */
	unsigned int bs, iodepth, numjobs;	/* net: bs = payload, numjobs = streams */
	unsigned int hipri;		/* block: 1 = polled completions (fio --hipri) */
	char cpus[64];			/* fio cpus_allowed list, e.g. "0" or "0-1" */
	struct queue_settings queue;
	unsigned int set;		/* bit per key given in the file (matrix.c) */
	int line, bs_line;
};

/* A baseline:candidate pair compared in summary.csv. */
struct arm_pair {
	char baseline[MATRIX_NAME_LEN], candidate[MATRIX_NAME_LEN];
};

/* One device family as the matrix uses it. */
struct matrix_family {
	const struct family_ops *ops;
	char name[MATRIX_NAME_LEN];
	char arms[MATRIX_MAX_ARMS][MATRIX_NAME_LEN];
	size_t n_arms;
	struct arm_pair pairs[MATRIX_MAX_PAIRS];
	size_t n_pairs;
	char params[MATRIX_PARAMS_LEN];	/* module parameters, "key=value ..." */
	bool selected;			/* chosen by --families (all by default) */
	int line, arms_line, params_line, compare_line;
};

/* Which samples run under bpf/twintrace (bench/trace.h): none, all, or each twice. */
enum matrix_trace { MATRIX_TRACE_OFF, MATRIX_TRACE_ON, MATRIX_TRACE_BOTH };

/*
 * How much of a traced sample's block I/O twintrace times ([run] trace_sample and
 * trace_duty): one request in `sample`, while its block programs are attached, which with a
 * duty cycle is `duty_on_ms` of every `duty_period_ms` (0: always). The default is one
 * request in 16, always attached: a duty cycle (`trace_duty = 20/640`, 0.46 % of a null_blk
 * QD32 I/O in the icount clock, bpf/README.md) saw no request in the wall-clock traced
 * sample of tests/vm/trace.sh, so it stays opt-in until that is understood.
 */
struct matrix_trace_rate {
	unsigned int sample;
	unsigned int duty_on_ms, duty_period_ms;
};

#define MATRIX_TRACE_SAMPLE_DEFAULT	16
#define MATRIX_TRACE_DUTY_ON_DEFAULT	0
#define MATRIX_TRACE_DUTY_PERIOD_DEFAULT 0

/* Default practical margin of a verdict, in percent (docs/methodology.md). */
#define MATRIX_DEFAULT_MARGIN_PCT	1.0
#define MATRIX_MAX_MARGINS		16

/* A margin given for one metric in [run] (margin.METRIC = PCT). */
struct metric_margin {
	char metric[MATRIX_NAME_LEN];
	double pct;
};

struct matrix {
	char path[PATH_MAX];
	enum matrix_trace trace;
	struct matrix_trace_rate trace_rate;
	unsigned int samples;		/* per arm and workload, over all boots */
	unsigned int boots;		/* guest boots the samples are spread over */
	int boots_line;
	double margin_pct;		/* margin of every metric not in margins[] */
	struct metric_margin margins[MATRIX_MAX_MARGINS];
	size_t n_margins;
	unsigned long ios;		/* measured I/Os per job and sample */
	unsigned long warmup_ios;	/* I/Os per job before each measurement */
	unsigned int timeout;		/* seconds one fio run may take */
	uint64_t seed;
	bool seed_given;
	int ios_line;
	struct matrix_family families[MATRIX_MAX_FAMILIES];
	size_t n_families;
	struct workload workloads[MATRIX_MAX_WORKLOADS];
	size_t n_workloads;
};

/* Parse and validate @path; on error "path:line: message" in @err and -1. */
int matrix_load(const char *path, struct matrix *m, char *err, size_t len);

/* Keep only the families named in @list (comma or space separated); -1 on an unknown name. */
int matrix_select_families(struct matrix *m, const char *list, char *err, size_t len);

/* The practical margin of @metric as a fraction (0.01 for 1 %). */
double matrix_margin(const struct matrix *m, const char *metric);

/* Does workload @w run on family @f? */
bool matrix_workload_applies(const struct workload *w, const struct matrix_family *f);

/* Take arm @arm out of family @f, with every pair that names it (an arm not built here). */
void matrix_drop_arm(struct matrix_family *f, const char *arm);

const struct matrix_family *matrix_family_by_name(const struct matrix *m, const char *name);
const struct workload *matrix_workload_by_name(const struct matrix *m, const char *name);

/* Is @rw a fio (block) kind, or an iperf3 (net) one? Families refuse the other kind. */
bool matrix_rw_is_block(const char *rw);
bool matrix_rw_is_net(const char *rw);

/* Parse "4k", "128K", "1m", "512": bytes; -1 on bad input. */
int parse_size(const char *s, unsigned long long *out);

#endif /* TWINBENCH_MATRIX_H */
