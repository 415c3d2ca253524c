#!/bin/sh
# install-deps.sh: the one idempotent installer for everything twinbench builds, runs and tests
# with. What it installs is scripts/deps.list (packages, and the programs the suite calls from
# each); tests require programs through the same list (tests/lib/need.sh).
# Usage: scripts/install-deps.sh [--check | --list-programs]
#   (none)           on Debian as root, install the missing packages with apt
#   --check          install nothing; list the missing packages, and the listed programs not
#                    found on PATH, and exit 1 if there are any
#   --list-programs  print "PROGRAM PACKAGE", one line per program the list names
set -eu

list=$(cd "$(dirname "$0")" && pwd)/deps.list

mode=install
case "${1:-}" in
"") ;;
--check) mode=check ;;
--list-programs) mode=programs ;;
*) echo "install-deps: unknown option '$1' (expected --check or --list-programs)" >&2; exit 2 ;;
esac
[ $# -le 1 ] || { echo "install-deps: one option at most (got: $*)" >&2; exit 2; }
[ -r "$list" ] || { echo "install-deps: $list is missing" >&2; exit 2; }

# The list without comments and blank lines, each entry checked: "PACKAGE PROGRAM...".
entries=$(awk -v f="$list" '
	{ sub(/#.*/, "") }
	NF == 0 { next }
	$1 !~ /^[a-z0-9][a-z0-9+.-]+$/ { printf "install-deps: %s:%d: \"%s\" is not a Debian package name\n", f, NR, $1 > "/dev/stderr"; bad = 1; exit }
	seen[$1]++ { printf "install-deps: %s:%d: package %s is listed twice\n", f, NR, $1 > "/dev/stderr"; bad = 1; exit }
	{ $1 = $1; print }
	END { exit bad }' "$list") || exit 2

if [ "$mode" = programs ]; then
	echo "$entries" | awk '{ for (i = 2; i <= NF; i++) print $i, $1 }'
	exit 0
fi

missing=""
for p in $(echo "$entries" | awk '{ print $1 }'); do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ "$mode" = check ]; then
	absent=$(echo "$entries" | awk '{ for (i = 2; i <= NF; i++) print $i, $1 }' |
		while read -r prog pkg; do
			command -v "$prog" >/dev/null 2>&1 || printf ' %s (%s)' "$prog" "$pkg"
		done)
	[ -z "$missing" ] || echo "install-deps: missing packages:$missing" >&2
	[ -z "$absent" ] || echo "install-deps: listed programs not on PATH:$absent" >&2
	[ -z "$missing$absent" ]
	exit
fi

[ -n "$missing" ] || exit 0
if ! command -v apt-get >/dev/null 2>&1 || [ ! -r /etc/debian_version ]; then
	echo "install-deps: not a Debian system; install the equivalents of:$missing" >&2
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing; run as root (or: sudo $0)" >&2
	exit 1
fi

# A package apt's lists know no candidate for is not in this system's suite (the list names
# packages of Debian 12, linux-source-6.1 among them): said once and left out. Only when
# every missing one is such a package (and the lists are there) is apt's update skipped.
candidates() {
	for p in "$@"; do
		# apt-cache reads a name with a dot as a pattern: only the section of P itself counts
		apt-cache policy "$p" 2>/dev/null | awk -v p="$p:" '$0 == p { f = 1; next }
			/^[^ ]/ { f = 0 } f && /Candidate: [^(]/ { ok = 1 } END { exit !ok }' &&
			echo "$p"
	done
}
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if [ -n "$(candidates apt)" ] && [ -z "$(candidates $missing)" ]; then
	echo "install-deps: not in this system's suite, left out:$missing" >&2
	exit 0
fi
apt-get update -qq
# shellcheck disable=SC2086
have=$(candidates $missing | tr '\n' ' ')
absent=$(for p in $missing; do case " $have " in *" $p "*) ;; *) printf ' %s' "$p" ;; esac; done)
[ -z "$absent" ] || echo "install-deps: not in this system's suite, left out:$absent" >&2
[ -n "$have" ] || exit 0
echo "install-deps: installing $have"
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $have >/dev/null
