# tests/lib.sh: the scaffolding the shell tests share, sourced (never run)
# by tests/test-*.sh as `. "$top_srcdir/tests/lib.sh"`. POSIX sh.
#
# It gives: TAP helpers (ok, not_ok, skip, check, end_plan) counting the
# tests in $n; a temporary directory $tmp whose cleanup on exit kills every
# gridkeepd and tmux server a test started, even when it fails; running a
# command into $tmp/out and $tmp/err; a real gridkeepd on 127.0.0.1 port 0
# and the port it reports; logging a replica in with the password on
# stdin; bounded polls; and driving the terminal UI in a private tmux.
# Every function below is for the tests to call; the variables and helpers
# the library keeps to itself start with _gk_.

n=0
failed=0
PW=gridkeep-demo
_gk_pids=
_gk_socks=0

# ---- TAP ------------------------------------------------------------------

# ok DESCRIPTION: the next test passed.
ok() { n=$((n + 1)); echo "ok $n - $1"; }
# not_ok DESCRIPTION: the next test failed (and $failed becomes 1).
not_ok() {
	n=$((n + 1))
	failed=1
	echo "not ok $n - $1"
}
# skip DESCRIPTION REASON: the next test was not run, for REASON.
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# check DESCRIPTION COMMAND...: ok if COMMAND succeeds; else not ok, show
# if the script set show_on_fail, and status 1.
check() {
	_gk_desc=$1
	shift
	if "$@"; then
		ok "$_gk_desc"
	else
		not_ok "$_gk_desc"
		[ -z "${show_on_fail:-}" ] || show
		return 1
	fi
}
# end_plan: print the plan after the tests, 1..N for the N tests run.
end_plan() { echo "1..$n"; }

# ---- the test's directory and its cleanup ---------------------------------

# gk_setup NAME: $GKD and $GK of the build, a fresh $tmp (gridkeep-NAME.*)
# removed on exit (kept, and named, when GK_TEST_KEEP is set) after every
# server and tmux session of the test has been killed.
gk_setup() {
	top_builddir=${top_builddir:-.}
	bindir=$(cd "$top_builddir" && pwd) || exit 1
	GKD=$bindir/gridkeepd
	GK=$bindir/gridkeep
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/gridkeep-$1.XXXXXX") || exit 1
	sock=$tmp/tmux-0.sock
	trap gk_cleanup EXIT
	trap 'exit 1' HUP INT TERM
}
# gk_cleanup: kill the tmux servers and gridkeepds still running, remove $tmp.
gk_cleanup() {
	for _gk_s in "$tmp"/tmux-*.sock; do
		if [ -S "$_gk_s" ]; then
			tmux -S "$_gk_s" kill-server >/dev/null 2>&1
			sleep 0.1
		fi
	done
	for _gk_p in $_gk_pids; do
		kill -9 "$_gk_p" 2>/dev/null
		wait "$_gk_p" 2>/dev/null
	done
	_gk_pids=
	if [ -z "${GK_TEST_KEEP:-}" ]; then
		rm -rf "$tmp"
	else
		echo "# kept $tmp"
	fi
}
# gk_home: a fresh $HOME in $tmp, and none of the caller's variables that
# would pick another database, replica or clock.
gk_home() {
	unset GRIDKEEPD_DB XDG_DATA_HOME GRIDKEEP_CLOCK_OFFSET_MS
	HOME=$tmp/home
	export HOME
	mkdir "$HOME" || exit 1
}
# need_sqlite3: bail out unless the sqlite3 shell is there to look inside.
need_sqlite3() {
	if ! command -v sqlite3 >/dev/null 2>&1; then
		echo "Bail out! the sqlite3 shell is needed to look at the databases"
		exit 1
	fi
}

# ---- running commands -----------------------------------------------------

# run COMMAND...: run it, keeping stdout, stderr and the exit status.
run() {
	"$@" >"$tmp/out" 2>"$tmp/err"
	status=$?
}
# show: what the last run said, and its status, as TAP comments.
show() {
	echo "# exit status: ${status:-}"
	sed 's/^/# /' "$tmp/out" "$tmp/err" 2>/dev/null | tail -20
}
# status_is N: the last run exited with status N.
status_is() { [ "$status" -eq "$1" ]; }
# out_has TEXT: the last run's stdout holds TEXT (a fixed string).
out_has() { grep -F -e "$1" "$tmp/out" >/dev/null; }
# err_has TEXT: the last run's stderr holds TEXT (a fixed string).
err_has() { grep -F -e "$1" "$tmp/err" >/dev/null; }
# sql DB SQL: one query through the sqlite3 shell.
sql() { sqlite3 -batch "$1" "$2"; }
# poll TRIES COMMAND...: run COMMAND every 0.1 s until it succeeds, at
# most TRIES times; its status is the last try's.
poll() {
	_gk_tries=$1
	shift
	while :; do
		"$@" && return 0
		_gk_tries=$((_gk_tries - 1))
		[ "$_gk_tries" -gt 0 ] || return 1
		sleep 0.1
	done
}

# ---- the server and the replicas ----------------------------------------

# start_gkd LOG ARGS...: `gridkeepd ARGS...` in the background, its output
# in LOG, killed at exit; waits (10 s at most, less if it dies) for its
# "listening on 127.0.0.1:PORT" line and sets gkd_pid, gkd_port and gkd_url.
# Else shows LOG as comments and returns 1 (gkd_port and gkd_url empty).
start_gkd() {
	_gk_log=$1
	shift
	gkd_port=
	gkd_url=
	: >"$_gk_log"
	"$GKD" "$@" >"$_gk_log" 2>&1 &
	gkd_pid=$!
	_gk_pids="$_gk_pids $gkd_pid"
	_gk_i=0
	while [ $_gk_i -lt 100 ]; do
		gkd_port=$(sed -n \
		    's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' \
		    "$_gk_log" | head -n 1)
		if [ -n "$gkd_port" ]; then
			gkd_url=http://127.0.0.1:$gkd_port
			return 0
		fi
		kill -0 "$gkd_pid" 2>/dev/null || break
		sleep 0.1
		_gk_i=$((_gk_i + 1))
	done
	sed 's/^/# server: /' "$_gk_log"
	return 1
}
# demo_server: the demo street ($tmp/srv.db) served by start_gkd (log
# $tmp/srv.out), setting url (empty if it did not start); a demo that
# cannot be made is a failed test, and the end of the script.
demo_server() {
	"$GKD" -d "$tmp/srv.db" demo >"$tmp/demo.out" 2>&1 || {
		not_ok "gridkeepd demo makes the demo street"
		sed 's/^/# /' "$tmp/demo.out"
		exit 1
	}
	start_gkd "$tmp/srv.out" -d "$tmp/srv.db" serve -l 127.0.0.1:0
	url=$gkd_url
}
# stop_gkd PID: end a server start_gkd started (TERM, then wait for it)
# and take it off the list cleanup kills.
stop_gkd() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	_gk_rest=
	for _gk_p in $_gk_pids; do
		[ "$_gk_p" = "$1" ] || _gk_rest="$_gk_rest $_gk_p"
	done
	_gk_pids=$_gk_rest
}
# gk NAME ARGS...: gridkeep on client NAME's replica, $tmp/NAME.db.
gk() {
	_gk_name=$1
	shift
	"$GK" -d "$tmp/$_gk_name.db" "$@"
}
# login_db DB USER [URL]: log replica DB in to URL (default $url) as USER,
# the demo password on stdin.
login_db() { printf '%s\n' "$PW" | "$GK" -d "$1" login "${3-$url}" "$2"; }
# login NAME [USER [URL]]: log client NAME in (USER hp.chenjing by default).
login() { login_db "$tmp/$1.db" "${2:-hp.chenjing}" ${3+"$3"}; }
# login_sync DB USER: login_db DB USER, then its first sync.
login_sync() { login_db "$1" "$2" && "$GK" -d "$1" sync; }

# ---- the terminal UI in tmux ----------------------------------------------

# need_tmux: fail (never skip) unless tmux is there to drive the UI.
need_tmux() {
	if ! command -v tmux >/dev/null 2>&1; then
		not_ok "tmux is installed (it is needed to drive the terminal UI)"
		exit 1
	fi
}
# tmx ARGS...: our own tmux server (socket $sock, always in $tmp), never
# the user's.
tmx() { tmux -S "${sock:?gk_setup sets it}" "$@"; }
# screen: the text of the UI's pane.
screen() { tmx capture-pane -p -t ui 2>/dev/null; }
# keys KEY...: type into the UI's pane.
keys() { tmx send-keys -t ui "$@"; }
# ui_session COMMAND: COMMAND in session "ui" of 80x24 on a fresh tmux
# server (a new socket: a dying server cannot take the new session with
# it); its exit status goes to $tmp/status, and the pane stays 30 s.
ui_session() {
	rm -f "$tmp/status"
	tmx kill-server >/dev/null 2>&1
	_gk_socks=$((_gk_socks + 1))
	sock=$tmp/tmux-$_gk_socks.sock
	tmx -f /dev/null new-session -d -s ui -x 80 -y 24 \
		"$1; echo \$? >'$tmp/status'; sleep 30"
}
# _gk_pane_has GREP-OPTION TEXT: the pane, saved in $tmp/pane, matches.
_gk_pane_has() { screen >"$tmp/pane" && grep "$1" -q -e "$2" "$tmp/pane"; }
# _gk_pane_lacks TEXT: the pane, saved in $tmp/pane, does not show TEXT.
_gk_pane_lacks() { screen >"$tmp/pane" && ! grep -F -q -e "$1" "$tmp/pane"; }
# wait_for TEXT: poll the pane until it shows TEXT: $wait_tries times
# (100 unless the script sets it), 0.1 s apart, as every wait below.
wait_for() {
	poll "${wait_tries:-100}" _gk_pane_has -F "$1" && return 0
	echo "# waited in vain for: $1; the screen:"
	sed 's/^/# | /' "$tmp/pane"
	return 1
}
# wait_re REGEX: poll the pane until a line matches REGEX (grep -E).
wait_re() {
	poll "${wait_tries:-100}" _gk_pane_has -E "$1" && return 0
	echo "# waited in vain for a line matching: $1; the screen:"
	sed 's/^/# | /' "$tmp/pane"
	return 1
}
# wait_gone TEXT: poll the pane until it no longer shows TEXT.
wait_gone() {
	poll "${wait_tries:-100}" _gk_pane_lacks "$1" && return 0
	echo "# waited in vain for this to go: $1; the screen:"
	sed 's/^/# | /' "$tmp/pane"
	return 1
}
# wait_exit: poll until the UI's command ended; its status is in $status.
wait_exit() {
	poll "${wait_tries:-100}" test -s "$tmp/status"
	status=$(cat "$tmp/status" 2>/dev/null)
	[ -n "$status" ]
}
