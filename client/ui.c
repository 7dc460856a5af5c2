/*
 * ui.c: the terminal UI's frame: start-up and unlock, the one event loop,
 * the tabs, the message and status lines, the help, and key routing.
 *
 * `gridkeep` with no arguments opens the replica, checks that someone is
 * logged in, and asks for the password on a curses screen, checked
 * offline against the Argon2id hash session.c keeps (three wrong tries
 * end the program). Then one libevent loop runs everything, as in tmux:
 * stdin (keys, several per wakeup), SIGWINCH, a one-second timer for the
 * status line, and the sync agent's HTTP and timers. Nothing blocks: a
 * sync reports through callbacks, and forms are overlays (ui_form.c).
 *
 * Redrawing is from a dirty flag: ui_dirty() activates one event, and its
 * callback paints the whole frame once per loop turn, however many things
 * changed. Screens draw from what they cached at reload, so a redraw costs
 * no SQL. The layout: line 0 the tabs, then the body window, then the
 * message line and the status line. Under MIN_COLS x MIN_LINES the frame
 * says "terminal too small" and waits for a resize.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "gridkeep.h"
#include "ui.h"

#define MIN_COLS     40
#define MIN_LINES    10
#define UNLOCK_TRIES 3
#define SYNC_EVERY_S 60
#define SYNC_MAX_S   900

static const struct ui_screen *const screens[] = {
    &ui_screen_hazards,    &ui_screen_patrols, &ui_screen_depots,
    &ui_screen_volunteers, &ui_screen_notices, &ui_screen_sync,
};
#define NSCREENS ((int)(sizeof screens / sizeof screens[0]))

static const struct ui_keyhelp frame_help[] = {
    {"Tab, Shift-Tab", N_("next / previous screen")},
    {"1-6", N_("go to a screen by its number")},
    {"j k, Down Up", N_("move in a list")},
    {"Space PgDn, PgUp", N_("page down / up")},
    {"g G, Home End", N_("first / last line")},
    {"Enter", N_("open the selected line, choose")},
    {"Esc, q", N_("back; on a list, quit")},
    {"/", N_("search")},
    {"s, S", N_("sync now")},
    {"?", N_("this help")},
    {"Ctrl-L", N_("redraw the screen")},
    {"Ctrl-C", N_("quit")},
    {"Up Down, Tab", N_("form: move between fields")},
    {"Left Right Space", N_("form: change a choice, toggle yes/no")},
    {"Enter, Space", N_("form: choose a record from a list")},
    {"Home End, Ctrl-U", N_("form: start / end of the text, clear it")},
    {"Ctrl-S, F2", N_("form: save (or Enter on the last field)")},
    {"Esc", N_("form: cancel")},
    {NULL, NULL}};

struct ui {
	struct gk_client *c; /* borrowed */
	struct event_base *base;
	struct event *ev_stdin, *ev_winch, *ev_tick, *ev_redraw, *ev_quit[3];
	struct gk_agent *agent; /* NULL when the agent cannot run */
	WINDOW *body;
	int color;
	int cur;             /* the screen shown */
	void *st[NSCREENS];  /* each screen's state */
	int stale[NSCREENS]; /* reload before the next draw */
	struct ui_overlay *overlay;
	int help, help_top; /* the ? overlay is shown, scrolled */
	char flash[256];
	int dirty, quit, too_small;
	int manual;       /* the sync running was asked for with s */
	int idle_wakeups; /* stdin woke us with no key, in a row */
	int cur_y, cur_x; /* where the cursor goes, -1 = hidden */

	int64_t counts[REPLICA_NSTATES];
	char last_sync[32];
	struct ui_syncinfo sync;
};

static void ui_redraw(struct ui *u);

struct gk_client *
ui_client(struct ui *u)
{
	return u->c;
}

WINDOW *
ui_body(struct ui *u)
{
	return u->body;
}

int
ui_color(struct ui *u)
{
	return u->color;
}

void
ui_cursor(struct ui *u, int y, int x)
{
	u->cur_y = y;
	u->cur_x = x;
}

struct ui_overlay *
ui_overlay_get(struct ui *u)
{
	return u->overlay;
}

void
ui_overlay_set(struct ui *u, struct ui_overlay *o)
{
	u->overlay = o;
	ui_dirty(u);
}

void
ui_sync_info(struct ui *u, struct ui_syncinfo *out)
{
	*out = u->sync;
	out->busy = u->agent != NULL && agent_busy(u->agent);
	out->next_in = u->agent != NULL ? agent_next_in(u->agent) : -1;
}

void
ui_dirty(struct ui *u)
{
	u->dirty = 1;
	if (u->ev_redraw != NULL)
		event_active(u->ev_redraw, EV_TIMEOUT, 0);
}

void
ui_flash(struct ui *u, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->flash, sizeof u->flash, fmt, ap);
	va_end(ap);
	ui_dirty(u);
}

/* The status line's figures: the outbox, the last sync, its error. */
static void
status_load(struct ui *u)
{
	struct gk_error e = {0};
	char buf[32];

	if (replica_outbox_counts(u->c, u->counts, &e) != GK_OK)
		memset(u->counts, 0, sizeof u->counts);
	strcpy(u->last_sync, _("never"));
	if (replica_meta_get(u->c, "last_sync", buf, sizeof buf, &e) == GK_OK &&
	    buf[0] != '\0') {
		time_t t = (time_t)(strtoll(buf, NULL, 10) / 1000), now;
		struct tm tm, today;

		now = time(NULL);
		if (t > 0 && localtime_r(&t, &tm) != NULL &&
		    localtime_r(&now, &today) != NULL)
			strftime(u->last_sync, sizeof u->last_sync,
			         tm.tm_yday == today.tm_yday &&
			                 tm.tm_year == today.tm_year
			             ? "%H:%M"
			             : "%Y-%m-%d %H:%M",
			         &tm);
	}
	if (replica_meta_get(u->c, "last_error", u->sync.last_error,
	                     sizeof u->sync.last_error, &e) != GK_OK)
		u->sync.last_error[0] = '\0';
}

void
ui_changed(struct ui *u)
{
	for (int i = 0; i < NSCREENS; i++)
		u->stale[i] = 1;
	status_load(u);
	ui_dirty(u);
}

/* ---- the sync agent's callbacks ------------------------------------------ */

static void
sync_progress(void *arg, const struct agent_progress *p)
{
	struct ui *u = arg;

	const char *phase = p->phase != NULL && strcmp(p->phase, "push") == 0
	                        ? _("sending")
	                        : _("receiving");

	if (p->total > 0)
		snprintf(u->sync.progress, sizeof u->sync.progress, "%s %d%%",
		         phase, (int)(p->done * 100 / p->total));
	else
		snprintf(u->sync.progress, sizeof u->sync.progress, "%s %lld",
		         phase, (long long)p->done);
	ui_dirty(u);
}

static void
sync_done(void *arg, const struct agent_result *r)
{
	struct ui *u = arg;

	u->sync.online = r->online ? 1 : 0;
	u->sync.progress[0] = '\0';
	ui_changed(u);
	if (r->code != GK_OK)
		snprintf(u->sync.last_error, sizeof u->sync.last_error, "%s",
		         r->err.msg[0] != '\0' ? r->err.msg
		                               : gk_code_name(r->code));
	/* Asked for with s: say how it went (a background one is quiet). */
	if (u->manual) {
		u->manual = 0;
		if (r->code != GK_OK)
			ui_flash(u, _("sync failed: %s"), u->sync.last_error);
		else
			ui_flash(u,
			         _("synced: %lld sent, %lld rejected, %lld "
			           "received"),
			         (long long)r->pushed, (long long)r->rejected,
			         (long long)r->pulled);
	}
}

void
ui_sync_now(struct ui *u)
{
	int rc;

	if (u->agent == NULL) {
		ui_flash(u, "%s", _("sync is not available"));
		return;
	}
	rc = agent_sync(u->agent, sync_progress, sync_done, u);
	if (rc == GK_E_BUSY)
		ui_flash(u, "%s", _("a sync is already running"));
	else if (rc != GK_OK)
		ui_flash(u, _("cannot start a sync: %s"), gk_code_name(rc));
	else {
		snprintf(u->sync.progress, sizeof u->sync.progress, "%s",
		         _("starting"));
		u->manual = 1;
		ui_flash(u, "%s", _("syncing..."));
	}
}

/* ---- drawing ----------------------------------------------------------- */

static void
draw_tabs(struct ui *u)
{
	int x = 0;

	wattrset(stdscr, A_NORMAL);
	wmove(stdscr, 0, 0);
	wclrtoeol(stdscr);
	for (int i = 0; i < NSCREENS && x < COLS; i++) {
		char tab[128];

		snprintf(tab, sizeof tab, " %d %s ", i + 1,
		         _(screens[i]->name));
		wattrset(stdscr, i == u->cur ? A_REVERSE | A_BOLD : A_NORMAL);
		x += ui_text(stdscr, 0, x, COLS - x, tab, 0);
		wattrset(stdscr, A_NORMAL);
		if (x < COLS)
			x += ui_text(stdscr, 0, x, 1, " ", 0);
	}
}

static void
draw_status(struct ui *u)
{
	struct gk_session *s = &u->c->sess;
	struct ui_syncinfo si;
	char line[512], state[96], clock[16];
	time_t now = time(NULL);
	struct tm tm;
	int y = LINES - 1, w;

	ui_sync_info(u, &si);
	if (si.busy)
		snprintf(state, sizeof state, _("syncing %s"),
		         si.progress[0] != '\0' ? si.progress : "");
	else
		snprintf(state, sizeof state, "%s",
		         si.online > 0    ? _("online")
		         : si.online == 0 ? _("offline")
		                          : _("not synced yet"));
	snprintf(
	    line, sizeof line,
	    _("%s %s | %s | waiting %lld | rejected "
	      "%lld | last sync %s"),
	    s->username, s->unit_name, state,
	    (long long)(u->counts[REPLICA_SAVED] + u->counts[REPLICA_SENT]),
	    (long long)u->counts[REPLICA_REJECTED], u->last_sync);
	clock[0] = '\0';
	if (localtime_r(&now, &tm) != NULL)
		strftime(clock, sizeof clock, " %H:%M", &tm);
	/* The clock, then one column left blank: the bottom right corner
	 * cannot be written on every terminal. */
	w = COLS - (COLS >= 60 ? 7 : 1);
	wattrset(stdscr, A_REVERSE);
	ui_text(stdscr, y, 0, w, line, 1);
	if (w < COLS - 1)
		ui_text(stdscr, y, w, COLS - 1 - w, clock, 1);
	wattrset(stdscr, A_NORMAL);
}

static void
draw_help(struct ui *u)
{
	const struct ui_keyhelp *tables[2] = {frame_help,
	                                      screens[u->cur]->help};
	int rows, cols, line = 0, y = 0;

	getmaxyx(u->body, rows, cols);
	werase(u->body);
	wattrset(u->body, A_BOLD);
	ui_text(u->body, y++, 0, cols,
	        _("Keys (j/k scroll, any other key closes)"), 1);
	wattrset(u->body, A_NORMAL);
	for (int t = 0; t < 2; t++) {
		const struct ui_keyhelp *k = tables[t];

		if (k == NULL)
			continue;
		if (t == 1) {
			char title[128];

			if (line++ >= u->help_top && y < rows) {
				snprintf(title, sizeof title, _("%s screen:"),
				         _(screens[u->cur]->name));
				wattrset(u->body, A_BOLD);
				ui_text(u->body, y++, 0, cols, title, 1);
				wattrset(u->body, A_NORMAL);
			}
		}
		for (; k->key != NULL; k++) {
			if (line++ < u->help_top || y >= rows)
				continue;
			ui_text(u->body, y, 2, 18, k->key, 1);
			ui_text(u->body, y, 21, cols - 21, _(k->what), 1);
			y++;
		}
	}
}

static void
redraw_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ui_redraw(arg);
}

static void
ui_redraw(struct ui *u)
{
	int rows, cols;

	if (!u->dirty)
		return;
	u->dirty = 0;
	u->cur_y = u->cur_x = -1;
	werase(stdscr);
	if (u->too_small || u->body == NULL) {
		ui_text(stdscr, 0, 0, COLS, _("terminal too small"), 0);
		wnoutrefresh(stdscr);
		curs_set(0);
		doupdate();
		return;
	}
	if (u->stale[u->cur]) {
		u->stale[u->cur] = 0;
		if (screens[u->cur]->reload != NULL)
			screens[u->cur]->reload(u, u->st[u->cur]);
	}
	draw_tabs(u);
	if (u->flash[0] != '\0')
		ui_text(stdscr, LINES - 2, 0, COLS, u->flash, 1);
	draw_status(u);
	getmaxyx(u->body, rows, cols);
	werase(u->body);
	if (u->help)
		draw_help(u);
	else if (screens[u->cur]->draw != NULL)
		screens[u->cur]->draw(u, u->st[u->cur], u->body, rows, cols);
	if (u->overlay != NULL)
		ui_overlay_draw(u);
	wnoutrefresh(stdscr);
	wnoutrefresh(u->body);
	if (u->cur_y >= 0 && u->cur_x >= 0) {
		curs_set(1);
		wmove(stdscr, u->cur_y, u->cur_x);
		wnoutrefresh(stdscr);
	} else
		curs_set(0);
	doupdate();
}

/* Fit the body window to the terminal's size. */
static void
layout(struct ui *u)
{
	if (u->body != NULL) {
		delwin(u->body);
		u->body = NULL;
	}
	u->too_small = COLS < MIN_COLS || LINES < MIN_LINES;
	if (!u->too_small)
		u->body = newwin(LINES - 3, COLS, 1, 0);
	if (u->body == NULL)
		u->too_small = 1;
	clearok(curscr, TRUE);
	ui_dirty(u);
}

static void
resize(struct ui *u)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	layout(u);
}

/* ---- keys ---------------------------------------------------------------- */

static void
switch_to(struct ui *u, int i)
{
	u->cur = (i + NSCREENS) % NSCREENS;
	u->help = 0;
	ui_dirty(u);
}

static int
help_key(struct ui *u, wint_t ch, int is_key)
{
	if ((!is_key && ch == L'j') || (is_key && ch == KEY_DOWN)) {
		if (u->help_top < 60)
			u->help_top++;
	} else if (((!is_key && ch == L'k') || (is_key && ch == KEY_UP)) &&
	           u->help_top > 0)
		u->help_top--;
	else if (!is_key || ch != KEY_UP)
		u->help = 0;
	ui_dirty(u);
	return 1;
}

static void
ui_key(struct ui *u, wint_t ch, int is_key)
{
	/* Enter arrives as '\n' whatever the terminal sends. */
	if ((is_key && ch == KEY_ENTER) || (!is_key && ch == L'\r')) {
		ch = L'\n';
		is_key = 0;
	}
	/* ncurses has resized itself already (and resizeterm would queue
	 * another KEY_RESIZE): only lay the windows out again. */
	if (is_key && ch == KEY_RESIZE) {
		layout(u);
		return;
	}
	if (u->flash[0] != '\0') {
		u->flash[0] = '\0';
		ui_dirty(u);
	}
	if (!is_key && ch == 12) { /* Ctrl-L */
		clearok(curscr, TRUE);
		ui_changed(u);
		return;
	}
	if (u->too_small) {
		if (!is_key && (ch == L'q' || ch == 3))
			u->quit = 1;
		return;
	}
	if (u->overlay != NULL) {
		ui_overlay_key(u, ch, is_key);
		ui_dirty(u);
		return;
	}
	if (u->help) {
		help_key(u, ch, is_key);
		return;
	}
	ui_dirty(u);
	if (is_key && ch == KEY_BTAB) {
		switch_to(u, u->cur - 1);
		return;
	}
	if (!is_key) {
		if (ch == L'\t') {
			switch_to(u, u->cur + 1);
			return;
		}
		if (ch >= L'1' && ch < L'1' + NSCREENS) {
			switch_to(u, (int)(ch - L'1'));
			return;
		}
		if (ch == L'?') {
			u->help = 1;
			u->help_top = 0;
			return;
		}
		if (ch == L's' || ch == L'S') {
			ui_sync_now(u);
			return;
		}
		if (ch == 3) { /* Ctrl-C */
			u->quit = 1;
			return;
		}
	}
	if (screens[u->cur]->key != NULL &&
	    screens[u->cur]->key(u, u->st[u->cur], ch, is_key))
		return;
	if (!is_key && (ch == L'q' || ch == 27)) {
		u->quit = 1;
		return;
	}
	if (!is_key || (ch != KEY_MOUSE && ch < KEY_F0))
		ui_flash(u, "%s", _("? shows the keys"));
}

static void
stdin_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ui *u = arg;
	wint_t ch;
	int r;

	(void)fd;
	(void)what;
	/* Take every key that arrived: a paste is many keys per wakeup. */
	while (!u->quit && (r = wget_wch(stdscr, &ch)) != ERR) {
		ui_key(u, ch, r == KEY_CODE_YES);
		u->idle_wakeups = 0;
	}
	/* A terminal that is gone wakes us with nothing to read, forever. */
	if (++u->idle_wakeups > 1000)
		u->quit = 1;
	if (u->quit)
		event_base_loopbreak(u->base);
	else
		ui_redraw(u);
}

static void
winch_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	resize(arg);
	ui_redraw(arg);
}

static void
quit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ui *u = arg;

	(void)fd;
	(void)what;
	u->quit = 1;
	event_base_loopbreak(u->base);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ui *u = arg;

	(void)fd;
	(void)what;
	if (u->too_small || u->dirty)
		return;
	/* The Sync screen counts down to the next sync: draw it all. */
	if (screens[u->cur] == &ui_screen_sync && u->overlay == NULL &&
	    !u->help) {
		ui_dirty(u);
		return;
	}
	/* Otherwise only the status line moves with the clock. */
	draw_status(u);
	wnoutrefresh(stdscr);
	if (u->cur_y >= 0 && u->cur_x >= 0)
		wmove(stdscr, u->cur_y, u->cur_x);
	doupdate();
}

/* ---- unlock ------------------------------------------------------------ */

/*
 * Ask for the password on a curses screen and check it offline. GK_OK
 * when it matched; GK_E_CREDENTIALS after UNLOCK_TRIES wrong ones; -1
 * when the user gave up (Esc, Ctrl-C).
 */
static int
unlock(struct ui *u, struct gk_error *err)
{
	char pw[1025], msg[256] = "";
	size_t len = 0;
	int tries = 0, errs = 0;

	nodelay(stdscr, FALSE);
	for (;;) {
		char who[256];
		int y = LINES / 2 - 3, x = COLS > 60 ? (COLS - 60) / 2 : 0;
		int w = COLS - x, r;
		wint_t ch;

		werase(stdscr);
		snprintf(who, sizeof who, _("%s (%s) at %s"),
		         u->c->sess.username, u->c->sess.display_name,
		         u->c->sess.unit_name);
		wattrset(stdscr, A_BOLD);
		ui_text(stdscr, y < 0 ? 0 : y, x, w, _("gridkeep is locked"),
		        0);
		wattrset(stdscr, A_NORMAL);
		ui_text(stdscr, y + 1, x, w, who, 0);
		ui_text(stdscr, y + 3, x, w, _("Password:"), 0);
		for (size_t i = 0; i < len && i < 30; i++)
			waddch(stdscr, '*');
		if (msg[0] != '\0') {
			wattrset(stdscr, ui_alert_attr(u));
			ui_text(stdscr, y + 5, x, w, msg, 0);
			wattrset(stdscr, A_NORMAL);
		}
		ui_text(stdscr, y + 6, x, w, _("Enter unlocks; Esc quits."), 0);
		wmove(stdscr, y + 3,
		      x + ui_width(_("Password:")) +
		          (int)(len < 30 ? len : 30));
		curs_set(1);
		wrefresh(stdscr);
		r = wget_wch(stdscr, &ch);
		/* In blocking mode ERR means no terminal to read (a hangup
		 * with SIGHUP ignored): give up rather than spin. */
		if (r == ERR) {
			if (++errs > 100) {
				explicit_bzero(pw, sizeof pw);
				return gk_error_set(err, GK_E_IO, "%s",
				                    _("the terminal is gone"));
			}
			continue;
		}
		errs = 0;
		if (r == KEY_CODE_YES) {
			if (ch == KEY_RESIZE)
				layout(u);
			else if (ch == KEY_BACKSPACE && len > 0)
				len--;
			else if (ch == KEY_ENTER)
				ch = L'\n', r = OK;
			if (r == KEY_CODE_YES)
				continue;
		}
		if (ch == 27 || ch == 3) {
			explicit_bzero(pw, sizeof pw);
			return -1;
		}
		if (ch == 127 || ch == 8) {
			/* Backspace removes one character, not one byte. */
			while (len > 0 && (pw[len - 1] & 0xc0) == 0x80)
				len--;
			if (len > 0)
				len--;
			continue;
		}
		if (ch == 21) { /* Ctrl-U */
			len = 0;
			continue;
		}
		if (ch == L'\n' || ch == L'\r') {
			struct gk_error e = {0};
			int rc;

			pw[len] = '\0';
			ui_text(stdscr, y + 5, x, w, _("checking..."), 1);
			wrefresh(stdscr);
			rc = session_unlock(u->c, pw, &e);
			explicit_bzero(pw, sizeof pw);
			len = 0;
			if (rc == GK_OK)
				return GK_OK;
			if (rc != GK_E_CREDENTIALS) {
				gk_error_set(err, rc, "%s", e.msg);
				return rc;
			}
			if (++tries >= UNLOCK_TRIES)
				return gk_error_set(
				    err, GK_E_CREDENTIALS, "%s",
				    _("wrong password three times"));
			snprintf(msg, sizeof msg,
			         _("wrong password (tries left: %d)"),
			         UNLOCK_TRIES - tries);
			continue;
		}
		if (ch < 0x20) /* other controls are not part of a password */
			continue;
		{
			char mb[MB_LEN_MAX];
			mbstate_t ms;
			size_t n;

			memset(&ms, 0, sizeof ms);
			n = wcrtomb(mb, (wchar_t)ch, &ms);
			if (n != (size_t)-1 && len + n < sizeof pw - 1) {
				memcpy(pw + len, mb, n);
				len += n;
			}
		}
	}
}

/* ---- main ------------------------------------------------------------ */

static void
ui_free(struct ui *u)
{
	/* The agent first: a sync in flight calls back into the screens. */
	if (u->agent != NULL)
		agent_free(u->agent);
	for (int i = 0; i < NSCREENS; i++)
		if (u->st[i] != NULL && screens[i]->close != NULL)
			screens[i]->close(u->st[i]);
	if (u->overlay != NULL)
		ui_overlay_free(u->overlay);
	if (u->ev_stdin != NULL)
		event_free(u->ev_stdin);
	if (u->ev_winch != NULL)
		event_free(u->ev_winch);
	if (u->ev_tick != NULL)
		event_free(u->ev_tick);
	if (u->ev_redraw != NULL)
		event_free(u->ev_redraw);
	for (int i = 0; i < 3; i++)
		if (u->ev_quit[i] != NULL)
			event_free(u->ev_quit[i]);
	if (u->body != NULL)
		delwin(u->body);
	if (u->base != NULL)
		event_base_free(u->base);
}

/* The loop's events; GK_OK or an error set in err. */
static int
ui_events(struct ui *u, struct gk_error *err)
{
	static const int quitsigs[3] = {SIGTERM, SIGHUP, SIGINT};
	struct timeval second = {1, 0};

	if ((u->base = event_base_new()) == NULL)
		return gk_error_set(err, GK_E_NOMEM, "event_base_new failed");
	u->ev_stdin =
	    event_new(u->base, STDIN_FILENO, EV_READ | EV_PERSIST, stdin_cb, u);
	u->ev_winch = evsignal_new(u->base, SIGWINCH, winch_cb, u);
	u->ev_tick = event_new(u->base, -1, EV_PERSIST, tick_cb, u);
	u->ev_redraw = event_new(u->base, -1, 0, redraw_cb, u);
	for (int i = 0; i < 3; i++)
		if ((u->ev_quit[i] = evsignal_new(u->base, quitsigs[i], quit_cb,
		                                  u)) == NULL ||
		    event_add(u->ev_quit[i], NULL) != 0)
			return gk_error_set(err, GK_E_NOMEM, "evsignal failed");
	if (u->ev_stdin == NULL || u->ev_winch == NULL || u->ev_tick == NULL ||
	    u->ev_redraw == NULL || event_add(u->ev_stdin, NULL) != 0 ||
	    event_add(u->ev_winch, NULL) != 0 ||
	    event_add(u->ev_tick, &second) != 0)
		return gk_error_set(err, GK_E_NOMEM, "cannot set up events");
	return GK_OK;
}

int
ui_main(struct gk_client *c, struct gk_error *err)
{
	struct ui *u;
	SCREEN *scr;
	int rc;

	/* No replica yet: login is what makes one. */
	if ((rc = replica_open(c, 0, NULL, err)) == GK_E_NOT_FOUND)
		return gk_error_set(err, GK_E_AUTH,
		                    _("not logged in: gridkeep login SERVER "
		                      "USER (no replica at %s yet)"),
		                    c->db_path != NULL ? c->db_path : "");
	if (rc != GK_OK || (rc = session_load(c, err)) != GK_OK)
		return rc;
	if (!c->sess.logged_in)
		return gk_error_set(err, GK_E_AUTH, "%s",
		                    _("not logged in: gridkeep login SERVER "
		                      "USER"));
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return gk_error_set(err, GK_E_IO, "%s",
		                    _("the terminal UI needs a terminal; "
		                      "use the commands (gridkeep help)"));
	if ((scr = newterm(NULL, stdout, stdin)) == NULL)
		return gk_error_set(
		    err, GK_E_IO, _("cannot use the terminal (TERM=%s)"),
		    getenv("TERM") != NULL ? getenv("TERM") : "");
	if ((u = calloc(1, sizeof *u)) == NULL) {
		endwin();
		delscreen(scr);
		return gk_error_set(err, GK_E_NOMEM, "out of memory");
	}
	u->c = c;
	u->sync.online = -1;
	u->cur_y = u->cur_x = -1;
	raw(); /* Ctrl-S saves a form, so no flow control */
	noecho();
	keypad(stdscr, TRUE);
	set_escdelay(25);
	u->color = ui_colors_start();
	layout(u);

	if ((rc = unlock(u, err)) != GK_OK)
		goto out;
	if ((rc = ui_events(u, err)) != GK_OK)
		goto out;
	nodelay(stdscr, TRUE);
	curs_set(0);
	for (int i = 0; i < NSCREENS; i++)
		u->st[i] =
		    screens[i]->open != NULL ? screens[i]->open(u) : NULL;
	if ((u->agent = agent_new(c, u->base)) != NULL)
		agent_auto(u->agent, SYNC_EVERY_S, SYNC_MAX_S, sync_progress,
		           sync_done, u);
	ui_changed(u);
	ui_redraw(u);
	event_base_dispatch(u->base);
	rc = GK_OK;
out:
	if (rc == -1)
		rc = GK_OK; /* gave up at the unlock: not an error */
	ui_free(u);
	free(u);
	endwin();
	delscreen(scr);
	return rc;
}
