/*
 * ui_sync.c: the Sync screen: what waits in the outbox (saved here, or
 * sent without an answer yet), what the server rejected and why, the last
 * sync and its error, and the progress of a sync running now.
 *
 * A rejected change never disappears: it stays in the outbox with its
 * code and message (rejected_changes), and this screen shows the reason
 * on its own line under the change, so nobody has to guess. "s" (the
 * frame's key) syncs now; the screen redraws as the agent reports.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gridkeep.h"
#include "ui.h"

#define SHOW_MAX 500 /* rows of each kind read; the counts say the rest */

static const struct ui_keyhelp sync_help[] = {
    {"s, S", N_("sync now")},
    {"j k", N_("scroll the waiting and rejected changes")},
    {"Enter", N_("show the selected line whole")},
    {NULL, NULL}};

/* Table and operation names shown translated; listed for xgettext. */
static const char *const sync_words[] __attribute__((unused)) = {
    N_("units"),         N_("users"),
    N_("items"),         N_("depots"),
    N_("standards"),     N_("volunteers"),
    N_("notices"),       N_("hazards"),
    N_("hazard_events"), N_("inspections"),
    N_("stock_moves"),   N_("point_entries"),
    N_("notice_acks"),   N_("replenishment_requests"),
    N_("insert"),        N_("update"),
    N_("delete"),        N_("append")};

struct syncs {
	struct ui *u;
	struct ui_lines lines; /* attr: 0 plain, 1 bold, 3 alert */
	struct ui_list l;
	int rows, cols; /* of the last draw */
};

static void sadd(struct syncs *s, int attr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
sadd(struct syncs *s, int attr, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	ui_lines_add(&s->lines, attr, buf);
}

/* Text on as many lines as it needs, each indented by indent columns:
 * a reason is never cut off. */
static void
swrap(struct syncs *s, int attr, int indent, const char *text)
{
	int width = (s->cols > 0 ? s->cols : 80) - indent;
	const char *p = text;

	if (width < 10)
		width = 10;
	do {
		size_t n = ui_fit(p, width);

		sadd(s, attr, "%*s%.*s", indent, "", (int)n, p);
		p += n;
	} while (*p != '\0');
}

static void
ms_local(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || localtime_r(&t, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%d %H:%M", &tm) == 0)
		strcpy(out, "-");
}

/* A few words on what a change does: its op, table and main field. */
static void
change_what(const char *json, char *out, size_t size)
{
	static const char *const keys[] = {"title", "name",      "kind",
	                                   "note",  "to_status", "username"};
	json_t *o = json != NULL ? json_loads(json, 0, NULL) : NULL;
	json_t *fields = json_object_get(o, "fields");
	const char *op = json_string_value(json_object_get(o, "op"));
	const char *what = "";

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const char *v =
		    json_string_value(json_object_get(fields, keys[i]));

		if (v != NULL && v[0] != '\0') {
			what = v;
			break;
		}
	}
	snprintf(out, size, "%s %s", op != NULL ? _(op) : "?", what);
	json_decref(o);
}

/*
 * Text padded with spaces to cols display columns, in buf, so columns
 * line up whatever the language: printf's %-14s counts bytes, and a
 * Chinese character is 3 bytes but 2 columns. The %-Ns that follows
 * then adds nothing.
 */
static const char *
sync_pad(char buf[96], const char *text, int cols)
{
	int pad = cols - ui_width(text);

	snprintf(buf, 96, "%s%*s", text, pad > 0 ? pad : 0, "");
	return buf;
}
#define sync_label(buf, text) sync_pad(buf, text, 14)

static void
sync_load(struct syncs *s)
{
	static const char rsql[] =
	    "SELECT o.tbl, o.json, o.created_at, r.code, r.message,"
	    " r.rejected_at FROM outbox o JOIN rejected_changes r"
	    " ON r.change_id = o.id WHERE o.state = 'rejected'"
	    " ORDER BY o.seq DESC LIMIT ?1";
	static const char wsql[] =
	    "SELECT state, tbl, json, created_at, sent_at FROM outbox"
	    " WHERE state IN ('saved', 'sent') ORDER BY seq LIMIT ?1";
	struct gk_client *c = ui_client(s->u);
	int64_t counts[REPLICA_NSTATES];
	struct gk_error e = {0};
	struct ui_syncinfo si;
	sqlite3_stmt *st;
	char buf[64], t[32], what[256], reason[GK_ERRMSG_MAX + 96], lb[96],
	    lb2[96];

	ui_lines_clear(&s->lines);
	ui_sync_info(s->u, &si);
	if (replica_outbox_counts(c, counts, &e) != GK_OK)
		memset(counts, 0, sizeof counts);

	t[0] = '\0';
	if (replica_meta_get(c, "last_sync", buf, sizeof buf, &e) == GK_OK &&
	    buf[0] != '\0')
		ms_local(strtoll(buf, NULL, 10), t);
	sadd(s, 0, "%-14s %s  %s", sync_label(lb, _("Server")), c->sess.server,
	     si.online > 0    ? _("(online)")
	     : si.online == 0 ? _("(offline)")
	                      : "");
	sadd(s, 0, "%-14s %s", sync_label(lb, _("Last sync")),
	     t[0] ? t : _("never"));
	if (si.last_error[0] != '\0')
		sadd(s, 3, "%-14s %s", sync_label(lb, _("Last error")),
		     si.last_error);
	if (si.busy)
		sadd(s, 1, "%-14s %s", sync_label(lb, _("Syncing now")),
		     si.progress[0] ? si.progress : "...");
	else if (si.next_in >= 0)
		sadd(s, 0, _("%-14s in %d s (s: sync now)"),
		     sync_label(lb, _("Next sync")), si.next_in);
	sadd(s, 0, _("%-14s saved here %lld, sent %lld, accepted %lld"),
	     sync_label(lb, _("Changes")), (long long)counts[REPLICA_SAVED],
	     (long long)counts[REPLICA_SENT],
	     (long long)counts[REPLICA_ACCEPTED]);

	sadd(s, 0, "%s", "");
	sadd(s, 1, _("Rejected by the server: %lld"),
	     (long long)counts[REPLICA_REJECTED]);
	if (sqlite3_prepare_v2(c->db, rsql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int(st, 1, SHOW_MAX);
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *tbl =
			    (const char *)sqlite3_column_text(st, 0);
			const char *code =
			    (const char *)sqlite3_column_text(st, 3);
			const char *msg =
			    (const char *)sqlite3_column_text(st, 4);

			change_what((const char *)sqlite3_column_text(st, 1),
			            what, sizeof what);
			ms_local(sqlite3_column_int64(st, 5), t);
			sadd(s, 0, "  %s  %-12s %s", t,
			     sync_pad(lb, tbl ? _(tbl) : "", 12), what);
			snprintf(reason, sizeof reason, "%s %s: %s",
			         _("reason:"), code ? code : "",
			         msg ? msg : "");
			swrap(s, 3, 6, reason);
		}
		sqlite3_finalize(st);
	}

	sadd(s, 0, "%s", "");
	sadd(s, 1, _("Waiting to be sent: %lld"),
	     (long long)(counts[REPLICA_SAVED] + counts[REPLICA_SENT]));
	if (sqlite3_prepare_v2(c->db, wsql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int(st, 1, SHOW_MAX);
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *state =
			    (const char *)sqlite3_column_text(st, 0);
			const char *tbl =
			    (const char *)sqlite3_column_text(st, 1);

			change_what((const char *)sqlite3_column_text(st, 2),
			            what, sizeof what);
			ms_local(sqlite3_column_int64(st, 3), t);
			sadd(s, 0, "  %s  %-10s %-12s %s", t,
			     sync_pad(lb,
			              state && strcmp(state, "sent") == 0
			                  ? _("sent")
			                  : _("saved here"),
			              10),
			     sync_pad(lb2, tbl ? _(tbl) : "", 12), what);
		}
		sqlite3_finalize(st);
	}
	s->l.n = s->lines.n;
}

static void *
sync_open(struct ui *u)
{
	struct syncs *s = calloc(1, sizeof *s);

	if (s != NULL)
		s->u = u;
	return s;
}

static void
sync_close(void *st)
{
	struct syncs *s = st;

	if (s == NULL)
		return;
	ui_lines_clear(&s->lines);
	free(s);
}

static void
sync_reload(struct ui *u, void *st)
{
	(void)u;
	if (st != NULL)
		sync_load(st);
}

static int
sync_key(struct ui *u, void *st, wint_t ch, int is_key)
{
	struct syncs *s = st;

	if (s == NULL)
		return 0;
	if (!is_key && ch == L'\n') {
		if (s->l.sel < s->lines.n)
			ui_flash(u, "%s", s->lines.v[s->l.sel].text);
		return 1;
	}
	return ui_list_key(&s->l, ch, is_key, s->rows > 0 ? s->rows : 1);
}

static void
sync_draw(struct ui *u, void *st, WINDOW *w, int rows, int cols)
{
	struct syncs *s = st;

	(void)u;
	if (s == NULL)
		return;
	/* The progress moves while syncing: read it fresh. */
	sync_load(s);
	s->rows = rows;
	if (cols != s->cols) {
		s->cols = cols;
		sync_load(s); /* the reasons wrap to the new width */
	}
	ui_list_fit(&s->l, rows);
	for (int y = 0; y < rows && s->l.top + y < s->lines.n; y++) {
		struct ui_line *ln = &s->lines.v[s->l.top + y];
		int a = ln->attr == 1   ? (int)A_BOLD
		        : ln->attr == 3 ? ui_alert_attr(u)
		                        : (int)A_NORMAL;

		if (s->l.top + y == s->l.sel)
			a |= A_REVERSE;
		wattrset(w, a);
		ui_text(w, y, 0, cols, ln->text, 1);
	}
	wattrset(w, A_NORMAL);
}

const struct ui_screen ui_screen_sync = {
    N_("Sync"), sync_open, sync_close, sync_reload,
    sync_draw,  sync_key,  sync_help,
};
