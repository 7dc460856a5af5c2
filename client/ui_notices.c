/*
 * ui_notices.c: the Notices screen (预警/通知 and 叫应). Each notice with
 * its warning level (colour and word, I to IV), kind, title, issuing unit,
 * expiry, whether I have acknowledged it, and the households told out of
 * the households there are, where grid workers recorded them. Enter shows
 * the full text and who acknowledged it; a acknowledges (the "ack" form,
 * which asks a grid worker for the households told).
 *
 * Notices are few (a street issues some a week), so the list is read
 * whole at reload; what each row needs from notice_acks is read only for
 * the rows on the screen, from the notice_acks_notice index.
 */
#include <stdlib.h>
#include <string.h>

#include "gridkeep.h"
#include "ui.h"

#define NOT_ID   (GK_ID_LEN + 1)
#define NOT_ACKS 500 /* acknowledgements listed in the detail */

struct not_row {
	char id[NOT_ID];
	char *title, *unit_id, *targets; /* owned */
	char kind[16];
	int level;
	char expires[32]; /* UTC text, or "" */
	char issued[32];
	int have; /* the figures below are loaded */
	int acked;
	int64_t told, total, nacks; /* total: -1 when none recorded */
	char *unit; /* the issuer's name, owned, loaded with the figures */
};

struct notices {
	struct ui *u;
	sqlite3 *db;
	char broken[200];
	sqlite3_stmt *q_list, *q_mine, *q_told, *q_unit, *q_acks, *q_user,
	    *q_body, *q_households;
	char now[32];   /* UTC text of now, to tell expired notices */
	char hint[256]; /* the keys the user may use */

	struct not_row *rows;
	int nrows;
	struct ui_list list;
	int page;

	int detail;
	/* The detail's lines, wrapped to the window when drawn. */
	struct ui_lines lines;
	int dtop;   /* first screen line of the detail shown */
	int dshown; /* screen lines of the detail at the last draw */
	int dtotal; /* wrapped lines of the detail at the last draw */
};

static const struct ui_keyhelp not_help[] = {
    {"j, k, Up, Down", N_("move in the list; scroll the text")},
    {"PgUp, PgDn, g, G", N_("page up, page down, first, last")},
    {"Enter", N_("the full text and its acknowledgements")},
    {"Esc, q, Left", N_("back from the text to the list")},
    {"a", N_("acknowledge the selected notice (叫应), with households told")},
    {NULL, NULL}};

static const char *const not_sql[] = {
    /* q_list: newest first */
    "SELECT id, kind, level, title, unit, expires_at, occurred_at, targets"
    " FROM notices WHERE deleted IS NOT 1"
    " ORDER BY occurred_at DESC, id DESC",
    /* q_mine: acknowledged by me */
    "SELECT 1 FROM notice_acks WHERE notice = ?1 AND author = ?2 LIMIT 1",
    /* q_told: households told out of households, each person's latest
     * acknowledgement that recorded them */
    "SELECT coalesce(sum(t), 0), coalesce(sum(n), -1), count(*) FROM ("
    " SELECT households_told AS t, households_total AS n, max(hlc)"
    " FROM notice_acks WHERE notice = ?1 AND households_total IS NOT NULL"
    " GROUP BY author)",
    /* q_unit */
    "SELECT name FROM units WHERE id = ?1",
    /* q_acks: the detail */
    "SELECT author, occurred_at, households_told, households_total, note"
    " FROM notice_acks WHERE notice = ?1 ORDER BY occurred_at, id LIMIT ?2",
    /* q_user */
    "SELECT coalesce(display_name, username) FROM users WHERE id = ?1",
    /* q_body */
    "SELECT body FROM notices WHERE id = ?1",
    /* q_households: of a grid */
    "SELECT households FROM units WHERE id = ?1",
};

#define NOT_COL(q, i) ((const char *)sqlite3_column_text((q), (i)))

/* The short name of a warning level for the list: "II orange". */
static const char *
not_level_short(int level)
{
	static const char *const words[5] = {N_("?"), N_("I red"),
	                                     N_("II orange"), N_("III yellow"),
	                                     N_("IV blue")};

	return _(words[level >= 1 && level <= 4 ? level : 0]);
}

static const char *
not_kind_word(const char *kind)
{
	if (strcmp(kind, "warning") == 0)
		return _("warning");
	if (strcmp(kind, "notice") == 0)
		return _("notice");
	return kind;
}

/* The keys of the screen the user may use, for the line at the bottom:
 * an action's key is shown only if the user's role may take it. */
static const struct ui_hint not_hints[] = {{"a", "ack", N_("acknowledge")},
                                           {"Enter", NULL, N_("full text")}};

static void
not_rows_free(struct notices *st)
{
	for (int i = 0; i < st->nrows; i++) {
		free(st->rows[i].title);
		free(st->rows[i].unit_id);
		free(st->rows[i].targets);
		free(st->rows[i].unit);
	}
	free(st->rows);
	st->rows = NULL;
	st->nrows = 0;
}

static struct not_row *
not_selected(struct notices *st)
{
	if (st->nrows == 0 || st->list.sel < 0 || st->list.sel >= st->nrows)
		return NULL;
	return &st->rows[st->list.sel];
}

static int
not_expired(const struct notices *st, const struct not_row *r)
{
	return r->expires[0] != '\0' && strcmp(r->expires, st->now) < 0;
}

static void not_detail_build(struct notices *st);

static void
not_reload(struct ui *u, void *arg)
{
	struct notices *st = arg;
	struct not_row *sel = not_selected(st);
	sqlite3_stmt *q = st->q_list;
	char keep[NOT_ID] = "";
	int cap = 0;

	(void)u;
	if (st->broken[0] != '\0')
		return;
	ui_hints_make(st->u, not_hints, sizeof not_hints / sizeof not_hints[0],
	              st->hint, sizeof st->hint);
	if (sel != NULL)
		memcpy(keep, sel->id, NOT_ID);
	not_rows_free(st);
	text_time_format(client_now_ms(ui_client(st->u)), st->now);
	sqlite3_reset(q);
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct not_row *r;

		if (st->nrows == cap) {
			cap = cap ? cap * 2 : 32;
			st->rows = ui_xrealloc(st->rows,
			                       (size_t)cap * sizeof *st->rows);
		}
		r = &st->rows[st->nrows++];
		memset(r, 0, sizeof *r);
		snprintf(r->id, sizeof r->id, "%s",
		         NOT_COL(q, 0) ? NOT_COL(q, 0) : "");
		snprintf(r->kind, sizeof r->kind, "%s",
		         NOT_COL(q, 1) ? NOT_COL(q, 1) : "");
		r->level = sqlite3_column_int(q, 2);
		r->title = ui_xstrdup(NOT_COL(q, 3));
		r->unit_id = ui_xstrdup(NOT_COL(q, 4));
		snprintf(r->expires, sizeof r->expires, "%s",
		         NOT_COL(q, 5) ? NOT_COL(q, 5) : "");
		snprintf(r->issued, sizeof r->issued, "%s",
		         NOT_COL(q, 6) ? NOT_COL(q, 6) : "");
		r->targets = ui_xstrdup(NOT_COL(q, 7));
	}
	sqlite3_reset(q);
	st->list.n = st->nrows;
	for (int i = 0; keep[0] != '\0' && i < st->nrows; i++)
		if (strcmp(st->rows[i].id, keep) == 0) {
			st->list.sel = i;
			break;
		}
	ui_list_fit(&st->list, st->page > 0 ? st->page : 1);
	if (st->detail)
		not_detail_build(st);
}

static void
not_figures(struct notices *st, struct not_row *r)
{
	struct gk_client *c = ui_client(st->u);

	r->have = 1;
	sqlite3_bind_text(st->q_mine, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st->q_mine, 2, c->sess.user_id, -1, SQLITE_STATIC);
	r->acked = sqlite3_step(st->q_mine) == SQLITE_ROW;
	sqlite3_reset(st->q_mine);
	r->total = -1;
	sqlite3_bind_text(st->q_told, 1, r->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st->q_told) == SQLITE_ROW) {
		r->told = sqlite3_column_int64(st->q_told, 0);
		r->total = sqlite3_column_int64(st->q_told, 1);
		r->nacks = sqlite3_column_int64(st->q_told, 2);
	}
	sqlite3_reset(st->q_told);
	r->unit = ui_name_of(st->q_unit, r->unit_id);
}

/* ---- the detail ------------------------------------------------------------
 */

static void
not_detail_build(struct notices *st)
{
	struct not_row *r = not_selected(st);
	char buf[512], when[32], when2[32];
	json_t *targets;
	size_t i;
	json_t *v;
	int n = 0;

	ui_lines_clear(&st->lines);
	if (r == NULL)
		return;
	if (!r->have)
		not_figures(st, r);
	ui_lines_add(&st->lines, A_BOLD, r->title);
	snprintf(buf, sizeof buf, "%s  %s", ui_warn_word(r->level),
	         not_kind_word(r->kind));
	ui_lines_add(&st->lines, ui_warn_attr(st->u, r->level), buf);
	ui_local_time(r->issued, when);
	snprintf(buf, sizeof buf, _("issued by %s, %s"), r->unit, when);
	ui_lines_add(&st->lines, 0, buf);
	if (r->expires[0] != '\0') {
		ui_local_time(r->expires, when);
		snprintf(buf, sizeof buf,
		         not_expired(st, r) ? _("expired %s") : _("expires %s"),
		         when);
		ui_lines_add(&st->lines, not_expired(st, r) ? A_DIM : 0, buf);
	}
	/* The target units, by name: targets is a JSON array of ids; units
	 * outside this replica's scope are counted, not named. */
	if ((targets = json_loads(r->targets, 0, NULL)) != NULL &&
	    json_is_array(targets)) {
		size_t len = 0;
		int others = 0;
		char line[600];

		buf[0] = '\0';
		json_array_foreach (targets, i, v) {
			const char *id = json_string_value(v);
			char *name;

			if (id == NULL)
				continue;
			name = ui_name_of(st->q_unit, id);
			if (strcmp(name, id) == 0)
				others++;
			else if (len < sizeof buf)
				len += (size_t)snprintf(
				    buf + len, sizeof buf - len, "%s%s",
				    len ? ", " : "", name);
			free(name);
		}
		if (others > 0 && len > 0)
			snprintf(
			    line, sizeof line,
			    ngettext("to: %s and %d unit outside your area",
			             "to: %s and %d units outside your area",
			             (unsigned long)others),
			    buf, others);
		else if (others > 0)
			snprintf(line, sizeof line,
			         ngettext("to: %d unit outside your area",
			                  "to: %d units outside your area",
			                  (unsigned long)others),
			         others);
		else
			snprintf(line, sizeof line, _("to: %s"), buf);
		ui_lines_add(&st->lines, 0, line);
	}
	json_decref(targets);
	ui_lines_add(&st->lines, 0, "");

	/* The body, as written (newlines kept). */
	sqlite3_bind_text(st->q_body, 1, r->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st->q_body) == SQLITE_ROW &&
	    NOT_COL(st->q_body, 0) != NULL)
		ui_lines_add(&st->lines, 0, NOT_COL(st->q_body, 0));
	sqlite3_reset(st->q_body);
	ui_lines_add(&st->lines, 0, "");

	ui_lines_add(&st->lines, r->acked ? 0 : A_BOLD,
	             r->acked
	                 ? _("You have acknowledged this notice.")
	                 : _("You have not acknowledged this notice yet: a "
	                     "acknowledges it."));
	ui_lines_add(&st->lines, A_BOLD, _("Acknowledged by:"));
	sqlite3_bind_text(st->q_acks, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st->q_acks, 2, NOT_ACKS);
	while (sqlite3_step(st->q_acks) == SQLITE_ROW) {
		char *who = ui_name_of(st->q_user, NOT_COL(st->q_acks, 0));
		const char *note = NOT_COL(st->q_acks, 4);
		char told[64] = "";

		ui_local_time(NOT_COL(st->q_acks, 1), when2);
		if (sqlite3_column_type(st->q_acks, 3) != SQLITE_NULL)
			snprintf(
			    told, sizeof told, _("told %lld of %lld"),
			    (long long)sqlite3_column_int64(st->q_acks, 2),
			    (long long)sqlite3_column_int64(st->q_acks, 3));
		snprintf(buf, sizeof buf, "  %s  %s  %s%s%s", when2, who, told,
		         note != NULL && *note ? "  " : "",
		         note != NULL ? note : "");
		ui_lines_add(&st->lines, 0, buf);
		free(who);
		n++;
	}
	sqlite3_reset(st->q_acks);
	if (n == 0)
		ui_lines_add(&st->lines, 0, _("  nobody yet"));
}

static void
not_draw_detail(struct notices *st, WINDOW *w, int rows, int cols)
{
	st->dshown = rows;
	st->dtotal = ui_lines_draw(w, &st->lines, st->dtop, rows, cols);
}

/* ---- the list ------------------------------------------------------------ */

static void
not_draw_list(struct notices *st, WINDOW *w, int rows, int cols)
{
	/* level, kind, title, issuer, expires, ack, told */
	int wl = 10, wk = 7, wi = 10, we = 11, wa = 4, wt = 9, wti;
	int listrows, y, x;

	if (cols >= 100)
		wi = 16;
	if (cols < 70)
		wk = wi = 0;
	wti = cols - wl - wk - wi - we - wa - wt - 6;
	if (wti < 4) {
		wti = 4;
		wt = 0;
	}
	listrows = rows - 1 - (rows >= 6);
	if (listrows < 1)
		listrows = 1;
	st->page = listrows;
	st->list.n = st->nrows;
	if (rows >= 6)
		ui_cell(w, rows - 1, 0, cols, st->hint, A_DIM);
	ui_list_fit(&st->list, listrows);

	x = 0;
	wattron(w, A_BOLD);
	ui_cell(w, 0, x, wl, _("Level"), 0);
	x += wl + 1;
	if (wk > 0) {
		ui_cell(w, 0, x, wk, _("Kind"), 0);
		x += wk + 1;
	}
	ui_cell(w, 0, x, wti, _("Title"), 0);
	x += wti + 1;
	if (wi > 0) {
		ui_cell(w, 0, x, wi, _("From"), 0);
		x += wi + 1;
	}
	ui_cell(w, 0, x, we, _("Expires"), 0);
	x += we + 1;
	ui_cell(w, 0, x, wa, _("Ack"), 0);
	x += wa + 1;
	ui_cell(w, 0, x, wt, _("Told"), 0);
	wattroff(w, A_BOLD);

	if (st->nrows == 0) {
		ui_text(w, 2, 1, cols - 2, _("no notices yet"), 0);
		return;
	}
	for (y = 0; y < listrows && st->list.top + y < st->nrows; y++) {
		int i = st->list.top + y;
		struct not_row *r = &st->rows[i];
		int base = i == st->list.sel ? A_REVERSE : 0;
		int expired = not_expired(st, r);
		char when[32], told[32] = "";

		if (!r->have)
			not_figures(st, r);
		if (base)
			mvwchgat(w, y + 1, 0, cols, A_REVERSE, 0, NULL);
		x = 0;
		ui_cell(w, y + 1, x, wl, not_level_short(r->level),
		        base | ui_warn_attr(st->u, r->level));
		x += wl + 1;
		if (expired)
			base |= A_DIM;
		if (wk > 0) {
			ui_cell(w, y + 1, x, wk, not_kind_word(r->kind), base);
			x += wk + 1;
		}
		ui_cell(w, y + 1, x, wti, r->title, base);
		x += wti + 1;
		if (wi > 0) {
			ui_cell(w, y + 1, x, wi, r->unit, base);
			x += wi + 1;
		}
		if (expired) {
			ui_cell(w, y + 1, x, we, _("expired"), base);
		} else if (r->expires[0] != '\0') {
			ui_local_time(r->expires, when);
			/* "MM-DD HH:MM" of "YYYY-MM-DD HH:MM" */
			ui_cell(w, y + 1, x, we,
			        strlen(when) > 5 ? when + 5 : when, base);
		} else {
			ui_cell(w, y + 1, x, we, "", base);
		}
		x += we + 1;
		ui_cell(w, y + 1, x, wa, r->acked ? _("yes") : _("no"),
		        base | (r->acked || expired ? 0 : A_BOLD));
		x += wa + 1;
		if (r->total >= 0)
			snprintf(told, sizeof told, "%lld/%lld",
			         (long long)r->told, (long long)r->total);
		ui_cell(w, y + 1, x, wt, told, base);
	}
}

static void
not_draw(struct ui *u, void *arg, WINDOW *w, int rows, int cols)
{
	struct notices *st = arg;

	(void)u;
	if (rows < 1 || cols < 1)
		return;
	if (st->broken[0] != '\0')
		ui_text(w, 0, 0, cols, st->broken, 1);
	else if (st->detail)
		not_draw_detail(st, w, rows, cols);
	else
		not_draw_list(st, w, rows, cols);
}

/* ---- keys ---------------------------------------------------------------- */

static void
not_ack(struct notices *st)
{
	struct gk_client *c = ui_client(st->u);
	const struct gk_action *a = ui_action_get(st->u, "ack");
	struct not_row *r = not_selected(st);
	json_t *pre;

	if (a == NULL)
		return;
	if (r == NULL) {
		ui_flash(st->u, "%s", _("no notice to acknowledge"));
		return;
	}
	if (!ui_action_may(st->u, a, r->id))
		return;
	/* A grid worker tells households: the form starts with how many
	 * there are in their grid. */
	pre = json_object(); /* NULL: an empty form */
	if (c->sess.role == GK_ROLE_GRID_WORKER) {
		sqlite3_bind_text(st->q_households, 1, c->sess.unit, -1,
		                  SQLITE_STATIC);
		if (sqlite3_step(st->q_households) == SQLITE_ROW &&
		    sqlite3_column_type(st->q_households, 0) != SQLITE_NULL) {
			char n[32];
			snprintf(n, sizeof n, "%lld",
			         (long long)sqlite3_column_int64(
			             st->q_households, 0));
			json_object_set_new(pre, "total", json_string(n));
		}
		sqlite3_reset(st->q_households);
	}
	ui_form_open(st->u, a, r->id, pre, NULL, NULL);
	json_decref(pre);
}

static int
not_key(struct ui *u, void *arg, wint_t ch, int is_key)
{
	struct notices *st = arg;

	if (st->broken[0] != '\0')
		return 0;
	if (st->detail) {
		int page = st->dshown > 1 ? st->dshown - 1 : 1;
		int max = st->dtotal - st->dshown;

		if (ui_key_back(ch, is_key)) {
			st->detail = 0;
			ui_lines_clear(&st->lines);
		} else if ((!is_key && ch == L'j') ||
		           (is_key && ch == KEY_DOWN)) {
			st->dtop++;
		} else if ((!is_key && ch == L'k') ||
		           (is_key && ch == KEY_UP)) {
			st->dtop--;
		} else if ((!is_key && ch == L' ') ||
		           (is_key && ch == KEY_NPAGE)) {
			st->dtop += page;
		} else if (is_key && ch == KEY_PPAGE) {
			st->dtop -= page;
		} else if ((!is_key && ch == L'g') ||
		           (is_key && ch == KEY_HOME)) {
			st->dtop = 0;
		} else if ((!is_key && ch == L'G') ||
		           (is_key && ch == KEY_END)) {
			st->dtop = max;
		} else if (!is_key && ch == L'a') {
			not_ack(st);
			return 1;
		} else {
			return 0;
		}
		if (st->dtop > max)
			st->dtop = max;
		if (st->dtop < 0)
			st->dtop = 0;
		ui_dirty(u);
		return 1;
	}
	if (ui_list_key(&st->list, ch, is_key, st->page > 0 ? st->page : 1)) {
		ui_dirty(u);
		return 1;
	}
	if (!is_key && ch == L'\n') {
		if (not_selected(st) != NULL) {
			st->detail = 1;
			st->dtop = 0;
			st->dtotal = st->dshown = 0;
			not_detail_build(st);
			ui_dirty(u);
		}
		return 1;
	}
	if (!is_key && ch == L'a') {
		not_ack(st);
		return 1;
	}
	return 0;
}

/* ---- open and close ------------------------------------------------------ */

static void
not_close(void *arg)
{
	struct notices *st = arg;

	if (st == NULL)
		return;
	sqlite3_finalize(st->q_list);
	sqlite3_finalize(st->q_mine);
	sqlite3_finalize(st->q_told);
	sqlite3_finalize(st->q_unit);
	sqlite3_finalize(st->q_acks);
	sqlite3_finalize(st->q_user);
	sqlite3_finalize(st->q_body);
	sqlite3_finalize(st->q_households);
	not_rows_free(st);
	ui_lines_clear(&st->lines);
	free(st);
}

static void *
not_open(struct ui *u)
{
	struct notices *st = ui_xrealloc(NULL, sizeof *st);

	memset(st, 0, sizeof *st);
	sqlite3_stmt **q[] = {&st->q_list, &st->q_mine,      &st->q_told,
	                      &st->q_unit, &st->q_acks,      &st->q_user,
	                      &st->q_body, &st->q_households};
	st->u = u;
	st->db = ui_client(u)->db;
	if (ui_prepare(st->db, not_sql, q, sizeof q / sizeof q[0], st->broken,
	               sizeof st->broken) != 0)
		return st;
	not_reload(u, st);
	return st;
}

const struct ui_screen ui_screen_notices = {
    N_("Notices"), not_open, not_close, not_reload, not_draw, not_key, not_help,
};
