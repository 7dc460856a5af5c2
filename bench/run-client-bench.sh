#!/bin/sh
# run-client-bench.sh: the station client's benchmark (issue 5) in one
# run: bench/bench-client under /usr/bin/time -v, with the machine it ran
# on, for the "Station client" section of bench/README.md.
#
# usage: bench/run-client-bench.sh BUILD_DIR [bench-client options]
#
# It builds nothing: BUILD_DIR must hold gridkeepd and bench/bench-client
# (`make bench`). bench-client starts gridkeepd on 127.0.0.1 itself, in a
# temporary directory of $TMPDIR that it removes (unless -k). The whole
# run is bounded by $TIMEOUT seconds (default 1800). QUICK=1 tries the
# script with small counts (-n 5000 -r 20000 -c 100 -u 5).
set -u

die() {
	echo "run-client-bench: $*" >&2
	exit 1
}

[ $# -ge 1 ] || die "usage: $0 BUILD_DIR [bench-client options]"
BUILD=$(cd "$1" && pwd) || die "no directory $1"
shift
[ -x "$BUILD/gridkeepd" ] || die "$BUILD/gridkeepd: not built (make bench)"
[ -x "$BUILD/bench/bench-client" ] ||
	die "$BUILD/bench/bench-client: not built (make bench)"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
if [ "${QUICK:-0}" = 1 ]; then
	set -- -n 5000 -r 20000 -c 100 -u 5 "$@"
fi

echo "## machine"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpus: $(nproc), $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | sort -u | head -n 1)"
echo "memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
for d in /sys/block/*; do
	[ -e "$d/queue/rotational" ] || continue
	case ${d##*/} in loop* | ram*) continue ;; esac
	echo "disk: ${d##*/} rotational=$(cat "$d/queue/rotational")" \
		"model=$(tr -s ' ' <"$d/device/model" 2>/dev/null || echo -)"
done
echo "filesystem of ${TMPDIR:-/tmp}: $(df -T "${TMPDIR:-/tmp}" | awk 'NR == 2 { print $2 }')"
echo "kernel: $(uname -r)"
echo "compiler: $(sed -n 's/^CC = //p' "$BUILD/Makefile") $(sed -n 's/^CFLAGS = //p' "$BUILD/Makefile")"
echo
echo "## bench-client $*"
TIMEF=$(mktemp "${TMPDIR:-/tmp}/gk-client-bench.XXXXXX") || die "mktemp failed"
trap 'exit 1' INT TERM HUP
OUT=$(mktemp "${TMPDIR:-/tmp}/gk-client-bench.XXXXXX") || die "mktemp failed"
trap 'rm -f "$TIMEF" "$OUT"' EXIT
top_builddir=$BUILD timeout "${TIMEOUT:-1800}" \
	/usr/bin/time -v -o "$TIMEF" "$BUILD/bench/bench-client" "$@" >"$OUT"
rc=$?
cat "$OUT"
echo
echo "## /usr/bin/time -v"
grep -E 'Elapsed|Maximum resident|User time|System time|File system' "$TIMEF"

# v PHASE KEY [MATCH]: the value of KEY on the phase's line (the line that
# also holds MATCH, when given).
v() {
	awk -v ph="$1" -v key="$2" -v m="${3:-}" '
	$1 == "bench-client" && $2 == ph && index($0, m) {
		for (i = 3; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == key) val = kv[2]
		}
	}
	END { print (val == "" ? "-" : val) }' "$OUT"
}
echo
echo "## against the targets of issue 5"
echo
echo "| | measured | target | load |"
echo "| --- | ---: | --- | ---: |"
echo "| first sync into a fresh replica, records/s | $(v sync records_per_s replica=fresh) | >= 20,000 | $(v sync load replica=fresh) |"
echo "| first sync into the $(v sync records_before replica=big)-record replica, records/s | $(v sync records_per_s replica=big) | >= 20,000 | $(v sync load replica=big) |"
echo "| one pulled change applied, p50 / p99 ms | $(v apply-one p50_ms) / $(v apply-one p99_ms) | <= 1 | $(v apply-one load) |"
echo "| Hazards screen opened, p50 / p99 ms | $(v hazards-screen open_p50_ms) / $(v hazards-screen open_p99_ms) | <= 50 | $(v hazards-screen load) |"
echo "| Hazards screen, one PgDn, p50 / p99 ms | $(v hazards-screen pgdn_p50_ms) / $(v hazards-screen pgdn_p99_ms) | <= 50 | |"
echo "| peak RSS of the whole run (time -v), KiB | $(sed -n 's/.*Maximum resident set size (kbytes): //p' "$TIMEF") | | |"
[ $rc -eq 0 ] || die "bench-client failed ($rc)"
