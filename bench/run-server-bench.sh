#!/bin/sh
# run-server-bench.sh: the server load benchmark of issue 4, in one run:
# gridkeepd under bench/loadgen, then pouchdb-server (the peer) under
# bench/pouch-load.js, and one table of both.
#
# usage: bench/run-server-bench.sh BUILD_DIR
#
# It builds nothing: BUILD_DIR must hold gridkeepd and bench/loadgen
# (`make bench gridkeepd`). The peer runs if $POUCH_DIR holds
# node_modules/pouchdb-server (`npm install pouchdb-server` there, outside
# the repository). Everything listens on 127.0.0.1; every step has a
# timeout; the temporary directory ($TMPDIR) is removed at the end.
#
# Environment: POUCH_DIR (default /tmp/pouch), QUICK=1 for a short trial
# (every count divided by 100), KEEP=1 to keep the temporary directory.
# $LG and $PL below are command words, split on purpose.
# shellcheck disable=SC2086
set -u

die() {
	echo "run-server-bench: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: $0 BUILD_DIR"
BUILD=$(cd "$1" && pwd) || die "no directory $1"
SRC=$(cd "$(dirname "$0")/.." && pwd)
GKD=$BUILD/gridkeepd
LOADGEN=$BUILD/bench/loadgen
POUCH_DIR=${POUCH_DIR:-/tmp/pouch}
[ -x "$GKD" ] || die "$GKD: not built (make gridkeepd)"
[ -x "$LOADGEN" ] || die "$LOADGEN: not built (make bench)"

# Counts of the real run; QUICK=1 for a trial of the script.
if [ "${QUICK:-0}" = 1 ]; then
	N_INGEST=20000 N_GRID=100 N_FAN=5000 T_FAN=10 N_RTT=200
else
	N_INGEST=1000000 N_GRID=1000 N_FAN=100000 T_FAN=120 N_RTT=2000
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gk-server-bench.XXXXXX") ||
	die "mktemp failed"
SPID='' PPID_NODE=''
cleanup() {
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null
	[ -n "$PPID_NODE" ] && kill "$PPID_NODE" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then
		echo "kept $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

OUT=$WORK/results.txt
: >"$OUT"

# Wait (at most $2 s) until file $1 holds text $3.
wait_for() {
	i=0
	while ! grep -q "$3" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le $(($2 * 10)) ] || return 1
		sleep 0.1
	done
}

# Stop process $1 with SIGTERM, then SIGKILL after 20 s.
stop() {
	kill "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 200 ] && kill -9 "$1" 2>/dev/null
		sleep 0.1
	done
}

step() { # LIMIT_S COMMAND...: run, copy to the results, fail loudly
	lim=$1
	shift
	echo "+ $*" >&2
	timeout "$lim" "$@" >"$WORK/step.out" 2>"$WORK/step.err"
	rc=$?
	cat "$WORK/step.out" >>"$OUT"
	cat "$WORK/step.out" "$WORK/step.err" >&2
	[ $rc -eq 0 ] || echo "run-server-bench: step failed ($rc): $*" >&2
	return 0
}

# ---- gridkeepd ---------------------------------------------------------------

DB=$WORK/gk.db
PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
export LOADGEN_PASSWORD="$PASSWORD"
timeout 60 "$GKD" -d "$DB" init >/dev/null || die "gridkeepd init failed"
timeout 60 "$GKD" -d "$DB" demo >/dev/null || die "gridkeepd demo failed"
USERS=$(sqlite3 "$DB" 'SELECT username FROM users ORDER BY username') ||
	die "sqlite3 cannot read $DB"
for u in $USERS; do
	printf '%s\n' "$PASSWORD" |
		timeout 60 "$GKD" -d "$DB" user passwd "$u" >/dev/null ||
		die "user passwd $u failed"
done
# loadgen reads the demo's ids from a copy, not the live file.
sqlite3 "$DB" ".backup '$WORK/demo-ids.db'" || die "copy of the demo failed"

"$GKD" -d "$DB" serve -l 127.0.0.1:0 >"$WORK/gridkeepd.log" 2>&1 &
SPID=$!
wait_for "$WORK/gridkeepd.log" 15 'listening on 127.0.0.1:' ||
	die "gridkeepd did not start: $(cat "$WORK/gridkeepd.log")"
PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' \
	"$WORK/gridkeepd.log" | head -n 1)
echo "gridkeepd pid $SPID port $PORT" >&2
sleep 1
LG="$LOADGEN -p $PORT -d $WORK/demo-ids.db -P $SPID"
step 10 $LOADGEN rss -P "$SPID"
sed -i 's/^loadgen rss when=now/loadgen rss when=idle/' "$OUT"
step 600 $LG grid-pull -n "$N_GRID" -g 100
step 300 $LG rtt -c "$N_RTT"
step 300 $LG login-storm -c "$N_RTT" -k 20
step 600 $LG fanout -k 50 -t "$T_FAN" -n "$N_FAN"
step 3000 $LG ingest -n "$N_INGEST" -b 1000 -T 2900
step 900 $LG pull -l 1000
stop "$SPID"
SPID=

# ---- pouchdb-server ------------------------------------------------------------

PS=$POUCH_DIR/node_modules/pouchdb-server/bin/pouchdb-server
if [ -f "$PS" ] && command -v node >/dev/null; then
	timeout 60 "$LOADGEN" sample -d "$WORK/demo-ids.db" -n 10000 \
		>"$WORK/sample.jsonl" || die "loadgen sample failed"
	PPORT=$(node -e 'const s=require("net").createServer();
		s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);
		s.close();});')
	mkdir "$WORK/pouch"
	(cd "$WORK/pouch" && exec node "$PS" -p "$PPORT" -o 127.0.0.1 \
		-d "$WORK/pouch/" -c "$WORK/pouch/config.json" -n \
		>"$WORK/pouch.log" 2>&1) &
	PPID_NODE=$!
	i=0 # with -n it prints nothing: ask it
	until curl -sf "http://127.0.0.1:$PPORT/" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -le 300 ] ||
			die "pouchdb-server did not start: $(cat "$WORK/pouch.log")"
		sleep 0.1
	done
	echo "pouchdb-server pid $PPID_NODE port $PPORT" >&2
	sleep 1
	PL="node $SRC/bench/pouch-load.js -p $PPORT -f $WORK/sample.jsonl \
		-P $PPID_NODE"
	step 10 $PL rss
	sed -i 's/^pouch rss when=now/pouch rss when=idle/' "$OUT"
	step 300 $PL rtt -c "$N_RTT"
	step 600 $PL fanout -k 50 -t "$T_FAN" -N "$N_FAN"
	step 3000 $PL ingest -n "$N_INGEST" -b 1000 -T 2900
	step 1800 $PL pull -T 1700
	stop "$PPID_NODE"
	PPID_NODE=
else
	echo "run-server-bench: no pouchdb-server in $POUCH_DIR: peer skipped" >&2
fi

# ---- one table -------------------------------------------------------------------

# v SYSTEM MODE KEY [WHEN]: the value of KEY on the last matching line.
v() {
	awk -v sys="$1" -v mode="$2" -v key="$3" -v when="${4:-}" '
	$1 == sys && $2 == mode {
		if (when != "" && index($0, "when=" when " ") == 0) next
		for (i = 3; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == key) val = kv[2]
		}
	}
	END { print (val == "" ? "-" : val) }' "$OUT"
}
mib() { # KiB to MiB, or "-"
	case $1 in
	-) echo - ;;
	*) awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }' ;;
	esac
}
ratio() {
	case "$1$2" in
	*-*) echo - ;;
	*) awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }' ;;
	esac
}
row() { # LABEL GK POUCH TARGET
	printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$(ratio "$2" "$3")" "$4"
}

echo
echo "## gridkeepd against pouchdb-server, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "| | gridkeepd | pouchdb-server | ratio | target (gridkeepd) |"
echo "| --- | ---: | ---: | ---: | --- |"
g() { v loadgen "$@"; } # gridkeepd's value
p() { v pouch "$@"; }   # the peer's
gm() { mib "$(v loadgen rss "$1" "$2")"; }
pm() { mib "$(v pouch rss "$1" "$2")"; }
row "ingest, changes/s (1,000 a push, $N_INGEST)" \
	"$(g ingest changes_per_s)" "$(p ingest changes_per_s)" ">= 30,000"
row "ingest, first 100k, changes/s" "$(g ingest first_segment_per_s)" \
	"$(p ingest first_segment_per_s)" ">= 30,000"
row "ingest, last 100k, changes/s" "$(g ingest last_segment_per_s)" \
	"$(p ingest last_segment_per_s)" "not falling"
row "pull, changes/s (pages of 1,000)" "$(g pull changes_per_s)" \
	"$(p pull changes_per_s)" ">= 200,000"
row "RSS idle, MiB (VmRSS)" "$(gm vmrss_kib idle)" "$(pm vmrss_kib idle)" "<= 8"
row "RSS idle, MiB (VmHWM)" "$(gm vmhwm_kib idle)" "$(pm vmhwm_kib idle)" "<= 8"
row "RSS peak after fan-out, MiB (VmHWM)" "$(gm vmhwm_kib after-fanout)" \
	"$(pm vmhwm_kib after-fanout)" "<= 48"
row "changes pushed in the fan-out" "$(g fanout changes_pushed)" \
	"$(p fanout changes_pushed)" "100,000"
row "push+pull round trip p50, ms" "$(g rtt p50_ms)" "$(p rtt p50_ms)" "<= 1"
row "push+pull round trip p99, ms" "$(g rtt p99_ms)" "$(p rtt p99_ms)" "<= 5"
row "50-client fan-out, round trips/s" "$(g fanout round_trips_per_s)" \
	"$(p fanout round_trips_per_s)" ">= 200"
row "50-client fan-out p50, ms" "$(g fanout p50_ms)" "$(p fanout p50_ms)" ""
row "50-client fan-out p99, ms" "$(g fanout p99_ms)" "$(p fanout p99_ms)" \
	"<= 300"
echo
echo "| gridkeepd only | before | after | ratio | target |"
echo "| --- | ---: | ---: | ---: | --- |"
printf '| grid pull, ms (others grow %sx) | %s | %s | %s | <= 1.2 |\n' \
	"$(v loadgen grid-pull growth)" "$(v loadgen grid-pull before_ms)" \
	"$(v loadgen grid-pull after_ms)" "$(v loadgen grid-pull ratio)"
printf '| sync p99, ms, without / with %s logins | %s | %s | %s | <= 2 |\n' \
	"$(v loadgen login-storm logins)" "$(v loadgen login-storm p99_ms_calm)" \
	"$(v loadgen login-storm p99_ms_storm)" "$(v loadgen login-storm p99_ratio)"
echo
echo "Raw lines:"
cat "$OUT"
