#!/bin/bash
# run.sh (make test-faults): shows that the suite catches what it claims to check. Each
# tests/faults/NAME.fault breaks one behaviour, in a scratch copy of the tree (the built
# tree as it stands, with build outputs, so only what the fault touches is rebuilt): its
# patch is applied, the parts it touches are rebuilt, the part of the suite it names is run
# there, and the fault counts as caught only when that run fails with a "not ok" line the
# fault names (the run is stopped once that line appears). Prints one table row per fault (fault, part run, the check that caught it),
# then "N caught, N missed"; exit status 0 only when every fault was caught.
# A fault file holds header lines, then (unless it only hides a tool) a unified diff for
# patch -p1:
#   # fault: WHAT IT BREAKS            one line, for the table
#   # test: KIND NAME                  the part run: tests/run.sh KIND --only NAME
#   # caught-by: ERE                   a "not ok - " line of that run must match it
#   # hide-tool: PROGRAM               optional: PROGRAM is missing from PATH for the run
# Usage: tests/faults/run.sh [NAME]...   (default: every fault)
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
faults_dir=$top/tests/faults
log_dir=$top/build/faults
mkdir -p "$log_dir"
kver=$("$top/scripts/kver.sh" vm) || { echo "faults: no guest kernel (scripts/kver.sh vm)" >&2; exit 2; }
kdir=/lib/modules/$kver/build

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for f in "$faults_dir"/*.fault; do names+=("$(basename "$f" .fault)"); done
fi
for n in "${names[@]}"; do
	[ -r "$faults_dir/$n.fault" ] || { echo "faults: no such fault '$n' ($faults_dir/$n.fault)" >&2; exit 2; }
done

# header FILE KEY: the value of a "# KEY: value" header line of a fault file.
header() { sed -n "s/^# $2: //p" "$1" | head -n 1; }

# first_failure ERE: the first "not ok" line of standard input matching ERE, without prefix.
first_failure() { grep -E '^not ok - ' | sed 's/^not ok - //' | grep -E -- "$1" | head -n 1; }

# rebuild SCRATCH FILE...: rebuild what the patched files belong to: the module folder of a
# driver or test module (every safe driver for a safe-layer header), or a user-space folder.
rebuild() {
	local scratch=$1 f d dirs=()
	shift
	for f in "$@"; do
		case "$f" in
		drivers-safe/kernel/*) dirs+=($(cd "$scratch" && ls -d drivers-safe/*/Kbuild | xargs -n1 dirname)) ;;
		drivers-raw/*|drivers-safe/*|tests/modules/*) dirs+=("$(dirname "$f")") ;;
		tests/tools/*) dirs+=(tests/tools) ;;
		bpf/*|bench/*|plugin/*) dirs+=("${f%%/*}") ;;
		esac
	done
	for d in $(printf '%s\n' "${dirs[@]}" | sort -u); do
		if [ -e "$scratch/$d/Kbuild" ]; then
			nice make -s -C "$kdir" M="$scratch/$d" W=1 KCFLAGS=-Werror modules >/dev/null || return 1
		elif [ -e "$scratch/$d/Makefile" ]; then
			nice make -s -C "$scratch/$d" >/dev/null || return 1
		fi
	done
}

caught=0 missed=0 rows=()
for n in "${names[@]}"; do
	f=$faults_dir/$n.fault
	what=$(header "$f" fault) part=$(header "$f" test) want=$(header "$f" caught-by)
	tool=$(header "$f" hide-tool)
	log=$log_dir/$n.log
	scratch=$(mktemp -d "${TMPDIR:-/var/tmp}/twinbench-fault-$n.XXXXXX")
	echo "# fault $n: $what (running $part)"
	start=$(date +%s)
	verdict=missed by=""
	: >"$log"
	(cd "$top" && tar -c --exclude=./build --exclude=./results --exclude=./.git \
		--exclude=./tests/artifacts .) | tar -x -C "$scratch"
	# a git index of its own, for the tests that list the tree's files (style.sh)
	(cd "$scratch" && git init -q && git add -A) >>"$log" 2>&1
	files=$(grep -E '^\+\+\+ ' "$f" | sed -E 's|^\+\+\+ b/([^[:space:]]+).*|\1|')
	if [ -n "$files" ] && ! patch -s -p1 -d "$scratch" <"$f" >>"$log" 2>&1; then
		by="(the fault does not apply: $log)"
	elif ! rebuild "$scratch" $files >>"$log" 2>&1; then
		by="(the faulty tree does not build: $log)"
	else
		path=$PATH
		if [ -n "$tool" ]; then
			mkdir -p "$scratch/.hidden-tools"
			printf '#!/bin/sh\necho "%s: command not found" >&2\nexit 127\n' "$tool" \
				>"$scratch/.hidden-tools/$tool"
			chmod +x "$scratch/.hidden-tools/$tool"
			path=$scratch/.hidden-tools:$PATH
		fi
		# The run stops as soon as the awaited check has failed (a guest test's output is
		# read from its console log while it runs): the rest proves nothing more.
		# shellcheck disable=SC2086
		(cd "$scratch" && PATH=$path exec setsid tests/run.sh ${part% *} --only ${part#* }) \
			>>"$log" 2>&1 &
		pid=$!
		console=$scratch/build/test-vm/${part#* }/console.log
		by="" rc=""
		while kill -0 "$pid" 2>/dev/null; do
			by=$(cat "$log" "$console" 2>/dev/null | tr -d '\r' | first_failure "$want")
			[ -n "$by" ] && { kill -TERM -- "-$pid" 2>/dev/null; break; }
			sleep 2
		done
		wait "$pid"
		rc=$?
		[ -n "$by" ] || by=$(first_failure "$want" <"$log")
		if [ -n "$by" ]; then
			verdict=caught
		else
			by="(run exit $rc; no failed check matches '$want': $log)"
		fi
	fi
	rm -rf "$scratch"
	[ "$verdict" = caught ] && caught=$((caught + 1)) || missed=$((missed + 1))
	rows+=("$(printf '%-22s %-10s %-7s %4ss  %s' "$n" "$part" "$verdict" $(($(date +%s) - start)) "$by")")
	echo "${rows[-1]}"
done

echo
printf '%-22s %-10s %-7s %5s  %s\n' fault test verdict time "check that caught it"
printf '%s\n' "${rows[@]}"
echo "$caught caught, $missed missed"
[ "$missed" = 0 ]
