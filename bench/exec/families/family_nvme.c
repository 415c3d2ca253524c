// SPDX-License-Identifier: GPL-2.0
/*
 * family_nvme.c - the NVMe family: one PCI NVMe controller, bound in turn to the stock
 * nvme driver and to its raw and safe twins (rawnvme, safenvme) through driver_override.
 *
 * Taking a controller from its driver is dangerous on a real machine, so this file also
 * holds the guards of docs/bare-metal.md: only explicitly listed addresses, never a
 * controller whose namespaces are mounted, swap, held by device-mapper/LVM/RAID, the root
 * device or otherwise busy, writes only where allowed for that address, and the original
 * binding restored at unload, on SIGINT/SIGTERM/SIGHUP and by the next run after a crash.
 * In the guest (TWINBENCH_GUEST=1) it may pick QEMU's emulated controller by itself.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "blockq.h"
#include "family.h"
#include "family_nvme.h"
#include "kmod.h"
#include "util.h"

#define NVME_DEFAULT_PARAMS	"io_queue_depth=1024 poll_queues=0"
#define NVME_DEVICE_WAIT	20.0
#define NVME_STATE_DIR		"/run/twinbench"
#define NVME_NAME_LEN		64
#define PCI_DEVICES		"/sys/bus/pci/devices"
#define QEMU_NVME_ID		"0x1b36:0x0010"

/*
 * Traced driver functions, by role. Stock nvme (6.1) completes in batches inside its
 * interrupt handler and never calls its complete op; the twins call theirs per request.
 * A call nested in another traced one is not timed twice: twintrace's kprobe programs do
 * not run nested (the JSON counts such misses).
 */
static const struct family_arm nvme_arms[] = {
	{ .name = "nvme", .module = "nvme", .device = "/dev/nvme%dn1", .role = ARM_UPSTREAM,
	  .trace_funcs = "queue_rq=nvme_queue_rq complete=nvme_pci_complete_rq poll=nvme_poll "
			 "irq=nvme_irq" },
	{ .name = "rawnvme", .module = "rawnvme", .device = "/dev/rawnvme%dn1", .role = ARM_RAW,
	  .trace_funcs = "queue_rq=rawnvme_queue_rq complete=rawnvme_complete poll=rawnvme_poll "
			 "irq=rawnvme_irq" },
	{ .name = "safenvme", .module = "safenvme", .device = "/dev/safenvme%dn1",
	  .role = ARM_SAFE,
	  .trace_funcs = "queue_rq=safenvme_queue_rq_adapter complete=safenvme_complete_adapter "
			 "poll=safenvme_poll_adapter irq=safenvme_irq_adapter" },
	FAMILY_SAFE_VARIANT("safenvme", "noerror", "/dev/safenvme%dn1"),
	FAMILY_SAFE_VARIANT("safenvme", "nochecked", "/dev/safenvme%dn1"),
	FAMILY_SAFE_VARIANT("safenvme", "nobounds", "/dev/safenvme%dn1"),
	FAMILY_SAFE_VARIANT("safenvme", "noarc", "/dev/safenvme%dn1"),
	FAMILY_SAFE_VARIANT("safenvme", "noguards", "/dev/safenvme%dn1"),
	FAMILY_SAFE_VARIANT("safenvme", "noreqref", "/dev/safenvme%dn1"),
	FAMILY_SAFE_VARIANT("safenvme", "nommio", "/dev/safenvme%dn1"),
	FAMILY_SAFE_VARIANT("safenvme", "noadapter", "/dev/safenvme%dn1"),
	FAMILY_SAFE_VARIANT("safenvme", "noresult", "/dev/safenvme%dn1"),
	FAMILY_SAFE_VARIANT("safenvme", "noall", "/dev/safenvme%dn1"),
	{ .name = "rustnvme", .module = "rustnvme", .device = "/dev/rustnvme%dn1",
	  .role = ARM_RUST, .rust_kernel = true },
	{ .name = NULL },
};

/* Module parameters all three arms take, with their allowed ranges. */
static const struct {
	const char *name;
	unsigned long long min, max;
} nvme_module_params[] = {
	{ "io_queue_depth", 2, 4096 },
	{ "poll_queues", 0, 64 },
};

#define N_NVME_MODULE_PARAMS ARRAY_LEN(nvme_module_params)

/*
 * The controller currently taken from its driver: its original driver, the state file
 * that records it, and the exclusive opens of the twin's disks held during the arm.
 */
static struct {
	char addr[NVME_NAME_LEN];
	char orig[NVME_NAME_LEN];
	char state[256];
	struct nvme_hold hold;
	bool armed;
	struct sigaction old[3];
} taken;

static const int restore_signals[] = { SIGINT, SIGTERM, SIGHUP };

bool nvme_addr_valid(const char *addr)
{
	unsigned int dom, bus, slot, fn;
	char tail;

	return strlen(addr) == 12 &&
	       sscanf(addr, "%4x:%2x:%2x.%1x%c", &dom, &bus, &slot, &fn, &tail) == 4 &&
	       addr[4] == ':' && addr[7] == ':' && addr[10] == '.' && slot < 32 && fn < 8;
}

bool nvme_addr_listed(const char *addr, const char *list)
{
	size_t n = strlen(addr);

	for (const char *p = list; p && *p; ) {
		p += strspn(p, ", \t");
		if (!strncmp(p, addr, n) && (!p[n] || strchr(", \t", p[n])))
			return true;
		p += strcspn(p, ", \t");
	}
	return false;
}

/* Copy the value of @key in a "k=v k=v" string into @out; false when absent. */
static bool param_str(const char *params, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);

	for (const char *p = params; p && *p; ) {
		p += strspn(p, " \t");
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			size_t vlen = strcspn(p + klen + 1, " \t");

			snprintf(out, len, "%.*s", (int)vlen, p + klen + 1);
			return true;
		}
		p += strcspn(p, " \t");
	}
	return false;
}

/* The parameters meant for the modules: everything but pci= and allow_write=. */
static void module_params(const char *params, char *out, size_t len)
{
	char buf[MATRIX_PARAMS_LEN], *save = NULL;
	size_t used = 0;

	out[0] = '\0';
	snprintf(buf, sizeof(buf), "%s", params);
	for (char *kv = strtok_r(buf, " \t", &save); kv; kv = strtok_r(NULL, " \t", &save)) {
		if (!strncmp(kv, "pci=", 4) || !strncmp(kv, "allow_write=", 12))
			continue;
		used += snprintf(out + used, used < len ? len - used : 0, "%s%s",
				 used ? " " : "", kv);
	}
}

static int read_devnum(const char *name, dev_t *dev)
{
	char path[PATH_MAX], line[32];
	unsigned int maj, min;

	path_printf(path, sizeof(path), "/sys/class/block/%s/dev", name);
	if (file_read_line(path, line, sizeof(line)) || sscanf(line, "%u:%u", &maj, &min) != 2)
		return -1;
	*dev = makedev(maj, min);
	return 0;
}

static int mounted_at(dev_t dev, char *where, size_t len)
{
	char line[4096], mnt[2048];
	unsigned int maj, min;
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int found = 0;

	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*d %*d %u:%u %*s %2047s", &maj, &min, mnt) == 3 &&
		    makedev(maj, min) == dev) {
			snprintf(where, len, "%s", mnt);
			found = 1;
		}
	fclose(f);
	return found;
}

static int is_swap(dev_t dev)
{
	char line[4096], path[2048];
	FILE *f = fopen("/proc/swaps", "r");
	struct stat st;
	int found = 0;

	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%2047s", path) == 1 && path[0] == '/' && !stat(path, &st) &&
		    S_ISBLK(st.st_mode) && st.st_rdev == dev)
			found = 1;
	fclose(f);
	return found;
}

static int first_holder(const char *name, char *holder, size_t len)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dir;
	int found = 0;

	path_printf(path, sizeof(path), "/sys/class/block/%s/holders", name);
	dir = opendir(path);
	if (!dir)
		return 0;
	while (!found && (d = readdir(dir)))
		if (d->d_name[0] != '.') {
			snprintf(holder, len, "%s", d->d_name);
			found = 1;
		}
	closedir(dir);
	return found;
}

void nvme_hold_init(struct nvme_hold *h)
{
	h->n = 0;
}

void nvme_hold_release(struct nvme_hold *h)
{
	while (h->n)
		close(h->fd[--h->n]);
}

static bool hold_has(const struct nvme_hold *h, dev_t dev)
{
	for (size_t i = 0; h && i < h->n; i++)
		if (h->dev[i] == dev)
			return true;
	return false;
}

/* Is device @dev (a block or, with @chr, a character device) open in another process? */
static int opened_elsewhere(dev_t dev, bool chr, char *who, size_t len)
{
	DIR *proc = opendir("/proc");
	struct dirent *p;
	int found = 0;

	if (!proc)
		return 0;
	while (!found && (p = readdir(proc))) {
		char dir[PATH_MAX], fd[PATH_MAX + 300], comm[64] = "?";
		struct dirent *f;
		struct stat st;
		DIR *fds;

		if (!isdigit((unsigned char)p->d_name[0]) || atoi(p->d_name) == getpid())
			continue;
		snprintf(dir, sizeof(dir), "/proc/%s/fd", p->d_name);
		fds = opendir(dir);
		if (!fds)
			continue;
		while (!found && (f = readdir(fds))) {
			snprintf(fd, sizeof(fd), "%s/%s", dir, f->d_name);
			if (f->d_name[0] == '.' || stat(fd, &st) || st.st_rdev != dev ||
			    (chr ? !S_ISCHR(st.st_mode) : !S_ISBLK(st.st_mode)))
				continue;
			snprintf(fd, sizeof(fd), "/proc/%s/comm", p->d_name);
			file_read_line(fd, comm, sizeof(comm));
			snprintf(who, len, "process %s (%s)", p->d_name, comm);
			found = 1;
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
}

/* Is block device @dev the target of one of the paths in the files @pattern matches? */
static int backs_path(const char *pattern, dev_t dev, char *what, size_t len)
{
	glob_t g;
	int found = 0;

	if (glob(pattern, 0, NULL, &g))
		return 0;
	for (size_t i = 0; i < g.gl_pathc && !found; i++) {
		char target[PATH_MAX];
		struct stat st;

		if (!file_read_line(g.gl_pathv[i], target, sizeof(target)) && target[0] == '/' &&
		    !stat(target, &st) && S_ISBLK(st.st_mode) && st.st_rdev == dev) {
			snprintf(what, len, "%s", g.gl_pathv[i]);
			found = 1;
		}
	}
	globfree(&g);
	return found;
}

/*
 * The checks of nvme_guard_block() for one disk or partition. With @hold the device is
 * opened exclusively into it (unless already there); @probe alone opens and closes.
 */
static int guard_one(const char *name, struct nvme_hold *hold, bool probe, char *err,
		     size_t len)
{
	char what[2048], path[PATH_MAX];
	struct stat root;
	dev_t dev;
	int fd;

	if (read_devnum(name, &dev))
		return seterr(err, len, "%s: no such block device", name);
	if (!stat("/", &root) && root.st_dev == dev)
		return seterr(err, len, "%s holds the root filesystem", name);
	if (mounted_at(dev, what, sizeof(what)) != 0)
		return seterr(err, len, "%s is mounted at %s", name, what);
	if (is_swap(dev) != 0)
		return seterr(err, len, "%s is active swap", name);
	if (first_holder(name, what, sizeof(what)))
		return seterr(err, len, "%s is held by %s (device-mapper, LVM or RAID)", name,
			      what);
	if (backs_path("/sys/block/loop*/loop/backing_file", dev, what, sizeof(what)))
		return seterr(err, len, "%s backs a loop device (%s)", name, what);
	if (backs_path("/sys/kernel/config/nvmet/subsystems/*/namespaces/*/device_path", dev,
		       what, sizeof(what)))
		return seterr(err, len, "%s is exported by nvmet (%s)", name, what);
	if ((hold || probe) && !hold_has(hold, dev)) {
		path_printf(path, sizeof(path), "/dev/%s", name);
		fd = open(path, O_RDONLY | O_EXCL | O_CLOEXEC);
		if (fd < 0 && errno == EBUSY)
			return seterr(err, len, "%s is in use (exclusive open: device busy)", name);
		if (fd >= 0 && hold && hold->n < NVME_HOLD_MAX) {
			hold->fd[hold->n] = fd;
			hold->dev[hold->n++] = dev;
		} else if (fd >= 0) {
			close(fd);
		}
	}
	if (opened_elsewhere(dev, false, what, sizeof(what)))
		return seterr(err, len, "%s is open in %s", name, what);
	return 0;
}

/* guard_one() on each partition of disk @name. */
static int guard_partitions(const char *name, struct nvme_hold *hold, bool probe, char *err,
			    size_t len)
{
	char path[PATH_MAX], part[PATH_MAX];
	struct dirent *d;
	DIR *dir;
	int ret = 0;

	path_printf(path, sizeof(path), "/sys/class/block/%s", name);
	dir = opendir(path);
	if (!dir)
		return seterr(err, len, "%s: cannot list %s", name, path);
	while (!ret && (d = readdir(dir))) {
		path_printf(part, sizeof(part), "%s/%s/partition", path, d->d_name);
		if (d->d_name[0] != '.' && path_exists(part))
			ret = guard_one(d->d_name, hold, probe, err, len);
	}
	closedir(dir);
	return ret;
}

/*
 * The disk is held (or probed) exclusively; its partitions are only opened while the
 * disk is held, as a partition cannot be claimed past a claim on its disk. Their own
 * reasons (mounted, swap, holders) are looked at first: a mounted partition fails the
 * disk's exclusive open too, and that reason would name neither it nor its user.
 */
int nvme_guard_block(const char *name, struct nvme_hold *hold, char *err, size_t len)
{
	if (guard_partitions(name, NULL, false, err, len) || guard_one(name, hold, true, err, len))
		return -1;
	return guard_partitions(name, NULL, !hold, err, len);
}

/* The disk a namespace path device (nvmeXcYnZ, multipath) belongs to: nvmeXnZ. */
static void head_disk(const char *name, char *out, size_t len)
{
	const char *c = name + strspn(name, "nvme0123456789");

	if (*c == 'c' && c > name + 4) {
		const char *n = c + 1 + strspn(c + 1, "0123456789");

		snprintf(out, len, "%.*s%s", (int)(c - name), name, n);
		return;
	}
	snprintf(out, len, "%s", name);
}

/*
 * The disks (namespaces) controller @addr serves now, under any of the three drivers: the
 * first @max in @names, and how many there are in all (more than @max: not all seen).
 */
static size_t controller_disks(const char *addr, char names[][NVME_NAME_LEN], size_t max)
{
	static const char *const patterns[] = { "%s/%s/nvme/nvme*/nvme*n*", "%s/%s/block/*" };
	size_t n = 0;

	for (size_t p = 0; p < 2; p++) {
		char pattern[PATH_MAX];
		glob_t g;

		path_printf(pattern, sizeof(pattern), patterns[p], PCI_DEVICES, addr);
		if (glob(pattern, 0, NULL, &g))
			continue;
		for (size_t i = 0; i < g.gl_pathc; i++) {
			const char *base = strrchr(g.gl_pathv[i], '/') + 1;
			char disk[NVME_NAME_LEN];
			size_t j;

			head_disk(base, disk, sizeof(disk));
			for (j = 0; j < n && j < max && strcmp(names[j], disk); j++)
				;
			if (j < n && j < max)
				continue;
			if (n < max)
				snprintf(names[n], NVME_NAME_LEN, "%s", disk);
			n++;
		}
		globfree(&g);
	}
	return n;
}

/* The driver @addr is bound to ("" for none); -1 if the device does not exist. */
static int current_driver(const char *addr, char *out, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	path_printf(path, sizeof(path), "%s/%s", PCI_DEVICES, addr);
	if (!path_exists(path))
		return -1;
	path_printf(path, sizeof(path), "%s/%s/driver", PCI_DEVICES, addr);
	n = readlink(path, target, sizeof(target) - 1);
	out[0] = '\0';
	if (n > 0) {
		target[n] = '\0';
		snprintf(out, len, "%s", strrchr(target, '/') + 1);
	}
	return 0;
}

/* The subsystem NQN of @addr's controller; -1 when it has none (no driver bound). */
static int own_subsysnqn(const char *addr, char *nqn, size_t len)
{
	char pattern[PATH_MAX];
	glob_t g;
	int ret;

	path_printf(pattern, sizeof(pattern), "%s/%s/nvme/nvme*/subsysnqn", PCI_DEVICES, addr);
	if (glob(pattern, 0, NULL, &g))
		return -1;
	ret = file_read_line(g.gl_pathv[0], nqn, len);
	globfree(&g);
	return ret;
}

/*
 * Other controllers of @addr's NVMe subsystem (dual port, multipath), or SR-IOV. A
 * controller's "subsystem" link is its class, which lists every controller: the siblings
 * are those with the same subsystem NQN.
 */
static int has_siblings(const char *addr, char *what, size_t len)
{
	char path[PATH_MAX], line[32], nqn[256], other[256];
	glob_t g;
	int found = 0;

	path_printf(path, sizeof(path), "%s/%s/physfn", PCI_DEVICES, addr);
	if (path_exists(path))
		return snprintf(what, len, "it is an SR-IOV virtual function"), 1;
	path_printf(path, sizeof(path), "%s/%s/sriov_numvfs", PCI_DEVICES, addr);
	if (!file_read_line(path, line, sizeof(line)) && atoi(line) > 0)
		return snprintf(what, len, "it has %s SR-IOV virtual functions", line), 1;
	if (own_subsysnqn(addr, nqn, sizeof(nqn)))
		return 0;
	path_printf(path, sizeof(path), "%s/%s/nvme/nvme*/subsystem/nvme*", PCI_DEVICES, addr);
	if (glob(path, 0, NULL, &g))
		return 0;
	for (size_t i = 0; i < g.gl_pathc && !found; i++) {
		const char *base = strrchr(g.gl_pathv[i], '/') + 1;
		char own[PATH_MAX];

		path_printf(own, sizeof(own), "%s/%s/nvme/%s", PCI_DEVICES, addr, base);
		path_printf(path, sizeof(path), "%s/subsysnqn", g.gl_pathv[i]);
		if (strspn(base + 4, "0123456789") == strlen(base + 4) && base[4] &&
		    !path_exists(own) && !file_read_line(path, other, sizeof(other)) &&
		    !strcmp(other, nqn)) {
			snprintf(what, len, "its subsystem also has controller %s (dual port or "
				 "multipath)", base);
			found = 1;
		}
	}
	globfree(&g);
	return found;
}

/* Is @driver one of the family's arms' PCI drivers (each named after its module)? */
static bool nvme_driver_known(const char *driver)
{
	for (const struct family_arm *a = nvme_arms; a->name; a++)
		if (!strcmp(a->module, driver))
			return true;
	return false;
}

/* Is a character device of @addr (/dev/nvmeN, /dev/ngNnM) open anywhere? */
static int chardev_open(const char *addr, char *what, size_t len)
{
	static const char *const patterns[] = { "%s/%s/nvme/nvme*/dev", "%s/%s/nvme/nvme*/ng*/dev" };
	int found = 0;

	for (size_t p = 0; p < 2 && !found; p++) {
		char pattern[PATH_MAX];
		glob_t g;

		path_printf(pattern, sizeof(pattern), patterns[p], PCI_DEVICES, addr);
		if (glob(pattern, 0, NULL, &g))
			continue;
		for (size_t i = 0; i < g.gl_pathc && !found; i++) {
			char line[32], who[128];
			unsigned int maj, min;

			if (!file_read_line(g.gl_pathv[i], line, sizeof(line)) &&
			    sscanf(line, "%u:%u", &maj, &min) == 2 &&
			    opened_elsewhere(makedev(maj, min), true, who, sizeof(who))) {
				*strrchr(g.gl_pathv[i], '/') = '\0';
				snprintf(what, len, "/dev/%s is open in %s",
					 strrchr(g.gl_pathv[i], '/') + 1, who);
				found = 1;
			}
		}
		globfree(&g);
	}
	return found;
}

int nvme_guard_controller(const char *addr, const char *allowed, struct nvme_hold *hold,
			  char *err, size_t len)
{
	char path[PATH_MAX], class[32], driver[NVME_NAME_LEN], what[512];
	char (*disks)[NVME_NAME_LEN];
	size_t n;
	int ret = 0;

	if (!nvme_addr_valid(addr))
		return seterr(err, len, "%s: not a PCI address (expected DDDD:BB:DD.F)", addr);
	if (!nvme_addr_listed(addr, allowed))
		return seterr(err, len, "%s: not listed in pci= (only listed controllers are "
			      "touched)", addr);
	path_printf(path, sizeof(path), "%s/%s/class", PCI_DEVICES, addr);
	if (file_read_line(path, class, sizeof(class)))
		return seterr(err, len, "%s: no such PCI device", addr);
	if (strncmp(class, "0x0108", 6))
		return seterr(err, len, "%s: not an NVMe controller (class %s)", addr, class);
	if (current_driver(addr, driver, sizeof(driver)))
		return seterr(err, len, "%s: no such PCI device", addr);
	if (driver[0] && !nvme_driver_known(driver))
		return seterr(err, len, "%s: bound to %s, not to an NVMe driver", addr, driver);
	if (has_siblings(addr, what, sizeof(what)))
		return seterr(err, len, "%s: %s; the guard cannot see its shared namespaces' users",
			      addr, what);
	if (chardev_open(addr, what, sizeof(what)))
		return seterr(err, len, "%s: %s", addr, what);
	disks = calloc(NVME_HOLD_MAX, sizeof(*disks));
	if (!disks)
		return seterr(err, len, "%s: out of memory", addr);
	n = controller_disks(addr, disks, NVME_HOLD_MAX);
	if (n > NVME_HOLD_MAX)
		ret = seterr(err, len, "%s serves %zu namespaces, more than the %d the guard "
			     "checks", addr, n, NVME_HOLD_MAX);
	for (size_t i = 0; i < n && !ret; i++)
		ret = nvme_guard_block(disks[i], hold, err, len);
	free(disks);
	return ret;
}

/* QEMU's emulated controller, the only one the guest may pick by itself. */
static int find_emulated(char *addr, size_t len)
{
	char pattern[PATH_MAX], id[64], vendor[16], device[16];
	glob_t g;
	int ret = -1;

	path_printf(pattern, sizeof(pattern), "%s/*/class", PCI_DEVICES);
	if (glob(pattern, 0, NULL, &g))
		return -1;
	for (size_t i = 0; i < g.gl_pathc && ret; i++) {
		char dir[PATH_MAX], class[32], file[PATH_MAX];

		snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(g.gl_pathv[i], '/') -
							 g.gl_pathv[i]), g.gl_pathv[i]);
		path_printf(file, sizeof(file), "%s/vendor", dir);
		if (file_read_line(g.gl_pathv[i], class, sizeof(class)) ||
		    strncmp(class, "0x0108", 6) || file_read_line(file, vendor, sizeof(vendor)))
			continue;
		path_printf(file, sizeof(file), "%s/device", dir);
		if (file_read_line(file, device, sizeof(device)))
			continue;
		snprintf(id, sizeof(id), "%s:%s", vendor, device);
		if (!strcmp(id, QEMU_NVME_ID)) {
			snprintf(addr, len, "%s", strrchr(dir, '/') + 1);
			ret = 0;
		}
	}
	globfree(&g);
	return ret;
}

static bool in_guest(void)
{
	const char *g = getenv("TWINBENCH_GUEST");

	return g && !strcmp(g, "1");
}

/* Which controller the family drives: pci= on the host, or QEMU's in the guest. */
static int pick_controller(const char *params, char *addr, size_t alen, char *allowed,
			   size_t llen, char *err, size_t len)
{
	if (param_str(params, "pci", allowed, llen)) {
		snprintf(addr, alen, "%.*s", (int)strcspn(allowed, ", \t"), allowed);
		return 0;
	}
	if (!in_guest())
		return seterr(err, len, "no pci= address: on a real machine the NVMe family "
			      "needs pci=DDDD:BB:DD.F (docs/bare-metal.md)");
	if (find_emulated(addr, alen))
		return seterr(err, len, "no QEMU NVMe controller in the guest (vm-run.sh --nvme)");
	snprintf(allowed, llen, "%s", addr);
	return 0;
}

/*
 * Give @addr back to @orig ("" = no driver), re-checked first: a disk mounted or opened
 * while the twin had it keeps the twin bound. @hold holds the current disks (or is
 * empty); it is released once they are unbound. The state file goes only when @addr is
 * back with @orig.
 */
static int restore_binding(const char *addr, const char *orig, const char *state,
			   struct nvme_hold *hold, char *err, size_t len)
{
	char path[PATH_MAX], cur[NVME_NAME_LEN], why[512];

	if (current_driver(addr, cur, sizeof(cur)))
		return nvme_hold_release(hold), seterr(err, len, "%s: no such PCI device", addr);
	if (cur[0] && strcmp(cur, orig)) {
		if (nvme_guard_controller(addr, addr, hold, why, sizeof(why))) {
			nvme_hold_release(hold);
			return seterr(err, len, "%s: left bound to %s, not given back to '%s': %s "
				      "(%s kept; the next run retries)", addr, cur, orig, why, state);
		}
		path_printf(path, sizeof(path), "%s/%s/driver/unbind", PCI_DEVICES, addr);
		if (file_write_str(path, addr)) {
			nvme_hold_release(hold);
			return seterr(err, len, "%s: unbind from %s failed: %s (%s kept)", addr, cur,
				      strerror(errno), state);
		}
	}
	nvme_hold_release(hold);
	path_printf(path, sizeof(path), "%s/%s/driver_override", PCI_DEVICES, addr);
	if (file_write_str(path, "\n"))
		return seterr(err, len, "%s: driver_override: %s (%s kept)", addr,
			      strerror(errno), state);
	if (orig[0] && strcmp(cur, orig)) {
		path_printf(path, sizeof(path), "/sys/bus/pci/drivers/%s/bind", orig);
		file_write_str(path, addr);
	}
	if (current_driver(addr, cur, sizeof(cur)) || strcmp(cur, orig))
		return seterr(err, len, "%s: not bound back to '%s' (now '%s'; %s kept)", addr,
			      orig, cur, state);
	unlink(state);
	return 0;
}

/*
 * A signal while a twin holds the controller: only async-signal-safe steps here. The run
 * is asked to stop (stop_signal), and its unload gives the controller back, re-checked.
 */
static void stop_on_signal(int sig)
{
	for (size_t i = 0; i < 3; i++)
		if (restore_signals[i] == sig && !(taken.old[i].sa_flags & SA_SIGINFO) &&
		    taken.old[i].sa_handler != SIG_DFL && taken.old[i].sa_handler != SIG_IGN)
			taken.old[i].sa_handler(sig);
	stop_signal = sig;
}

static void arm_restore(void)
{
	struct sigaction sa = { .sa_handler = stop_on_signal };

	if (taken.armed)
		return;
	sigemptyset(&sa.sa_mask);
	taken.armed = true;
	for (size_t i = 0; i < 3; i++)
		sigaction(restore_signals[i], &sa, &taken.old[i]);
}

static void disarm_restore(void)
{
	if (!taken.armed)
		return;
	taken.armed = false;
	for (size_t i = 0; i < 3; i++)
		sigaction(restore_signals[i], &taken.old[i], NULL);
}

/* Wait for udev's queue to drain, where udev runs (a real system, not the initramfs). */
static void settle_udev(void)
{
	char *argv[] = { "udevadm", "settle", "--timeout=30", NULL };
	struct proc_result r;

	if (!path_exists("/run/udev/control"))
		return;
	if (!proc_run(argv, NULL, &r, NULL, 0))
		proc_result_free(&r);
}

/* A run killed without a chance to clean up left a record: give that controller back. */
static void restore_leftovers(void)
{
	char pattern[PATH_MAX], orig[NVME_NAME_LEN], addr[NVME_NAME_LEN], err[1024];
	struct nvme_hold hold;
	glob_t g;

	path_printf(pattern, sizeof(pattern), "%s/nvme-*.driver", NVME_STATE_DIR);
	if (glob(pattern, 0, NULL, &g))
		return;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *base = strrchr(g.gl_pathv[i], '/') + 1 + strlen("nvme-");

		snprintf(addr, sizeof(addr), "%.12s", base);
		if (!nvme_addr_valid(addr))
			continue;
		if (file_read_line(g.gl_pathv[i], orig, sizeof(orig)))
			orig[0] = '\0';
		fprintf(stderr, "twinbench: nvme: giving %s back to '%s' (left by an "
			"interrupted run)\n", addr, orig);
		nvme_hold_init(&hold);
		if (restore_binding(addr, orig, g.gl_pathv[i], &hold, err, sizeof(err)))
			fprintf(stderr, "twinbench: nvme: %s\n", err);
	}
	globfree(&g);
}

/*
 * Hand @addr to @driver, recording the original driver first. @hold holds the disks the
 * guard checked, from that check on; they are checked again right before the unbind and
 * released after it.
 */
static int bind_controller(const char *addr, const char *driver, const char *allowed,
			   struct nvme_hold *hold, char *err, size_t len)
{
	char path[PATH_MAX], cur[NVME_NAME_LEN];

	if (current_driver(addr, cur, sizeof(cur)))
		return seterr(err, len, "%s: no such PCI device", addr);
	if (mkdir_p(NVME_STATE_DIR, err, len))
		return -1;
	path_printf(taken.state, sizeof(taken.state), "%s/nvme-%s.driver", NVME_STATE_DIR, addr);
	if (!path_exists(taken.state)) {
		char line[NVME_NAME_LEN + 2];
		int n = snprintf(line, sizeof(line), "%s\n", cur);

		if (file_write_atomic(taken.state, line, n, err, len))
			return -1;
		snprintf(taken.orig, sizeof(taken.orig), "%s", cur);
	} else if (file_read_line(taken.state, taken.orig, sizeof(taken.orig))) {
		taken.orig[0] = '\0';
	}
	snprintf(taken.addr, sizeof(taken.addr), "%s", addr);
	arm_restore();
	if (cur[0] && strcmp(cur, driver)) {
		if (nvme_guard_controller(addr, allowed, hold, err, len))
			return -1;
		path_printf(path, sizeof(path), "%s/%s/driver/unbind", PCI_DEVICES, addr);
		if (file_write_str(path, addr))
			return seterr(err, len, "%s: unbind from %s failed: %s", addr, cur,
				      strerror(errno));
	}
	nvme_hold_release(hold);
	path_printf(path, sizeof(path), "%s/%s/driver_override", PCI_DEVICES, addr);
	if (file_write_str(path, driver))
		return seterr(err, len, "%s: driver_override: %s", addr, strerror(errno));
	if (strcmp(cur, driver)) {
		path_printf(path, sizeof(path), "/sys/bus/pci/drivers/%s/bind", driver);
		if (file_write_str(path, addr))
			return seterr(err, len, "%s: bind to %s failed: %s", addr, driver,
				      strerror(errno));
	}
	return 0;
}

static int nvme_check_params(const char *params, char *err, size_t len)
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
		if (!strcmp(kv, "pci") || !strcmp(kv, "allow_write")) {
			char *a = eq + 1, *s = NULL;

			if (!strcmp(kv, "pci") && strpbrk(a, ","))
				return seterr(err, len, "pci=%s: one controller per matrix", a);
			for (char *t = strtok_r(a, ",", &s); t; t = strtok_r(NULL, ",", &s))
				if (!nvme_addr_valid(t))
					return seterr(err, len, "%s=%s: not a PCI address "
						      "(expected DDDD:BB:DD.F)", kv, t);
			continue;
		}
		for (i = 0; i < N_NVME_MODULE_PARAMS && strcmp(kv, nvme_module_params[i].name); i++)
			;
		if (i == N_NVME_MODULE_PARAMS)
			return seterr(err, len, "unknown nvme parameter '%s' (expected pci, "
				      "allow_write, io_queue_depth, poll_queues)", kv);
		v = strtoull(eq + 1, &end, 10);
		if (!eq[1] || *end || v < nvme_module_params[i].min ||
		    v > nvme_module_params[i].max)
			return seterr(err, len, "%s=%s: expected %llu to %llu", kv, eq + 1,
				      nvme_module_params[i].min, nvme_module_params[i].max);
	}
	return 0;
}

static bool rw_writes(const char *rw)
{
	return strstr(rw, "write") || strstr(rw, "rw") || strstr(rw, "trim");
}

static int nvme_check_workload(const char *params, const struct matrix *m,
			       const struct workload *w, int *line, char *err, size_t len)
{
	char addr[MATRIX_PARAMS_LEN], allowed[MATRIX_PARAMS_LEN] = "";

	(void)m;
	*line = w->line;
	if (!matrix_rw_is_block(w->rw))
		return seterr(err, len, "rw = %s: the nvme family runs read, write, randread or "
			      "randwrite (give the workload a family = line)", w->rw);
	*line = w->bs_line ? w->bs_line : w->line;
	if (w->bs % 512)
		return seterr(err, len, "bs %u is not a multiple of 512", w->bs);
	*line = w->line;
	if (rw_writes(w->rw) && param_str(params, "pci", addr, sizeof(addr)) &&
	    (!param_str(params, "allow_write", allowed, sizeof(allowed)) ||
	     !nvme_addr_listed(addr, allowed)))
		return seterr(err, len, "%s writes to the drive at %s: add allow_write=%s to the "
			      "nvme params if its contents may be destroyed", w->rw, addr, addr);
	return 0;
}

/* Wait for namespace 1 of @addr to show up as a block device; its node in @dev. */
static int wait_for_disk(const char *addr, char *dev, size_t dlen)
{
	char disks[16][NVME_NAME_LEN];
	double end = now_seconds() + NVME_DEVICE_WAIT;

	do {
		size_t n = controller_disks(addr, disks, 16);

		for (size_t i = 0; i < n && i < 16; i++) {
			size_t l = strlen(disks[i]);

			if (l > 2 && !strcmp(disks[i] + l - 2, "n1")) {
				path_printf(dev, dlen, "/dev/%s", disks[i]);
				if (wait_for_path(dev, end - now_seconds()))
					return 0;
			}
		}
		usleep(100000);
	} while (now_seconds() < end);
	return -1;
}

static int nvme_load(struct family_ctx *ctx, char *err, size_t len)
{
	const char *module = ctx->arm->module;
	char addr[NVME_NAME_LEN], allowed[MATRIX_PARAMS_LEN], mparams[MATRIX_PARAMS_LEN];
	bool stock = ctx->arm->role == ARM_UPSTREAM;
	struct nvme_hold hold;
	int ret;

	restore_leftovers();
	if (pick_controller(ctx->family->params, addr, sizeof(addr), allowed, sizeof(allowed),
			    err, len))
		return -1;
	/*
	 * udev probes a disk that just appeared (the give-back of the previous arm): its
	 * worker holds it open for a moment, which the guard would take for a user.
	 */
	settle_udev();
	/* From this check to the unbind, the namespaces stay opened exclusively. */
	nvme_hold_init(&hold);
	ret = nvme_guard_controller(addr, allowed, &hold, err, len);
	module_params(ctx->family->params, mparams, sizeof(mparams));
	/* The stock module may serve other drives on a real machine: never unload it there. */
	if (!ret && kmod_is_loaded(module) && (!stock || in_guest()))
		ret = kmod_unload(module, err, len);
	if (!ret && !kmod_is_loaded(module))
		ret = kmod_load(module, mparams, err, len);
	if (ret) {
		nvme_hold_release(&hold);
		return -1;
	}
	ctx->loaded = true;
	ctx->n_devices = 0;
	ret = bind_controller(addr, module, allowed, &hold, err, len);
	nvme_hold_release(&hold);
	if (ret)
		return -1;
	if (wait_for_disk(addr, ctx->devices[0], FAMILY_DEVICE_LEN))
		return seterr(err, len, "no-device: %s made no namespace 1 for %s", module, addr);
	/* The new disks are checked and held too: udev, LVM or MD may have claimed them. */
	settle_udev();
	nvme_hold_init(&taken.hold);
	if (nvme_guard_controller(addr, allowed, &taken.hold, err, len))
		return -1;
	ctx->n_devices = 1;
	return 0;
}

static size_t nvme_devices(const struct family_ctx *ctx, const char **out, size_t max)
{
	size_t n = 0;

	for (; n < ctx->n_devices && n < max; n++)
		out[n] = ctx->devices[n];
	return n;
}

static int nvme_unload(struct family_ctx *ctx, char *err, size_t len)
{
	bool stock = ctx->arm->role == ARM_UPSTREAM;

	if (!ctx->loaded)
		return 0;
	if (taken.addr[0]) {
		int ret = restore_binding(taken.addr, taken.orig, taken.state, &taken.hold, err,
					  len);

		disarm_restore();
		taken.addr[0] = '\0';
		if (ret)
			return -1;
	}
	ctx->n_devices = 0;
	if ((!stock || in_guest()) && kmod_unload(ctx->arm->module, err, len))
		return -1;
	ctx->loaded = false;
	return 0;
}

static const struct family_ops family_nvme_ops = {
	.version = FAMILY_OPS_VERSION,
	.name = "nvme",
	.description = "PCI NVMe controller: nvme, rawnvme, safenvme; rustnvme (KERNEL=7)",
	.arms = nvme_arms,
	.default_params = NVME_DEFAULT_PARAMS,
	.unit_metric = "cpu_ns_per_io",
	.primary_metric = "iops",
	.est_sample_s = 7.5,
	.est_unit_us = 185,
	.check_params = nvme_check_params,
	.check_workload = nvme_check_workload,
	.load = nvme_load,
	.devices = nvme_devices,
	.run = block_run,
	.unload = nvme_unload,
};

FAMILY_REGISTER(family_nvme_ops)
