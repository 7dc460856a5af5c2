#!/bin/sh
# test-gridkeepd.sh: gridkeepd and gridkeep from the outside, as an
# operator and a station use them: exit statuses, the files they make,
# what they print. Prints TAP.
#
# Run by `make check` with top_srcdir and top_builddir set (see
# AM_TESTS_ENVIRONMENT in Makefile.am). The sqlite3 shell, when present,
# looks inside the databases and breaks them on purpose; without it those
# tests are skipped.

top_srcdir=${top_srcdir:-.}
. "$top_srcdir/tests/lib.sh"
gk_setup test

# Nothing from the caller's environment may pick another database.
gk_home
mkdir "$tmp/cwd" || exit 1

if command -v sqlite3 >/dev/null 2>&1; then
	have_sqlite3=1
else
	have_sqlite3=0
fi
# copy_db FROM TO: a closed database, with its WAL if one was left.
copy_db() {
	cp "$1" "$2" && if [ -f "$1-wal" ]; then cp "$1-wal" "$2-wal"; fi
}

# ---- gridkeepd: the command line ------------------------------------------

run "$GKD" --version
check "gridkeepd --version exits 0" status_is 0
check "gridkeepd --version names gridkeepd and its libraries" \
    sh -c 'grep -q "^gridkeepd " "$1" && grep -q "^sqlite " "$1" &&
	grep -q "^jansson " "$1" && grep -q "^libevent " "$1" &&
	grep -q "^libargon2 linked" "$1"' sh "$tmp/out"
run "$GKD" version
check "gridkeepd version prints the same" out_has "libargon2 linked"

run "$GKD" help
check "gridkeepd help exits 0 and lists init, check and demo" \
    sh -c '[ "$1" -eq 0 ] && grep -q "^  init " "$2" &&
	grep -q "^  check " "$2" && grep -q "^  demo " "$2"' sh "$status" \
    "$tmp/out"

run "$GKD" frobnicate
check "an unknown command exits 2" status_is 2
check "... with the usage on stderr and nothing on stdout" \
    sh -c 'grep -q "^usage: gridkeepd" "$1" && [ ! -s "$2" ]' sh \
    "$tmp/err" "$tmp/out"
run "$GKD" --frobnicate init
check "an unknown option exits 2" status_is 2
run "$GKD"
check "no command exits 2" status_is 2
run "$GKD" check extra
check "a command with too many arguments exits 2" status_is 2
run "$GKD" init --bogus x
check "a command with a bad option exits 1 with its usage" \
    sh -c '[ "$1" -eq 1 ] && grep -q "usage: init" "$2"' sh "$status" "$tmp/err"

# ---- init -----------------------------------------------------------------

db=$tmp/server.db
run "$GKD" -d "$db" check
check "check of a missing database exits 1" status_is 1
check "... saying there is no database" err_has "gridkeepd: no database at"
check "... and creates no file" test ! -e "$db"

run "$GKD" -d "$db" init
check "init creates a database" sh -c '[ "$1" -eq 0 ] && [ -f "$2" ]' sh \
    "$status" "$db" || show
id1=$(sed -n 's/^database id: \([0-9a-f-]*\).*/\1/p' "$tmp/out")
node1=$(sed -n 's/^node: \([0-9a-f]*\)$/\1/p' "$tmp/out")
check "init gives it a UUIDv7 database id" \
    sh -c 'printf "%s\n" "$1" |
	grep -qx "[0-9a-f]\{8\}-[0-9a-f]\{4\}-7[0-9a-f]\{3\}-[89ab][0-9a-f]\{3\}-[0-9a-f]\{12\}"' \
    sh "$id1"
check "init gives it a node id of 16 hex digits" \
    sh -c 'printf "%s\n" "$1" | grep -qx "[0-9a-f]\{16\}"' sh "$node1"

run "$GKD" -d "$db" init
id2=$(sed -n 's/^database id: \([0-9a-f-]*\).*/\1/p' "$tmp/out")
node2=$(sed -n 's/^node: \([0-9a-f]*\)$/\1/p' "$tmp/out")
check "init again exits 0 and keeps the database id" \
    sh -c '[ "$1" -eq 0 ] && [ -n "$2" ] && [ "$2" = "$3" ]' sh "$status" \
    "$id1" "$id2"
check "init again keeps the node id" \
    sh -c '[ -n "$1" ] && [ "$1" = "$2" ]' sh "$node1" "$node2"
if [ "$have_sqlite3" -eq 1 ]; then
	check "server_meta holds the database id init printed" \
	    sh -c '[ -n "$1" ] && [ "$1" = "$2" ]' sh "$id1" \
	    "$(sql "$db" "SELECT value FROM server_meta WHERE key = 'db_id'")"
else
	skip "server_meta holds the database id init printed" "no sqlite3"
fi

(cd "$tmp/cwd" && "$GKD" init >/dev/null 2>&1)
check "without -d, init creates gridkeep.db in the current directory" \
    test -f "$tmp/cwd/gridkeep.db"
GRIDKEEPD_DB=$tmp/env.db "$GKD" init >/dev/null 2>&1
check "GRIDKEEPD_DB names the database" test -f "$tmp/env.db"
GRIDKEEPD_DB=$tmp/env2.db "$GKD" -d "$tmp/flag.db" init >/dev/null 2>&1
check "-d wins over GRIDKEEPD_DB" \
    sh -c '[ -f "$1" ] && [ ! -e "$2" ]' sh "$tmp/flag.db" "$tmp/env2.db"

run "$GKD" -d "$db" check
check "check of a new database exits 0" status_is 0 || show
check "... and says so" out_has "check: ok"

# ---- demo -------------------------------------------------------------------

demo=$tmp/demo.db
run "$GKD" -d "$demo" demo
check "demo fills a new database" status_is 0 || show
check "... and says how to look at it" out_has "gridkeepd -d $demo check"

run "$GKD" -d "$demo" check
check "check of the demo exits 0" status_is 0 || show
for inv in integrity schema references transfers earns hazards changes \
    scopes; do
	check "check of the demo: $inv ok" out_has "$inv: ok"
done
check "check of the demo: hazards in every status" \
    out_has "hazards by status: reported 1, verified 1, rectifying 2, resolved 2, closed 1, rejected 1"
check "check of the demo: one transfer received, one in transit" \
    out_has "transfers: ok (1 matched, 1 in transit)"
check "check of the demo: one hazard past its deadline" \
    out_has "overdue: 1 hazard past the plan's deadline"
check "check of the demo shows negative stock as a discrepancy" \
    out_has "discrepancy: stock of "
check "check of the demo shows negative points as a discrepancy" \
    out_has "discrepancy: points of "

if [ "$have_sqlite3" -eq 1 ]; then
	check "the demo's hazards by status, read with sqlite3" \
	    test "$(sql "$demo" "SELECT group_concat(s || ' ' || n, ', ') FROM
		(SELECT status AS s, count(*) AS n FROM hazards
		 GROUP BY status ORDER BY status)")" = \
	    "closed 1, rectifying 2, rejected 1, reported 1, resolved 2, verified 1"
	check "every demo row came as a change, each with its scopes" \
	    test "$(sql "$demo" "SELECT (SELECT count(*) FROM changes) =
		(SELECT count(DISTINCT seq) FROM change_scopes) AND
		(SELECT count(*) FROM changes) =
		(SELECT count(*) FROM units) + (SELECT count(*) FROM users) +
		(SELECT count(*) FROM items) + (SELECT count(*) FROM depots) +
		(SELECT count(*) FROM standards) +
		(SELECT count(*) FROM volunteers) +
		(SELECT count(*) FROM notices) + (SELECT count(*) FROM hazards) +
		(SELECT count(*) FROM hazard_events) +
		(SELECT count(*) FROM inspections) +
		(SELECT count(*) FROM stock_moves) +
		(SELECT count(*) FROM point_entries) +
		(SELECT count(*) FROM notice_acks)")" = 1
	check "the demo has a user of every role" \
	    test "$(sql "$demo" "SELECT group_concat(role, ' ') FROM
		(SELECT DISTINCT role FROM users ORDER BY role)")" = \
	    "admin grid_worker station street"
	check "the demo has stock moves of every kind" \
	    test "$(sql "$demo" "SELECT count(DISTINCT kind) FROM stock_moves")" = 6
	check "the demo has grant, earn and redeem entries" \
	    test "$(sql "$demo" "SELECT count(DISTINCT kind) FROM point_entries
		WHERE kind IN ('grant', 'earn', 'redeem')")" = 3
	check "the demo stores an Argon2id hash per user, never the password" \
	    test "$(sql "$demo" "SELECT (SELECT count(*) FROM credentials
		WHERE hash LIKE '\$argon2id\$%' AND hash NOT LIKE
		'%gridkeep-demo%') = (SELECT count(*) FROM users)")" = 1
	changes=$(sql "$demo" "SELECT count(*) FROM changes")
else
	for t in "hazards by status" "changes and scopes" "roles" \
	    "stock kinds" "point kinds" "password hashes"; do
		skip "the demo's $t, read with sqlite3" "no sqlite3"
	done
fi

run "$GKD" -d "$demo" demo
check "demo again exits 0 and leaves the demo as it is" \
    sh -c '[ "$1" -eq 0 ] && grep -q "already holds the demo" "$2"' sh \
    "$status" "$tmp/out"
if [ "$have_sqlite3" -eq 1 ]; then
	check "demo again writes no change" \
	    sh -c '[ "${1:-0}" -gt 0 ] && [ "$1" = "$2" ]' sh "$changes" \
	    "$(sql "$demo" "SELECT count(*) FROM changes")"
else
	skip "demo again writes no change" "no sqlite3"
fi

# ---- check finds what is broken -------------------------------------------

# broken NAME SQL EXPECTED: on a copy of the demo, after SQL, check exits
# 1, prints EXPECTED and reports the failure on stderr.
broken() {
	if [ "$have_sqlite3" -eq 0 ]; then
		skip "check finds $1" "no sqlite3"
		return
	fi
	copy_db "$demo" "$tmp/broken.db" && sql "$tmp/broken.db" "$2" &&
	    run "$GKD" -d "$tmp/broken.db" check
	if [ "$status" -eq 1 ] && out_has "$3" &&
	    err_has "gridkeepd: check: 1 of 8 invariants failed"; then
		ok "check finds $1"
	else
		not_ok "check finds $1"
		show
	fi
	rm -f "$tmp/broken.db" "$tmp/broken.db-wal" "$tmp/broken.db-shm"
}

broken "a stock move of a missing depot" \
    "INSERT INTO stock_moves(id, depot, item, kind, quantity, source,
	occurred_at, hlc, node)
     SELECT '00000000-0000-7000-8000-000000000001',
	'00000000-0000-7000-8000-0000000000ff', id, 'receive', 1, 'opening',
	'2024-01-01T00:00:00Z', 1, '0000000000000001' FROM items LIMIT 1" \
    "names a missing depot 00000000-0000-7000-8000-0000000000ff"
broken "a point entry of a missing volunteer" \
    "UPDATE point_entries SET volunteer = '00000000-0000-7000-8000-0000000000ee'
     WHERE kind = 'redeem'" \
    "names a missing volunteer 00000000-0000-7000-8000-0000000000ee"
broken "a transfer whose halves differ" \
    "UPDATE stock_moves SET quantity = quantity + 1 WHERE kind = 'transfer_in'" \
    "do not mirror each other"
broken "a transfer_in without its transfer_out" \
    "DELETE FROM stock_moves WHERE kind = 'transfer_out' AND transfer_id IN
	(SELECT transfer_id FROM stock_moves WHERE kind = 'transfer_in')" \
    "has a transfer_in and no transfer_out"
broken "a second earn for one activity" \
    "INSERT INTO point_entries(id, volunteer, kind, points, minutes, activity,
	occurred_at, hlc, node)
     SELECT '00000000-0000-7000-8000-000000000002', volunteer, kind, points,
	minutes, activity, occurred_at, hlc, node FROM point_entries
     WHERE kind = 'earn' LIMIT 1" \
    "2 earn entries for activity"
broken "a hazard status its events do not give" \
    "UPDATE hazards SET status = 'closed' WHERE status = 'reported'" \
    "status is closed, derived reported"
broken "a change that does not decode" \
    "UPDATE changes SET json = '{\"id\": 1}' WHERE seq = 3" \
    "change 3 does not decode"
broken "a change without a scope" \
    "DELETE FROM change_scopes WHERE seq = 5" \
    "change 5 ("

if [ "$have_sqlite3" -eq 1 ]; then
	copy_db "$demo" "$tmp/same.db"
	sql "$tmp/same.db" "UPDATE hazards SET status = 'new'"
	sql "$tmp/same.db" .dump >"$tmp/before.sql"
	"$GKD" -d "$tmp/same.db" check >/dev/null 2>&1
	sql "$tmp/same.db" .dump >"$tmp/after.sql"
	check "check changes nothing, even where it derives other values" \
	    cmp -s "$tmp/before.sql" "$tmp/after.sql"
else
	skip "check changes nothing" "no sqlite3"
fi

# ---- a schema from the future ----------------------------------------------

if [ "$have_sqlite3" -eq 1 ]; then
	copy_db "$db" "$tmp/newer.db"
	sql "$tmp/newer.db" \
	    "UPDATE schema_version SET version = 99 WHERE track = 'records'"
	run "$GKD" -d "$tmp/newer.db" init
	check "init refuses a newer schema: exit 1" status_is 1
	check "... saying it is newer" err_has "newer"
	check "... and leaves it as it was" test "$(sql "$tmp/newer.db" \
	    "SELECT version FROM schema_version WHERE track = 'records'")" = 99
	run "$GKD" -d "$tmp/newer.db" check
	check "check refuses a newer schema: exit 1" status_is 1
	check "... saying it is newer" err_has "newer"
	run "$GKD" -d "$tmp/newer.db" demo
	check "demo refuses a newer schema" status_is 1
else
	for t in "init: exit 1" "init: message" "init: untouched" \
	    "check: exit 1" "check: message" demo; do
		skip "a newer schema is refused ($t)" "no sqlite3"
	done
fi

if [ "$have_sqlite3" -eq 1 ]; then
	copy_db "$db" "$tmp/records.db"
	sql "$tmp/records.db" "INSERT INTO units(id, level, name, _stamps)
	    VALUES ('00000000-0000-7000-8000-000000000003', 'district', 'x', x'')"
	run "$GKD" -d "$tmp/records.db" demo
	check "demo refuses a database that holds other records" \
	    sh -c '[ "$1" -eq 1 ] && grep -q "already holds records" "$2"' sh \
	    "$status" "$tmp/err"
else
	skip "demo refuses a database that holds other records" "no sqlite3"
fi

# ---- gridkeep ---------------------------------------------------------------

run "$GK" --version
check "gridkeep --version exits 0 and names its libraries" \
    sh -c '[ "$1" -eq 0 ] && grep -q "^gridkeep " "$2" &&
	grep -q "^sqlite " "$2" && grep -q "^ncurses" "$2"' sh "$status" \
    "$tmp/out"
run "$GK" frobnicate
check "gridkeep: an unknown command exits 2" status_is 2
run "$GK" status
check "gridkeep status without a replica exits 1" \
    sh -c '[ "$1" -eq 1 ] && grep -q "no replica at" "$2"' sh "$status" \
    "$tmp/err"

replica=$HOME/.local/share/gridkeep/replica.db
run "$GK" init
check "gridkeep init makes ~/.local/share/gridkeep/replica.db" \
    sh -c '[ "$1" -eq 0 ] && [ -f "$2" ]' sh "$status" "$replica" || show
check "... in a directory of mode 0700" \
    sh -c 'ls -ld "$1" | grep -q "^drwx------"' sh "${replica%/*}"
gnode1=$(sed -n 's/^node: \([0-9a-f]*\)$/\1/p' "$tmp/out")
check "... with a node id" \
    sh -c 'printf "%s\n" "$1" | grep -qx "[0-9a-f]\{16\}"' sh "$gnode1"
run "$GK" init
gnode2=$(sed -n 's/^node: \([0-9a-f]*\)$/\1/p' "$tmp/out")
check "gridkeep init again keeps the node id" \
    sh -c '[ "$1" -eq 0 ] && [ -n "$2" ] && [ "$2" = "$3" ]' sh "$status" \
    "$gnode1" "$gnode2"

XDG_DATA_HOME=$tmp/xdg "$GK" init >/dev/null 2>&1
check "XDG_DATA_HOME moves the replica" test -f "$tmp/xdg/gridkeep/replica.db"
run env XDG_DATA_HOME=relative "$GK" status
check "a relative XDG_DATA_HOME is ignored" out_has "replica: $replica"

run "$GK" status
check "gridkeep status exits 0" status_is 0 || show
check "... and shows the node id" out_has "node: $gnode1"
check "... and the outbox by state" \
    out_has "outbox: saved 0, sent 0, accepted 0, rejected 0"
run "$GK" check
check "gridkeep check exits 0" sh -c '[ "$1" -eq 0 ] &&
	grep -q "^check: ok" "$2"' sh "$status" "$tmp/out"

"$GK" dump >"$tmp/dump1" 2>&1
s1=$?
"$GK" dump >"$tmp/dump2" 2>&1
s2=$?
check "gridkeep dump of an empty replica exits 0" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq 0 ]' sh "$s1" "$s2"
check "... and prints the same twice" cmp -s "$tmp/dump1" "$tmp/dump2"
run "$GK" -d "$tmp/xdg/gridkeep/replica.db" dump
check "... and the same for another empty replica" \
    cmp -s "$tmp/out" "$tmp/dump1"

run "$GK" -d "$demo" dump
check "gridkeep dump refuses the server's database" \
    sh -c '[ "$1" -eq 1 ] && grep -q "not a replica" "$2"' sh "$status" \
    "$tmp/err"
run "$GKD" -d "$replica" check
check "gridkeepd check refuses a replica" status_is 1

if [ "$have_sqlite3" -eq 1 ]; then
	copy_db "$replica" "$tmp/newer-replica.db"
	sql "$tmp/newer-replica.db" \
	    "UPDATE schema_version SET version = 99 WHERE track = 'client'"
	run "$GK" -d "$tmp/newer-replica.db" status
	check "gridkeep refuses a newer replica: exit 1, saying it is newer" \
	    sh -c '[ "$1" -eq 1 ] && grep -q newer "$2"' sh "$status" \
	    "$tmp/err"
	run "$GK" -d "$tmp/newer-replica.db" init
	check "gridkeep init refuses a newer replica" status_is 1
else
	skip "gridkeep refuses a newer replica" "no sqlite3"
	skip "gridkeep init refuses a newer replica" "no sqlite3"
fi

# ---- backup ---------------------------------------------------------------

run "$GKD" -d "$demo" backup "$tmp/backup.db"
check "backup writes a copy and says it was checked" \
    sh -c '[ "$1" -eq 0 ] && grep -q "written and checked" "$2"' sh \
    "$status" "$tmp/out" || show
run "$GKD" -d "$tmp/backup.db" check
check "the backup passes check" status_is 0 || show
if [ "$have_sqlite3" -eq 1 ]; then
	check "the backup holds every change" \
	    test "$(sql "$demo" "SELECT count(*) FROM changes")" = \
	    "$(sql "$tmp/backup.db" "SELECT count(*) FROM changes")"
	check "the backup has a database id of its own, naming the original" \
	    test "$(sql "$demo" "SELECT 'x', value FROM server_meta
		WHERE key='db_id'")" = \
	    "$(sql "$tmp/backup.db" "SELECT 'x', value FROM server_meta
		WHERE key='backup_of' AND value <> (SELECT value
		FROM server_meta WHERE key='db_id')")"
else
	skip "the backup holds every change" "no sqlite3"
	skip "the backup has a database id of its own" "no sqlite3"
fi
run "$GKD" -d "$demo" backup "$tmp/backup.db"
check "a second backup replaces the first" status_is 0
check "... and leaves no temporary file" \
    sh -c '! ls "$1".tmp-* >/dev/null 2>&1' sh "$tmp/backup.db"
run "$GKD" -d "$demo" backup "$tmp/no/such/dir/backup.db"
check "a backup that cannot be written exits 1" status_is 1
run "$GKD" -d "$tmp/missing.db" backup "$tmp/b2.db"
check "a backup of a missing database exits 1" status_is 1

# ---- init --admin and units --------------------------------------------------

tree=$tmp/tree.db
echo "first-admin-pw" | "$GKD" -d "$tree" init --admin root \
    --district 安宁区 >"$tmp/out" 2>"$tmp/err"
status=$?
check "init --admin makes the database, its district and its first admin" \
    sh -c '[ "$1" -eq 0 ] && grep -q "added district 安宁区" "$2" &&
	grep -q "added user root (admin)" "$2"' sh "$status" "$tmp/out" ||
    show
echo "other" | "$GKD" -d "$tree" init --admin root >"$tmp/out" 2>&1
check "init --admin again keeps the admin" out_has "user root exists: kept"
run "$GKD" -d "$tree" user list
check "... who is listed as an admin" out_has "root"
cat >"$tmp/units.csv" <<'CSV'
code,name,level,parent,households
XF,幸福街道,street,,
"XF-HP","和平社区, 东区",community,XF,
XF-HP-01,第一网格,grid,XF-HP,320
CSV
run "$GKD" -d "$tree" unit import "$tmp/units.csv"
check "an import whose street has no parent is refused, naming the line" \
    sh -c '[ "$1" -eq 1 ] && grep -q "line 2: a street needs a parent" "$2"' \
    sh "$status" "$tmp/err" || show
run "$GKD" -d "$tree" unit list
check "... and adds nothing" sh -c '! grep -q 幸福街道 "$1"' sh "$tmp/out"
root=$(awk '{ print $NF; exit }' "$tmp/out")
sed "s/^XF,幸福街道,street,,/XF,幸福街道,street,$root,/" "$tmp/units.csv" \
    >"$tmp/units2.csv"
run "$GKD" -d "$tree" unit import "$tmp/units2.csv"
check "unit import adds a street, a community and a grid" \
    out_has "imported 3 units" || show
run "$GKD" -d "$tree" unit add 第二网格 --level grid --parent XF-HP \
    --code XF-HP-02 --households 250
check "unit add adds a grid under a community named by its code" \
    status_is 0 || show
run "$GKD" -d "$tree" unit list
check "unit list shows the tree, a quoted name whole" \
    sh -c 'grep -q "^      grid *XF-HP-02 *第二网格" "$1" &&
	grep -q "和平社区, 东区" "$1"' sh "$tmp/out" || show
run "$GKD" -d "$tree" unit add 错 --level grid --parent XF
check "a grid under a street is refused" \
    sh -c '[ "$1" -eq 1 ] && grep -q "a grid goes under a community" "$2"' \
    sh "$status" "$tmp/err"
run "$GKD" -d "$tree" unit add 重复 --level grid --parent XF-HP --code XF-HP-01
check "a code that is taken is refused" \
    sh -c '[ "$1" -eq 1 ] && grep -q "exists" "$2"' sh "$status" "$tmp/err"
run "$GKD" -d "$tree" unit bogus
check "a unit subcommand that does not exist exits 1 with the usage" \
    sh -c '[ "$1" -eq 1 ] && grep -q "usage: unit add" "$2"' sh "$status" \
    "$tmp/err"
echo "station-pw" | "$GKD" -d "$tree" user add hp.station --role station \
    --unit XF-HP >"$tmp/out" 2>"$tmp/err"
check "a station user goes into the imported community" \
    grep -q "added user hp.station (station" "$tmp/out"
run "$GKD" -d "$tree" check
check "check holds after the operator's writes" status_is 0 || show

end_plan
