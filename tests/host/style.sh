#!/bin/bash
# style.sh: every kernel source of ours passes the kernel's checkpatch.pl (from Debian's
# linux-source-6.1), with 100 columns, as the drivers in the tree are held to; and the
# runner's folders (bench/*/) include one another without a cycle, as docs/architecture.md
# draws them.
# Ignored message types, each a deliberate pattern of the safe layer, not an oversight:
#   MACRO_WITH_FLOW_CONTROL  safe_try() is Rust's `?`: an early return is its purpose
#   COMPLEX_MACRO            the scoped lock guards are for-loops, like the kernel's scoped_guard
#   USE_LOCKDEP              the self-test must fail on this lockdep-less kernel, so it asserts
#                            with spin_is_locked
#   OOM_MESSAGE, SPACING     misreadings: safe_err() does not print; `T *` of a macro parameter
#   LINUX_VERSION_CODE,      out-of-tree modules built for both Debian's 6.1 and the Rust arm's
#   CONSTANT_COMPARISON      6.12 must branch on the kernel version (#if LINUX_VERSION_CODE >= ...)
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
. "$(dirname "$0")/../lib/need.sh"
need git perl || exit 1
top=$(cd "$(dirname "$0")/../.." && pwd)
cache=$top/build/checkpatch
tarball=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -n 1)
if [ ! -x "$cache/scripts/checkpatch.pl" ]; then
	[ -n "$tarball" ] || { echo "not ok - checkpatch.pl is available (install linux-source-6.1)"; exit 1; }
	mkdir -p "$cache"
	tar -xaf "$tarball" -C "$cache" --strip-components=1 --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' '*/scripts/const_structs.checkpatch'
fi
. "$top/tests/lib/check.sh"
files=$(cd "$top" && git ls-files 'drivers-raw/*.[ch]' 'drivers-safe/*.[ch]' 'tests/modules/*.[ch]')
[ -n "$files" ] || { echo "not ok - git lists the kernel sources to check (in $top)"; exit 1; }
plan "$(($(echo "$files" | grep -c .) + 1))"
# clean FILE: checkpatch ran (exit 0) and reported nothing; a checkpatch that cannot run
# (missing perl module, unreadable file) exits non-zero and fails the file too.
clean() {
	local out rc
	out=$(perl "$cache/scripts/checkpatch.pl" --no-tree --terse --show-types --max-line-length=100 \
		--ignore SPDX_LICENSE_TAG,MACRO_WITH_FLOW_CONTROL,COMPLEX_MACRO,USE_LOCKDEP,OOM_MESSAGE,SPACING \
		--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON \
		-f "$top/$1" 2>&1)
	rc=$?
	[ "$rc" = 0 ] && ! echo "$out" | grep -q -E '(ERROR|WARNING|CHECK):' && return 0
	echo "$out" | grep -E '(ERROR|WARNING|CHECK):|^[^:]*$' | head -n 20 | sed 's/^/#   /'
	echo "#   (checkpatch exit $rc)"
	return 1
}
for f in $files; do
	check "checkpatch: $f" clean "$f"
done
# folder_cycles: prints each folder of bench/ that reaches itself through the local
# #include "x.h" lines of its files (a header is found by name, as bench/Makefile does).
folder_cycles() {
	(cd "$top" && git ls-files 'bench/*.[ch]') | (cd "$top" && perl -e '
		my (%dir, %edge);
		my @files = map { chomp; $_ } <STDIN>;
		for (@files) { m{^(.*)/([^/]+\.h)$} and $dir{$2} = $1; }
		for my $f (@files) {
			my ($d) = $f =~ m{^(.*)/};
			open(my $fh, "<", $f) or die "$f: $!";
			while (<$fh>) {
				next unless /^#include "(?:.*\/)?([^"\/]+)"/;
				my $to = $dir{$1};
				$edge{$d}{$to} = 1 if defined $to && $to ne $d;
			}
		}
		for my $start (sort keys %edge) {
			my @todo = keys %{$edge{$start}};
			my %seen;
			while (defined(my $n = shift @todo)) {
				next if $seen{$n}++;
				if ($n eq $start) { print "$start\n"; last; }
				push @todo, keys %{$edge{$n} // {}};
			}
		}')
}
cycles=$(folder_cycles)
[ -z "$cycles" ] || echo "$cycles" | sed 's/^/#   reaches itself: /'
check "bench/: no folder includes one that includes it back" test -z "$cycles"
finish
