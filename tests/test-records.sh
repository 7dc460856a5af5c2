#!/bin/sh
# test-records.sh: the record subcommands and export, driven from outside
# as a station's scripts use them: a real gridkeepd with the demo street,
# a station logged in, actions run offline against the replica, refusals
# with the option at fault and exit 1, the id printed on success, exports
# in each format, and what was written reaching the server and a second
# install. Prints TAP.
#
# Run by `make check` with top_builddir set (AM_TESTS_ENVIRONMENT). The
# server is the built gridkeepd on 127.0.0.1, on a port of its choosing.

top_srcdir=${top_srcdir:-.}
. "$top_srcdir/tests/lib.sh"
gk_setup records
gk_home
LC_ALL=C.UTF-8
export LC_ALL
# Local times typed below are Beijing time.
TZ=CST-8
export TZ
show_on_fail=1

# ok_id: the command succeeded and printed one record id, nothing else.
ok_id() {
	[ "$status" -eq 0 ] &&
	    grep -Eqx '[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}' \
	        "$tmp/out" && [ "$(wc -l <"$tmp/out")" -eq 1 ]
}
# refused TEXT: exit 1, nothing on stdout, TEXT on stderr.
refused() { [ "$status" -eq 1 ] && [ ! -s "$tmp/out" ] && err_has "$1"; }
# usage TEXT: a bad command line: TEXT on stderr and exit 2 (or 1 while
# gridkeep.c's main still exits 1 for GK_E_USAGE).
usage() {
	[ "$status" -eq 2 ] || [ "$status" -eq 1 ] && [ ! -s "$tmp/out" ] &&
	    err_has "$1"
}

db=$tmp/server.db
echo 1..33

run "$GKD" -d "$db" demo
[ "$status" -eq 0 ] || { show; exit 1; }
start_gkd "$tmp/server.log" -d "$db" serve -l 127.0.0.1:0 || exit 1
url=$gkd_url

DEPOT=和平社区微型应急物资储备点

# ---- before logging in -------------------------------------------------------

run gk N init
run gk N report --grid XF-HP-01 --category fire --risk 3 --title 无人
check "an action before any login is refused: not logged in" \
    refused "not logged in"

run login A hp.chenjing
[ "$status" -eq 0 ] || { show; exit 1; }
run gk A sync
[ "$status" -eq 0 ] || { show; exit 1; }

# ---- help and usage -------------------------------------------------------------

run gk A issue --help
check "ACTION --help lists its options with their help" \
    sh -c '[ "$1" -eq 0 ] && grep -q -- "--depot NAME .*the depot" "$2" &&
	grep -q -- "--quantity N .*(required)" "$2" &&
	grep -q "distribution|incident|drill" "$2"' sh "$status" "$tmp/out"
run gk A issue --colour red
check "an unknown option is refused, naming it" \
    usage "issue: unknown option --colour"
run gk A verify
check "an action on a record needs the record" usage "verify: name one hazard"
run gk A issue --depot "$DEPOT" --item W01 --quantity
check "an option without its value is refused" usage "--quantity needs a value"

# ---- stock ------------------------------------------------------------------------

gk A export --format json stock_moves >"$tmp/before.json" 2>"$tmp/err"
run gk A issue --depot "$DEPOT" --item W01 --quantity 100000 \
    --purpose distribution
check "an issue larger than the stock on hand names --quantity and the stock" \
    sh -c 'grep -Eq "^gridkeep: issue: --quantity: 100000 is more than the [0-9]+ on hand$" "$1" &&
	[ "$2" -eq 1 ]' sh "$tmp/err" "$status"
gk A export --format json stock_moves >"$tmp/after.json" 2>"$tmp/err"
check "... and writes nothing" cmp -s "$tmp/before.json" "$tmp/after.json"
run gk A issue --depot "$DEPOT" --item W01 --quantity -2 --purpose drill
check "a negative quantity is refused" refused "--quantity: -2 is negative"
run gk A issue --depot 没有这个点 --item W01 --quantity 1 --purpose drill
check "an unknown depot is refused, naming --depot" \
    refused "issue: --depot: no depot"
run gk A issue --depot "$DEPOT" --item W01 --quantity 2 \
    --purpose distribution --recipient "3号楼 李大爷"
check "an issue within the stock prints the new move's id" ok_id
issue_id=$(cat "$tmp/out")
run gk A transfer --depot "$DEPOT" --to 幸福街道应急物资储备库 --item W01 \
    --quantity 1
check "a transfer to a depot outside the station's unit names --to" \
    refused "transfer: --to: 幸福街道应急物资储备库 is outside your unit"
run gk A depot --name 和平社区二号点 --place "和平社区 2 号楼" --lat 30.2770 \
    --lon 120.1510 --custodian 陈静
check "depot adds a depot in the station's own unit" ok_id
run gk A transfer --depot "$DEPOT" --to 和平社区二号点 --item W01 --quantity 1
check "a transfer prints the id of its outgoing move" ok_id
out_move=$(cat "$tmp/out")
run gk A export --format json stock_moves
tid=$(grep "\"id\":\"$out_move\"" "$tmp/out" |
    sed 's/.*"transfer_id":"\([^"]*\)".*/\1/')
check "the transfer is two moves sharing one transfer id" \
    sh -c '[ -n "$1" ] && [ "$(grep -c "\"transfer_id\":\"$1\"" "$2")" -eq 2 ]' \
    sh "$tid" "$tmp/out"
run gk A count --depot "$DEPOT" --item F01 --counted 0 --note 盘点
check "a count records counted minus on hand" ok_id

# ---- hazards ----------------------------------------------------------------------

run gk A report --grid XF-HP-01 --category fire --risk 3 --title 楼道堆放杂物 \
    --place "和平社区 9 号楼" --lat 30.277 --lon 120.150 \
    --occurred_at "2026-11-20 08:30"
check "report prints the new hazard's id" ok_id
hazard=$(cat "$tmp/out")
run gk A export --format json hazards
check "the hazard is reported, found at 08:30 Beijing time = 00:30 UTC" \
    sh -c 'grep "\"id\":\"$1\"" "$2" | grep -q "\"status\":\"reported\"" &&
	grep "\"id\":\"$1\"" "$2" |
	grep -q "\"occurred_at\":\"2026-11-20T00:30:00Z\""' sh "$hazard" \
    "$tmp/out"
run gk A verify 楼道堆放杂物
check "verify takes the hazard by its title and prints its id" \
    sh -c '[ "$1" -eq 0 ] && [ "$(cat "$2")" = "$3" ]' sh "$status" \
    "$tmp/out" "$hazard"
run gk A verify "$hazard"
check "verifying it again is refused: it is verified already" \
    refused "a hazard that is verified cannot be verified"
run gk A close "$hazard"
check "a station may not close a hazard" refused "a station user may not close"
run gk A plan "$hazard" --measures 清理杂物 --responsible 物业
check "a plan without its deadline names --deadline" refused "plan: --deadline:"
run gk A report --grid XF-HP-01 --category fire --risk 4 --title 飞线充电 \
    --fixed --note 当场劝离
check "a hazard fixed on the spot is reported" ok_id
fixed=$(cat "$tmp/out")
run gk A export hazards
check "... and resolved" \
    sh -c 'grep "^$1," "$2" | grep -q ",resolved,"' sh "$fixed" "$tmp/out"

# ---- points -------------------------------------------------------------------------

run gk A award --volunteer 张建国 --activity 2026-11-20-清雪 --hours 3
check "award of an earn prints its id" ok_id
run gk A export --format json point_entries
check "an earn of 3 hours is capped at 2 points" \
    sh -c 'grep -q "\"activity\":\"2026-11-20-清雪\".*\"points\":2\|\"points\":2.*\"activity\":\"2026-11-20-清雪\"" "$1"' \
    sh "$tmp/out"
run gk A redeem --volunteer 张建国 --points 100000 --reason 毛巾
check "a redeem larger than the balance names --points" \
    refused "redeem: --points: 100000 is more than the"

# ---- export -------------------------------------------------------------------------

run gk A export --output "$tmp/hazards.csv" hazards
check "export --output writes the file and nothing to stdout" \
    sh -c '[ "$1" -eq 0 ] && [ ! -s "$2" ] &&
	head -1 "$3" | grep -q "^id,grid,category,risk_level,title,"' sh \
    "$status" "$tmp/out" "$tmp/hazards.csv"
check "... in CSV with CRLF line ends and the derived status" \
    sh -c 'head -1 "$1" | grep -q ",status,.*,overdue$2\$"' sh \
    "$tmp/hazards.csv" "$(printf '\r')"
check "... leaving no temporary file behind" \
    sh -c '[ "$(ls "$1" | grep -c "hazards.csv.tmp")" -eq 0 ]' sh "$tmp"
run gk A export --format geojson depots
check "GeoJSON of the depots is a FeatureCollection of points" \
    sh -c '[ "$1" -eq 0 ] && grep -q "^{\"type\":\"FeatureCollection\"" "$2" &&
	grep -q "\"coordinates\":\[120.1502,30.2768\]" "$2"' sh "$status" \
    "$tmp/out"
run gk A export passwords
check "an unknown table is refused with the list of tables" \
    refused "the tables are: units, users"

# ---- to the server and back ------------------------------------------------------------

run gk A sync
check "sync pushes every action, and the server accepts them all" \
    sh -c '[ "$1" -eq 0 ] && grep -q "0 rejected" "$2"' sh "$status" \
    "$tmp/out"
run login B xf.liufang
run gk B sync
run gk B export --format json hazards
check "the street office sees the reported hazard after a sync" \
    sh -c 'grep -q "\"id\":\"$1\".*\"status\":\"verified\"" "$2"' sh \
    "$hazard" "$tmp/out"
