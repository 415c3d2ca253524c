#!/bin/bash
# fresh.sh: the README's commands on a fresh Debian 12, so a missing install step fails here and
# never on a user's machine. A debootstrapped minbase bookworm system with only git and make
# (what a new user has before reading the README) gets a clean clone of HEAD, runs
# scripts/install-deps.sh from nothing, then builds, runs the unit tests, the host tests that
# use the installed tools directly (INNER_TESTS) and one quick VM boot of our twins.
# The installed system is cached in $TWINBENCH_CACHE/fresh-bookworm-<key>, the key hashing
# this recipe with scripts/install-deps.sh and scripts/deps.list, and rebuilt when one of them
# changes (the cold run). Every run works on a throwaway overlay of it, so each starts from the
# state the installer left. bench, harness and plugin are not repeated inside: they boot many
# VMs with the same programs the quick boot and the outer run already exercise.
# Logs: build/test-logs/fresh/.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
. "$(dirname "$0")/../lib/need.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)

SUITE=bookworm
INCLUDE=git,make
INNER_TESTS="style report bpf"

if [ -n "${TWINBENCH_FRESH:-}" ]; then
	plan 1
	skip "fresh: the fresh-machine check does not run inside itself" "inside it"
	exit 0
fi

# The installer and need() on lists of our own, in a copy of scripts/.
tmp=$(mktemp -d)
mkdir -p "$tmp/scripts" "$tmp/tests/lib"
cp "$top/scripts/install-deps.sh" "$tmp/scripts/"
cp "$top/tests/lib/need.sh" "$tmp/tests/lib/"
printf '# test list\nno-such-package-twin nosuchprogtwin\ncoreutils ls\n' >"$tmp/scripts/deps.list"
sh "$tmp/scripts/install-deps.sh" --check 2>"$tmp/err"
rc=$?
check "install-deps --check: exit 1, naming the missing package and its program ($rc)" \
	eval '[ $rc = 1 ] && grep -q "missing packages: no-such-package-twin" "$tmp/err" &&
		grep -q "not on PATH: nosuchprogtwin (no-such-package-twin)" "$tmp/err"'
check "install-deps --list-programs: PROGRAM PACKAGE lines" \
	[ "$(sh "$tmp/scripts/install-deps.sh" --list-programs | tr '\n' ,)" = "nosuchprogtwin no-such-package-twin,ls coreutils," ]
out=$(bash -c '. "$1/check.sh"; . "$2/tests/lib/need.sh"; need ls; echo "rc $?"; need nosuchprogtwin; echo "rc $?"; need cat; echo "rc $?"' \
	_ "$top/tests/lib" "$tmp")
check "need: a listed program present passes silently" \
	eval '[ "$(echo "$out" | sed -n 1p)" = "rc 0" ]'
check "need: a listed program absent fails, naming its package" \
	eval 'echo "$out" | grep -q "^not ok - nosuchprogtwin is installed (package no-such-package-twin"'
check "need: a program the list does not name fails even though it is on PATH" \
	eval 'echo "$out" | grep -q "^not ok - cat is required but scripts/deps.list does not list it"'
printf 'make make\nBad_Name x\n' >"$tmp/scripts/deps.list"
sh "$tmp/scripts/install-deps.sh" --check 2>"$tmp/err"
rc=$?
check "install-deps: a malformed list entry is refused with file:line (exit $rc)" \
	eval '[ $rc = 2 ] && grep -q "deps.list:2: \"Bad_Name\" is not a Debian package name" "$tmp/err"'
rm -rf "$tmp"

[ "$(id -u)" = 0 ] || { not_ok "fresh: runs as root (debootstrap, chroot, mounts)"; exit 1; }
need debootstrap git || exit 1
mirror=$("$top/scripts/mirror.sh") || { not_ok "fresh: the Debian mirror is known"; exit 1; }

cache=${TWINBENCH_CACHE:-/var/cache/twinbench}
key=$({ echo "$SUITE $INCLUDE"; cat "$top/scripts/install-deps.sh" "$top/scripts/deps.list"; } |
	sha256sum | cut -c1-12)
base=$cache/fresh-$SUITE-$key
logs=$top/build/test-logs/fresh
rm -rf "$logs"
mkdir -p "$logs" "$cache"

# remove DIR: delete a folder of ours, never through a mount still below it (/dev, /sys).
remove() {
	if awk -v d="$1/" 'index($2 "/", d) == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
		echo "# fresh: $1 still has mounts below it; not removing it" >&2
		return 1
	fi
	rm -rf --one-file-system "$1"
}

mounts=() run=""
cleanup() {
	local i
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		umount -R "${mounts[i]}" 2>/dev/null || umount -R -l "${mounts[i]}"
	done
	mounts=()
	[ -z "$run" ] || remove "$run"
	run=""
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

# enter ROOT: the kernel file systems a build, BPF tools and QEMU need inside ROOT.
enter() {
	mount -t proc proc "$1/proc" && mounts+=("$1/proc") &&
		mount --rbind /sys "$1/sys" && mounts+=("$1/sys") && mount --make-rslave "$1/sys" &&
		mount --rbind /dev "$1/dev" && mounts+=("$1/dev") && mount --make-rslave "$1/dev"
}

# in_root ROOT LOG COMMAND: run COMMAND with bash in ROOT's /root/twinbench, in a clean login
# environment, output to LOG.
in_root() {
	chroot "$1" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TWINBENCH_FRESH=1 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/bash -c "cd /root/twinbench && $3" >"$2" 2>&1
}

# put_tree ROOT: a clean clone of HEAD (committed files only) at ROOT/root/twinbench.
put_tree() {
	local d=$1/root/twinbench
	rm -rf "$d"
	git init -q "$d" && git -C "$d" fetch -q --depth 1 "file://$top" HEAD &&
		git -C "$d" checkout -q FETCH_HEAD
}

# step WHAT LOG COMMAND: one check for a command run in the overlay; the failure's last lines
# are shown. Sets $secs to how long it took.
step() {
	local what=$1 log=$logs/$2.log t0=$SECONDS rc
	in_root "$run/root" "$log" "$3"
	rc=$?
	secs=$((SECONDS - t0))
	check "fresh: $what (${secs} s)" [ "$rc" = 0 ]
	[ "$rc" = 0 ] || tail -n 15 "$log" | sed 's/^/#   /'
	return "$rc"
}

# The cold run: debootstrap, then the installer from nothing. One builder per key at a time.
build_base() {
	local t0 rc t_boot
	remove "$base" || return 1
	mkdir -p "$base"
	t0=$SECONDS
	debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$base/root" "$mirror" \
		>"$logs/debootstrap.log" 2>&1
	rc=$?
	check "fresh: debootstrap --variant=minbase --include=$INCLUDE $SUITE ($((SECONDS - t0)) s)" \
		[ "$rc" = 0 ]
	[ "$rc" = 0 ] || return 1
	t_boot=$((SECONDS - t0))
	cp /etc/resolv.conf "$base/root/etc/resolv.conf"
	enter "$base/root" && put_tree "$base/root" || { not_ok "fresh: the tree is put in the new system"; return 1; }
	t0=$SECONDS
	in_root "$base/root" "$logs/install-deps.log" "scripts/install-deps.sh"
	rc=$?
	check "fresh: scripts/install-deps.sh installs from nothing ($((SECONDS - t0)) s)" [ "$rc" = 0 ]
	[ "$rc" = 0 ] || { tail -n 15 "$logs/install-deps.log" | sed 's/^/#   /'; return 1; }
	t0=$((SECONDS - t0))
	in_root "$base/root" /dev/null "apt-get clean; rm -rf /root/twinbench"
	cleanup
	echo "cold build $(date -u +%FT%TZ): debootstrap ${t_boot} s, install-deps.sh ${t0} s, $(du -sh "$base/root" | cut -f1)" >"$base/built"
	touch "$base/.done"
}

# Checks: 6 on the installer and need(), 2 more when the system is built now (debootstrap,
# the installer from nothing), then 6 in the system: --check, make, unit, host, boot, reads.
t_all=$SECONDS
exec 9>"$base.lock"
flock 9
if [ ! -e "$base/.done" ]; then
	plan $((6 + 2 + 6))
	if ! build_base; then
		cleanup
		remove "$base"
		finish
		exit
	fi
	# Systems of older installer versions, unused for a week, go (only this check makes them).
	find "$cache" -maxdepth 2 -path "$cache/fresh-$SUITE-*/.used" -mtime +7 |
		while read -r u; do d=$(dirname "$u"); remove "$d" && rm -f "$d.lock"; done
else
	plan $((6 + 6))
	echo "# fresh: cached system $base ($(cat "$base/built" 2>/dev/null))"
fi
touch "$base/.used"
flock -u 9

run=$(mktemp -d "$cache/fresh-run.XXXXXX")
mkdir "$run/upper" "$run/work" "$run/root"
if ! mount -t overlay overlay -o "lowerdir=$base/root,upperdir=$run/upper,workdir=$run/work" \
	"$run/root"; then
	not_ok "fresh: an overlay of the cached system mounts"
	exit 1
fi
mounts+=("$run/root")
enter "$run/root" && put_tree "$run/root" || { not_ok "fresh: a clean clone of HEAD is put in the system"; exit 1; }
# The guest kernels: the host's cache of scripts/kernels.sh (fetching them again inside
# would only repeat what tests/host/kernels.sh checks, at minutes per kernel).
mkdir -p "$run/root$cache/kernels" "$run/root$cache/env"
mount --bind "$cache/kernels" "$run/root$cache/kernels" && mounts+=("$run/root$cache/kernels") &&
	mount --bind "$cache/env" "$run/root$cache/env" && mounts+=("$run/root$cache/env") ||
	{ not_ok "fresh: the kernel cache is shared with the system"; exit 1; }

step "scripts/install-deps.sh --check finds nothing missing" check-deps \
	"scripts/install-deps.sh && scripts/install-deps.sh --check" || exit 1
step "make all builds the modules, runner, BPF tools and plugin" build \
	"make -j2 all && make -C tests/unit" || exit 1

in_root "$run/root" "$logs/unit.log" "tests/run.sh unit"
rc=$?
check "fresh: unit tests pass ($(tail -n 1 "$logs/unit.log"))" [ "$rc" = 0 ]
grep '^not ok' "$logs/unit.log" | grep -v '# SKIP' | sed 's/^/#   /'

# One quick boot: stock null_blk and both twins, built in the fresh system, serve 2000 reads.
# It needs only the build, so it runs (one vCPU) beside the inner host tests; its checks
# are counted once they are done (replay, tests/lib/check.sh).
mkdir -p "$run/root/tmp/boot"
cat >"$run/root/tmp/boot/job.sh" <<'JOB'
params="nr_devices=1 submit_queues=1 hw_queue_depth=64 bs=4096 gb=1 irqmode=0"
for arm in null_blk rawnull safenull; do
	case $arm in null_blk) dev=nullb0 ;; *) dev=${arm}0 ;; esac
	modprobe $arm $params || exit 1
	for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/$dev ] && break; sleep 0.2; done
	fio --name=r --filename=/dev/$dev --ioengine=io_uring --direct=1 --rw=randread --bs=4k \
		--iodepth=8 --number_ios=2000 --size=256m --output-format=json --output=/tmp/r.json ||
		exit 1
	echo "$arm $(grep -o '"total_ios" : [0-9]*' /tmp/r.json | head -n 1 | grep -o '[0-9]*$')" \
		>>/out/reads.txt
	rmmod $arm || exit 1
done
JOB
{
	step "one VM boot: null_blk, rawnull and safenull load and serve reads" boot \
		"scripts/vm-run.sh --share /tmp/boot --clock wall --accel tcg --smp 1 --timeout 300 --quiet"
	check "fresh: each arm read 2000 blocks in the guest ($(tr '\n' ' ' <"$run/root/tmp/boot/reads.txt" 2>/dev/null))" \
		[ "$(awk '$2 == 2000' "$run/root/tmp/boot/reads.txt" 2>/dev/null | wc -l)" = 3 ]
} >"$logs/boot.tap" 2>&1 &
boot=$!

only=""
for t in $INNER_TESTS; do only="$only --only $t"; done
t0=$SECONDS
in_root "$run/root" "$logs/host.log" "tests/run.sh host $only"
rc=$?
check "fresh: host tests $INNER_TESTS pass ($(tail -n 1 "$logs/host.log"), $((SECONDS - t0)) s)" \
	[ "$rc" = 0 ]
grep '^not ok' "$logs/host.log" | grep -v '# SKIP' | sed 's/^/#   /'

wait "$boot"
replay "$logs/boot.tap"

cp -r "$run/root/root/twinbench/build/test-logs" "$logs/inner" 2>/dev/null
cp "$run/root/tmp/boot/console.log" "$logs/boot-console.log" 2>/dev/null
echo "# fresh: $((SECONDS - t_all)) s in all"
finish
