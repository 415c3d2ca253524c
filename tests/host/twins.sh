#!/bin/bash
# twins.sh: the twin contract (docs/twins.md). For each family (null, net, nvme), with the
# twins' prefixes renamed, every function of the raw twin has its counterpart in the safe twin
# and the other way round, as drivers-safe/twins.tsv pairs them; every line there names
# functions that exist (in the source, or for layer-generated adapters in the built module),
# and every line that is not a plain counterpart gives its layer reason. The safe twins
# reach the kernel only through the layer: a call to anything but the layer, the twin's own
# (or layer-generated) functions and drivers-safe/kernel-calls.tsv fails. The file headers'
# claims ("function for function", "only through the layer", naming the other twin) hold.
# Needs universal-ctags; the modules must be built (make modules) for the adapter names.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/check.sh"
map=$top/drivers-safe/twins.tsv
calls=$top/drivers-safe/kernel-calls.tsv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# family directory raw-prefix safe-prefix
FAMILIES="null:nullblk:rawnull:safenull net:net:rawnet:safenet nvme:nvme:rawnvme:safenvme"
PENDING_MARK='# --- temporary: pending block'
PENDING_REASON='pending: NVMe twins being aligned'
C_WORDS='if for while switch return sizeof typeof __typeof__ __attribute__ __builtin_expect
	_Static_assert defined do else case u8 u16 u32 u64 s8 s16 s32 s64 int long char bool void'

# Checks: the two maps, then 6 per family (pairing, names, calls, two headers, Rust twin).
plan $((2 + 6 * $(echo "$FAMILIES" | wc -w)))
command -v ctags >/dev/null || { not_ok "universal-ctags is installed (scripts/install-deps.sh)"; finish; exit; }

# sources KIND DIR: the twin's C sources (tracked files, not build outputs), the layer's
# self-tests left out.
sources() {
	git -C "$top" ls-files "drivers-$1/$2/*.[ch]" | grep -v selftest | sed "s|^|$top/|"
}

# functions FILE...: the functions defined in FILEs, one per line. Top-level invocations of
# the layer's generator macros get a semicolon first, so ctags does not read them as
# definitions.
functions() {
	local f
	rm -f "$tmp"/src/*
	mkdir -p "$tmp/src"
	for f in "$@"; do
		sed -E 's/^(SAFE_[A-Z0-9_]*\(.*\))$/\1;/' "$f" >"$tmp/src/$(basename "$f")"
	done
	ctags -x --c-kinds=f --language-force=C "$tmp"/src/* | awk '{ print $1 }' | sort -u
}

# called FILE...: every identifier followed by "(" outside comments, strings and
# preprocessor lines.
called() {
	local f
	for f in "$@"; do
		gcc -fpreprocessed -dD -E -P -x c "$f" 2>/dev/null | grep -v '^[[:space:]]*#'
	done | sed -E "s/\"([^\"\\\\]|\\\\.)*\"/\"\"/g; s/'([^'\\\\]|\\\\.)*'/0/g" |
		grep -oE '\b[A-Za-z_][A-Za-z0-9_]*[[:space:]]*\(' | sed -E 's/[[:space:]]*\($//' |
		sort -u
}

# symbols MODULE.ko: its function symbols (local ones included), compiler suffixes removed.
symbols() {
	nm "$1" 2>/dev/null | awk '$2 ~ /^[tT]$/ { sub(/\..*/, "", $3); print $3 }' | sort -u
}

# The map itself: five fields, a known family, a reason for every line that is not a plain
# counterpart, the pending reason only in the marked block at the end.
check_map_format() {
	local n=0 bad=0 in_pending=0 fam raw safe rust reason extra line
	[ -r "$map" ] || { not_ok "twins.tsv: $map exists"; return; }
	while IFS= read -r line; do
		n=$((n + 1))
		case "$line" in "$PENDING_MARK"*) in_pending=1; continue ;; '#'*) continue ;; esac
		IFS=$'\t' read -r fam raw safe rust reason extra <<<"$line"
		if [ -z "$reason" ] || [ -n "${extra:-}" ]; then
			echo "#   twins.tsv line $n: not 5 tab-separated fields"; bad=1; continue
		fi
		case " null net nvme " in *" $fam "*) ;; *)
			echo "#   twins.tsv line $n: unknown family '$fam'"; bad=1; continue ;;
		esac
		if [ "$in_pending" = 1 ]; then
			[ "$fam" = nvme ] && [ "$reason" = "$PENDING_REASON" ] ||
				{ echo "#   twins.tsv line $n: only NVMe lines saying '$PENDING_REASON' may follow the pending mark"; bad=1; }
			continue
		fi
		case "$reason" in
		-) [ "$raw" != - ] && [ "$safe" != - ] && [ "${raw#raw}" = "${safe#safe}" ] ||
			{ echo "#   twins.tsv line $n: $raw/$safe is not a plain counterpart, so it needs a layer reason"; bad=1; } ;;
		"layer: "?*) ;;
		*) echo "#   twins.tsv line $n: reason must be '-' or start with 'layer: ' (got '$reason')"; bad=1 ;;
		esac
		[ "$raw" != - ] || [ "$safe" != - ] || { echo "#   twins.tsv line $n: pairs nothing"; bad=1; }
		[ "$rust" = - ] || compgen -G "$top/drivers-safe/*/rust*.rs" >/dev/null ||
			{ echo "#   twins.tsv line $n: names Rust function $rust, but no Rust twin is in the tree"; bad=1; }
	done <"$map"
	check "twins.tsv: $n lines, each 5 fields with a layer reason where not a plain counterpart" test "$bad" = 0
}

# The call allowlist: three fields, a reason on every line, the pending reason only for
# NVMe and only in the marked block at the end.
check_calls_format() {
	local n=0 bad=0 in_pending=0 name fam reason extra line
	[ -r "$calls" ] || { not_ok "kernel-calls.tsv: $calls exists"; return; }
	while IFS= read -r line; do
		n=$((n + 1))
		case "$line" in "$PENDING_MARK"*) in_pending=1; continue ;; '#'*) continue ;; esac
		IFS=$'\t' read -r name fam reason extra <<<"$line"
		if [ -z "$reason" ] || [ -n "${extra:-}" ]; then
			echo "#   kernel-calls.tsv line $n: not 3 tab-separated fields"; bad=1
		elif [ "$in_pending" = 1 ]; then
			[ "$fam" = nvme ] && [ "$reason" = "$PENDING_REASON" ] ||
				{ echo "#   kernel-calls.tsv line $n: only NVMe lines saying '$PENDING_REASON' may follow the pending mark"; bad=1; }
		elif [ "${reason#pending}" != "$reason" ]; then
			echo "#   kernel-calls.tsv line $n: a pending line outside the marked block"; bad=1
		fi
	done <"$calls"
	check "kernel-calls.tsv: $n lines, each a call, its family and the reason it needs no layer" \
		test "$bad" = 0
}

# check_pairs FAMILY DIR RAW SAFE: every function of each twin is on a line of the map,
# and every function the map names exists.
check_pairs() {
	local fam=$1 dir=$2 rp=$3 sp=$4 f missing=0 stale=0 safe_ko
	functions $(sources raw "$dir") >"$tmp/raw.fn"
	functions $(sources safe "$dir") >"$tmp/safe.fn"
	# built in the tree (host mode) or for a cached kernel (VM mode: build/kernels/LINE/ko)
	safe_ko=$(ls "$top/drivers-safe/$dir/$sp.ko" "$top"/build/kernels/*/ko/"$sp.ko" 2>/dev/null | head -n 1)
	if [ -z "$safe_ko" ]; then
		not_ok "$fam: $sp.ko is built (make modules), for the layer-generated names"
		return 1
	fi
	symbols "$safe_ko" | sort -u - "$tmp/safe.fn" >"$tmp/safe.all"
	awk -F'\t' -v fam="$fam" '!/^#/ && $1 == fam && $2 != "-" { print $2 }' "$map" | sort -u >"$tmp/raw.map"
	awk -F'\t' -v fam="$fam" '!/^#/ && $1 == fam && $3 != "-" { print $3 }' "$map" | sort -u >"$tmp/safe.map"
	for f in $(comm -23 "$tmp/raw.fn" "$tmp/raw.map"); do
		echo "#   $fam: $f (raw) has no line in twins.tsv"; missing=1
	done
	for f in $(comm -23 "$tmp/safe.fn" "$tmp/safe.map"); do
		echo "#   $fam: $f (safe) has no line in twins.tsv"; missing=1
	done
	check "$fam: every function of $rp and $sp has its counterpart or a layer reason in twins.tsv" \
		test "$missing" = 0
	for f in $(comm -13 "$tmp/raw.fn" "$tmp/raw.map"); do
		echo "#   $fam: twins.tsv names $f, which $rp does not define"; stale=1
	done
	for f in $(comm -13 "$tmp/safe.all" "$tmp/safe.map"); do
		echo "#   $fam: twins.tsv names $f, which is neither in $sp's source nor in $sp.ko"; stale=1
	done
	check "$fam: every function twins.tsv names exists" test "$stale" = 0
	[ "$missing" = 0 ] && [ "$stale" = 0 ]
}

# check_calls FAMILY DIR SAFE: the safe twin calls nothing outside the layer and the
# allowlist.
check_calls() {
	local fam=$1 dir=$2 sp=$3 f bad=0
	awk -F'\t' -v fam="$fam" '!/^#/ && ($2 == "*" || $2 == fam) { print $1 }' "$calls" |
		sort -u >"$tmp/allowed"
	printf '%s\n' $C_WORDS | sort -u >"$tmp/words"
	called $(sources safe "$dir") | grep -v -E "^(__)?(safe|SAFE)_|^${sp}_" |
		comm -23 - "$tmp/words" | comm -23 - "$tmp/allowed" >"$tmp/outside"
	functions $(sources safe "$dir") | comm -13 - "$tmp/outside" >"$tmp/outside.2"
	while read -r f; do
		echo "#   $fam: $sp calls $f directly, not through the layer (kernel-calls.tsv)"; bad=1
	done <"$tmp/outside.2"
	check "$fam: $sp reaches the kernel only through the layer and kernel-calls.tsv" test "$bad" = 0
}

# check_header FILE CLAIM-RESULTS...: the first comment of FILE names the other twin, and
# its claims hold.
check_header() {
	local fam=$1 file=$2 other=$3 pairs_ok=$4 calls_ok=$5 head bad=0
	head=$(sed -n '1,/\*\//p' "$file" | sed -n '/\/\*/,$p')
	grep -q "$other" <<<"$head" || { echo "#   ${file#$top/}: header does not name $other"; bad=1; }
	if grep -q 'function for function' <<<"$head" && [ "$pairs_ok" != 0 ]; then
		echo "#   ${file#$top/}: claims 'function for function', but the pairing check failed"; bad=1
	fi
	if grep -q -E 'only through' <<<"$head" && [ "$calls_ok" != 0 ]; then
		echo "#   ${file#$top/}: claims 'only through the layer', but the call check failed"; bad=1
	fi
	check "$fam: the header of ${file#$top/} names $other and its claims hold" test "$bad" = 0
}

check_map_format
check_calls_format
for spec in $FAMILIES; do
	IFS=: read -r fam dir rp sp <<<"$spec"
	check_pairs "$fam" "$dir" "$rp" "$sp"
	pairs_ok=$?
	before=$fails
	check_calls "$fam" "$dir" "$sp"
	calls_ok=$((fails - before))
	for f in $(sources raw "$dir" | grep '\.c$'); do
		check_header "$fam" "$f" "$sp" "$pairs_ok" 0
	done
	for f in $(sources safe "$dir" | grep '\.c$'); do
		check_header "$fam" "$f" "$rp" "$pairs_ok" "$calls_ok"
	done
	if [ -d "$top/drivers-rust/$dir" ]; then
		not_ok "$fam: the Rust twin's functions are paired in twins.tsv (not yet checked)"
	else
		ok "$fam: the Rust twin's functions are paired in twins.tsv # SKIP no Rust twin in the tree"
	fi
done
finish
