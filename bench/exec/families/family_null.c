// SPDX-License-Identifier: GPL-2.0
/*
 * family_null.c - the null block family: stock null_blk and its raw and safe
 * twins (rawnull, safenull), which take null_blk's parameter names, so one
 * parameter string drives all three arms (docs/architecture.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "blockq.h"
#include "family.h"
#include "kmod.h"
#include "util.h"

/* Every parameter is passed explicitly, so no arm runs on a default of its own. */
#define NULL_DEFAULT_PARAMS \
	"nr_devices=1 submit_queues=1 hw_queue_depth=128 bs=512 gb=4 irqmode=0 " \
	"completion_nsec=10000 memory_backed=0"

/* Seconds to wait for the device node after modprobe. */
#define NULL_DEVICE_WAIT	10.0

/*
 * rnull (the in-tree Rust null block driver, built out of tree from the 7.x kernel's own
 * source by scripts/kernels.sh) takes no module parameters: one hardware queue of depth 256,
 * and on 7.x a device made through configfs, which the arm sets to the shape earlier rnull
 * had fixed: 4 GiB of 4096-byte blocks, requests ended inside queue_rq (irqmode 0).
 */
#define RNULL_MODULE		"rnull_mod"
#define RNULL_BLOCK_SIZE	4096ULL
#define RNULL_BYTES		(4ULL << 30)
#define RNULL_CONFIGFS		"/sys/kernel/config/rnull"

/* rnull's device is fixed: skip the workloads it cannot serve, with the reason. */
static int rnull_serves(const struct matrix *m, const struct workload *w, char *why,
			size_t len)
{
	unsigned long long span = (unsigned long long)w->bs * (m->ios > m->warmup_ios ?
							     m->ios : m->warmup_ios);

	if (w->bs % RNULL_BLOCK_SIZE)
		return seterr(why, len, "bs %u is below or not a multiple of rnull's fixed "
			      "%llu-byte blocks", w->bs, RNULL_BLOCK_SIZE);
	if (span > RNULL_BYTES)
		return seterr(why, len, "%lu I/Os of %u bytes span more than rnull's fixed "
			      "%llu-byte device", m->ios > m->warmup_ios ? m->ios : m->warmup_ios,
			      w->bs, RNULL_BYTES);
	return 0;
}

/* The safe twin's ops-table entries are the layer's adapters (bpf/README.md). */
#define SAFENULL_TRACE_FUNCS \
	"queue_rq=safenull_mq_queue_rq_adapter complete=safenull_mq_complete_adapter " \
	"timer=safenull_mq_timer_adapter"

static const struct family_arm null_arms[] = {
	{ .name = "null_blk", .module = "null_blk", .device = "/dev/nullb%d",
	  .role = ARM_UPSTREAM, .fixed_params = "poll_queues=0",
	  .trace_funcs = "queue_rq=null_queue_rq complete=null_complete_rq "
			 "timer=null_cmd_timer_expired" },
	{ .name = "rawnull", .module = "rawnull", .device = "/dev/rawnull%d",
	  .role = ARM_RAW,
	  .trace_funcs = "queue_rq=rawnull_queue_rq complete=rawnull_complete "
			 "timer=rawnull_timer" },
	{ .name = "safenull", .module = "safenull", .device = "/dev/safenull%d",
	  .role = ARM_SAFE, .trace_funcs = SAFENULL_TRACE_FUNCS },
	FAMILY_SAFE_VARIANT("safenull", "noerror", "/dev/safenull%d"),
	FAMILY_SAFE_VARIANT("safenull", "nochecked", "/dev/safenull%d"),
	FAMILY_SAFE_VARIANT("safenull", "nobounds", "/dev/safenull%d"),
	FAMILY_SAFE_VARIANT("safenull", "noarc", "/dev/safenull%d"),
	FAMILY_SAFE_VARIANT("safenull", "noguards", "/dev/safenull%d"),
	FAMILY_SAFE_VARIANT("safenull", "noreqref", "/dev/safenull%d"),
	FAMILY_SAFE_VARIANT("safenull", "noadapter", "/dev/safenull%d"),
	FAMILY_SAFE_VARIANT("safenull", "noresult", "/dev/safenull%d"),
	FAMILY_SAFE_VARIANT("safenull", "noall", "/dev/safenull%d"),
	{ .name = "rustnull", .module = "rustnull", .device = "/dev/rustnull%d",
	  .role = ARM_RUST, .rust_kernel = true },
	{ .name = "rnull", .module = RNULL_MODULE, .device = "/dev/rnullb%d",
	  .role = ARM_RUST, .no_params = true, .rust_kernel = true, .serves = rnull_serves },
	{ .name = NULL },
};

/* Parameters the three arms share, with their allowed ranges. */
static const struct {
	const char *name;
	unsigned long long min, max;
} null_params[] = {
	{ "nr_devices", 1, 64 },
	{ "submit_queues", 1, 256 },
	{ "hw_queue_depth", 1, 4096 },
	{ "bs", 512, 4096 },
	{ "gb", 1, 1024 },
	{ "irqmode", 0, 2 },
	{ "completion_nsec", 0, 1000000000 },
	{ "memory_backed", 0, 1 },
	{ "max_sectors", 0, 65535 },
};

#define N_NULL_PARAMS ARRAY_LEN(null_params)

/* Look @key up in a "k=v k=v" string; returns @fallback when absent. */
static unsigned long long param_value(const char *params, const char *key,
				      unsigned long long fallback)
{
	size_t klen = strlen(key);

	for (const char *p = params; p && *p; ) {
		p += strspn(p, " \t");
		if (!strncmp(p, key, klen) && p[klen] == '=')
			return strtoull(p + klen + 1, NULL, 10);
		p = strpbrk(p, " \t");
	}
	return fallback;
}

static int null_check_params(const char *params, char *err, size_t len)
{
	char buf[MATRIX_PARAMS_LEN], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", params);
	for (char *kv = strtok_r(buf, " \t", &save); kv; kv = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(kv, '='), *end;
		unsigned long long v;
		size_t i;

		if (!eq)
			return seterr(err, len, "'%s' is not key=value", kv);
		*eq = '\0';
		for (i = 0; i < N_NULL_PARAMS && strcmp(kv, null_params[i].name); i++)
			;
		if (i == N_NULL_PARAMS)
			return seterr(err, len, "unknown null_blk parameter '%s'", kv);
		v = strtoull(eq + 1, &end, 10);
		if (!eq[1] || *end || v < null_params[i].min || v > null_params[i].max)
			return seterr(err, len, "%s=%s: expected %llu to %llu", kv, eq + 1,
				      null_params[i].min, null_params[i].max);
		if (!strcmp(kv, "bs") && (v & (v - 1)))
			return seterr(err, len, "bs=%llu: not a power of two", v);
	}
	return 0;
}

static int null_check_workload(const char *params, const struct matrix *m,
			       const struct workload *w, int *line, char *err, size_t len)
{
	unsigned long long lbs = param_value(params, "bs", 512);
	unsigned long long bytes = param_value(params, "gb", 250) << 30;
	unsigned long long span = (unsigned long long)w->bs * (m->ios > m->warmup_ios ?
							     m->ios : m->warmup_ios);

	*line = w->line;
	if (!matrix_rw_is_block(w->rw))
		return seterr(err, len, "rw = %s: the null family runs read, write, randread or "
			      "randwrite (give the workload a family = line)", w->rw);
	*line = w->bs_line ? w->bs_line : w->line;
	if (w->bs % 512)
		return seterr(err, len, "bs %u is not a multiple of 512", w->bs);
	if (w->bs > bytes)
		return seterr(err, len, "bs %u is larger than the device (%llu bytes)", w->bs,
			      bytes);
	if (w->bs % lbs)
		return seterr(err, len, "bs %u is not a multiple of the device's logical "
			      "block size (params bs=%llu)", w->bs, lbs);
	if (span > bytes) {
		*line = m->ios_line ? m->ios_line : w->line;
		return seterr(err, len, "%lu I/Os of %u bytes span more than the %llu-byte "
			      "device, and fio stops at its end", m->ios > m->warmup_ios ?
			      m->ios : m->warmup_ios, w->bs, bytes);
	}
	return 0;
}

/* Write @value to attribute @attr of rnull's configfs device @dir. */
static int rnull_set(const char *dir, const char *attr, const char *value, char *err,
		     size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	if (file_write_str(path, value))
		return seterr(err, len, "rnull: cannot write %s to %s: %s", value, path,
			      strerror(errno));
	return 0;
}

/* On a kernel whose rnull is set up through configfs, make and power its one device. */
static int rnull_power_on(char *err, size_t len)
{
	const char *dir = RNULL_CONFIGFS "/rnullb0";
	char value[32];

	if (!path_exists(RNULL_CONFIGFS))
		return 0;
	if (!path_exists(dir) && mkdir(dir, 0755))
		return seterr(err, len, "rnull: mkdir %s: %s", dir, strerror(errno));
	snprintf(value, sizeof(value), "%llu", RNULL_BLOCK_SIZE);
	if (rnull_set(dir, "blocksize", value, err, len))
		return -1;
	snprintf(value, sizeof(value), "%llu", RNULL_BYTES >> 20);
	if (rnull_set(dir, "size", value, err, len) || rnull_set(dir, "irqmode", "0", err, len))
		return -1;
	return rnull_set(dir, "power", "1", err, len);
}

/* Undo rnull_power_on(): power the device off and remove it. */
static int rnull_power_off(char *err, size_t len)
{
	const char *dir = RNULL_CONFIGFS "/rnullb0";

	if (!path_exists(dir))
		return 0;
	if (rnull_set(dir, "power", "0", err, len))
		return -1;
	if (rmdir(dir))
		return seterr(err, len, "rnull: rmdir %s: %s", dir, strerror(errno));
	return 0;
}

static int null_load(struct family_ctx *ctx, char *err, size_t len)
{
	const char *params = ctx->family->params;
	unsigned long long n_devices = ctx->arm->no_params ? 1 :
				       param_value(params, "nr_devices", 1);
	char all_params[512];

	snprintf(all_params, sizeof(all_params), "%s %s", ctx->arm->no_params ? "" : params,
		 ctx->arm->fixed_params ? ctx->arm->fixed_params : "");
	if (kmod_is_loaded(ctx->arm->module) && kmod_unload(ctx->arm->module, err, len))
		return -1;
	if (kmod_load(ctx->arm->module, all_params, err, len))
		return -1;
	ctx->loaded = true;
	if (ctx->arm->role == ARM_RUST && rnull_power_on(err, len))
		return -1;
	ctx->n_devices = 0;
	for (unsigned int i = 0; i < n_devices && ctx->n_devices < FAMILY_MAX_DEVICES; i++) {
		char *dev = ctx->devices[ctx->n_devices];

		snprintf(dev, FAMILY_DEVICE_LEN, ctx->arm->device, i);
		if (!wait_for_path(dev, NULL_DEVICE_WAIT))
			return seterr(err, len, "no-device: %s did not appear after loading %s",
				      dev, ctx->arm->module);
		ctx->n_devices++;
	}
	return 0;
}

static size_t null_devices(const struct family_ctx *ctx, const char **out, size_t max)
{
	size_t n = 0;

	for (; n < ctx->n_devices && n < max; n++)
		out[n] = ctx->devices[n];
	return n;
}

static int null_unload(struct family_ctx *ctx, char *err, size_t len)
{
	if (!ctx->loaded)
		return 0;
	if (ctx->arm->role == ARM_RUST && rnull_power_off(err, len))
		return -1;
	if (kmod_unload(ctx->arm->module, err, len))
		return -1;
	ctx->loaded = false;
	ctx->n_devices = 0;
	return 0;
}

static const struct family_ops family_null_ops = {
	.version = FAMILY_OPS_VERSION,
	.name = "null",
	.description = "null block devices: null_blk, rawnull, safenull; rustnull, rnull (KERNEL=7)",
	.arms = null_arms,
	.default_params = NULL_DEFAULT_PARAMS,
	.unit_metric = "cpu_ns_per_io",
	.primary_metric = "iops",
	.est_sample_s = 7.6,
	.est_unit_us = 85,
	.check_params = null_check_params,
	.check_workload = null_check_workload,
	.load = null_load,
	.devices = null_devices,
	.run = block_run,
	.unload = null_unload,
};

FAMILY_REGISTER(family_null_ops)
