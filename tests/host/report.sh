#!/bin/bash
# report.sh: host tests of the reporting side on the fixture run folders (tests/fixtures/run-*):
# gnuplot renders every plot without a warning, the report carries summary.csv's numbers, the
# history round-trips and refuses damaged files, compare flags the planted regression only,
# nightly.sh judges nights, and the report and dashboard load in headless Chromium with no
# console message, showing their charts. Screenshots go to tests/artifacts/.
# Prints "ok - ..." / "not ok - ..." per check; exits non-zero when a check failed.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
plan 48
. "$(dirname "$0")/../lib/need.sh"
need gnuplot sqlite3 chromium || exit 1

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
tb=$top/bench/twinbench
fixtures=$top/tests/fixtures
artifacts=$top/tests/artifacts


if [ ! -x "$tb" ]; then
	make -s -C bench >/dev/null 2>&1 || { not_ok "bench/twinbench builds"; exit 1; }
fi

work=$(mktemp -d /tmp/twinbench-report-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
for r in base same regress boots; do cp -r "$fixtures/run-$r" "$work/"; done
mkdir -p "$artifacts"

# --- report and plots --------------------------------------------------------------------
"$tb" report "$work/run-base" >"$work/report.out" 2>"$work/report.err"
rc=$?
check "report of run-base exits 0 (every gnuplot clean)" [ "$rc" = 0 ]
check "report of run-base prints nothing on stderr" [ ! -s "$work/report.err" ]
[ -s "$work/report.err" ] && sed 's/^/#   /' "$work/report.err"

plots="relative-null relative-net absolute-null-iops absolute-null-bw absolute-net-pps
	absolute-net-bps latency-null overhead-null sweep-qd-null sweep-bs-null sweep-payload-net
	latdist-null-randread-4k-qd32"
missing=''
for p in $plots; do
	for ext in svg png dat; do
		[ -s "$work/run-base/plots/$p.$ext" ] || missing="$missing $p.$ext"
	done
done
check "every plot has its data file, SVG and PNG${missing:+ (missing:$missing)}" [ -z "$missing" ]

bad_png=0
for f in "$work"/run-base/plots/*.png; do
	[ "$(head -c 4 "$f" | tail -c 3)" = PNG ] || bad_png=$((bad_png + 1))
done
check "every PNG is a PNG image" [ "$bad_png" = 0 ]
check "every SVG is a complete SVG document" \
	bash -c "for f in '$work'/run-base/plots/*.svg; do grep -q '</svg>' \"\$f\" || exit 1; done"

md=$work/run-base/report.md
html=$work/run-base/report.html
# The rows of summary.csv as the report prints them (awk formats doubles like C does).
awk -F, 'NR > 1 { printf "| %s | %s | %s | %s | %s | %s/%s | %.6g | %.6g | %.4f [%.4f, %.4f] | %.3g | %s |\n",
	$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14 }' \
	"$work/run-base/summary.csv" >"$work/summary-rows.txt"
rows=$(wc -l <"$work/summary-rows.txt")
mismatch=0
while IFS= read -r want; do
	if ! grep -qF -- "$want" "$md"; then
		mismatch=$((mismatch + 1))
		[ "$mismatch" -le 3 ] && echo "#   report.md lacks: $want"
	fi
done <"$work/summary-rows.txt"
check "report.md carries all $rows rows of summary.csv" test "$mismatch" = 0 -a "$rows" -gt 0
check "report.md puts the verdict table first" \
	bash -c "grep -n '^## ' '$md' | head -1 | grep -q Verdicts"
check "report.md names the invalid sample and the guest-log WARNING" \
	bash -c "grep -q 'invalid sample: null rawnull randwrite-4k-qd32 sample 3: kernel-warning' '$md' && grep -q 'guest log: console.log:4' '$md'"
check "report.md warns about the untuned host" \
	bash -c "grep -q \"governor is 'powersave'\" '$md' && grep -q 'irqbalance is running' '$md'"
check "report.html inlines all 12 plots and loads nothing from outside" \
	bash -c "[ \$(grep -o 'src=\"data:image/svg+xml;base64,' '$html' | wc -l) = 12 ] && ! grep -q 'src=\"plots/\|<script\|href=\"http' '$html'"
bad_svg=0
grep -o 'data:image/svg+xml;base64,[A-Za-z0-9+/=]*' "$html" | cut -d, -f2 >"$work/images.b64"
while read -r b64; do
	echo "$b64" | base64 -d 2>/dev/null | grep -q '</svg>' || bad_svg=$((bad_svg + 1))
done <"$work/images.b64"
check "every image inlined in report.html decodes to a complete SVG" [ "$bad_svg" = 0 ]

# --- plain-text summary ---------------------------------------------------------------------
txt=$work/run-base/summary.txt
wide=$(awk 'length($0) > 80' "$txt" 2>/dev/null | wc -l)
check "summary.txt is written, at most 80 columns wide ($wide wider)" \
	bash -c "[ -s '$txt' ] && [ '$wide' = 0 ]"
# each iops/pps row of summary.csv: its pair and its verdict on the line after
want=$(awk -F, 'NR > 1 && ($3 == "iops" || $3 == "pps") { n++ } END { print n + 0 }' \
	"$work/run-base/summary.csv")
got=$(awk -F, 'NR > 1 && ($3 == "iops" || $3 == "pps") { print $1 " " $2 " " $3 ": " $4 " -> " $5 "|" $14 }' \
	"$work/run-base/summary.csv" | while IFS='|' read -r head verdict; do
	grep -A1 -xF -- "$head" "$txt" | tail -1 | grep -q " $verdict\$" && echo x; done | wc -l)
check "summary.txt has both arms, change and verdict of all $want primary-metric rows ($got)" \
	[ "$got" = "$want" -a "$want" -gt 0 ]
check "summary.txt names the kernel and the command that reproduces the run" \
	bash -c "grep -q '^kernel 6.1.0-56-amd64' '$txt' && grep -q '^bench/twinbench run --profile nightly' '$txt'"

# --- behaviour kept -----------------------------------------------------------------------
# Each fixture run's report rows and plot data equal the expectation captured before the
# runner was restructured (tests/fixtures/expect/run-*: report.md's table rows, plots/*.dat).
for r in base same regress boots; do
	exp=$fixtures/expect/run-$r
	kept=$work/kept-$r
	rm -rf "$kept" && cp -r "$fixtures/run-$r" "$kept"
	"$tb" report "$kept" >/dev/null 2>&1
	grep '^|' "$kept/report.md" >"$kept/rows.txt" 2>/dev/null
	diffs=$(diff "$exp/report-rows.txt" "$kept/rows.txt" | grep -c '^[<>]')
	for f in "$exp"/plots/*.dat; do
		cmp -s "$f" "$kept/plots/${f##*/}" || diffs=$((diffs + 1))
	done
	check "run-$r: report rows and plot data as before the restructuring ($diffs differ)" \
		[ "$diffs" = 0 ]
done

"$tb" report "$work/nonexistent" >/dev/null 2>"$work/bad.err"
rc=$?
check "report of a missing folder exits 2 with a one-line error" \
	bash -c "[ $rc = 2 ] && [ \$(wc -l <'$work/bad.err') = 1 ] && grep -q nonexistent '$work/bad.err'"

# --- per-boot means -----------------------------------------------------------------------
# run-boots: 3 boots x 2 samples per arm in 2 workloads of each family; run-base: one boot.
"$tb" report "$work/run-boots" >"$work/boots.out" 2>"$work/boots.err"
rc=$?
check "report of run-boots (3 boots per arm) exits 0 with nothing on stderr (rc $rc)" \
	bash -c "[ $rc = 0 ] && [ ! -s '$work/boots.err' ]"
want_boots="boots-net-udp-512b boots-net-udp-64b boots-null-randread-4k-qd1 boots-null-randread-4k-qd32"
got_boots=$(cd "$work/run-boots/plots" && for f in boots-*.svg; do
	[ -s "${f%.svg}.png" ] && [ -s "${f%.svg}.dat" ] && echo "${f%.svg}"; done | sort | xargs)
# Expected points: each arm's mean per boot of iops (null) or pps (net), from samples.csv.
for wl in null:randread-4k-qd1:iops null:randread-4k-qd32:iops net:udp-64b:pps net:udp-512b:pps; do
	IFS=: read -r fam w m <<<"$wl"
	awk -F, -v f="$fam" -v w="$w" -v m="$m" 'NR > 1 && $1 == f && $3 == w && $6 == m && $9 == 1 {
		k = $2 SUBSEP $5; s[k] += $7; n[k]++ }
		END { for (k in s) { split(k, p, SUBSEP); printf "%s %.9g\n", p[2], s[k] / n[k] } }' \
		"$work/run-boots/samples.csv" | sort >"$work/want-$w.txt"
	awk 'NF == 3 { print $1, $2 }' "$work/run-boots/plots/boots-$fam-$w.dat" 2>/dev/null |
		sort >"$work/got-$w.txt"
done
check "run-boots gets exactly its 4 per-boot plots, each 3 arms x 3 boots at the means of samples.csv (${got_boots:-none})" \
	bash -c "[ '$got_boots' = '$want_boots' ] && for w in randread-4k-qd1 randread-4k-qd32 udp-64b udp-512b; do
		[ \$(wc -l <'$work/want-'\$w.txt) = 9 ] && cmp -s '$work/want-'\$w.txt '$work/got-'\$w.txt || exit 1; done"
check "run-base (one boot per arm) gets no per-boot plot, and report.md says why in one line" \
	bash -c "! ls '$work'/run-base/plots/boots-* >/dev/null 2>&1 && [ \$(grep -c 'one boot per arm in this run' '$md') = 1 ] && ! grep -q 'one boot per arm in this run' '$work/run-boots/report.md'"

# --- history -----------------------------------------------------------------------------
db=$work/history.db
"$tb" history add "$work/run-base" --db "$db" >/dev/null &&
	"$tb" history add "$work/run-same" --db "$db" >/dev/null
check "history add of two runs succeeds" [ $? = 0 ]
n_csv=$(($(wc -l <"$work/run-base/samples.csv") - 1))
n_db=$(sqlite3 "$db" "SELECT count(*) FROM samples WHERE run_id = 'fixture-base'")
check "history holds every sample of run-base ($n_db of $n_csv)" [ "$n_db" = "$n_csv" ]
sum_csv=$(awk -F, 'NR > 1 { s += $6 } END { printf "%.6e", s }' "$work/run-base/samples.csv")
sum_db=$(sqlite3 "$db" "SELECT printf('%.6e', sum(value)) FROM samples WHERE run_id = 'fixture-base'")
check "history values round-trip (sum $sum_db vs $sum_csv)" [ "$sum_db" = "$sum_csv" ]
"$tb" history add "$work/run-base" --db "$db" | grep -q replaced
check "adding run-base again says it replaced it" [ $? = 0 ]
check "adding run-base again does not duplicate it" \
	[ "$(sqlite3 "$db" "SELECT count(*) FROM samples")" = $((2 * n_csv)) ]
check "history is in WAL mode" [ "$(sqlite3 "$db" "PRAGMA journal_mode")" = wal ]

head -c 65536 /dev/urandom >"$work/garbage.db"
sha_before=$(sha256sum <"$work/garbage.db")
"$tb" history add "$work/run-base" --db "$work/garbage.db" 2>"$work/garbage.err" >/dev/null
rc=$?
check "a damaged history is refused with a clear error (exit $rc)" \
	bash -c "[ $rc = 2 ] && grep -q 'garbage.db: .*refusing to touch it' '$work/garbage.err'"
check "the damaged history is left untouched" [ "$sha_before" = "$(sha256sum <"$work/garbage.db")" ]
sqlite3 "$work/foreign.db" "CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('mine')"
sha_before=$(sha256sum <"$work/foreign.db")
"$tb" history add "$work/run-base" --db "$work/foreign.db" 2>"$work/foreign.err" >/dev/null
rc=$?
check "another program's database is refused (exit $rc)" \
	bash -c "[ $rc = 2 ] && grep -q 'not a twinbench history' '$work/foreign.err'"
check "the foreign database is left untouched" [ "$sha_before" = "$(sha256sum <"$work/foreign.db")" ]

# --- compare -----------------------------------------------------------------------------
"$tb" compare "$work/run-base" "$work/run-regress" >"$work/cmp-regress.out" 2>&1
rc=$?
check "compare flags the planted regression (exit $rc)" [ "$rc" = 1 ]
check "every flagged series is the planted one (safenull randread-4k-qd32)" \
	bash -c "grep REGRESSION '$work/cmp-regress.out' | grep -v -q -E ' safenull +randread-4k-qd32 ' && exit 1; grep -q REGRESSION '$work/cmp-regress.out'"
"$tb" compare "$work/run-base" "$work/run-same" >"$work/cmp-same.out" 2>&1
rc=$?
check "compare does not flag the planted non-change (exit $rc)" \
	bash -c "[ $rc = 0 ] && ! grep -q REGRESSION '$work/cmp-same.out'"
"$tb" compare "$work/run-base" "$work/run-regress" --threshold 15 >/dev/null 2>&1
check "a threshold above the planted 10 % drop passes" [ $? = 0 ]
"$tb" compare "$work/run-base" "$work/run-same" --threshold -1 >/dev/null 2>&1
check "a bad threshold is refused (exit 2)" [ $? = 2 ]

# --- nightly -----------------------------------------------------------------------------
ndb=$work/nightly.db
scripts/nightly.sh --run "$work/run-base" --db "$ndb" --dashboard "$work/dash" >"$work/n1.log" 2>&1
r1=$?
scripts/nightly.sh --run "$work/run-same" --db "$ndb" --dashboard "$work/dash" >"$work/n2.log" 2>&1
r2=$?
scripts/nightly.sh --run "$work/run-regress" --db "$ndb" --dashboard "$work/dash" >"$work/n3.log" 2>&1
r3=$?
check "nightly: first night 0, unchanged night 0, regressed night 1 ($r1 $r2 $r3)" \
	[ "$r1 $r2 $r3" = "0 0 1" ]

# --- dashboard ---------------------------------------------------------------------------
dash=$work/dash/index.html
check "dashboard written" [ -s "$dash" ]
charts=$(grep -c '<div class="trend"' "$dash")
check "dashboard has trend charts ($charts)" [ "$charts" -ge 10 ]
check "dashboard marks the planted regression" \
	bash -c "grep -q 'with a regression' '$dash' && grep -A0 '<tr class=\"slower\"' '$dash' | grep -q 'randread-4k-qd32'"
links_ok=1
for l in $(grep -o 'href="[^"]*report.html"' "$dash" | sort -u | sed 's/^href="//; s/"$//'); do
	[ -f "$work/dash/$l" ] || { links_ok=0; echo "#   broken link $l"; }
done
check "every dashboard link reaches a report.html" [ "$links_ok" = 1 ]

# --- headless Chromium -------------------------------------------------------------------
. "$(dirname "$0")/../lib/browser.sh"
if [ -z "$browser" ]; then
	not_ok "chromium installed (scripts/install-deps.sh)"
else
	open_page report "$html"
	check "report.html loads in Chromium with no console message" \
		bash -c "[ -s '$work/report.dom' ] && ! grep -q ':CONSOLE' '$work/report.console'"
	grep ':CONSOLE' "$work/report.console" | head -3 | sed 's/^/#   /'
	check "report.html in Chromium shows its 12 plots and the verdict table" \
		bash -c "[ \$(grep -o '<img[^>]*src=\"data:image/svg+xml' '$work/report.dom' | wc -l) = 12 ] && grep -q '<h2>Verdicts</h2>' '$work/report.dom'"
	check "report screenshot saved (tests/artifacts/report.png)" \
		bash -c "[ \$(stat -c %s '$artifacts/report.png' 2>/dev/null || echo 0) -gt 20000 ]"
	open_page dashboard "$dash"
	check "dashboard loads in Chromium with no console message" \
		bash -c "[ -s '$work/dashboard.dom' ] && ! grep -q ':CONSOLE' '$work/dashboard.console'"
	grep ':CONSOLE' "$work/dashboard.console" | head -3 | sed 's/^/#   /'
	check "dashboard in Chromium shows its trend charts" \
		bash -c "[ \$(grep -o '<div class=\"trend\"' '$work/dashboard.dom' | wc -l) -ge 10 ]"
	check "dashboard screenshot saved (tests/artifacts/dashboard.png)" \
		bash -c "[ \$(stat -c %s '$artifacts/dashboard.png' 2>/dev/null || echo 0) -gt 20000 ]"
fi

finish
