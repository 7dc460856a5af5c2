#!/bin/sh
# test-ui-screens.sh: the Patrols, Depots, Volunteers and Notices screens
# of the terminal UI, driven through tmux (send-keys, capture-pane) at
# 80x24 on the demo street of a real gridkeepd on 127.0.0.1.
#
# As the station hp.chenjing: each screen shows the demo's records (grids
# and their coverage, depots with a shortfall, an expiring lot and a
# negative on-hand, volunteers with points and hours, the rainstorm
# warning); an issue larger than the stock on hand is refused on the form
# with its message and the typed values stay; a saved issue lowers the
# stock; an award raises a volunteer's points. As the grid worker
# hp.wutao: a notice is acknowledged with households told, issuing stock
# is refused for the role, and a logged patrol counts in the coverage.
# Prints TAP; every wait is a bounded poll. tmux is a dependency of the
# tests: without it this fails, it never skips.

top_srcdir=${top_srcdir:-.}
. "$top_srcdir/tests/lib.sh"

echo "1..21"
need_tmux
gk_setup screens
gk_home
unset NO_COLOR LANGUAGE

# ---- a server, a station's replica and a grid worker's --------------------

demo_server
A=$tmp/station.db
W=$tmp/worker.db
if [ -n "$url" ] &&
	login_sync "$A" hp.chenjing >"$tmp/login.out" 2>&1 &&
	login_sync "$W" hp.wutao >>"$tmp/login.out" 2>&1; then
	ok "a station and a grid worker log in to a real gridkeepd and sync"
else
	not_ok "a station and a grid worker log in to a real gridkeepd and sync"
	sed 's/^/# /' "$tmp/srv.out" "$tmp/login.out"
	exit 1
fi

# ---- driving the UI ---------------------------------------------------------

# all TEST...: run each quoted test; true if every one passes.
all() {
	r=0
	for t in "$@"; do eval "$t" || r=1; done
	return $r
}
# start_ui DB USER: gridkeep on DB in an 80x24 pane, unlocked; its exit
# status is written to $tmp/status when it ends.
start_ui() {
	ui_session "env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=screen-256color \
		GRIDKEEP_LOCALEDIR='$GRIDKEEP_LOCALEDIR' HOME='$HOME' \
		'$GK' -d '$1'"
	wait_for "Password:" >/dev/null || return 1
	keys "$PW" Enter
	wait_for "$2 " >/dev/null
}

start_ui "$A" hp.chenjing

# Patrols: both grids of 和平社区 with their coverage, and the patrols.
keys 2
check "Patrols shows each grid's coverage and the patrols of the last 7 days" \
	all 'wait_for "Grids visited: "' \
	'wait_re "和平社区第一网格 +XF-HP-01 +[0-9]+ +1 +14 "' \
	'wait_re "和平社区第二网格 +XF-HP-02 +[0-9]+ +1 +11 "' \
	'wait_re "和平社区第一网格 +14 +1 孙丽"'

# Depots: the demo's depot with its shortfall, the water lot expiring
# within 30 days and the flashlights issued twice offline (negative).
keys 3
check "Depots shows stock per depot and item with shortfall, expiry and discrepancy" \
	all 'wait_for "和平社区微型应急物资储备点"' \
	'wait_re "B01 棉被 +0 +10 +short 10"' \
	'wait_re "W01 瓶装饮用水.* 36 +20 +expires 20[0-9]{2}-[0-9]{2}-[0-9]{2}"' \
	'wait_re "L01 强光手电筒 +-2 +10 +negative: a discrepancy; short 12"'

# The on-hand column ends at one display column on every item row, wide
# characters counted as 2 (wc -L), whatever the item's name.
screen >"$tmp/pane"
grep -E '^  [A-Z][0-9]{2} ' "$tmp/pane" |
	sed -E 's/^(  [A-Z][0-9]{2} [^ ]*( [^ 0-9-][^ ]*)* +-?[0-9]+).*$/\1/' \
		>"$tmp/prefixes"
widths=$(while IFS= read -r line; do
	printf '%s\n' "$line" | LC_ALL=C.UTF-8 wc -L
done <"$tmp/prefixes" | sort -u)
if [ "$(wc -l <"$tmp/prefixes")" -ge 5 ] &&
	grep -q '强光手电筒' "$tmp/prefixes" &&
	[ "$(printf '%s\n' "$widths" | wc -l)" -eq 1 ]; then
	ok "the on-hand column is aligned by display width on every item row"
else
	not_ok "the on-hand column is aligned by display width on every item row"
	sed 's/^/# | /' "$tmp/prefixes"
	echo "# widths: $widths"
fi

# Wider, the columns take the room; narrower, the screen still says what
# matters; back at 80x24 as before.
tmx resize-window -t ui -x 120 -y 40
check "Depots uses a wider window and fits a narrower one" \
	all 'wait_re "W01 瓶装饮用水（550ml×24） +36 +20 "' \
	'tmx resize-window -t ui -x 50 -y 14' \
	'wait_re "L01 [^ ]+ +-2 +negative"'
tmx resize-window -t ui -x 80 -y 24
wait_re "W01 瓶装饮用水.* 36 +20 " >/dev/null

# W01 is the fifth row of the first depot.
keys j j j j Enter
check "Enter on a row shows its lots and moves" \
	all 'wait_re "W2311B +20[0-9-]+ +24 expires soon"' \
	'wait_for "counted 36, books said"'
keys q
wait_for "r receive" >/dev/null

keys i
wait_for "Issue stock" >/dev/null
keys Tab Tab 100 Tab Tab 测试领取人
wait_for 测试领取人 >/dev/null
keys C-s
check "an issue larger than the stock on hand is refused on the form" \
	wait_for "is more than the 36 on hand"
check "the refused form keeps what was typed" \
	all 'wait_re "Quantity\* +100"' 'wait_re "Recipient +测试领取人"' \
	'wait_re "Item\* +W01"'
keys C-u 5 C-s
check "a saved issue lowers the stock on hand from 36 to 31" \
	all 'wait_for "saved: Issue stock"' \
	'wait_re "W01 瓶装饮用水.* 31 +20 "'

keys '?'
wait_for "Depots screen:" >/dev/null
keys j j j j j j j j j j j j
check "? lists the Depots screen's keys" \
	wait_for "receive stock into the selected depot"
keys q
wait_gone "receive stock into the selected depot" >/dev/null

# Volunteers: points (5 granted, 2 earned, 3 redeemed) and hours.
keys 4
check "Volunteers shows each volunteer's points and hours" \
	all 'wait_re "张建国 +和平社区 +4 +2\.0 "' \
	'wait_re "李秀英 +和平社区 +8 +1\.0 "'
keys a
wait_for "Award a volunteer points" >/dev/null
keys Tab Tab ui-test-drill Tab 2 C-s
check "awarding 2 hours raises the volunteer's points and hours" \
	all 'wait_for "saved: Award a volunteer points"' \
	'wait_re "张建国 +和平社区 +6 +4\.0 "'
keys / 李 Enter
check "/ finds volunteers by name" \
	all 'wait_gone "张建国 "' 'wait_for "李秀英"'

# Notices: the street's rainstorm warning, level II orange.
keys 5
check "Notices shows the warning with its level, issuer and acknowledgement" \
	wait_re "II orange +warning +暴雨橙色预警 +幸福街道 .* yes( |\$)"
keys Enter
check "Enter shows the notice's full text and who acknowledged it" \
	all 'wait_for "值班人员在岗"' 'wait_for "told 280 of 320"'
keys q
wait_gone "值班人员在岗" >/dev/null
keys q
if wait_exit && [ "$status" -eq 0 ]; then
	ok "q quits with exit status 0"
else
	not_ok "q quits with exit status 0 (status: ${status:-none})"
fi

# ---- as a grid worker -----------------------------------------------------

start_ui "$W" hp.wutao
keys 5
wait_re "暴雨橙色预警 .* no( |\$)" >/dev/null
keys a
wait_for "Acknowledge a notice" >/dev/null
check "the acknowledgement form starts with the households of the grid" \
	wait_re "Households +280"
keys 200 C-s
check "a grid worker acknowledges a notice with the households told" \
	all 'wait_for "saved: Acknowledge a notice"' \
	'wait_re "暴雨橙色预警 .* yes +200/280"'

keys 3
wait_for "Enter lots" >/dev/null
keys i
check "a grid worker may not issue stock: the Depots screen says so" \
	all 'wait_for "a grid_worker user may not issue"' \
	'wait_gone "i issue"'

keys 2
wait_for "Grids visited" >/dev/null
keys n
wait_for "Record a patrol" >/dev/null
check "n opens the patrol form with the selected grid filled in" \
	wait_re "Grid\* +和平社区第二网格"
keys Tab Tab Tab Tab Tab 7 C-s
check "a logged patrol counts in its grid's coverage of the last day" \
	all 'wait_for "saved: Record a patrol"' \
	'wait_re "和平社区第二网格 +XF-HP-02 +1 +2 +18 "'
keys q
wait_exit >/dev/null

exit $failed
