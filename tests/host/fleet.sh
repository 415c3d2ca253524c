#!/bin/bash
# fleet.sh: the history shared by a fleet, on a real PostgreSQL server this test starts itself
# (initdb and pg_ctl on a temporary folder, as the unprivileged postgres user, stopped at the
# end): two machines writing 20 runs each at once lose none; a writer killed mid-transaction
# leaves no partial run; a nightly with the server down keeps its run locally and the next
# nightly pushes it, once; a wrong password, a newer schema and a foreign database are each
# refused with one line; and the dashboard of three machines (one drifting) from the shared
# history opens in headless Chromium with one line per machine and no console message.
# Runs are the fixture run folders (tests/fixtures/run-*) with their machine and time
# changed; the drifting machine's safe twin loses 2 % a night, summarised again by the
# runner's own statistics (tests/fixtures/run-maker/resummarise.c).
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
plan 25
. "$(dirname "$0")/../lib/need.sh"
need gnuplot jq chromium psql || exit 1
. "$(dirname "$0")/../lib/browser.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
tb=$top/bench/twinbench
fixtures=$top/tests/fixtures
artifacts=$top/tests/artifacts
mkdir -p "$artifacts"
make -s -C bench >/dev/null 2>&1 || { not_ok "bench/twinbench builds"; exit 1; }

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$pgbin/initdb" ] || { not_ok "PostgreSQL server installed (package postgresql)"; exit 1; }
# The server runs as an unprivileged user: Debian's postgres, else one made for it.
pguser=postgres
id "$pguser" >/dev/null 2>&1 || {
	pguser=twinbench-pg
	id "$pguser" >/dev/null 2>&1 || useradd --system --no-create-home "$pguser"
}

work=$(mktemp -d /tmp/twinbench-fleet-test.XXXXXX)
pgdata=$work/pg/data
port=$((20000 + $$ % 20000))
stop_server() { runuser -u "$pguser" -- "$pgbin/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null 2>&1; }
start_server() {
	runuser -u "$pguser" -- "$pgbin/pg_ctl" -D "$pgdata" -w -t 60 -l "$work/pg/log" \
		-o "-p $port -k $work/pg -c listen_addresses=127.0.0.1" start >/dev/null
}
trap 'stop_server; rm -rf "$work"' EXIT
mkdir -p "$work/pg"
chown "$pguser" "$work/pg"
chmod 755 "$work"
supw=super-$RANDOM$RANDOM pw=fleet-$RANDOM$RANDOM
echo "$supw" >"$work/pg/pw"
chown "$pguser" "$work/pg/pw"
runuser -u "$pguser" -- "$pgbin/initdb" -D "$pgdata" -U postgres --auth=scram-sha-256 \
	--pwfile="$work/pg/pw" >"$work/pg/initdb.log" 2>&1 && start_server
check "a PostgreSQL server of our own runs as $pguser on port $port" \
	runuser -u "$pguser" -- "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$port"
sql() { PGPASSWORD=$supw psql -X -q -t -A -h 127.0.0.1 -p "$port" -U postgres "$@"; }
sql -d postgres -c "CREATE ROLE twinbench LOGIN PASSWORD '$pw'" \
	-c "CREATE DATABASE fleet OWNER twinbench" -c "CREATE DATABASE newer OWNER twinbench" \
	-c "CREATE DATABASE foreign_db OWNER twinbench" \
	-c "CREATE DATABASE damaged OWNER twinbench" >/dev/null
# The password comes from a password file, as libpq looks for it; the URL names none.
export PGPASSFILE=$work/pgpass
echo "127.0.0.1:$port:*:twinbench:$pw" >"$PGPASSFILE"
chmod 600 "$PGPASSFILE"
url=postgresql://twinbench@127.0.0.1:$port/fleet

# make_run SRC ID MACHINE STARTED [FACTOR]: fixture SRC as run ID of MACHINE, started then;
# with FACTOR the safe twin's iops and bw scaled by it and the summary judged again.
# shellcheck disable=SC2046 # the flags are lists of words
cc $(make -s -C bench print-includes) -o "$work/resummarise" \
	tests/fixtures/run-maker/resummarise.c $(make -s -C bench print-objects) \
	$(make -s -C bench print-libs) || { not_ok "resummarise builds"; exit 1; }
make_run() {
	local src=$1 id=$2 machine=$3 started=$4 factor=${5:-}
	mkdir -p "$work/runs"
	rm -rf "${work:?}/runs/$id"
	cp -r "$fixtures/$src" "$work/runs/$id"
	jq --arg id "$id" --arg m "$machine" --arg s "$started" \
		'.run_id = $id | .started = $s | .host = { machine_id: $m,
		 cpu_model: ("fixture CPU " + $m[0:1]), cores: 8, memory_bytes: 17179869184,
		 governor: "performance", turbo: false, smt: false, irqbalance: false }' \
		"$fixtures/$src/manifest.json" >"$work/runs/$id/manifest.json"
	if [ -n "$factor" ]; then
		awk -F, -v OFS=, -v f="$factor" \
			'$2 == "safenull" && ($5 == "iops" || $5 == "bw") { $6 = sprintf("%.6g", $6 * f) } { print }' \
			"$fixtures/$src/samples.csv" >"$work/runs/$id/samples.csv"
		"$work/resummarise" "$work/runs/$id" >/dev/null
	fi
}
day() { printf '2026-11-%02dT%02d:00:00Z' $((1 + $1)) "$2"; }
ma=aaaaaaaa0000000000000000000000a1 mb=bbbbbbbb0000000000000000000000b2
mc=cccccccc0000000000000000000000c3
src=(run-same run-base)
for k in $(seq 0 19); do
	make_run "${src[k % 2]}" "a-$k" "$ma" "$(day "$k" 2)"
	make_run "${src[(k + 1) % 2]}" "b-$k" "$mb" "$(day "$k" 3)"
done

# --- two writers at once -----------------------------------------------------------------
"$tb" history add "$work/runs/a-0" --db "$url" >"$work/first.log" 2>&1
check "the first run creates the schema on the server" \
	bash -c "grep -q 'added run a-0' '$work/first.log' && [ \$(PGPASSWORD='$supw' psql -X -t -A -h 127.0.0.1 -p $port -U postgres -d fleet -c 'SELECT version FROM twinbench_meta') = 3 ]"
writer() {
	local m=$1 k
	for k in $(seq 0 19); do
		"$tb" history add "$work/runs/$m-$k" --db "$url" >/dev/null || echo "$m-$k failed"
	done
}
t0=$(date +%s.%N)
writer a >"$work/wa.log" 2>&1 &
wa=$!
writer b >"$work/wb.log" 2>&1 &
wb=$!
wait "$wa"
wait "$wb"
t1=$(date +%s.%N)
check "two writers adding 20 runs each report no failure" \
	bash -c "! grep -q . '$work/wa.log' && ! grep -q . '$work/wb.log'"
found=$("$tb" history list --db "$url" | awk -F '\t' -v a="$ma" -v b="$mb" '$8 == a || $8 == b' | wc -l)
samples=$(sql -d fleet -c "SELECT count(*) FROM samples")
want=$(( $(tail -n +2 "$fixtures/run-same/samples.csv" | wc -l) * 20 + $(tail -n +2 "$fixtures/run-base/samples.csv" | wc -l) * 20 ))
echo "# concurrent writers: 40 runs added by 2 writers, $found found, $samples of $want sample rows, $(printf '%.1f' "$(echo "$t1 - $t0" | bc)") s"
check "the history holds all 40 runs ($found) and every sample once ($samples of $want)" \
	[ "$found $samples" = "40 $want" ]
"$tb" history add "$work/runs/a-3" --db "$url" >"$work/again.log" 2>&1
check "adding a run again replaces it (still $want sample rows)" \
	bash -c "grep -q 'replaced run a-3' '$work/again.log' && [ \$(PGPASSWORD='$supw' psql -X -t -A -h 127.0.0.1 -p $port -U postgres -d fleet -c 'SELECT count(*) FROM samples') = $want ]"

# --- a writer killed mid-transaction -----------------------------------------------------
# A second session holds a share lock on comparisons, the last table a run fills: the
# writer has put the run and its samples in and waits there; then it is killed.
make_run run-regress killed "$mc" "$(day 25 4)"
sql -d fleet -c "BEGIN; LOCK TABLE comparisons IN SHARE MODE; SELECT pg_sleep(120)" \
	>/dev/null 2>&1 &
holder=$!
held() { [ "$(sql -d fleet -c "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = '$1' AND l.mode = '$2' AND l.granted")" -ge 1 ]; }
for _ in $(seq 100); do held comparisons ShareLock && break; sleep 0.1; done
"$tb" history add "$work/runs/killed" --db "$url" >/dev/null 2>&1 &
victim=$!
mid=0
for _ in $(seq 200); do
	if held samples RowExclusiveLock && held runs RowExclusiveLock; then mid=1; break; fi
	sleep 0.1
done
{ kill -9 "$victim"; wait "$victim"; } 2>/dev/null
sql -d fleet -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()" >/dev/null
wait "$holder" 2>/dev/null
for _ in $(seq 100); do
	[ "$(sql -d fleet -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'fleet' AND pid <> pg_backend_pid()")" = 0 ] && break
	sleep 0.1
done
check "the writer was killed inside its transaction, the run's samples written" [ "$mid" = 1 ]
check "the killed writer left no run and no sample behind" \
	[ "$(sql -d fleet -c "SELECT (SELECT count(*) FROM runs WHERE run_id = 'killed') + (SELECT count(*) FROM samples WHERE run_id = 'killed')")" = 0 ]

# --- refusals ----------------------------------------------------------------------------
bad=postgresql://twinbench:not-$pw@127.0.0.1:$port/fleet
"$tb" history list --db "$bad" >/dev/null 2>"$work/badpw.err"
rc=$?
check "a wrong password is refused (exit $rc) with one line" \
	bash -c "[ $rc = 2 ] && [ \$(wc -l <'$work/badpw.err') = 1 ] && grep -q 'password authentication failed' '$work/badpw.err'"
check "the refusal masks the password it was given" \
	bash -c "grep -q 'twinbench:\*\*\*@' '$work/badpw.err' && ! grep -q -- 'not-$pw' '$work/badpw.err'"
"$tb" history add "$work/runs/a-0" --db "postgresql://twinbench:$pw@127.0.0.1:$port/newer" \
	>"$work/newer-add.log" 2>&1
check "a run's added message masks the URL's password" \
	bash -c "grep -q 'twinbench:\*\*\*@' '$work/newer-add.log' && ! grep -q -- '$pw' '$work/newer-add.log'"
sql -d newer -c "UPDATE twinbench_meta SET version = 99"
before=$(sql -d newer -c "SELECT count(*) FROM runs; SELECT count(*) FROM samples")
"$tb" history add "$work/runs/a-1" --db "postgresql://twinbench@127.0.0.1:$port/newer" \
	>/dev/null 2>"$work/newer.err"
rc=$?
check "a newer schema is refused (exit $rc) with one line" \
	bash -c "[ $rc = 2 ] && [ \$(wc -l <'$work/newer.err') = 1 ] && grep -q 'schema version 99, this twinbench knows 3' '$work/newer.err'"
check "the newer history is left untouched" \
	[ "$(sql -d newer -c "SELECT count(*) FROM runs; SELECT count(*) FROM samples; SELECT version FROM twinbench_meta")" = "$before"$'\n'99 ]
"$tb" history add "$work/runs/a-0" --db "postgresql://twinbench@127.0.0.1:$port/damaged" \
	>/dev/null 2>&1
sql -d damaged -c "INSERT INTO twinbench_meta SELECT * FROM twinbench_meta"
before=$(sql -d damaged -c "SELECT count(*) FROM runs; SELECT count(*) FROM twinbench_meta")
"$tb" history add "$work/runs/a-1" --db "postgresql://twinbench@127.0.0.1:$port/damaged" \
	>/dev/null 2>"$work/damaged.err"
rc=$?
check "a damaged history (two rows in twinbench_meta) is refused (exit $rc) with one line, untouched" \
	bash -c "[ $rc = 2 ] && [ \$(wc -l <'$work/damaged.err') = 1 ] && grep -q 'damaged history' '$work/damaged.err' && [ \"\$(PGPASSWORD='$supw' psql -X -t -A -h 127.0.0.1 -p $port -U postgres -d damaged -c 'SELECT count(*) FROM runs; SELECT count(*) FROM twinbench_meta')\" = '$before' ]"
sql -d foreign_db -c "CREATE TABLE accounts (id int); INSERT INTO accounts VALUES (1)"
"$tb" history add "$work/runs/a-1" --db "postgresql://twinbench@127.0.0.1:$port/foreign_db" \
	>/dev/null 2>"$work/foreign.err"
rc=$?
check "a foreign database is refused (exit $rc) with one line and left as it was" \
	bash -c "[ $rc = 2 ] && [ \$(wc -l <'$work/foreign.err') = 1 ] && grep -q 'not a twinbench history' '$work/foreign.err' && [ \"\$(PGPASSWORD='$supw' psql -X -t -A -h 127.0.0.1 -p $port -U postgres -d foreign_db -c \"SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'\")\" = accounts ]"

# --- the drifting machine and its nights with the server down ------------------------------
for k in $(seq 0 7); do
	make_run run-same "c-$k" "$mc" "$(day "$k" 4)" "$(echo "0.98 ^ $k" | bc -l)"
done
for k in $(seq 0 5); do "$tb" history add "$work/runs/c-$k" --db "$url" >/dev/null; done
local_db=$work/local.db
# The server's earlier nights are in the local copy too, as a machine's own nightly keeps it.
for k in $(seq 0 5); do "$tb" history add "$work/runs/c-$k" --db "$local_db" >/dev/null; done
stop_server
scripts/nightly.sh --run "$work/runs/c-6" --db "$url" --local "$local_db" \
	--dashboard "$work/ndash" >"$work/night6.log" 2>&1
r6=$?
# exit 1, not 2: this night drifts, and a regression is never hidden behind an error
check "a nightly with the server down says the run stays local, judged there (exit $r6)" \
	bash -c "[ $r6 = 1 ] && grep -q 'unreachable: the run stays in' '$work/night6.log'"
check "that night's run is in the local copy" \
	bash -c "'$tb' history list --db '$local_db' | cut -f1 | grep -qx c-6"
start_server
scripts/nightly.sh --run "$work/runs/c-7" --db "$url" --local "$local_db" \
	--dashboard "$work/ndash" >"$work/night7.log" 2>&1
r7=$?
sed 's/^/#   /' "$work/night7.log" | grep -E 'pushed|REGRESSION|DRIFT' | head -3
check "the next nightly pushes the backlog and its own run (exit $r7, not 2)" \
	bash -c "[ $r7 != 2 ] && grep -q 'pushed 2 runs' '$work/night7.log'"
check "each of the machine's 8 nights is on the server exactly once" \
	[ "$(sql -d fleet -c "SELECT count(*), count(DISTINCT run_id) FROM runs WHERE machine_id = '$mc'")" = "8|8" ]
check "the nightly judged the drifting machine's newest night as regressed or drifting" \
	grep -q 'REGRESSION or DRIFT' "$work/night7.log"

# --- the fleet dashboard -----------------------------------------------------------------
dash=$work/dash
"$tb" dashboard --db "$url" -o "$dash" >"$work/dash.log" 2>&1
rc=$?
check "the fleet dashboard is drawn from the shared history (exit $rc): 3 machines" \
	bash -c "[ $rc = 0 ] && grep -q '48 runs, 3 machines' '$work/dash.log'"
"$tb" dashboard --db "$url" -o "$work/judge" --judge-latest --machine "$ma" >/dev/null 2>&1
ra=$?
"$tb" dashboard --db "$url" -o "$work/judge" --judge-latest --machine "$mc" >/dev/null 2>&1
rc=$?
check "judged per machine: the steady one passes (exit $ra), the drifting one not ($rc)" \
	[ "$ra $rc" = "0 1" ]
# tall enough for the first charts of the drifting family
open_page fleet "$dash/index.html" 6500
check "the fleet dashboard loads in Chromium with no console message" \
	bash -c "[ -s '$work/fleet.dom' ] && ! grep -q ':CONSOLE' '$work/fleet.console'"
grep ':CONSOLE' "$work/fleet.console" | head -3 | sed 's/^/#   /'
charts=$(grep -o '<div class="trend" data-lines="[0-9]*"' "$work/fleet.dom" | sort | uniq -c)
echo "# charts: $charts"
lines_ok=1
for svg in "$dash"/plots/fleet-*.svg; do
	n=$(grep -o '<title>[^<]*fixture CPU [abc],[^<]*</title>' "$svg" | sort -u | wc -l)
	[ "$n" = 3 ] || { lines_ok=0; echo "#   $svg: $n machine lines"; }
done
check "every chart in Chromium has one line per machine (3), each named in its legend" \
	bash -c "[ \$(grep -c . <<<'$charts') = 1 ] && grep -q 'data-lines=\"3\"' <<<'$charts' && [ $lines_ok = 1 ]"
check "the drift is marked on the drifting machine only" \
	bash -c "grep -o '<tr class=\"drift\">.*' '$work/fleet.dom' | grep -q 'cccccccc' && ! grep -o '<tr class=\"drift\">.*' '$work/fleet.dom' | grep -q -e aaaaaaaa -e bbbbbbbb"
check "fleet dashboard screenshot saved (tests/artifacts/fleet.png)" \
	bash -c "[ \$(stat -c %s '$artifacts/fleet.png' 2>/dev/null || echo 0) -gt 20000 ]"

finish
