// SPDX-License-Identifier: GPL-2.0
/*
 * preflight.c - host mode's checks before a module is loaded (preflight.h): the
 * kernel's signature enforcement against our modules' signatures, and the taint they
 * leave, for manifest.json.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "kmod.h"
#include "manifest.h"
#include "preflight.h"
#include "results.h"
#include "util.h"

/* What the kernel appends to a signed module (scripts/sign-file). */
#define SIG_MARKER "~Module signature appended~\n"
/* The kernel's taint letters, bit 0 first (Documentation/admin-guide/tainted-kernels). */
#define TAINT_LETTERS "PFSRMBUDAWCIOELKXTNJ"

/* Why the running kernel loads only signed modules: "" when it does not. */
static void enforcement(char *why, size_t size)
{
	char buf[256], *sel;

	why[0] = '\0';
	if (!file_read_line("/sys/kernel/security/lockdown", buf, sizeof(buf)) &&
	    (sel = strchr(buf, '[')) && strncmp(sel, "[none]", 6)) {
		sel[strcspn(sel, "]") + 1] = '\0';
		snprintf(why, size, "kernel lockdown %s", sel);
	}
	if (!file_read_line("/sys/module/module/parameters/sig_enforce", buf, sizeof(buf)) &&
	    buf[0] == 'Y')
		snprintf(why + strlen(why), size - strlen(why), "%smodule.sig_enforce=1",
			 why[0] ? " and " : "");
}

static bool signed_module(const char *path)
{
	char tail[sizeof(SIG_MARKER) - 1];
	bool ok = false;
	FILE *f = fopen(path, "rb");

	if (!f)
		return false;
	if (!fseek(f, -(long)sizeof(tail), SEEK_END) && fread(tail, 1, sizeof(tail), f) == sizeof(tail))
		ok = !memcmp(tail, SIG_MARKER, sizeof(tail));
	fclose(f);
	return ok;
}

int preflight_signatures(const char *kver, char *err, size_t len)
{
	char why[160], ko[PATH_MAX], first[PATH_MAX] = "";
	unsigned int unsigned_n = 0;
	FILE *f;

	enforcement(why, sizeof(why));
	if (!why[0])
		return 0;
	f = kmod_tree_open();
	if (!f)
		return seterr(err, len, "no modules.order in the tree: no modules built (make modules)");
	while (kmod_tree_next(f, ko, sizeof(ko))) {
		if (signed_module(ko))
			continue;
		if (!unsigned_n++)
			snprintf(first, sizeof(first), "%s", strrchr(ko, '/') + 1);
	}
	fclose(f);
	if (!unsigned_n)
		return 0;
	return seterr(err, len, "the running kernel loads only signed modules (%s) and %s%s of "
		      "ours %s unsigned, so nothing was loaded: sign them with a key the kernel "
		      "trusts (enroll it as a MOK: mokutil --import KEY.der, reboot; then for each "
		      "module /lib/modules/%s/build/scripts/sign-file sha256 KEY.priv KEY.der "
		      "MODULE.ko), or turn enforcement off (boot without lockdown= and "
		      "module.sig_enforce=1; under Secure Boot: mokutil --disable-validation)",
		      why, first, unsigned_n > 1 ? " and the others" : "",
		      unsigned_n > 1 ? "are" : "is", kver);
}

long preflight_taint(void)
{
	char buf[32];

	if (file_read_line("/proc/sys/kernel/tainted", buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 10);
}

/* The kernel's letters of taint @value into @flags (sizeof(TAINT_LETTERS) bytes). */
static void taint_letters(long value, char *flags)
{
	size_t n = 0;

	for (size_t b = 0; b < sizeof(TAINT_LETTERS) - 1; b++)
		if (value & (1L << b))
			flags[n++] = TAINT_LETTERS[b];
	flags[n] = '\0';
}

/* {"value": N, "flags": "OE"}, or null when unreadable. */
static json_t *taint_json(long value)
{
	char flags[sizeof(TAINT_LETTERS)];

	if (value < 0)
		return json_null();
	taint_letters(value, flags);
	return json_pack("{s:I, s:s}", "value", (json_int_t)value, "flags", flags);
}

int preflight_record_taint(const char *rundir, long before, char *err, size_t len)
{
	long after = preflight_taint();
	char gained[sizeof(TAINT_LETTERS)] = "";

	if (before >= 0 && after >= 0)
		taint_letters(after & ~before, gained);
	if (strpbrk(gained, RESULTS_TAINT_PROBLEMS)) {
		fprintf(stderr, "twinbench run: WARNING: the kernel was tainted '%s' during the "
			"run: it logged a warning, oops or lockup outside the samples' windows "
			"(read dmesg)\n", gained);
		fflush(stderr);
	}
	return manifest_set(rundir, "kernel_taint",
			    json_pack("{s:o, s:o, s:s}", "before", taint_json(before), "after",
				      taint_json(after), "taint_gained", gained), err, len);
}
