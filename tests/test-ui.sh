#!/bin/sh
# test-ui.sh: the terminal UI driven from outside, as a person uses it,
# through tmux (send-keys, capture-pane): a real gridkeepd on its demo
# data on 127.0.0.1, a station's replica logged in and synced, then
# `gridkeep` in a detached tmux session of 80x24 in a UTF-8 locale.
#
# It unlocks, reports a hazard with a Chinese title through the form,
# finds it in the list with its columns aligned, sees the waiting count
# drop after s, sees the reason of a change the server rejected (an award
# a second replica made first: duplicate_earn, which the local validator
# cannot foresee), resizes, reads the help, and quits with status 0. Then
# once more in Chinese (LANGUAGE=zh_CN, the catalogue of
# GRIDKEEP_LOCALEDIR). tmux is a dependency of the tests: without it this
# fails, it never skips. Prints TAP; every wait is a bounded poll.

top_srcdir=${top_srcdir:-.}
. "$top_srcdir/tests/lib.sh"
wait_tries=200

echo "1..27"
need_tmux
gk_setup ui
gk_home
unset NO_COLOR LANGUAGE TMUX

# ---- a server and two replicas ------------------------------------------

demo_server
srv_pid=$gkd_pid
A=$tmp/a.db
B=$tmp/b.db
if [ -n "$url" ] &&
	login_sync "$A" hp.chenjing >"$tmp/login.out" 2>&1 &&
	login_sync "$B" hp.chenjing >>"$tmp/login.out" 2>&1; then
	ok "a station logs two replicas in to a real gridkeepd and syncs"
else
	not_ok "a station logs two replicas in to a real gridkeepd and syncs"
	sed 's/^/# /' "$tmp/srv.out" "$tmp/login.out"
	exit 1
fi

# The same award on both replicas: B's reaches the server first, so A's
# is refused there (duplicate_earn), though A alone could not know it.
if "$GK" -d "$B" award --volunteer 张建国 --activity ui-test-drill \
	--hours 1 >"$tmp/award.out" 2>&1 &&
	"$GK" -d "$B" sync >>"$tmp/award.out" 2>&1 &&
	"$GK" -d "$A" award --volunteer 张建国 --activity ui-test-drill \
		--hours 1 >>"$tmp/award.out" 2>&1; then
	ok "two replicas award one activity to one volunteer offline"
else
	not_ok "two replicas award one activity to one volunteer offline"
	sed 's/^/# /' "$tmp/award.out"
fi

# ---- before the UI ----------------------------------------------------------

"$GK" -d "$tmp/fresh.db" init >/dev/null 2>&1
"$GK" -d "$tmp/fresh.db" >"$tmp/out" 2>&1 </dev/null
status=$?
check "on a replica nobody logged in to, gridkeep says how to log in" \
	sh -c '[ "$1" -eq 1 ] &&
	grep -F -q "not logged in: gridkeep login SERVER USER" "$2"' sh \
	"$status" "$tmp/out"
"$GK" -d "$A" >"$tmp/out" 2>&1 </dev/null
status=$?
check "without a terminal the UI says so and exits 1" \
	sh -c '[ "$1" -eq 1 ] && grep -F -q "needs a terminal" "$2"' sh \
	"$status" "$tmp/out"

# ---- driving the UI ---------------------------------------------------------

# start_ui ENV...: gridkeep on replica A in an 80x24 pane (ui_session).
start_ui() {
	ui_session "env $* LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=screen-256color \
		GRIDKEEP_LOCALEDIR='$GRIDKEEP_LOCALEDIR' HOME='$HOME' \
		'$GK' -d '$A'"
}

start_ui
check "gridkeep asks for the password on a locked screen" \
	wait_for "Password:"
keys "$PW" Enter
check "the password unlocks it: tabs and the status line are shown" \
	wait_for "hp.chenjing 和平社区"
check "the background sync shows the award the server refused: rejected 1" \
	wait_for "rejected 1"

# Colour beside the word: the risk levels are coloured (and NO_COLOR,
# in the Chinese run below, takes the colours away).
esc=$(printf '\033')
colours() { tmx capture-pane -e -p -t ui | grep -E -q "$esc\[([0-9;]*;)?(3[1-4]|38;5;208)(;[0-9;]*)?m"; }
check "risk levels are drawn in colour beside their words" colours

# A form refuses bad input with a message and keeps what was typed: the
# grid is required and left empty here.
keys n
wait_for "Report a hazard" >/dev/null
keys Tab Tab 3 Tab 未填网格的隐患
wait_for "未填网格的隐患" >/dev/null
keys C-s
refused() { wait_for "Grid: " && grep -F -q "未填网格的隐患" "$tmp/pane"; }
check "a form with a required field empty is refused on the form, the title kept" \
	refused
keys Escape
check "Esc on a form with something typed asks before discarding it" \
	wait_for "Discard"
keys y
wait_gone "Report a hazard" >/dev/null

# n opens the report form; the grid is chosen from the chooser.
keys n
wait_for "Report a hazard" >/dev/null
keys Enter
wait_for "和平社区第一网格" >/dev/null
keys Enter Tab Tab 3 Tab 楼道堆放杂物 Tab
wait_for "楼道堆放杂物" >/dev/null
keys C-s
if wait_for "saved: Report a hazard"; then
	ok "a hazard with a Chinese title is reported through the form"
else
	not_ok "a hazard with a Chinese title is reported through the form"
	keys Escape y
fi

# Alignment: the column after the title starts at the same display
# column on every row (wc -L counts a Chinese character as 2).
screen >"$tmp/pane"
grep -E '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}' "$tmp/pane" |
	sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}.*$//' \
		>"$tmp/prefixes"
widths=$(while IFS= read -r line; do
	printf '%s\n' "$line" | LC_ALL=C.UTF-8 wc -L
done <"$tmp/prefixes" | sort -u)
if grep -F -q "楼道堆放杂物" "$tmp/prefixes" &&
	[ "$(wc -l <"$tmp/prefixes")" -ge 2 ] &&
	[ "$(printf '%s\n' "$widths" | wc -l)" -eq 1 ]; then
	ok "the new hazard is in the list with the columns after its title aligned"
else
	not_ok "the new hazard is in the list with the columns after its title aligned"
	sed 's/^/# | /' "$tmp/pane"
	echo "# prefix widths: $widths"
fi

check "the status line counts the new hazard's changes as waiting" \
	sh -c 'grep -E -q "waiting [1-9]" "$1"' sh "$tmp/pane"
keys s
check "after s (sync now) nothing is waiting" wait_for "waiting 0 "

# The detail: the plan and history, and the moves the role allows now
# as keys; v verifies it through its form.
keys / 楼道堆放杂物 Enter
wait_for "search: 楼道堆放杂物" >/dev/null
keys Enter
detail() { wait_for "History" && grep -F -q "v verify" "$tmp/pane"; }
check "Enter shows the hazard's history and the station's moves (v verify)" \
	detail
keys v
wait_for "Verify a reported hazard" >/dev/null
keys note-ok C-s
verified() { wait_for "saved: Verify" && wait_for "reported -> verified"; }
check "v verifies the hazard through its form; the history shows the move" \
	verified
keys Escape
wait_for "f status:" >/dev/null
keys / C-u Enter
unfiltered() { wait_gone "search:" && wait_for "燃气立管接口锈蚀"; }
check "Esc goes back to the list; an empty search shows every hazard again" \
	unfiltered

keys 6
check "the Sync screen shows the rejected change's reason" \
	wait_for "duplicate_earn"

tmx resize-window -t ui -x 100 -y 30
frame_drawn() { wait_for "6 Sync" >/dev/null && wait_for "last sync"; }
check "after a resize to 100x30 the frame is still drawn" frame_drawn
tmx resize-window -t ui -x 30 -y 6
wait_for "terminal too small" >/dev/null
tmx resize-window -t ui -x 80 -y 24
wait_for "6 Sync" >/dev/null
keys 1
check "back at 80x24 (through a too-small size) the list is drawn again" \
	wait_for "楼道堆放杂物"

keys '?'
check "? shows the help with the frame's and the screen's keys" \
	wait_for "this help"
keys q
wait_gone "this help" >/dev/null

# The server goes away: a sync now says offline, and the UI goes on.
stop_gkd "$srv_pid"
keys s
check "with the server gone, s shows offline on the status line" \
	wait_for "| offline |"
keys q
if wait_exit && [ "$status" -eq 0 ]; then
	ok "q quits with exit status 0"
else
	not_ok "q quits with exit status 0 (status: ${status:-none})"
fi

# ---- a wrong password -------------------------------------------------------

start_ui
wait_for "Password:" >/dev/null
keys wrong-1 Enter
wait_for "tries left: 2" >/dev/null
keys wrong-2 Enter
wait_for "tries left: 1" >/dev/null
keys wrong-3 Enter
if wait_exit && [ "$status" -eq 1 ] && wait_for "wrong password three times"
then
	ok "three wrong passwords end gridkeep with status 1"
else
	not_ok "three wrong passwords end gridkeep with status 1 (${status:-none})"
fi

# ---- in Chinese ------------------------------------------------------------

start_ui LANGUAGE=zh_CN NO_COLOR=1
check "with LANGUAGE=zh_CN the unlock screen asks in Chinese" \
	wait_for "密码："
keys "$PW" Enter
wait_for "楼道堆放杂物" >/dev/null
no_colours() { ! colours; }
check "with NO_COLOR set the UI draws no colour at all" no_colours
keys n
check "with LANGUAGE=zh_CN the report form's labels are Chinese" \
	wait_for "风险等级"
keys Escape q
wait_exit >/dev/null

exit $failed
