// SPDX-License-Identifier: GPL-2.0
/*
 * run.c - twinbench run, check and summarise: the host side. It validates the
 * matrix, picks host or VM mode (asking scripts/kver.sh, the one place that
 * decides), prepares results/<run-id>/, executes the plan (in-process in host
 * mode, in one VM boot otherwise), then merges the per-sample files and writes
 * samples.csv, settings.csv, summary.csv and the comparison table.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glob.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "exec.h"
#include "facts.h"
#include "family.h"
#include "insn.h"
#include "kmod.h"
#include "lock.h"
#include "manifest.h"
#include "preflight.h"
#include "report.h"
#include "run.h"
#include "summary.h"
#include "trace.h"
#include "util.h"

/* guest ns per instruction = 2^shift; scripts/vm-run.sh uses -icount shift=1. */
#define VM_ICOUNT_SHIFT		1
/* Boot, module setup and slack of one VM run, on top of the per-sample limits. */
#define VM_TIMEOUT_BASE		600
/* Size of the emulated NVMe namespace (QEMU null-co: reads zeroes, keeps nothing). */
#define VM_NVME_SIZE		"4G"
/* vm-run.sh's exit status when the share filled up (ENOSPC). */
#define VM_EXIT_NOSPACE		123
/*
 * The progress watchdog: a guest that finishes no sample for this many per-sample
 * timeouts is stopped (and one that has not started the plan VM_TIMEOUT_BASE after boot).
 */
#define WATCHDOG_FACTOR		3
/* What a run folder gains, for the free-space check (measured: docs/methodology.md). */
#define SPACE_PER_BOOT		(1u << 20)
#define SPACE_PER_SAMPLE	(64u << 10)
#define SPACE_PER_BOOT_INSN	(8u << 20)
#define SPACE_PER_SAMPLE_INSN	(512u << 10)

struct run_opts {
	const char *profile, *matrix, *families, *mode, *clock, *resume, *results, *kver;
	const char *kernel;	/* VM mode's kernel line (scripts/kernels.sh lines) */
	const char *facts;	/* check: also write the matrix's facts there */
	uint64_t seed;
	bool seed_given, resumed, no_wait;
};

/* The source tree: $TWINBENCH_TOP, else the folder above the binary's bench/. */
static void find_top(char *top, size_t size)
{
	const char *env = getenv("TWINBENCH_TOP");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		snprintf(top, size, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		snprintf(top, size, ".");
		return;
	}
	exe[n] = '\0';
	snprintf(top, size, "%s", dirname(dirname(exe)));
}

/* First line of `scripts/kver.sh ARG`: "host: why" / "vm: why", or a release. */
static int ask_script(const char *top, const char *name, const char *arg, char *out,
		      size_t size, char *err, size_t len)
{
	char script[PATH_MAX + 32];
	char *argv[] = { script, (char *)arg, NULL };
	struct proc_result r;
	char *line;

	path_printf(script, sizeof(script), "%s/scripts/%s", top, name);
	if (proc_run(argv, NULL, &r, err, len))
		return -1;
	line = strtrim(r.out);
	line[strcspn(line, "\n")] = '\0';
	if (r.status || !*line) {
		seterr(err, len, "scripts/%s %s failed: %s", name, arg, strtrim(r.errout));
		proc_result_free(&r);
		return -1;
	}
	snprintf(out, size, "%s", line);
	proc_result_free(&r);
	return 0;
}

/*
 * Decide the mode: VM when the clock is icount (it exists only there), else
 * what scripts/kver.sh says. --mode host refuses when this machine cannot load
 * modules.
 */
static int pick_mode(const char *top, struct run_opts *o, char *mode, size_t mode_len,
		     char *why, size_t why_len)
{
	char verdict[512], err[512];
	const char *reason;

	if (ask_script(top, "kver.sh", "mode", verdict, sizeof(verdict), err, sizeof(err))) {
		fprintf(stderr, "twinbench run: %s\n", err);
		return -1;
	}
	reason = strchr(verdict, ':') ? strchr(verdict, ':') + 2 : verdict;
	if (!strcmp(o->mode, "host")) {
		if (strncmp(verdict, "host:", 5)) {
			fprintf(stderr, "twinbench run: --mode host refused: %s\n", reason);
			return -1;
		}
		if (o->clock && !strcmp(o->clock, "icount")) {
			fprintf(stderr, "twinbench run: --clock icount exists only in VM mode\n");
			return -1;
		}
		snprintf(mode, mode_len, "host");
		snprintf(why, why_len, "%s; %s", o->resumed ? "the mode of the resumed run" :
			 "asked for (--mode host)", reason);
	} else if (!strcmp(o->mode, "vm")) {
		snprintf(mode, mode_len, "vm");
		snprintf(why, why_len, "%s", o->resumed ? "the mode of the resumed run" :
			 "asked for (--mode vm)");
	} else if (o->clock && !strcmp(o->clock, "icount")) {
		snprintf(mode, mode_len, "vm");
		snprintf(why, why_len, "the icount clock exists only in a VM");
	} else {
		snprintf(mode, mode_len, "%s", strncmp(verdict, "host:", 5) ? "vm" : "host");
		snprintf(why, why_len, "%s", reason);
	}
	if (!o->clock)
		o->clock = strcmp(mode, "vm") ? "wall" : "icount";
	return 0;
}

/*
 * The kernel a VM run boots: one of scripts/kernels.sh's cached Debian kernels (image and
 * modules unpacked from its packages), with our modules built for it in its own build
 * environment (build/kernels/LINE/ko). Host mode leaves it empty: the running kernel.
 */
struct guest_kernel {
	char facts[PATH_MAX];	/* its kernel.env; "" in host mode */
	char image[PATH_MAX];	/* "" = vm-run.sh's default for the release */
	char modroot[PATH_MAX];	/* "" = / */
	char kodir[PATH_MAX];	/* "" = this tree's drivers-raw, drivers-safe, tests */
	char config[PATH_MAX];	/* the kernel's .config, for the manifest's hash */
};

/* Fill @gk and @kver for kernel @line; -1 with one line saying what to run when missing. */
static int cached_kernel(const char *top, const char *line, char *kver, size_t kver_len,
			 struct guest_kernel *gk)
{
	char script[PATH_MAX + 32], path[PATH_MAX + 32], err[512];
	char *argv[] = { script, "env", (char *)line, NULL };
	struct proc_result r;

	path_printf(script, sizeof(script), "%s/scripts/kernels.sh", top);
	if (proc_run(argv, NULL, &r, err, sizeof(err))) {
		fprintf(stderr, "twinbench run: %s\n", err);
		return -1;
	}
	if (r.status) {
		fprintf(stderr, "twinbench run: --kernel %s: %s\n", line, strtrim(r.errout));
		proc_result_free(&r);
		return -1;
	}
	snprintf(gk->facts, sizeof(gk->facts), "%s", strtrim(r.out));
	proc_result_free(&r);
	if (kv_file_get(gk->facts, "release", kver, kver_len) ||
	    kv_file_get(gk->facts, "image", gk->image, sizeof(gk->image)) ||
	    kv_file_get(gk->facts, "modroot", gk->modroot, sizeof(gk->modroot)) ||
	    kv_file_get(gk->facts, "config", gk->config, sizeof(gk->config))) {
		fprintf(stderr, "twinbench run: --kernel %s: cannot read %s\n", line, gk->facts);
		return -1;
	}
	path_printf(gk->kodir, sizeof(gk->kodir), "%s/build/kernels/%s/ko", top, line);
	path_printf(path, sizeof(path), "%s/.sources", gk->kodir);
	if (!path_exists(path)) {
		fprintf(stderr, "twinbench run: --kernel %s: our modules are not built for %s "
			"(make modules KERNEL=%s)\n", line, kver, line);
		return -1;
	}
	return 0;
}

/* The line make and the tests use when none is given (scripts/kernels.sh default). */
static int default_kernel(const char *top, char *line, size_t size)
{
	char err[512];

	if (ask_script(top, "kernels.sh", "default", line, size, err, sizeof(err))) {
		fprintf(stderr, "twinbench run: %s\n", err);
		return -1;
	}
	return 0;
}

/*
 * Was @arm's module built for the guest kernel @gk, or in host mode (no @gk) in this tree
 * (host-build makes the Rust ones where the running kernel allows them)?
 */
static bool arm_built(const struct guest_kernel *gk, const struct family_arm *arm)
{
	char path[PATH_MAX + 80];

	if (!arm->rust_kernel)
		return true;
	if (!gk->kodir[0])
		return kmod_tree_module(arm->module, path, sizeof(path));
	path_printf(path, sizeof(path), "%s/%s.ko", gk->kodir, arm->module);
	return path_exists(path);
}

/*
 * Arms whose module was not built for the kernel (the Rust arms off a Rust-enabled one): a
 * matrix naming one is refused with one line, a profile runs without them and says so.
 */
static int gate_arms(struct matrix *m, const struct guest_kernel *gk, const char *path,
		     bool profile)
{
	for (size_t f = 0; f < m->n_families; f++) {
		struct matrix_family *fam = &m->families[f];

		for (size_t a = 0; fam->selected && a < fam->n_arms; a++) {
			const struct family_arm *arm = family_find_arm(fam->ops, fam->arms[a]);

			if (arm_built(gk, arm))
				continue;
			if (!profile) {
				fprintf(stderr, "twinbench run: %s: arm %s needs %s.ko, built only "
					"for a Rust-enabled kernel (make bench KERNEL=7)\n", path,
					arm->name, arm->module);
				return -1;
			}
			printf("  %s: arm %s left out: %s.ko is not built for this kernel (KERNEL=7 "
			       "builds it)\n", fam->name, arm->name, arm->module);
			matrix_drop_arm(fam, arm->name);
			a--;
		}
	}
	return 0;
}

/*
 * What one boot of the VM costs under TCG: initramfs, kernel, guest start, the first
 * sample's copy of the kernel's symbols, and the report once (seconds; the default
 * profile's run in README.md, "Profiles").
 */
#define EST_BOOT_S	65
/* The load average of the 2-core host on which the costs (family.h) were measured. */
#define EST_LOAD	9

/*
 * The plan's duration in a VM under TCG, from each family's per-sample and per-unit costs
 * (family.h) and the boots: printed before anything boots, so nobody waits unwarned.
 */
static double plan_estimate_s(const struct matrix *m, const struct plan *p)
{
	unsigned int boots = 0;
	double s = 0;

	for (size_t i = 0; i < p->n; i++) {
		const struct plan_entry *e = &p->entries[i];
		const struct matrix_family *f = matrix_family_by_name(m, e->family);
		const struct workload *w = matrix_workload_by_name(m, e->workload);
		unsigned int jobs = w && w->numjobs ? w->numjobs : 1;

		if (!f || !w)
			continue;
		s += f->ops->est_sample_s +
		     (double)(m->ios + m->warmup_ios) * jobs * f->ops->est_unit_us / 1e6;
		if (e->boot > boots)
			boots = e->boot;
	}
	return s + boots * EST_BOOT_S;
}

static void print_estimate(const struct matrix *m, const struct plan *p, const char *mode)
{
	double s = plan_estimate_s(m, p);

	printf("twinbench run: %zu samples, estimated %.0f min in a VM under TCG%s\n"
	       "  (per sample its family's fixed cost and cost per I/O or packet, %d s a boot, as\n"
	       "  measured on 2 cores at a load average of %d; a busier machine takes longer)\n",
	       p->n, s / 60 + 0.5, strcmp(mode, "vm") ? " (less on this host)" : "", EST_BOOT_S,
	       EST_LOAD);
}

/* Say which (arm, workload) pairs the plan leaves out, and why. */
static void print_skips(FILE *f, const struct matrix *m)
{
	char why[256];

	for (size_t i = 0; i < m->n_families; i++) {
		const struct matrix_family *fam = &m->families[i];

		for (size_t a = 0; fam->selected && a < fam->n_arms; a++)
			for (size_t w = 0; w < m->n_workloads; w++)
				if (matrix_workload_applies(&m->workloads[w], fam) &&
				    !family_arm_serves(fam->ops, fam->arms[a], m, &m->workloads[w],
						       why, sizeof(why)))
					fprintf(f, "  skip %s %s %s: %s\n", fam->name, fam->arms[a],
						m->workloads[w].name, why);
	}
}

static int copy_file(const char *from, const char *to, char *err, size_t len)
{
	size_t size;
	char *data = file_read(from, &size, err, len);
	int rc;

	if (!data)
		return -1;
	rc = file_write_atomic(to, data, size, err, len);
	free(data);
	return rc;
}

/* results/latest -> <run-id>, replaced atomically. */
static void point_latest(const char *results, const char *run_id)
{
	char link[PATH_MAX + 16], tmp[PATH_MAX + 32];

	path_printf(link, sizeof(link), "%s/latest", results);
	path_printf(tmp, sizeof(tmp), "%s/.latest.%d", results, (int)getpid());
	unlink(tmp);
	if (symlink(run_id, tmp) || rename(tmp, link))
		fprintf(stderr, "twinbench run: cannot point %s at %s: %s\n", link, run_id,
			strerror(errno));
}

static size_t count_done(const struct plan *p, const char *rundir)
{
	char path[PATH_MAX + 64];
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++) {
		sample_path(path, sizeof(path), rundir, "samples", p->entries[i].index);
		n += path_exists(path);
	}
	return n;
}

/*
 * One progress line; the rate (and so the ETA) counts from the first sample
 * this run finished, so the boot does not distort it.
 */
static void show_progress(size_t done, size_t total, size_t first_done, double first_at,
			  double started)
{
	double now = now_seconds(), eta = -1;
	int elapsed = now - started;
	bool tty = isatty(STDERR_FILENO);
	char eta_text[32] = "?";

	if (done > first_done) {
		eta = (now - first_at) / (done - first_done) * (total - done);
		snprintf(eta_text, sizeof(eta_text), "%dm%02ds", (int)eta / 60, (int)eta % 60);
	}
	fprintf(stderr, "%stwinbench run: %zu/%zu samples, %dm%02ds elapsed, ETA %s%s",
		tty ? "\r" : "", done, total, elapsed / 60, elapsed % 60, eta_text,
		tty ? "   " : "\n");
}

static int build_initramfs(const char *top, const char *kver, const struct guest_kernel *gk,
			   char *img, size_t size)
{
	char script[PATH_MAX + 32], self[PATH_MAX];
	char *argv[12] = { script, "-o", img, "-k", (char *)kver, "-f", self };
	size_t argc = 7;
	char err[512];
	struct proc_result r;
	ssize_t n;

	/* the guest runs this very binary, whatever bench/twinbench is meanwhile */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		fprintf(stderr, "twinbench run: cannot find its own binary: %s\n", strerror(errno));
		return -1;
	}
	self[n] = '\0';
	if (gk->modroot[0]) {
		argv[argc++] = "-r";
		argv[argc++] = (char *)gk->modroot;
	}
	if (gk->kodir[0]) {
		argv[argc++] = "-M";
		argv[argc++] = (char *)gk->kodir;
	}

	path_printf(script, sizeof(script), "%s/scripts/mkinitramfs.sh", top);
	/* one image per run: concurrent runs must not rebuild each other's */
	path_printf(img, size, "%s/build/initramfs-twinbench-%s-%d.img", top, kver, (int)getpid());
	fprintf(stderr, "twinbench run: building the guest initramfs %s\n", img);
	if (proc_run(argv, NULL, &r, err, sizeof(err))) {
		fprintf(stderr, "twinbench run: %s\n", err);
		return -1;
	}
	if (r.status) {
		fprintf(stderr, "twinbench run: mkinitramfs.sh failed (%d): %s\n", r.status,
			strtrim(r.errout));
		proc_result_free(&r);
		return -1;
	}
	proc_result_free(&r);
	return 0;
}

/* A resumed run boots again: keep the logs of the earlier boots as console.N.log, dmesg.N.txt. */
static void keep_guest_logs(const char *rundir)
{
	char from[PATH_MAX + 32], to[PATH_MAX + 32];
	unsigned int n = 1;

	path_printf(from, sizeof(from), "%s/console.log", rundir);
	if (!path_exists(from))
		return;
	do
		path_printf(to, sizeof(to), "%s/console.%u.log", rundir, n++);
	while (path_exists(to));
	rename(from, to);
	path_printf(from, sizeof(from), "%s/dmesg.txt", rundir);
	path_printf(to, sizeof(to), "%s/dmesg.%u.txt", rundir, n - 1);
	rename(from, to);
}

/* Does any sample of @p belong to family @name? */
static bool plan_has_family(const struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->entries[i].family, name))
			return true;
	return false;
}

/* What a VM run needs, the same for each of its boots. */
struct vm_run {
	const char *top, *rundir, *kver, *clock, *img;
	const struct guest_kernel *gk;
	const struct matrix *m;
	const struct plan *p;
	struct run_locks *locks;
	unsigned int boot;	/* the plan's boot these samples belong to */
};

/* vm_boot's status when its watchdog stopped a hung guest: boot again for the rest. */
#define BOOT_HUNG	(-1)

/*
 * Start scripts/vm-run.sh in a process group of its own. It gets SIGTERM when this
 * process dies, however it dies, and stops its guest then; it holds the run's locks.
 */
static pid_t start_vm(const struct vm_run *v, const char *tmo)
{
	char script[PATH_MAX + 32];
	pid_t parent = getpid(), pid;

	path_printf(script, sizeof(script), "%s/scripts/vm-run.sh", v->top);
	pid = fork();
	if (pid < 0) {
		perror("twinbench run: fork");
		return -1;
	}
	if (pid)
		return pid;
	setpgid(0, 0);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	/* a stop that came before the reset reached only the inherited handler */
	if (stop_signal || prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() != parent)
		_exit(127);
	lock_inherit(v->locks);
	/* In the icount clock, the insncount plugin (insn.h) counts each sample. */
	char *argv[] = { script, "--share", (char *)v->rundir, "--clock", (char *)v->clock,
			 "--kver", (char *)v->kver, "--initrd", (char *)v->img, "--timeout",
			 (char *)tmo, "--quiet", NULL, NULL, NULL, NULL, NULL, NULL, NULL };
	size_t argc = 12;

	if (v->gk->image[0]) {
		argv[argc++] = "--kernel-image";
		argv[argc++] = (char *)v->gk->image;
	}
	if (insn_plugin_usable(v->top, v->clock)) {
		argv[argc++] = "--plugin";
		argv[argc++] = "";
	}
	/* The nvme family drives QEMU's controller, backed by no host storage at all. */
	if (plan_has_family(v->p, "nvme")) {
		argv[argc++] = "--nvme";
		argv[argc++] = "null=" VM_NVME_SIZE;
	}
	execv(script, argv);
	perror("twinbench run: vm-run.sh");
	_exit(127);
}

/* The plan entry the guest was running: EXEC_CURRENT_FILE, else the first not done. */
static const struct plan_entry *current_entry(const struct vm_run *v)
{
	char path[PATH_MAX + 64], line[32];
	unsigned long index = ~0UL;

	path_printf(path, sizeof(path), "%s/" EXEC_CURRENT_FILE, v->rundir);
	if (!file_read_line(path, line, sizeof(line)))
		index = strtoul(line, NULL, 10);
	for (size_t i = 0; i < v->p->n; i++)
		if (v->p->entries[i].index == index)
			return &v->p->entries[i];
	for (size_t i = 0; i < v->p->n; i++) {
		sample_path(path, sizeof(path), v->rundir, "samples", v->p->entries[i].index);
		if (v->p->entries[i].boot == v->boot && !path_exists(path))
			return &v->p->entries[i];
	}
	return NULL;
}

/* Samples of boot @v->boot not yet done. */
static size_t boot_left(const struct vm_run *v)
{
	char path[PATH_MAX + 64];
	size_t n = 0;

	for (size_t i = 0; i < v->p->n; i++) {
		sample_path(path, sizeof(path), v->rundir, "samples", v->p->entries[i].index);
		n += v->p->entries[i].boot == v->boot && !path_exists(path);
	}
	return n;
}

/*
 * The watchdog fired during plan entry @e: keep the console's last lines beside it as
 * samples/NNNN.console.txt, print them, and write the sample as invalid with @why.
 */
static void mark_hung(const struct vm_run *v, const struct plan_entry *e, const char *why)
{
	char path[PATH_MAX + 64], tail[PATH_MAX + 64], note[400], err[512];
	size_t size, from;
	char *log;
	int lines = 0;

	path_printf(path, sizeof(path), "%s/console.log", v->rundir);
	path_printf(tail, sizeof(tail), "%s/samples/%04u.console.txt", v->rundir, e->index);
	log = file_read(path, &size, err, sizeof(err));
	for (from = size; log && from > 0 && lines <= 20; from--)
		lines += log[from - 1] == '\n';
	if (log && file_write_atomic(tail, log + from, size - from, err, sizeof(err)))
		fprintf(stderr, "twinbench run: %s\n", err);
	fprintf(stderr, "twinbench run: the guest console's last lines (%s):\n%s", tail,
		log ? log + from : "(no console log)\n");
	free(log);
	snprintf(note, sizeof(note), "watchdog: %s; console tail in samples/%04u.console.txt",
		 why, e->index);
	if (sample_write_invalid(v->m, v->rundir, e, note))
		fprintf(stderr, "twinbench run: cannot mark sample %04u invalid\n", e->index);
}

/*
 * The plugin output a boot that ran out of disk left (files since @since) is cut short:
 * set it aside as .partial, so the samples of that boot lose only their own counts
 * (insn-window-missing) instead of every sample's to a parse error.
 */
static void set_aside_plugin_output(const char *rundir, time_t since)
{
	char pattern[PATH_MAX + 32], to[PATH_MAX + 48];
	struct stat st;
	glob_t g;

	path_printf(pattern, sizeof(pattern), "%s/insncount*.txt", rundir);
	if (glob(pattern, 0, NULL, &g))
		return;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		if (stat(g.gl_pathv[i], &st) || st.st_mtime < since)
			continue;
		path_printf(to, sizeof(to), "%s.partial", g.gl_pathv[i]);
		if (!rename(g.gl_pathv[i], to))
			fprintf(stderr, "twinbench run: the instruction counts of this boot are cut "
				"short; set aside as %s\n", to);
	}
	globfree(&g);
}

/*
 * Boot the VM once for what is left of the plan, following its progress through
 * samples/. The watchdog stops a guest that finishes no sample for WATCHDOG_FACTOR
 * per-sample timeouts (BOOT_HUNG: the caller boots again for the rest).
 */
static int vm_boot(const struct vm_run *v)
{
	const unsigned int limit = WATCHDOG_FACTOR * v->m->timeout;
	char tmo[32], path[PATH_MAX + 64], why[160];
	size_t total = v->p->n, at_start = count_done(v->p, v->rundir), last = (size_t)-1;
	size_t first_done = (size_t)-1;
	double started = now_seconds(), first_at = 0, progress_at = 0;
	time_t booted = time(NULL);
	int status, rc;
	pid_t pid;

	path_printf(path, sizeof(path), "%s/" EXEC_CURRENT_FILE, v->rundir);
	unlink(path);
	snprintf(tmo, sizeof(tmo), "%zu",
		 VM_TIMEOUT_BASE + boot_left(v) * 2 * ((size_t)v->m->timeout + 60));
	fprintf(stderr, "twinbench run: booting the VM (boot %u, kernel %s, clock %s) for %zu "
		"samples; guest log: %s/console.log\n", v->boot, v->kver, v->clock, boot_left(v),
		v->rundir);
	if (stop_signal)
		return EXIT_INTERRUPTED;
	pid = start_vm(v, tmo);
	if (pid < 0)
		return 1;
	setpgid(pid, pid);
	for (unsigned int tick = 0;; tick++) {
		size_t done;

		rc = waitpid(pid, &status, WNOHANG);
		if (rc == pid || (rc < 0 && errno != EINTR))
			break;
		if (stop_signal) {
			fprintf(stderr, "\ntwinbench run: signal %d: stopping the VM; finished "
				"samples are kept (resume with --resume %s)\n", (int)stop_signal,
				v->rundir);
			kill(-pid, SIGTERM);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return EXIT_INTERRUPTED;
		}
		done = count_done(v->p, v->rundir);
		if (!progress_at && path_exists(path))
			progress_at = now_seconds();
		if (done != last) {
			if (first_done == (size_t)-1 && done > at_start) {
				first_done = done;
				first_at = now_seconds();
			}
			if (last != (size_t)-1)
				progress_at = now_seconds();
			show_progress(done, total, first_done == (size_t)-1 ? done : first_done,
				      first_at, started);
			last = done;
		}
		if (tick % 10 == 0)
			lock_poll_peers(v->locks);
		why[0] = '\0';
		if (progress_at && now_seconds() - progress_at > limit)
			snprintf(why, sizeof(why), "no finished sample for %u s (%u x the "
				 "per-sample timeout of %u s)", limit, WATCHDOG_FACTOR,
				 v->m->timeout);
		else if (!progress_at && now_seconds() - started > VM_TIMEOUT_BASE)
			snprintf(why, sizeof(why), "the guest did not start the plan within "
				 "%u s of booting", VM_TIMEOUT_BASE);
		if (why[0]) {
			const struct plan_entry *e = progress_at ? current_entry(v) : NULL;

			if (isatty(STDERR_FILENO))
				fputc('\n', stderr);
			if (e)
				fprintf(stderr, "twinbench run: WATCHDOG: %s during sample %04u "
					"(%s %s %s #%u): stopping the VM, the rest of the plan goes "
					"on in a fresh boot\n", why, e->index, e->family, e->arm,
					e->workload, e->sample);
			else
				fprintf(stderr, "twinbench run: WATCHDOG: %s: stopping the VM; see "
					"%s/console.log\n", why, v->rundir);
			kill(-pid, SIGTERM);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			if (!e)
				return 1;
			mark_hung(v, e, why);
			return BOOT_HUNG;
		}
		usleep(500000);
	}
	if (isatty(STDERR_FILENO))
		fputc('\n', stderr);
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	switch (rc) {
	case 0:
		break;
	case 1:
		fprintf(stderr, "twinbench run: some samples failed or are invalid (see below)\n");
		break;
	case VM_EXIT_NOSPACE:
		fprintf(stderr, "twinbench run: No space left on device in %s: %zu of %zu samples "
			"finished and are kept; free space, then: twinbench run --resume %s\n",
			v->rundir, count_done(v->p, v->rundir), total, v->rundir);
		set_aside_plugin_output(v->rundir, booted);
		break;
	case 124:
		fprintf(stderr, "twinbench run: the VM timed out; see %s/console.log\n", v->rundir);
		break;
	case 126:
		fprintf(stderr, "twinbench run: KERNEL PROBLEM in the guest log (%s/console.log, "
			"lines above); a sample during which it was logged is marked invalid\n",
			v->rundir);
		break;
	default:
		fprintf(stderr, "twinbench run: the VM run ended with status %d; see "
			"%s/console.log\n", rc, v->rundir);
	}
	return rc;
}

/*
 * Run boot @boot of the plan in the VM: one boot, and a fresh one for the rest of its
 * samples each time the watchdog stopped a hung guest. Returns the last boot's status,
 * at least 1 after a hang.
 */
static int run_in_vm(const char *top, const char *rundir, const char *kver,
		     const struct guest_kernel *gk, const char *clock, const struct matrix *m,
		     const struct plan *p, unsigned int boot, struct run_locks *locks)
{
	char img[PATH_MAX + 64], job[PATH_MAX + 16], err[512], job_text[256];
	struct vm_run v = { .top = top, .rundir = rundir, .kver = kver, .clock = clock,
			    .img = img, .gk = gk, .m = m, .p = p, .locks = locks, .boot = boot };
	const char *hang = getenv("TWINBENCH_TEST_HANG");
	unsigned int hangs = 0;
	int rc, n;

	if (hang && (!*hang || hang[strspn(hang, "0123456789")]))
		hang = NULL;
	if (build_initramfs(top, kver, gk, img, sizeof(img)))
		return 1;
	n = snprintf(job_text, sizeof(job_text),
		     "#!/bin/sh\n"
		     "# written by twinbench run: execute boot %u of the plan inside the guest\n"
		     "%s%s%sexec twinbench exec --plan /out/plan.tsv --out /out --boot %u\n",
		     boot, hang ? "TWINBENCH_TEST_HANG=" : "", hang ? hang : "", hang ? " " : "",
		     boot);
	path_printf(job, sizeof(job), "%s/job.sh", rundir);
	do {
		keep_guest_logs(rundir);
		if (file_write_atomic(job, job_text, n, err, sizeof(err))) {
			fprintf(stderr, "twinbench run: %s\n", err);
			rc = 1;
			break;
		}
		rc = vm_boot(&v);
		hangs += rc == BOOT_HUNG;
	} while (rc == BOOT_HUNG && boot_left(&v));
	unlink(img);
	if (hangs) {
		fprintf(stderr, "twinbench run: the watchdog stopped %u hung boot%s; the rest of "
			"the plan ran in fresh boots\n", hangs, hangs > 1 ? "s" : "");
		if (rc == 0 || rc == BOOT_HUNG)
			rc = 1;
	}
	return rc;
}

/*
 * One VM boot per boot of the plan that has samples left, in order; a failed boot does
 * not stop the next ones (an interruption does). Returns the first non-zero status.
 */
static int run_boots(const char *top, const char *rundir, const char *kver,
		     const struct guest_kernel *gk, const char *clock, const struct matrix *m,
		     const struct plan *p, struct run_locks *locks)
{
	char path[PATH_MAX + 64];
	int rc = 0;

	for (unsigned int b = 1; rc != EXIT_INTERRUPTED; b++) {
		bool planned = false, pending = false;
		int one;

		for (size_t i = 0; i < p->n; i++) {
			if (p->entries[i].boot != b)
				continue;
			planned = true;
			sample_path(path, sizeof(path), rundir, "samples", p->entries[i].index);
			pending |= !path_exists(path);
		}
		if (!planned)
			break;
		if (!pending)
			continue;
		if (stop_signal)
			return EXIT_INTERRUPTED;
		one = run_in_vm(top, rundir, kver, gk, clock, m, p, b, locks);
		if (!rc || one == EXIT_INTERRUPTED)
			rc = one;
		/* a full disk stays full for the next boot too */
		if (one == VM_EXIT_NOSPACE)
			return one;
	}
	return rc;
}

/* Which families of @m the plan covers (a resumed run keeps its selection). */
static void select_from_plan(struct matrix *m, const struct plan *p)
{
	for (size_t f = 0; f < m->n_families; f++) {
		m->families[f].selected = false;
		for (size_t i = 0; i < p->n && !m->families[f].selected; i++)
			m->families[f].selected = !strcmp(p->entries[i].family,
							  m->families[f].name);
	}
}

/*
 * Merge samples/ and settings/ into samples.csv and settings.csv, compute
 * summary.csv and print the table. Returns 0 when every planned sample is
 * there and valid.
 */
static int summarise_run(const char *rundir, const struct matrix *m, const struct plan *p)
{
	struct sample_table samples = { 0 };
	struct settings_table settings = { 0 };
	struct summary_table sum = { 0 };
	char path[PATH_MAX + 64], err[1024];
	size_t missing = 0, invalid = 0, unjudged;
	int rc = 0;

	for (size_t i = 0; i < p->n; i++) {
		const struct plan_entry *e = &p->entries[i];
		size_t before = samples.n;

		sample_path(path, sizeof(path), rundir, "samples", e->index);
		if (!path_exists(path)) {
			missing++;
			continue;
		}
		if (results_load_samples(path, &samples, err, sizeof(err))) {
			fprintf(stderr, "twinbench: %s\n", err);
			rc = 1;
			continue;
		}
		if (samples.n == before) {
			fprintf(stderr, "twinbench: %s: no rows, only a header; sample %04u counted "
				"as missing\n", path, e->index);
			missing++;
			continue;
		}
		for (size_t r = before; r < samples.n; r++)
			if (!samples.rows[r].boot)
				samples.rows[r].boot = e->boot;
		for (size_t r = before; r < samples.n; r++) {
			if (!samples.rows[r].valid) {
				fprintf(stderr, "twinbench: INVALID sample %04u (%s %s %s #%u): "
					"%s\n", e->index, e->family, e->arm, e->workload,
					e->sample, samples.rows[r].note);
				invalid++;
				break;
			}
		}
		sample_path(path, sizeof(path), rundir, "settings", e->index);
		if (path_exists(path) && results_load_settings(path, &settings, err, sizeof(err))) {
			fprintf(stderr, "twinbench: %s\n", err);
			rc = 1;
		}
	}
	trace_overhead_rows(m, &samples);
	if (insn_merge(rundir, &samples, err, sizeof(err)) < 0)
		fprintf(stderr, "twinbench: instruction profiles: %s\n", err);
	unjudged = summary_compute(m, &samples, &settings, &sum);
	path_printf(path, sizeof(path), "%s/samples.csv", rundir);
	if (results_write_samples(path, &samples, err, sizeof(err)))
		goto write_failed;
	path_printf(path, sizeof(path), "%s/settings.csv", rundir);
	if (results_write_settings(path, &settings, err, sizeof(err)))
		goto write_failed;
	path_printf(path, sizeof(path), "%s/summary.csv", rundir);
	if (results_write_summary(path, &sum, err, sizeof(err)))
		goto write_failed;
	summary_print(stdout, &sum, p->clock);
	printf("\n%zu of %zu samples present, %zu invalid or failed; results in %s\n",
	       p->n - missing, p->n, invalid, rundir);
	if (unjudged)
		printf("%zu compared series have no valid samples of an arm (flag missing-arm)\n",
		       unjudged);
	if (missing || invalid || unjudged)
		rc = 1;
	goto out;
write_failed:
	fprintf(stderr, "twinbench: %s\n", err);
	rc = 1;
out:
	sample_table_free(&samples);
	settings_table_free(&settings);
	summary_table_free(&sum);
	return rc;
}

/*
 * A run's arms are those of its facts.tsv: a profile's arm left out at the start (not built
 * for the kernel) stays out when the run is resumed or summarised.
 */
static void keep_arms_of_facts(struct matrix *m, const char *rundir)
{
	char path[PATH_MAX + 16], err[512];
	struct facts f;

	path_printf(path, sizeof(path), "%s/" FACTS_FILE, rundir);
	if (!path_exists(path) || facts_read(path, &f, err, sizeof(err)))
		return;
	for (size_t i = 0; i < m->n_families; i++) {
		struct matrix_family *fam = &m->families[i];

		for (size_t a = 0; a < fam->n_arms; a++)
			if (!facts_find(&f, FACT_ARM, fam->name, fam->arms[a])) {
				matrix_drop_arm(fam, fam->arms[a]);
				a--;
			}
	}
	facts_free(&f);
}

static int load_run(const char *rundir, struct matrix *m, struct plan *p)
{
	char path[PATH_MAX + 300], err[1024];

	path_printf(path, sizeof(path), "%s/plan.tsv", rundir);
	if (plan_read(path, p, err, sizeof(err))) {
		fprintf(stderr, "twinbench: %s\n", err);
		return -1;
	}
	path_printf(path, sizeof(path), "%s/%s", rundir, p->matrix);
	if (matrix_load(path, m, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		plan_free(p);
		return -1;
	}
	select_from_plan(m, p);
	keep_arms_of_facts(m, rundir);
	return 0;
}

static void run_usage(FILE *f)
{
	fprintf(f,
		"usage: twinbench run [--profile NAME | --matrix FILE] [--families LIST]\n"
		"                     [--mode auto|host|vm] [--clock icount|wall] [--seed N]\n"
		"                     [--kver RELEASE] [--kernel LINE] [--results DIR]\n"
		"                     [--resume RUN_DIR] [--no-wait]\n"
		"  profiles are bench/profiles/NAME.ini (quick, default, nightly, rust)\n"
		"  --kernel LINE boots that cached kernel (VM mode; scripts/kernels.sh lines;\n"
		"  default: scripts/kernels.sh default); rnull needs a Rust-enabled one (7)\n"
		"  --no-wait refuses to run while another benchmark holds the machine\n"
		"       twinbench check [--profile NAME | --matrix FILE] [--families LIST]\n"
		"                       [--facts FILE]\n"
		"  --facts FILE also writes the matrix's facts (each workload's keys, each\n"
		"  arm's role), as a run folder's facts.tsv holds them\n");
}

static int parse_run_opts(int argc, char **argv, struct run_opts *o)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "matrix", required_argument, NULL, 'm' },
		{ "families", required_argument, NULL, 'f' },
		{ "mode", required_argument, NULL, 'M' },
		{ "clock", required_argument, NULL, 'c' },
		{ "resume", required_argument, NULL, 'r' },
		{ "results", required_argument, NULL, 'R' },
		{ "kver", required_argument, NULL, 'k' },
		{ "kernel", required_argument, NULL, 'K' },
		{ "seed", required_argument, NULL, 's' },
		{ "no-wait", no_argument, NULL, 'W' },
		{ "facts", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	o->mode = "auto";
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': o->profile = optarg; break;
		case 'm': o->matrix = optarg; break;
		case 'f': o->families = optarg; break;
		case 'M': o->mode = optarg; break;
		case 'c': o->clock = optarg; break;
		case 'r': o->resume = optarg; break;
		case 'R': o->results = optarg; break;
		case 'k': o->kver = optarg; break;
		case 'K': o->kernel = optarg; break;
		case 'W': o->no_wait = true; break;
		case 'F': o->facts = optarg; break;
		case 's':
			errno = 0;
			o->seed = strtoull(optarg, &end, 10);
			if (errno || *end || !*optarg) {
				fprintf(stderr, "twinbench run: --seed %s: expected a number\n",
					optarg);
				return -1;
			}
			o->seed_given = true;
			break;
		case 'h':
			run_usage(stdout);
			exit(0);
		default:
			run_usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "twinbench run: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (o->profile && o->matrix) {
		fprintf(stderr, "twinbench run: give --profile or --matrix, not both\n");
		return -1;
	}
	if (strcmp(o->mode, "auto") && strcmp(o->mode, "host") && strcmp(o->mode, "vm")) {
		fprintf(stderr, "twinbench run: --mode %s: expected auto, host or vm\n", o->mode);
		return -1;
	}
	if (o->kernel && !strcmp(o->mode, "host")) {
		fprintf(stderr, "twinbench run: --kernel %s boots a cached kernel in a VM; host "
			"mode runs on the running kernel: give one of --kernel, --mode host\n",
			o->kernel);
		return -1;
	}
	if (o->clock && strcmp(o->clock, "icount") && strcmp(o->clock, "wall")) {
		fprintf(stderr, "twinbench run: --clock %s: expected icount or wall\n", o->clock);
		return -1;
	}
	if (o->resume && (o->profile || o->matrix || o->families || o->seed_given)) {
		fprintf(stderr, "twinbench run: --resume keeps the run's own matrix, families "
			"and seed\n");
		return -1;
	}
	return 0;
}

/* The matrix file named by --matrix or --profile (default: the "default" profile). */
static void matrix_path(const char *top, const struct run_opts *o, char *path, size_t size,
			const char **profile)
{
	if (o->matrix) {
		snprintf(path, size, "%s", o->matrix);
		*profile = "custom";
		return;
	}
	*profile = o->profile ? o->profile : "default";
	path_printf(path, size, "%s/bench/profiles/%s.ini", top, *profile);
}

/*
 * Refuse to start @todo samples when the filesystem of @dir (or of its nearest existing
 * parent) has less free space than they write (SPACE_* above).
 */
static int check_space(const char *dir, size_t todo, bool insn)
{
	uint64_t need = insn ? SPACE_PER_BOOT_INSN + todo * (uint64_t)SPACE_PER_SAMPLE_INSN :
			SPACE_PER_BOOT + todo * (uint64_t)SPACE_PER_SAMPLE;
	char at[PATH_MAX];
	struct statvfs vfs;
	uint64_t avail;

	snprintf(at, sizeof(at), "%s", dir);
	while (statvfs(at, &vfs)) {
		char *slash = strrchr(at, '/');

		if (errno != ENOENT || !slash || slash == at)
			return 0;
		*slash = '\0';
	}
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (avail >= need)
		return 0;
	fprintf(stderr, "twinbench run: %s: %.1f MiB free; the %zu samples to run write about "
		"%.1f MiB: free space there or give another --results\n", dir,
		avail / 1048576.0, todo, need / 1048576.0);
	return -1;
}

/* Exclusive use of the machine, or a share of it (the icount clock). */
static int take_machine(const struct run_opts *o, const char *mode, struct run_locks *l)
{
	bool alone = !strcmp(mode, "host") || strcmp(o->clock, "icount");

	return lock_machine(l, alone, !o->no_wait);
}

/*
 * Write the facts of @m (facts.h) as RUNDIR/facts.tsv, or to @file when it is given: the
 * one place every later stage learns each workload's keys and each arm's role from.
 */
static int write_facts(const struct matrix *m, const char *rundir, const char *file, char *err,
		       size_t len)
{
	char path[PATH_MAX + 16];
	struct facts f;
	int rc;

	if (!file)
		path_printf(path, sizeof(path), "%s/" FACTS_FILE, rundir);
	facts_resolve(m, &f);
	rc = facts_write(file ? file : path, &f, err, len);
	facts_free(&f);
	return rc;
}

static int new_run(const char *top, const struct run_opts *o, const struct guest_kernel *gk,
		   const char *results, struct matrix *m, struct plan *p, char *rundir, size_t rundir_len,
		   char *run_id, size_t run_id_len, const char **profile, const char *mode,
		   struct run_locks *l)
{
	char path[PATH_MAX], dst[PATH_MAX + 300], err[1024];
	time_t now = time(NULL);
	int rc;

	matrix_path(top, o, path, sizeof(path), profile);
	if (o->profile && !path_exists(path)) {
		fprintf(stderr, "twinbench run: --profile %s: no %s\n", o->profile, path);
		return -1;
	}
	if (matrix_load(path, m, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (matrix_select_families(m, o->families, err, sizeof(err)) ||
	    insn_twins_copy(top, NULL, err, sizeof(err))) {
		fprintf(stderr, "twinbench run: %s\n", err);
		return -1;
	}
	if (gate_arms(m, gk, path, !o->matrix))
		return -1;
	p->seed = o->seed_given ? o->seed : m->seed_given ? m->seed :
		  (uint64_t)now ^ ((uint64_t)getpid() << 32);
	plan_build(m, p->seed, p);
	print_skips(stdout, m);
	print_estimate(m, p, mode);
	if (!p->n) {
		fprintf(stderr, "twinbench run: the selected families have no samples to run\n");
		return -1;
	}
	if (check_space(results, p->n, insn_plugin_usable(top, o->clock)))
		return -1;
	rc = take_machine(o, mode, l);
	if (rc)
		return rc;
	now = time(NULL);
	strftime(run_id, run_id_len, "%Y%m%d-%H%M%S", localtime(&now));
	snprintf(run_id + strlen(run_id), run_id_len - strlen(run_id), "-%s", *profile);
	path_printf(rundir, rundir_len, "%s/%s", results, run_id);
	if (path_exists(rundir)) {
		fprintf(stderr, "twinbench run: %s exists already\n", rundir);
		return -1;
	}
	if (mkdir_p(rundir, err, sizeof(err))) {
		fprintf(stderr, "twinbench run: %s\n", err);
		return -1;
	}
	if (lock_rundir(l, rundir))
		return -1;
	/* run folders are outputs: keep them out of git without touching the tree's files */
	path_printf(dst, sizeof(dst), "%s/.gitignore", results);
	if (!path_exists(dst) && file_write_atomic(dst, "*\n", 2, err, sizeof(err)))
		fprintf(stderr, "twinbench run: %s\n", err);
	path_printf(dst, sizeof(dst), "%s/matrix.ini", rundir);
	if (copy_file(path, dst, err, sizeof(err)) ||
	    write_facts(m, rundir, NULL, err, sizeof(err)) ||
	    insn_twins_copy(top, rundir, err, sizeof(err))) {
		fprintf(stderr, "twinbench run: %s\n", err);
		return -1;
	}
	snprintf(p->matrix, sizeof(p->matrix), "matrix.ini");
	return 0;
}

/*
 * A run ends with its report (report.md, report.html with the plots, summary.txt), as
 * twinbench report writes it; a report that fails is said, the run's status stays.
 */
static void run_report(const char *rundir)
{
	char *argv[] = { "report", (char *)rundir, NULL };

	printf("twinbench run: writing the report of %s\n", rundir);
	fflush(stdout);
	if (report_main(2, argv) == 2)
		fprintf(stderr, "twinbench run: no report (see above); twinbench report %s "
			"retries\n", rundir);
}

int run_main(int argc, char **argv)
{
	char top[PATH_MAX], results[PATH_MAX + 16], rundir[PATH_MAX * 2], run_id[128];
	char mode[16], why[600], kver[128], path[PATH_MAX * 2 + 16], err[1024];
	char old_profile[64], line[32];
	const char *profile = "default";
	struct guest_kernel gk = { 0 };
	struct matrix *m = calloc(1, sizeof(*m));
	struct plan p = { 0 };
	struct run_locks locks;
	struct run_opts o;
	long taint_before = -1;
	int rc;

	if (!m)
		abort();
	if (parse_run_opts(argc, argv, &o))
		return EXIT_BAD_INPUT;
	run_locks_init(&locks);
	install_stop_handlers();
	find_top(top, sizeof(top));
	if (o.results)
		snprintf(results, sizeof(results), "%s", o.results);
	else
		path_printf(results, sizeof(results), "%s/results", top);
	if (o.resume) {
		snprintf(rundir, sizeof(rundir), "%s", o.resume);
		if (load_run(rundir, m, &p) ||
		    manifest_read_mode(rundir, mode, sizeof(mode), old_profile,
				       sizeof(old_profile), err, sizeof(err))) {
			if (p.entries)
				fprintf(stderr, "twinbench run: %s\n", err);
			return EXIT_BAD_INPUT;
		}
		if (lock_rundir(&locks, rundir))
			return EXIT_BAD_INPUT;
		o.mode = mode;
		o.clock = p.clock;
		o.resumed = true;
		profile = old_profile;
		if (!o.kernel && manifest_read_kernel_line(rundir, line, sizeof(line)) == 0)
			o.kernel = line;
	}
	if (o.kernel && !strcmp(o.mode, "auto"))
		o.mode = "vm";
	if (pick_mode(top, &o, mode, sizeof(mode), why, sizeof(why)))
		return EXIT_BAD_INPUT;
	if (!strcmp(mode, "host"))
		kmod_use_tree(top);
	if (o.kernel && !o.resumed)
		snprintf(why, sizeof(why), "--kernel %s boots that cached kernel in a VM", o.kernel);
	if (!strcmp(mode, "vm")) {
		if (!o.kernel && default_kernel(top, line, sizeof(line)))
			return EXIT_BAD_INPUT;
		if (!o.kernel)
			o.kernel = line;
		if (cached_kernel(top, o.kernel, kver, sizeof(kver), &gk))
			return EXIT_BAD_INPUT;
	}
	if (o.kver)
		snprintf(kver, sizeof(kver), "%s", o.kver);
	else if (!gk.image[0] &&
		 ask_script(top, "kver.sh", "host", kver, sizeof(kver), err, sizeof(err))) {
		fprintf(stderr, "twinbench run: %s\n", err);
		return EXIT_BAD_INPUT;
	}
	if (!strcmp(mode, "host")) {
		if (preflight_signatures(kver, err, sizeof(err))) {
			fprintf(stderr, "twinbench run: %s\n", err);
			return EXIT_BAD_INPUT;
		}
		taint_before = preflight_taint();
	}
	if (!strcmp(mode, "vm") && !strcmp(o.clock, "icount") && !insn_plugin_usable(top, o.clock))
		fprintf(stderr, "twinbench run: no exact instruction counts: %s/plugin/insncount.so "
			"is not built (make userspace builds it)\n", top);
	if (o.resume) {
		if (check_space(rundir, p.n - count_done(&p, rundir),
				!strcmp(mode, "vm") && insn_plugin_usable(top, o.clock)))
			return EXIT_BAD_INPUT;
		rc = take_machine(&o, mode, &locks);
		if (rc)
			return rc < 0 ? EXIT_BAD_INPUT : rc;
	} else {
		rc = new_run(top, &o, &gk, results, m, &p, rundir, sizeof(rundir), run_id,
			     sizeof(run_id), &profile, mode, &locks);
		if (rc)
			return rc < 0 ? EXIT_BAD_INPUT : rc;
		snprintf(p.clock, sizeof(p.clock), "%s", o.clock);
		p.icount_shift = strcmp(o.clock, "icount") ? -1 : VM_ICOUNT_SHIFT;
		path_printf(path, sizeof(path), "%s/plan.tsv", rundir);
		if (plan_write(path, &p, err, sizeof(err)) ||
		    manifest_write(&(struct manifest_info){
			    .top = top, .rundir = rundir, .run_id = run_id, .profile = profile,
			    .mode = mode, .mode_reason = why, .clock = o.clock,
			    .icount_shift = p.icount_shift, .kver = kver, .seed = p.seed,
			    .kernel_facts = gk.facts[0] ? gk.facts : NULL,
			    .kernel_config = gk.config[0] ? gk.config : NULL,
			    .module_root = gk.modroot[0] ? gk.modroot : NULL,
			    .module_dir = gk.kodir[0] ? gk.kodir : NULL }, m,
			    err, sizeof(err))) {
			fprintf(stderr, "twinbench run: %s\n", err);
			return 1;
		}
		point_latest(results, run_id);
	}
	lock_register(&locks, rundir, mode, o.clock);
	printf("twinbench run: %s mode (%s), clock %s, kernel %s, seed %" PRIu64 "\n"
	       "twinbench run: %zu samples (%u per arm and workload over %u boots), run folder %s\n",
	       mode, why, o.clock, kver, p.seed, p.n, m->samples, m->boots, rundir);
	fflush(stdout);

	if (!strcmp(mode, "host")) {
		rc = exec_plan(m, &p, rundir);
		if (preflight_record_taint(rundir, taint_before, err, sizeof(err)))
			fprintf(stderr, "twinbench run: %s\n", err);
	} else
		rc = run_boots(top, rundir, kver, &gk, o.clock, m, &p, &locks);
	lock_poll_peers(&locks);
	/* a full disk: writing more would only add errors that follow from it */
	if (rc != VM_EXIT_NOSPACE &&
	    manifest_set_concurrent(rundir, locks.peers, err, sizeof(err)))
		fprintf(stderr, "twinbench run: %s\n", err);
	if (rc != VM_EXIT_NOSPACE && summarise_run(rundir, m, &p) && !rc)
		rc = 1;
	lock_release(&locks);
	if (rc != VM_EXIT_NOSPACE && rc != EXIT_INTERRUPTED)
		run_report(rundir);
	if (rc == EXIT_INTERRUPTED)
		fprintf(stderr, "twinbench run: interrupted; resume with: twinbench run "
			"--resume %s\n", rundir);
	plan_free(&p);
	free(m);
	return rc ? (rc == EXIT_INTERRUPTED ? rc : 1) : 0;
}

int summarise_main(int argc, char **argv)
{
	char path[PATH_MAX + 16], err[512];
	struct matrix *m;
	struct plan p;
	int rc;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: twinbench summarise RUN_DIR\n");
		return EXIT_BAD_INPUT;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		abort();
	if (load_run(argv[1], m, &p)) {
		free(m);
		return EXIT_BAD_INPUT;
	}
	path_printf(path, sizeof(path), "%s/" FACTS_FILE, argv[1]);
	if (!path_exists(path) && write_facts(m, argv[1], NULL, err, sizeof(err)))
		fprintf(stderr, "twinbench summarise: %s\n", err);
	rc = summarise_run(argv[1], m, &p);
	plan_free(&p);
	free(m);
	return rc;
}

int check_main(int argc, char **argv)
{
	char top[PATH_MAX], path[PATH_MAX], err[1024];
	const char *profile;
	struct run_opts o;
	struct matrix *m;
	struct plan p;

	if (parse_run_opts(argc, argv, &o))
		return EXIT_BAD_INPUT;
	find_top(top, sizeof(top));
	matrix_path(top, &o, path, sizeof(path), &profile);
	m = calloc(1, sizeof(*m));
	if (!m)
		abort();
	if (matrix_load(path, m, err, sizeof(err)) ||
	    matrix_select_families(m, o.families, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		free(m);
		return EXIT_BAD_INPUT;
	}
	if (o.facts && write_facts(m, NULL, o.facts, err, sizeof(err))) {
		fprintf(stderr, "twinbench check: %s\n", err);
		free(m);
		return EXIT_BAD_INPUT;
	}
	plan_build(m, o.seed_given ? o.seed : m->seed, &p);
	printf("%s: ok: %zu families, %zu workloads, %u samples per arm over %u boots: %zu "
	       "samples\n", path, m->n_families, m->n_workloads, m->samples, m->boots, p.n);
	print_skips(stdout, m);
	print_estimate(m, &p, "vm");
	if (m->trace != MATRIX_TRACE_OFF)
		printf("  trace = %s: traced samples run under twintrace as ARM%s\n",
		       m->trace == MATRIX_TRACE_ON ? "on" : "both", TRACE_ARM_SUFFIX);
	for (size_t f = 0; f < m->n_families; f++)
		for (size_t i = 0; i < m->families[f].n_pairs; i++)
			printf("  compare %s: %s (baseline) vs %s\n", m->families[f].name,
			       m->families[f].pairs[i].baseline, m->families[f].pairs[i].candidate);
	for (size_t i = 0; i < p.n; i++)
		printf("  %04u %s %s %s #%u boot %u\n", p.entries[i].index, p.entries[i].family,
		       p.entries[i].arm, p.entries[i].workload, p.entries[i].sample,
		       p.entries[i].boot);
	plan_free(&p);
	free(m);
	return 0;
}
