#!/bin/sh
# test-client-sync.sh: the station client and the real server, end to end,
# driven from outside as staff and cron use them: log in; work offline,
# sync, and see it on the other install; concurrent edits converge; a
# rejected change stays visible and blocks nothing; logout and a refused
# token; a replica keeps to its user and its server; a server restored from
# an older backup; a station whose clock runs ahead; a server with small
# limits. Prints TAP.
#
# Every client has its own replica (-d) under a temporary directory; the
# server is the built gridkeepd on 127.0.0.1, on a port of its choosing
# (kept across restarts so the clients find it again). The sqlite3 shell
# looks inside the databases. GK_TEST_KEEP=1 keeps the directory.

top_srcdir=${top_srcdir:-.}
. "$top_srcdir/tests/lib.sh"
gk_setup sync
gk_home
LC_ALL=C.UTF-8
export LC_ALL
show_on_fail=1
need_sqlite3

db=$tmp/server.db
port=0
server_pid=
# start_server [CONF]: serve $db on $port (0 the first time), wait for it.
start_server() {
	if [ -n "${1:-}" ]; then
		start_gkd "$tmp/server.log" -d "$db" serve -c "$1" \
		    -l "127.0.0.1:$port"
	else
		start_gkd "$tmp/server.log" -d "$db" serve -l "127.0.0.1:$port"
	fi || return 1
	server_pid=$gkd_pid
	port=$gkd_port
	url=$gkd_url
}
stop_server() {
	stop_gkd "$server_pid"
	server_pid=
}

# same_dump A B: the two clients hold exactly the same records.
same_dump() {
	gk "$1" dump >"$tmp/$1.dump" && gk "$2" dump >"$tmp/$2.dump" &&
	    cmp -s "$tmp/$1.dump" "$tmp/$2.dump"
}

run "$GKD" -d "$db" demo
[ "$status" -eq 0 ] || { show; exit 1; }
start_server || exit 1

# ---- logging in -------------------------------------------------------------

run login A
check "login creates the replica and says who is logged in where" \
    sh -c '[ "$1" -eq 0 ] && grep -q "logged in to http://127.0.0.1:.* as hp.chenjing" "$2"' \
    sh "$status" "$tmp/out"
check "the token file is readable by its owner only" \
    sh -c '[ "$(stat -c %a "$1")" = 600 ]' sh "$tmp/A.db.token"
check "the token never enters the replica's database" \
    sh -c '! grep -q -F "$(cat "$1")" "$2"' sh "$tmp/A.db.token" "$tmp/A.db"
check "the password is kept only as an Argon2id hash (19 MiB, 2 passes)" \
    sh -c 'sqlite3 "$1" "SELECT value FROM client_meta WHERE key = '"'pw_hash'"'" |
	grep -q "^[$]argon2id[$]v=19[$]m=19456,t=2,p=1[$]"' sh "$tmp/A.db"
run sh -c 'echo wrong-password | "$1" -d "$2" login "$3" hp.chenjing' sh \
    "$GK" "$tmp/W.db" "$url"
check "a wrong password is refused with exit 1 and a clear message" \
    sh -c '[ "$1" -eq 1 ] && grep -q "wrong user name or password" "$2"' \
    sh "$status" "$tmp/err"
run login B
check "a second install logs in as the same station" status_is 0
run gk A sync
check "the first sync pulls the station's records" \
    sh -c '[ "$1" -eq 0 ] && grep -q "pulled [1-9]" "$2"' sh "$status" \
    "$tmp/out"
check "... with plain progress lines when stderr is no terminal" \
    err_has "pulled "
run gk B sync
check "the second install pulls the same" same_dump A B

# ---- offline work ------------------------------------------------------------

stop_server
run gk A report --grid 和平社区第一网格 --category fire --risk 3 \
    --title 楼道堆放杂物 --place "3号楼2单元"
check "offline, A reports a hazard" status_is 0
run gk A issue --depot 和平社区微型应急物资储备点 --item W01 --quantity 5 \
    --purpose distribution --recipient "3号楼"
check "offline, A issues stock" status_is 0
run gk A award --volunteer 张建国 --kind bonus --points 3 --reason 演练
check "offline, A awards points" status_is 0
run gk A sync
check "a sync with the server down exits 1 saying it cannot reach it" \
    sh -c '[ "$1" -eq 1 ] && grep -q "cannot reach http://127.0.0.1" "$2"' \
    sh "$status" "$tmp/err"
run gk A status
check "status shows the failed attempt and the changes still waiting" \
    sh -c 'grep -q "^last error: .*cannot reach" "$1" &&
	grep -q "^outbox: saved [0-9]*, sent [0-9]*, accepted 0" "$1" &&
	! grep -q "^outbox: saved 0, sent 0" "$1"' sh "$tmp/out"

start_server || exit 1
run gk A sync
check "when the server is back, A's sync pushes everything" \
    sh -c '[ "$1" -eq 0 ] && grep -q "pushed [1-9][0-9]*: [1-9][0-9]* accepted, 0 already there, 0 rejected" "$2"' \
    sh "$status" "$tmp/out"
run gk A status
check "... and nothing waits any more" \
    sh -c 'grep -q "^outbox: saved 0, sent 0, accepted [1-9][0-9]*, rejected 0" "$1" &&
	! grep -q "^last error:" "$1"' sh "$tmp/out"
run gk B sync
check "B pulls A's work" status_is 0
run gk B export --format json hazards
check "B shows A's hazard" out_has 楼道堆放杂物
run gk B export --format csv stock_moves
check "B shows A's stock issue" \
    sh -c 'grep -q ",issue,-5,.*,distribution,3号楼," "$1"' sh "$tmp/out"
run gk B export --format csv point_entries
check "B shows A's award" sh -c 'grep -q ",bonus,3,.*,演练," "$1"' sh \
    "$tmp/out"
check "A and B hold the same records" same_dump A B

# ---- concurrent edits converge ------------------------------------------------

run gk A edit --title "楼道堆放杂物（A改）" --description "A看到的情况" 楼道堆放杂物
check "A edits the hazard" status_is 0
run gk B edit --title "楼道堆放杂物（B改）" --place "3号楼1单元" 楼道堆放杂物
check "B edits the same hazard before syncing" status_is 0
gk A sync >/dev/null 2>&1 && gk B sync >/dev/null 2>&1 &&
    gk A sync >/dev/null 2>&1
check "A, B, A sync" [ $? -eq 0 ]
check "the hazard is the same on A and on B" same_dump A B
gk A export --format json hazards >"$tmp/A.json"
gk B export --format json hazards >"$tmp/B.json"
check "... in their exports too" cmp -s "$tmp/A.json" "$tmp/B.json"
hz="SELECT title || '|' || coalesce(description, '') || '|' || coalesce(place, '') FROM hazards WHERE title LIKE '楼道堆放杂物（%'"
check "... and on the server, each field from its last writer" \
    sh -c '[ "$(sqlite3 "$1" "$3")" = "$(sqlite3 "$2" "$3")" ] &&
	[ "$(sqlite3 "$1" "$3")" = "楼道堆放杂物（B改）|A看到的情况|3号楼1单元" ]' \
    sh "$db" "$tmp/A.db" "$hz"

# ---- a rejected change stays visible and blocks nothing ----------------------

node=$(sql "$tmp/A.db" "SELECT value FROM client_meta WHERE key = 'node'")
hlc=$(sql "$tmp/A.db" "SELECT value FROM client_meta WHERE key = 'hlc'")
item=$(sql "$tmp/A.db" "SELECT id FROM items WHERE code = 'L01'")
bad_row=01a20000-0000-7000-8000-0000000000cc
# A stock move of a depot the server does not know: only the server can
# tell, so it comes back rejected.
sql "$tmp/A.db" "INSERT INTO outbox(id, tbl, row_id, json, state, created_at)
  VALUES('01a20000-0000-7000-8000-0000000000bb', 'stock_moves', '$bad_row',
  '{\"fields\":{\"depot\":\"01a20000-0000-7000-8000-0000000000aa\",\"item\":\"$item\",\"kind\":\"receive\",\"occurred_at\":\"2026-11-20T08:00:00Z\",\"quantity\":1,\"source\":\"donation\"},\"hlc\":\"$hlc\",\"id\":\"01a20000-0000-7000-8000-0000000000bb\",\"node\":\"$node\",\"op\":\"append\",\"row\":\"$bad_row\",\"table\":\"stock_moves\"}',
  'saved', 0)"
run gk A receive --depot 和平社区微型应急物资储备点 --item L01 --quantity 2 \
    --source donation --note after-the-bad-one
run gk A sync
check "a change the server refuses is printed with its code and message" \
    sh -c '[ "$1" -eq 0 ] && grep -q "^rejected: stock_moves $2: not_found: " "$3"' \
    sh "$status" "$bad_row" "$tmp/out"
check "... and the change made after it is accepted all the same" \
    out_has "pushed 2: 1 accepted, 0 already there, 1 rejected"
run gk A status
check "status counts the rejected change" out_has ", rejected 1"
run gk A sync
check "a rejected change is not sent again" out_has "pushed 0:"

# ---- logging out, and a token the server no longer takes -------------------------

cp "$tmp/A.db.token" "$tmp/A.token.saved"
echo kq3AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA >"$tmp/A.db.token"
run gk A sync
check "a token the server refuses stops the sync: log in again" \
    sh -c '[ "$1" -eq 1 ] && grep -q "log in again" "$2"' sh "$status" \
    "$tmp/err"
cp "$tmp/A.token.saved" "$tmp/A.db.token"
run gk B logout
check "logout ends the token on the server and forgets it here" \
    sh -c '[ "$1" -eq 0 ] && grep -q "logged out of" "$2" && [ ! -e "$3" ]' \
    sh "$status" "$tmp/out" "$tmp/B.db.token"
run gk B sync
check "... after which sync asks to log in again" \
    sh -c '[ "$1" -eq 1 ] && grep -q "log in again" "$2"' sh "$status" \
    "$tmp/err"
run login B
check "... and a new login works" status_is 0

# ---- a replica belongs to its user and its server ----------------------------------

run gk A receive --depot 和平社区微型应急物资储备点 --item L01 --quantity 1 \
    --source donation --note waiting
run login A gm.zhouqiang
check "another user may not log in on a replica holding unsent changes" \
    sh -c '[ "$1" -eq 1 ] && grep -q "changes by hp.chenjing that the server has not accepted yet (1)" "$2"' \
    sh "$status" "$tmp/err"
"$GKD" -d "$tmp/other.db" demo >/dev/null 2>&1
start_gkd "$tmp/other.log" -d "$tmp/other.db" serve -l 127.0.0.1:0
run login A hp.chenjing "$gkd_url"
stop_gkd "$gkd_pid"
check "a replica of one server may not log in to another" \
    sh -c '[ "$1" -eq 1 ] && grep -q "belongs to http://127.0.0.1:'"$port"'" "$2"' \
    sh "$status" "$tmp/err"
check "... and the token that other server made for it is ended at once" \
    [ "$(sql "$tmp/other.db" "SELECT count(*) || ' ' || count(revoked_at) FROM sessions")" = "1 1" ]
run gk A status
check "... and stays logged in where it was" \
    out_has "server: http://127.0.0.1:$port"
gk A sync >/dev/null 2>&1

# ---- a server restored from an older backup ------------------------------------

run gk A receive --depot 和平社区微型应急物资储备点 --item L01 --quantity 7 \
    --source donation --note before-backup
gk A sync >/dev/null 2>&1
run "$GKD" -d "$db" backup "$tmp/backup.db"
check "the operator backs the server up while it serves" status_is 0
run gk A receive --depot 和平社区微型应急物资储备点 --item L01 --quantity 11 \
    --source donation --note after-backup
run gk A sync
check "A syncs more work after the backup" status_is 0
stop_server
rm -f "$db" "$db-wal" "$db-shm"
cp "$tmp/backup.db" "$db"
start_server || exit 1
check "the restored server lacks A's later work" \
    [ "$(sql "$db" "SELECT count(*) FROM changes WHERE json LIKE '%after-backup%'")" = 0 ]
run gk A sync
check "A's next sync succeeds against the restored server" status_is 0
check "... re-pushing its whole outbox (what the backup had comes back as already there)" \
    sh -c 'grep -q "pushed [1-9][0-9]*: [1-9][0-9]* accepted, [1-9][0-9]* already there, 0 rejected" "$1"' \
    sh "$tmp/out"
sql "$tmp/A.db" "SELECT id FROM outbox WHERE state = 'accepted' ORDER BY id" \
    >"$tmp/a-ids"
sql "$db" "SELECT id FROM changes WHERE author = (SELECT id FROM users WHERE username = 'hp.chenjing') ORDER BY id" \
    >"$tmp/s-ids"
check "every change A made is on the restored server, once" \
    sh -c '[ -s "$1" ] && comm -23 "$1" "$2" | [ "$(wc -l)" -eq 0 ] &&
	[ "$(sort "$2" | uniq -d | wc -l)" -eq 0 ]' sh "$tmp/a-ids" "$tmp/s-ids"
run gk B sync
check "B, too, syncs against the restored server" status_is 0
check "... and A and B agree again" same_dump A B

# ---- a clock that runs ahead ------------------------------------------------------

run login C
gk C sync >/dev/null 2>&1
# After its last sync, C's clock jumps 15 minutes ahead.
GRIDKEEP_CLOCK_OFFSET_MS=900000
export GRIDKEEP_CLOCK_OFFSET_MS
run gk C report --grid 和平社区第二网格 --category gas --risk 4 \
    --title 燃气表箱锈蚀
run gk C sync
check "a station 15 minutes ahead has its changes stamped again and accepted" \
    sh -c '[ "$1" -eq 0 ] && grep -q "stamped again" "$2" &&
	grep -q ", 0 rejected" "$2"' sh "$status" "$tmp/out"
check "... and learns the server's clock" \
    sh -c 'o=$(sqlite3 "$1" "SELECT value FROM client_meta WHERE key = '"'clock_offset'"'");
	[ "$o" -lt -890000 ] && [ "$o" -gt -910000 ]' sh "$tmp/C.db"
check "... so its stamps on the server are not in the future" \
    [ "$(sql "$db" "SELECT count(*) FROM changes WHERE json LIKE '%燃气表箱锈蚀%' AND substr(json, instr(json, '\"hlc\":\"') + 7, 12) > printf('%012x', CAST(strftime('%s', 'now') AS INTEGER) * 1000 + 60000)")" = 0 ]
unset GRIDKEEP_CLOCK_OFFSET_MS
run login D
gk D sync >/dev/null 2>&1
gk A sync >/dev/null 2>&1
check "the re-stamped replica holds exactly what a fresh one pulls" \
    same_dump C D
check "... and so does A" same_dump A D
# ---- a server with small limits ---------------------------------------------------

stop_server
printf 'max_batch = 16\nmax_body = 1024\n' >"$tmp/small.conf"
start_server "$tmp/small.conf" || exit 1
i=0
while [ $i -lt 40 ]; do
	gk A receive --depot 和平社区微型应急物资储备点 --item L01 --quantity 1 \
	    --source donation --note "small-$i" >/dev/null 2>&1
	i=$((i + 1))
done
big=$(printf '%1100s' '' | tr ' ' x)
run gk A report --grid 和平社区第一网格 --category other --risk 4 \
    --title 描述很长的隐患 --description "$big"
run gk A sync
check "batches shrink until the server takes them: every change that fits is accepted" \
    sh -c '[ "$1" -eq 0 ] && grep -q ": 40 accepted, 0 already there, 2 rejected" "$2"' \
    sh "$status" "$tmp/out"
check "... a change larger than any request the server takes is rejected here, too_large" \
    sh -c 'grep -q "^rejected: hazards [0-9a-f-]*: too_large: " "$1" &&
	grep -q "^rejected: hazard_events [0-9a-f-]*: not_found: " "$1"' \
    sh "$tmp/out"
check "... and all forty moves are on the server" \
    [ "$(sql "$db" "SELECT count(*) FROM stock_moves WHERE note LIKE 'small-%'")" = 40 ]

end_plan
