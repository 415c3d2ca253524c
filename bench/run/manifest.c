// SPDX-License-Identifier: GPL-2.0
/*
 * manifest.c - manifest.json of a run: everything a reader needs to judge the
 * numbers (kernel and its config, CPU and its tuning, mode, clock, seed,
 * commit, module versions, tool versions), gathered on the host with jansson.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <jansson.h>
#include "family.h"
#include "manifest.h"
#include "util.h"

/* First line a command prints (stdout, else stderr), or "unavailable". */
static json_t *command_line(char *const argv[])
{
	struct proc_result r;
	char *text;
	json_t *v;

	if (proc_run(argv, NULL, &r, NULL, 0))
		return json_string("unavailable");
	text = strtrim(r.out && *r.out ? r.out : r.errout);
	text[strcspn(text, "\n")] = '\0';
	v = json_string(r.status || !*text ? "unavailable" : text);
	proc_result_free(&r);
	return v ? v : json_string("unavailable");
}

static json_t *file_value(const char *path)
{
	char buf[256];

	if (file_read_line(path, buf, sizeof(buf)))
		return json_null();
	return json_string(strtrim(buf));
}

static json_t *cpu_model(void)
{
	char line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");
	json_t *v = NULL;

	if (!f)
		return json_null();
	while (!v && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && colon)
			v = json_string(strtrim(colon + 1));
	}
	fclose(f);
	return v ? v : json_null();
}

/* Turbo state: intel_pstate's no_turbo (inverted) or cpufreq's boost; null if neither. */
static json_t *turbo_state(void)
{
	char buf[16];

	if (!file_read_line("/sys/devices/system/cpu/intel_pstate/no_turbo", buf, sizeof(buf)))
		return json_boolean(atoi(buf) == 0);
	if (!file_read_line("/sys/devices/system/cpu/cpufreq/boost", buf, sizeof(buf)))
		return json_boolean(atoi(buf) != 0);
	return json_null();
}

static json_t *smt_state(void)
{
	char buf[16];

	if (file_read_line("/sys/devices/system/cpu/smt/active", buf, sizeof(buf)))
		return json_null();
	return json_boolean(atoi(buf) != 0);
}

/* MemTotal of /proc/meminfo in bytes, or 0. */
static long long memory_bytes(void)
{
	char line[256];
	long long kib = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %lld kB", &kib) == 1)
			break;
	fclose(f);
	return kib * 1024;
}

/*
 * Which machine this is, for a history many machines share: the stable id systemd
 * gives it (/etc/machine-id), its CPU count and memory (the CPU model is cpu_model).
 */
static void machine_identity(json_t *host)
{
	char id[64];

	json_object_set_new(host, "machine_id",
			    file_read_line("/etc/machine-id", id, sizeof(id)) ? json_null() :
			    json_string(strtrim(id)));
	json_object_set_new(host, "cores", json_integer(sysconf(_SC_NPROCESSORS_CONF)));
	json_object_set_new(host, "memory_bytes", json_integer(memory_bytes()));
}

/*
 * Host tuning beyond governor, turbo, SMT and irqbalance (host_info): the governors of all
 * CPUs (one slow CPU spoils a comparison that cpu0 alone hides), the isolated and
 * nohz_full CPUs, and the preemption model, the selected one of PREEMPT_DYNAMIC
 * (debugfs) or else the one the kernel's version string names.
 */
static void host_tuning(json_t *host)
{
	char path[128], buf[256], all[256] = "", *sel;
	struct utsname u;
	const char *model = NULL;
	bool mixed = false;

	for (long c = 0; c < sysconf(_SC_NPROCESSORS_CONF); c++) {
		snprintf(path, sizeof(path),
			 "/sys/devices/system/cpu/cpu%ld/cpufreq/scaling_governor", c);
		if (file_read_line(path, buf, sizeof(buf)))
			continue;
		if (!all[0])
			snprintf(all, sizeof(all), "%s", strtrim(buf));
		else if (strcmp(all, strtrim(buf)))
			mixed = true;
	}
	json_object_set_new(host, "governors_mixed", all[0] ? json_boolean(mixed) : json_null());
	json_object_set_new(host, "isolated_cpus", file_value("/sys/devices/system/cpu/isolated"));
	json_object_set_new(host, "nohz_full_cpus", file_value("/sys/devices/system/cpu/nohz_full"));
	if (!file_read_line("/sys/kernel/debug/sched/preempt", buf, sizeof(buf)) &&
	    (sel = strchr(buf, '('))) {
		sel[strcspn(sel, ")")] = '\0';
		model = sel + 1;
	} else if (!uname(&u)) {
		model = strstr(u.version, "PREEMPT_RT") ? "rt" :
			strstr(u.version, "PREEMPT_DYNAMIC") ? "dynamic" :
			strstr(u.version, "PREEMPT") ? "full" : "voluntary or none";
	}
	json_object_set_new(host, "preempt", model ? json_string(model) : json_null());
}

static json_t *host_info(void)
{
	char *pidof[] = { "pidof", "irqbalance", NULL };
	struct proc_result r;
	json_t *host = json_object();

	json_object_set_new(host, "cpu_model", cpu_model());
	machine_identity(host);
	json_object_set_new(host, "online_cpus", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_set_new(host, "governor",
			    file_value("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"));
	json_object_set_new(host, "turbo", turbo_state());
	json_object_set_new(host, "smt", smt_state());
	if (!proc_run(pidof, NULL, &r, NULL, 0)) {
		json_object_set_new(host, "irqbalance", json_boolean(r.status == 0));
		proc_result_free(&r);
	}
	host_tuning(host);
	return host;
}

static json_t *config_hash(const char *kver, const char *config)
{
	char path[4096];
	char *argv[] = { "sha256sum", path, NULL };
	struct proc_result r;
	json_t *v;

	if (config)
		snprintf(path, sizeof(path), "%s", config);
	else
		snprintf(path, sizeof(path), "/boot/config-%s", kver);
	if (!path_exists(path) || proc_run(argv, NULL, &r, NULL, 0))
		return json_null();
	r.out[strcspn(r.out, " ")] = '\0';
	v = r.status ? json_null() : json_string(r.out);
	proc_result_free(&r);
	return v;
}

/*
 * Where the kernel came from and what built it: for a cached kernel its line, Debian suite,
 * package name and version and the compilers its .config names (the ones its environment
 * checked it has); in host mode the compilers of the running kernel's headers.
 */
static void kernel_origin(const struct manifest_info *mi, json_t *kernel)
{
	static const char *const facts[][2] = {
		{ "line", "line" }, { "suite", "suite" }, { "package", "package" },
		{ "package_version", "version" },
	};
	static const char *const compilers[][2] = {
		{ "cc", "cc_version" }, { "rustc", "rustc_version" },
		{ "bindgen", "bindgen_version" },
	};
	json_t *cc = json_object();
	char buf[512], path[4096];

	if (mi->kernel_facts) {
		for (size_t i = 0; i < ARRAY_LEN(facts); i++)
			if (!kv_file_get(mi->kernel_facts, facts[i][1], buf, sizeof(buf)) && *buf)
				json_object_set_new(kernel, facts[i][0], json_string(buf));
		for (size_t i = 0; i < ARRAY_LEN(compilers); i++)
			if (!kv_file_get(mi->kernel_facts, compilers[i][1], buf, sizeof(buf)) &&
			    *buf)
				json_object_set_new(cc, compilers[i][0], json_string(buf));
	} else {
		snprintf(path, sizeof(path), "/lib/modules/%s/build/.config", mi->kver);
		for (size_t i = 0; i < 2; i++) {
			const char *key = i ? "CONFIG_RUSTC_VERSION_TEXT" : "CONFIG_CC_VERSION_TEXT";
			size_t n;

			if (kv_file_get(path, key, buf, sizeof(buf)) || !*buf)
				continue;
			n = strlen(buf);
			if (n >= 2 && buf[0] == '"' && buf[n - 1] == '"')
				buf[n - 1] = '\0';
			json_object_set_new(cc, compilers[i][0], json_string(buf + (buf[0] == '"')));
		}
	}
	json_object_set_new(kernel, "compilers", cc);
}

static const char *ko_wanted;
static char ko_found[4096];

static int find_ko(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *base = path + ftw->base;
	size_t n = strlen(ko_wanted);

	(void)st;
	if (type == FTW_F && !strncmp(base, ko_wanted, n) && !strcmp(base + n, ".ko")) {
		snprintf(ko_found, sizeof(ko_found), "%s", path);
		return 1;
	}
	return 0;
}

/* First line of a command's stdout, or "" when it fails or prints nothing. */
static void command_text(char *const argv[], char *out, size_t size)
{
	struct proc_result r;

	out[0] = '\0';
	if (proc_run(argv, NULL, &r, NULL, 0))
		return;
	if (!r.status) {
		char *text = strtrim(r.out);

		text[strcspn(text, "\n")] = '\0';
		snprintf(out, size, "%s", text);
	}
	proc_result_free(&r);
}

/*
 * Identity of @module's file: our build tree (or @mi->module_dir) first, then the
 * kernel's own modules. Its srcversion when it has one, else "sha256:" and the file's hash.
 */
static json_t *module_version(const struct manifest_info *mi, const char *module)
{
	static const char *const trees[] = { "drivers-raw", "drivers-safe" };
	char dir[4096], text[256];
	char *where[] = { "modinfo", "-k", (char *)mi->kver, "-n", (char *)module, NULL, NULL,
			  NULL };
	char *srcversion[] = { "modinfo", "-F", "srcversion", ko_found, NULL };
	char *sha[] = { "sha256sum", ko_found, NULL };

	ko_found[0] = '\0';
	ko_wanted = module;
	if (mi->module_dir)
		nftw(mi->module_dir, find_ko, 16, FTW_PHYS);
	for (size_t i = 0; i < 2 && !ko_found[0] && !mi->module_dir; i++) {
		path_printf(dir, sizeof(dir), "%s/%s", mi->top, trees[i]);
		nftw(dir, find_ko, 16, FTW_PHYS);
	}
	if (mi->module_root) {
		where[5] = "-b";
		where[6] = (char *)mi->module_root;
	}
	if (!ko_found[0])
		command_text(where, ko_found, sizeof(ko_found));
	if (!ko_found[0])
		return json_string("unavailable");
	command_text(srcversion, text, sizeof(text));
	if (text[0])
		return json_string(text);
	command_text(sha, text, sizeof(text));
	text[strcspn(text, " ")] = '\0';
	if (!text[0])
		return json_string("unavailable");
	return json_pack("s+", "sha256:", text);
}

int manifest_write(const struct manifest_info *mi, const struct matrix *m, char *err,
		   size_t len)
{
	char *git[] = { "git", "-C", (char *)mi->top, "rev-parse", "HEAD", NULL };
	char *dirty[] = { "git", "-C", (char *)mi->top, "status", "--porcelain",
			  "--untracked-files=no", NULL };
	char *fio[] = { "fio", "--version", NULL };
	char *iperf[] = { "iperf3", "--version", NULL };
	char *qemu[] = { "qemu-system-x86_64", "--version", NULL };
	char started[32], path[4096];
	json_t *root = json_object(), *kernel = json_object(), *mods = json_object();
	json_t *tools = json_object();
	struct proc_result r;
	time_t now = time(NULL);
	char *text;
	int rc;

	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	json_object_set_new(root, "run_id", json_string(mi->run_id));
	json_object_set_new(root, "started", json_string(started));
	json_object_set_new(root, "profile", json_string(mi->profile));
	json_object_set_new(root, "matrix", json_string(m->path));
	json_object_set_new(root, "mode", json_string(mi->mode));
	json_object_set_new(root, "mode_reason", json_string(mi->mode_reason));
	json_object_set_new(root, "clock", json_string(mi->clock));
	if (mi->icount_shift >= 0)
		json_object_set_new(root, "icount_shift", json_integer(mi->icount_shift));
	json_object_set_new(root, "seed", json_integer((json_int_t)mi->seed));
	json_object_set_new(root, "samples_per_arm", json_integer(m->samples));
	json_object_set_new(root, "ios", json_integer(m->ios));
	json_object_set_new(root, "warmup_ios", json_integer(m->warmup_ios));
	json_object_set_new(root, "trace", json_string(m->trace == MATRIX_TRACE_OFF ? "off" :
							m->trace == MATRIX_TRACE_ON ? "on" : "both"));
	json_object_set_new(root, "trace_sample", json_integer(m->trace_rate.sample));
	if (m->trace_rate.duty_on_ms)
		json_object_set_new(root, "trace_duty", json_sprintf("%u/%u",
				    m->trace_rate.duty_on_ms, m->trace_rate.duty_period_ms));
	else
		json_object_set_new(root, "trace_duty", json_string("off"));
	json_object_set_new(root, "git_commit", command_line(git));
	if (!proc_run(dirty, NULL, &r, NULL, 0)) {
		json_object_set_new(root, "git_dirty", json_boolean(r.out && *r.out));
		proc_result_free(&r);
	}

	json_object_set_new(kernel, "release", json_string(mi->kver));
	json_object_set_new(kernel, "config_hash", config_hash(mi->kver, mi->kernel_config));
	kernel_origin(mi, kernel);
	json_object_set_new(root, "kernel", kernel);
	json_object_set_new(root, "host", host_info());
	{
		struct utsname u;

		if (!uname(&u))
			json_object_set_new(root, "host_kernel", json_string(u.release));
	}
	for (size_t f = 0; f < m->n_families; f++) {
		if (!m->families[f].selected)
			continue;
		for (size_t a = 0; a < m->families[f].n_arms; a++) {
			const struct family_arm *arm = family_find_arm(m->families[f].ops,
								       m->families[f].arms[a]);

			json_object_set_new(mods, arm->module,
					    module_version(mi, arm->module));
		}
	}
	json_object_set_new(root, "modules", mods);
	json_object_set_new(tools, "fio", command_line(fio));
	json_object_set_new(tools, "iperf3", command_line(iperf));
	json_object_set_new(tools, "qemu", command_line(qemu));
	json_object_set_new(root, "tools", tools);

	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!text)
		return seterr(err, len, "manifest.json: cannot encode");
	path_printf(path, sizeof(path), "%s/manifest.json", mi->rundir);
	rc = file_write_atomic(path, text, strlen(text), err, len);
	free(text);
	return rc;
}

int manifest_read_mode(const char *rundir, char *mode, size_t mode_len, char *profile,
		       size_t profile_len, char *err, size_t len)
{
	char path[4096];
	json_error_t jerr;
	json_t *root;
	const char *m, *p;

	path_printf(path, sizeof(path), "%s/manifest.json", rundir);
	root = json_load_file(path, 0, &jerr);
	if (!root)
		return seterr(err, len, "%s:%d: %s", path, jerr.line, jerr.text);
	m = json_string_value(json_object_get(root, "mode"));
	p = json_string_value(json_object_get(root, "profile"));
	if (!m || !p) {
		json_decref(root);
		return seterr(err, len, "%s: no mode or profile", path);
	}
	snprintf(mode, mode_len, "%s", m);
	snprintf(profile, profile_len, "%s", p);
	json_decref(root);
	return 0;
}

int manifest_read_kernel_line(const char *rundir, char *line, size_t size)
{
	char path[4096];
	json_t *root;
	const char *l;
	int rc = -1;

	path_printf(path, sizeof(path), "%s/manifest.json", rundir);
	root = json_load_file(path, 0, NULL);
	if (!root)
		return -1;
	l = json_string_value(json_object_get(json_object_get(root, "kernel"), "line"));
	if (l) {
		snprintf(line, size, "%s", l);
		rc = 0;
	}
	json_decref(root);
	return rc;
}

/*
 * manifest.json of @rundir read, changed by @edit (with @arg) and written back atomically;
 * @edit returns non-zero to leave the file as it was.
 */
static int manifest_update(const char *rundir, int (*edit)(json_t *root, void *arg), void *arg,
			   char *err, size_t len)
{
	char path[4096];
	json_error_t jerr;
	json_t *root;
	char *text;
	int rc;

	path_printf(path, sizeof(path), "%s/manifest.json", rundir);
	root = json_load_file(path, JSON_PRESERVE_ORDER, &jerr);
	if (!root)
		return seterr(err, len, "%s:%d: %s", path, jerr.line, jerr.text);
	if (edit(root, arg)) {
		json_decref(root);
		return seterr(err, len, "%s: cannot change", path);
	}
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!text)
		return seterr(err, len, "manifest.json: cannot encode");
	rc = file_write_atomic(path, text, strlen(text), err, len);
	free(text);
	return rc;
}

/* The key and value manifest_set() sets. */
struct manifest_kv {
	const char *key;
	json_t *value;
};

static int set_key(json_t *root, void *arg)
{
	struct manifest_kv *kv = arg;

	return json_object_set(root, kv->key, kv->value);
}

int manifest_set(const char *rundir, const char *key, json_t *value, char *err, size_t len)
{
	struct manifest_kv kv = { key, value };
	int rc;

	if (!value)
		return seterr(err, len, "manifest.json: no value for %s", key);
	rc = manifest_update(rundir, set_key, &kv, err, len);
	json_decref(value);
	return rc;
}

/* Adds to "concurrent_runs" the runs of @arg it does not hold yet. */
static int add_concurrent(json_t *root, void *arg)
{
	json_t *runs = arg, *all;

	/* a resumed run adds the runs beside its later boots to those of the first */
	all = json_object_get(root, "concurrent_runs");
	if (!json_is_array(all)) {
		all = json_array();
		json_object_set_new(root, "concurrent_runs", all);
	}
	for (size_t i = 0; i < json_array_size(runs); i++) {
		json_t *r = json_array_get(runs, i);
		bool seen = false;

		for (size_t j = 0; j < json_array_size(all) && !seen; j++)
			seen = json_equal(json_array_get(all, j), r);
		if (!seen)
			json_array_append(all, r);
	}
	return 0;
}

int manifest_set_concurrent(const char *rundir, json_t *runs, char *err, size_t len)
{
	return manifest_update(rundir, add_concurrent, runs, err, len);
}
