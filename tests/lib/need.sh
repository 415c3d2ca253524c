# need.sh: how a host test requires a program, sourced after tests/lib/check.sh. A program may
# be required only if scripts/deps.list names it (the list scripts/install-deps.sh installs
# from), so a test cannot depend on something the installer does not install.
# shellcheck shell=bash

# need PROGRAM...: true when every PROGRAM is listed and on PATH; otherwise one "not ok" line
# per missing PROGRAM naming its package (or the missing list entry), and false.
need() {
	local prog pkg status=0 installer
	installer=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../scripts" && pwd)/install-deps.sh
	for prog in "$@"; do
		pkg=$(sh "$installer" --list-programs | awk -v p="$prog" '$1 == p { print $2; exit }')
		if [ -z "$pkg" ]; then
			not_ok "$prog is required but scripts/deps.list does not list it"
			status=1
		elif ! command -v "$prog" >/dev/null 2>&1; then
			not_ok "$prog is installed (package $pkg: run scripts/install-deps.sh)"
			status=1
		fi
	done
	return $status
}
