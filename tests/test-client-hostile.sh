#!/bin/sh
# test-client-hostile.sh: the station client's subcommands against hostile
# input, driven from outside: text with terminal escapes, bytes that are
# not UTF-8 and over-long values are refused with a clear error and write
# nothing; a replica that is not SQLite, a token file that is garbage or
# a FIFO, and a server where nothing listens each end the command at once
# with a message, never a hang. Prints TAP.
#
# The server is the built gridkeepd on its demo data, on 127.0.0.1 port 0;
# every client has its own replica (-d) under a temporary directory.

top_srcdir=${top_srcdir:-.}
. "$top_srcdir/tests/lib.sh"
gk_setup hostile
gk_home
LC_ALL=C.UTF-8
export LC_ALL
show_on_fail=1

# run NAME ARGS...: gridkeep on client NAME's replica, for at most 20 s,
# so that a hang fails instead of stalling make check.
run() {
	name=$1
	shift
	timeout 20 "$GK" -d "$tmp/$name.db" "$@" >"$tmp/out" 2>"$tmp/err"
	status=$?
}
outbox() { sqlite3 -batch "$tmp/A.db" "SELECT count(*) FROM outbox"; }

need_sqlite3

echo "1..12"

"$GKD" -d "$tmp/server.db" demo >/dev/null 2>&1 || {
	echo "Bail out! gridkeepd demo failed"
	exit 1
}
start_gkd "$tmp/server.log" -d "$tmp/server.db" serve -l 127.0.0.1:0 || {
	echo "Bail out! the server did not start"
	exit 1
}
login A hp.chenjing "$gkd_url" >/dev/null 2>&1 || {
	echo "Bail out! login failed"
	exit 1
}
timeout 60 "$GK" -d "$tmp/A.db" sync >/dev/null 2>&1 || {
	echo "Bail out! the first sync failed"
	exit 1
}
before=$(outbox)

# refused: exit 1, a message naming the input, nothing in the outbox
refused() {
	[ "$status" -eq 1 ] && err_has "$1" && [ "$(outbox)" = "$before" ]
}
esc=$(printf '\033[2J\033]0;x\007')
run A report --grid XF-HP-01 --category fire --risk 3 --title "a $esc b"
check "a title with a terminal escape is refused and nothing is written" \
    refused "--title: holds a control character"
bad=$(printf 'bad \377\376 utf8')
run A report --grid XF-HP-01 --category fire --risk 3 --title "$bad"
check "a title that is not UTF-8 is refused and nothing is written" \
    refused "--title: is not valid UTF-8"
long=$(printf '%0300d' 0)
run A report --grid XF-HP-01 --category fire --risk 3 --title "$long"
check "a title over 200 bytes is refused and nothing is written" \
    refused "--title: is longer than 200 bytes"
run A report --grid XF-HP-01 --category fire --risk 3 --title x \
    --description "$(printf 'line\001')"
check "a description with a control character is refused" \
    refused "--description: holds a control character"

head -c 4096 /dev/urandom >"$tmp/junk.db"
run junk status
check "a replica that is not SQLite is refused with a clear error" \
    sh -c '[ "$1" -eq 1 ] && grep -q "is not a database" "$2"' \
    sh "$status" "$tmp/err"

cp "$tmp/A.db.token" "$tmp/token.keep"
printf 'x\001y\r\n' >"$tmp/A.db.token"
run A sync
check "a token file with garbage asks to log in again" \
    sh -c '[ "$1" -eq 1 ] && grep -q "damaged: log in again" "$2"' \
    sh "$status" "$tmp/err"
rm -f "$tmp/A.db.token"
mkfifo "$tmp/A.db.token"
run A sync
check "a token file that is a FIFO fails at once instead of hanging" \
    sh -c '[ "$1" -eq 1 ] && grep -q "damaged: log in again" "$2"' \
    sh "$status" "$tmp/err"
rm -f "$tmp/A.db.token"
cp "$tmp/token.keep" "$tmp/A.db.token"
chmod 600 "$tmp/A.db.token"

run A sync
check "with its token back the replica syncs" \
    sh -c '[ "$1" -eq 0 ]' sh "$status"

cp "$tmp/A.db" "$tmp/B.db"
cp "$tmp/A.db.token" "$tmp/B.db.token"
sqlite3 -batch "$tmp/B.db" \
    "UPDATE client_meta SET value = 'http://127.0.0.1:1' WHERE key = 'server'"
start=$(date +%s)
run B sync
end=$(date +%s)
check "a server where nothing listens: cannot reach, within seconds" \
    sh -c '[ "$1" -eq 1 ] && grep -q "cannot reach http://127.0.0.1:1" "$2" &&
	[ $(($4 - $3)) -lt 10 ]' sh "$status" "$tmp/err" "$start" "$end"
check "the failed attempt is recorded for status" \
    sh -c 'sqlite3 -batch "$1" "SELECT value FROM client_meta
	WHERE key = '"'last_error'"'" | grep -q "cannot reach"' sh "$tmp/B.db"

printf 'gridkeep-demo\n' >"$tmp/pw"
timeout 20 "$GK" -d "$tmp/C.db" login http://127.0.0.1:1 hp.chenjing \
    <"$tmp/pw" >"$tmp/out" 2>"$tmp/err"
status=$?
check "a login that fails leaves no replica behind to confuse the next try" \
    sh -c '[ "$1" -eq 1 ] && [ ! -e "$2" ] && [ ! -e "$2.token" ]' \
    sh "$status" "$tmp/C.db"
wrong=$(printf 'not-the-password\n')
printf '%s\n' "$wrong" | timeout 20 "$GK" -d "$tmp/A.db" login "$gkd_url" \
    hp.chenjing >"$tmp/out" 2>"$tmp/err"
status=$?
check "a wrong password on an existing replica keeps the replica" \
    sh -c '[ "$1" -eq 1 ] && [ -s "$2" ] && [ -s "$2.token" ]' \
    sh "$status" "$tmp/A.db"
