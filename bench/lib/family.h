/* SPDX-License-Identifier: GPL-2.0 */
/*
 * family.h - device families are backends of the runner, one file per family
 * (family_null.c, ...), each registering a versioned ops table that is checked
 * at registration. The runner only ever talks to a family through it.
 */
#ifndef TWINBENCH_FAMILY_H
#define TWINBENCH_FAMILY_H

#include <stdbool.h>
#include <stddef.h>
#include "role.h"

struct matrix;
struct matrix_family;
struct workload;
struct trace_session;

#define FAMILY_OPS_VERSION	1
/* Longest family or arm name, with its NUL (the matrix keeps names this long). */
#define FAMILY_NAME_LEN		32
#define FAMILY_MAX_METRICS	24
#define FAMILY_MAX_SETTINGS	16
#define FAMILY_MAX_DEVICES	8
#define FAMILY_DEVICE_LEN	64

/*
 * The ablation variant of safe twin @twin_arm without mechanism @mech ("nobounds"): arm
 * "<twin_arm>-<mech>", module "<twin_arm>_<mech>" (drivers-safe/kernel/ablation.mk), the
 * twin's devices.
 */
#define FAMILY_SAFE_VARIANT(twin_arm, mech, dev)				\
	{ .name = twin_arm "-" mech, .module = twin_arm "_" mech, .device = dev,	\
	  .role = ARM_VARIANT, .twin = twin_arm, .mechanism = mech + 2 }

/* The mechanism of the variant with every mechanism out (arm "<twin_arm>-noall"). */
#define FAMILY_MECHANISM_ALL	"all"

/* One arm a family can load: the module, the device it makes, its role. */
struct family_arm {
	const char *name;	/* the arm name in matrices and results */
	const char *module;	/* modprobe name */
	const char *device;	/* printf pattern of device N, e.g. "/dev/nullb%d" */
	enum arm_role role;
	/* ARM_VARIANT: the safe twin it varies and the mechanism it lacks ("bounds"). */
	const char *twin, *mechanism;
	/*
	 * Parameters this arm always gets after the family's, so that its device matches
	 * the other arms' (e.g. null_blk's default poll queue, which the twins lack).
	 */
	const char *fixed_params;
	/*
	 * Driver functions twintrace times in a traced sample, "ROLE=SYMBOL ..." (roles of
	 * bpf/README.md: the functions the kernel calls, so the twins line up); may be NULL.
	 */
	const char *trace_funcs;
	/* Set when the arm's module takes none of the family's parameters (rnull). */
	bool no_params;
	/*
	 * Set when the module is built only for a Rust-enabled kernel (rnull, the Rust twins):
	 * the runner refuses it in a matrix, and leaves it out of a profile, where it is not.
	 */
	bool rust_kernel;
	/*
	 * Optional: 0 when the arm's fixed device can serve @w, else -1 and why; the plan
	 * skips (arm, workload) pairs it cannot serve and says so (a fixed-size device).
	 */
	int (*serves)(const struct matrix *m, const struct workload *w, char *why, size_t len);
};

/* What one measured run produced. */
struct run_output {
	struct {
		const char *metric;	/* a metric_table name */
		double value;
	} metrics[FAMILY_MAX_METRICS];
	size_t n_metrics;
	struct {
		char name[32];
		char value[64];
	} settings[FAMILY_MAX_SETTINGS];
	size_t n_settings;
	double units;		/* I/Os or packets done, for the per-unit CPU metrics */
	bool have_cpu;		/* busy_ns and intr cover exactly the measured part */
	double busy_ns, intr;
	char failure[256];	/* short reason ("fio-failed: ...") when the run failed */
};

/* A loaded arm: what load() found, passed back to the other ops. */
struct family_ctx {
	const struct family_arm *arm;
	const struct matrix_family *family;
	const struct matrix *matrix;
	unsigned int timeout;	/* seconds one fio (or iperf3) run may take */
	int icount_shift;	/* guest ns per instruction = 2^shift; -1 in the wall clock */
	char devices[FAMILY_MAX_DEVICES][FAMILY_DEVICE_LEN];
	size_t n_devices;
	bool loaded;
	struct trace_session *trace;	/* set in a traced sample (bench/trace.h) */
};

struct family_ops {
	unsigned int version;		/* FAMILY_OPS_VERSION */
	const char *name;		/* "null", "nvme", "net" */
	const char *description;
	const struct family_arm *arms;	/* terminated by a NULL name */
	const char *default_params;
	const char *unit_metric;	/* per-unit CPU metric: "cpu_ns_per_io" */
	const char *primary_metric;	/* the row a failed sample is recorded under */
	/*
	 * What one sample costs in a VM under TCG (the runner's estimate of a plan, printed
	 * before it boots; README.md, "Profiles", has the runs they come from): seconds of
	 * fixed cost (load, devices, tools started, unload: the default profile's samples of
	 * 4400 units less their I/O) and microseconds per I/O or packet, warm-up included
	 * (the measured job's or client's time over its I/Os or packets in those samples).
	 */
	double est_sample_s, est_unit_us;

	/*
	 * Matrix checks, before anything is loaded: 0, or -1 with a message (without
	 * file:line); check_workload points *line at the workload line at fault.
	 */
	int (*check_params)(const char *params, char *err, size_t len);
	int (*check_workload)(const char *params, const struct matrix *m,
			      const struct workload *w, int *line, char *err, size_t len);
	/* Load the arm's module with the family's parameters and wait for its devices. */
	int (*load)(struct family_ctx *ctx, char *err, size_t len);
	/* The devices the loaded arm serves (already in ctx->devices after load). */
	size_t (*devices)(const struct family_ctx *ctx, const char **out, size_t max);
	/* Warm up, then measure one sample of @w on the loaded arm. */
	int (*run)(struct family_ctx *ctx, const struct workload *w, struct run_output *out);
	/* Unload the arm; safe to call when nothing is loaded. */
	int (*unload)(struct family_ctx *ctx, char *err, size_t len);
};

/* Validate and add @ops; 0 or -1 (printed) when it is malformed or a duplicate. */
int family_register(const struct family_ops *ops);
const struct family_ops *family_find(const char *name);
/* Families whose registration failed: the runner refuses to start while any did. */
size_t family_registration_errors(void);
/* Names of the registered families, space separated, for messages. */
const char *family_names(void);
const struct family_arm *family_find_arm(const struct family_ops *ops, const char *arm);
/*
 * Can arm @arm of @ops serve workload @w of @m? true, or false with the reason in @why
 * (the plan leaves such samples out, the summary such comparisons).
 */
bool family_arm_serves(const struct family_ops *ops, const char *arm, const struct matrix *m,
		       const struct workload *w, char *why, size_t len);

#define FAMILY_REGISTER(ops)						\
	static void __attribute__((constructor)) register_##ops(void)	\
	{								\
		family_register(&ops);					\
	}

#endif /* TWINBENCH_FAMILY_H */
