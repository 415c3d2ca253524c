// SPDX-License-Identifier: GPL-2.0
/*
 * test_nvme_guard.c - the NVMe family's bare-metal guards refuse what they must: malformed
 * or unlisted PCI addresses, a block device holding the root filesystem, and a loop device
 * standing in for a drive that is mounted, active swap, held by device-mapper, open in
 * another process (non-exclusively) or backing another loop device; they accept the same
 * loop device once it is free, and while they hold it nothing can mount it between the
 * check and the unbind. The loop tests need root and losetup; they are skipped (not passed)
 * otherwise.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>
#include "family_nvme.h"

struct loopdev {
	char dir[64];
	char image[96];
	char mnt[96];
	char name[64];		/* loopN */
	char dev[64];		/* /dev/loopN */
};

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int loop_setup(void **state)
{
	struct loopdev *l = calloc(1, sizeof(*l));
	char line[64] = "", cmd[160];
	FILE *p;

	*state = l;
	snprintf(l->dir, sizeof(l->dir), "/tmp/twinbench-test-guard.XXXXXX");
	if (geteuid() || !mkdtemp(l->dir))
		return 0;
	snprintf(l->image, sizeof(l->image), "%s/disk.img", l->dir);
	snprintf(l->mnt, sizeof(l->mnt), "%s/mnt", l->dir);
	if (sh("truncate -s 64M %s && mkdir %s", l->image, l->mnt))
		return 0;
	snprintf(cmd, sizeof(cmd), "losetup -f --show %s 2>/dev/null", l->image);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	if (!fgets(line, sizeof(line), p))
		line[0] = '\0';
	pclose(p);
	line[strcspn(line, "\n")] = '\0';
	if (strncmp(line, "/dev/loop", 9))
		return 0;
	snprintf(l->dev, sizeof(l->dev), "%s", line);
	snprintf(l->name, sizeof(l->name), "%s", line + 5);
	return 0;
}

static int loop_teardown(void **state)
{
	struct loopdev *l = *state;

	if (l->dev[0]) {
		sh("umount %s 2>/dev/null; swapoff %s 2>/dev/null; dmsetup remove twinbench-guard "
		   "2>/dev/null; losetup -d %s", l->mnt, l->dev, l->dev);
	}
	if (l->dir[0] && strcmp(l->dir + strlen(l->dir) - 6, "XXXXXX"))
		sh("rm -rf %s", l->dir);
	free(l);
	return 0;
}

#define NEED_LOOP(l)							\
	do {								\
		if (!(l)->dev[0]) {					\
			print_message("needs root and a free loop device\n"); \
			skip();						\
		}							\
	} while (0)

static void test_addresses(void **state)
{
	char err[256];

	(void)state;
	assert_true(nvme_addr_valid("0000:03:00.0"));
	assert_true(nvme_addr_valid("0000:0d:1f.7"));
	assert_false(nvme_addr_valid("03:00.0"));
	assert_false(nvme_addr_valid("0000:03:00.8"));
	assert_false(nvme_addr_valid("0000:03:20.0"));
	assert_false(nvme_addr_valid("0000:03:00.0 "));
	assert_false(nvme_addr_valid("nvme0"));
	assert_true(nvme_addr_listed("0000:03:00.0", "0000:01:00.0,0000:03:00.0"));
	assert_false(nvme_addr_listed("0000:03:00.0", "0000:03:00.00"));
	assert_false(nvme_addr_listed("0000:03:00.0", ""));

	assert_int_equal(nvme_guard_controller("03:00.0", "03:00.0", NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a PCI address"));
	assert_int_equal(nvme_guard_controller("0000:03:00.0", "0000:04:00.0", NULL, err,
					       sizeof(err)), -1);
	assert_non_null(strstr(err, "not listed"));
	assert_int_equal(nvme_guard_controller("0000:fe:1f.7", "0000:fe:1f.7", NULL, err,
					       sizeof(err)), -1);
	assert_non_null(strstr(err, "no such PCI device"));
}

/* The disk (or partition) that holds "/" is refused, whatever else is true of it. */
static void test_root_device(void **state)
{
	char path[64], line[256], err[256];
	struct stat st;
	FILE *f;

	(void)state;
	assert_int_equal(stat("/", &st), 0);
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent", major(st.st_dev),
		 minor(st.st_dev));
	f = fopen(path, "r");
	if (!f) {
		print_message("/ is not on a block device here (%u:%u)\n", major(st.st_dev),
			      minor(st.st_dev));
		skip();
	}
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "DEVNAME=", 8))
			break;
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	assert_int_equal(nvme_guard_block(line + 8, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "root filesystem"));
}

static void test_free_loop_accepted(void **state)
{
	struct loopdev *l = *state;
	char err[256] = "";

	NEED_LOOP(l);
	assert_int_equal(nvme_guard_block(l->name, NULL, err, sizeof(err)), 0);
}

static void test_mounted_loop_refused(void **state)
{
	struct loopdev *l = *state;
	char err[256];

	NEED_LOOP(l);
	assert_int_equal(sh("mkfs.ext2 -q %s >/dev/null 2>&1 && mount %s %s", l->dev, l->dev,
			    l->mnt), 0);
	assert_int_equal(nvme_guard_block(l->name, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is mounted at"));
	assert_non_null(strstr(err, l->mnt));
	assert_int_equal(sh("umount %s", l->mnt), 0);
	assert_int_equal(nvme_guard_block(l->name, NULL, err, sizeof(err)), 0);
}

static void test_swap_loop_refused(void **state)
{
	struct loopdev *l = *state;
	char err[256];

	NEED_LOOP(l);
	assert_int_equal(sh("mkswap %s >/dev/null 2>&1", l->dev), 0);
	if (sh("swapon %s 2>/dev/null", l->dev)) {
		print_message("swapon refused here\n");
		skip();
	}
	assert_int_equal(nvme_guard_block(l->name, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "active swap"));
	assert_int_equal(sh("swapoff %s", l->dev), 0);
}

static void test_held_loop_refused(void **state)
{
	struct loopdev *l = *state;
	char err[256];

	NEED_LOOP(l);
	if (sh("echo '0 1024 linear %s 0' | dmsetup create twinbench-guard 2>/dev/null",
	       l->dev)) {
		print_message("device-mapper not available here\n");
		skip();
	}
	assert_int_equal(nvme_guard_block(l->name, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "held by dm-"));
	assert_int_equal(sh("dmsetup remove twinbench-guard"), 0);
}

/* Held from check to bind: a mount in between fails, and works again once released. */
static void test_hold_blocks_mount(void **state)
{
	struct loopdev *l = *state;
	struct nvme_hold hold;
	char err[256] = "";

	NEED_LOOP(l);
	assert_int_equal(sh("mkfs.ext2 -q %s >/dev/null 2>&1", l->dev), 0);
	nvme_hold_init(&hold);
	assert_int_equal(nvme_guard_block(l->name, &hold, err, sizeof(err)), 0);
	assert_int_equal(hold.n, 1);
	assert_int_not_equal(sh("mount %s %s 2>/dev/null", l->dev, l->mnt), 0);
	assert_int_equal(nvme_guard_block(l->name, &hold, err, sizeof(err)), 0);
	assert_int_equal(hold.n, 1);
	nvme_hold_release(&hold);
	assert_int_equal(hold.n, 0);
	assert_int_equal(sh("mount %s %s", l->dev, l->mnt), 0);
	assert_int_equal(nvme_guard_block(l->name, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is mounted at"));
	assert_int_equal(sh("umount %s", l->mnt), 0);
}

/* A non-exclusive user (a raw reader, QEMU, fio) is seen through /proc and named. */
static void test_open_elsewhere_refused(void **state)
{
	struct loopdev *l = *state;
	char err[256], pidfile[128];
	int tries;

	NEED_LOOP(l);
	snprintf(pidfile, sizeof(pidfile), "%s/reader.pid", l->dir);
	assert_int_equal(sh("sh -c 'echo $$ > %s; exec sleep 30' < %s &", pidfile, l->dev), 0);
	for (tries = 0; tries < 50 && access(pidfile, R_OK); tries++)
		usleep(100000);
	usleep(200000);
	assert_int_equal(nvme_guard_block(l->name, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is open in process"));
	assert_non_null(strstr(err, "sleep"));
	sh("kill $(cat %s)", pidfile);
	for (tries = 0; tries < 50 && nvme_guard_block(l->name, NULL, err, sizeof(err)); tries++)
		usleep(100000);
	assert_int_equal(nvme_guard_block(l->name, NULL, err, sizeof(err)), 0);
}

/* A loop device on top of the disk keeps it in use with no process and no holder link. */
static void test_loop_backing_refused(void **state)
{
	struct loopdev *l = *state;
	char err[256], cmd[160], upper[64] = "";
	FILE *p;

	NEED_LOOP(l);
	snprintf(cmd, sizeof(cmd), "losetup -f --show %s 2>/dev/null", l->dev);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (!fgets(upper, sizeof(upper), p))
		upper[0] = '\0';
	pclose(p);
	upper[strcspn(upper, "\n")] = '\0';
	if (strncmp(upper, "/dev/loop", 9)) {
		print_message("no second loop device here\n");
		skip();
	}
	assert_int_equal(nvme_guard_block(l->name, NULL, err, sizeof(err)), -1);
	sh("losetup -d %s", upper);
	assert_non_null(strstr(err, "backs a loop device"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_root_device),
		cmocka_unit_test_setup_teardown(test_free_loop_accepted, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_mounted_loop_refused, loop_setup,
						loop_teardown),
		cmocka_unit_test_setup_teardown(test_swap_loop_refused, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_held_loop_refused, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_hold_blocks_mount, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_open_elsewhere_refused, loop_setup,
						loop_teardown),
		cmocka_unit_test_setup_teardown(test_loop_backing_refused, loop_setup, loop_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
