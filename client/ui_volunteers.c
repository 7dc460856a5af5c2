/*
 * ui_volunteers.c: the Volunteers screen. Each volunteer with their
 * points and hours served, whether they are active, and / to search by
 * name; a awards points (the "award" form), R or x redeems them, n adds a
 * volunteer, Enter shows the volunteer's point entries.
 *
 * Balances are views_points' (sync/views.c): points are the sum of the
 * entries and may be negative (two stations redeemed at once, offline),
 * which is drawn as a discrepancy, never clamped; hours are the minutes
 * of earn and revoke entries, so redeeming never lowers them. They are
 * summed per volunteer, only for the rows on the screen, from the
 * point_entries_volunteer index: views_points sums every entry of every
 * volunteer, which takes a fifth of a second on a big replica.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gridkeep.h"
#include "ui.h"

#define VOL_ID         (GK_ID_LEN + 1)
#define VOL_MAXENTRIES 500

struct vol_row {
	char id[VOL_ID];
	char *name, *contact, *skills, *unit_id; /* owned */
	int active;
	int have; /* the figures below are loaded */
	int64_t points, minutes;
	char *unit; /* the unit's name, owned, loaded with the figures */
};

struct vol_entry {
	char when[32];
	char *kind, *what, *who; /* owned */
	int64_t points, minutes;
};

struct volunteers {
	struct ui *u;
	sqlite3 *db;
	char broken[200];
	sqlite3_stmt *q_list, *q_points, *q_unit, *q_entries, *q_user;

	struct vol_row *rows;
	int nrows;
	int *view;
	int nview;
	char filter[128];
	char hint[256]; /* the keys the user may use */
	struct ui_list list;
	int page;

	int detail;
	struct vol_entry *entries;
	int nentries;
	struct ui_list dlist;
	int dpage;
};

static const struct ui_keyhelp vol_help[] = {
    {"j, k, Up, Down", N_("move in the list")},
    {"PgUp, PgDn, g, G", N_("page up, page down, first, last")},
    {"/", N_("search volunteers by name (empty: all)")},
    {"Enter", N_("the point entries of the selected volunteer")},
    {"Esc, q, Left", N_("back from the entries to the list")},
    {"a", N_("award points to the selected volunteer")},
    {"R, x", N_("redeem points of the selected volunteer")},
    {"n", N_("add a new volunteer")},
    {"Esc", N_("clear the search (with no search: quit)")},
    {NULL, NULL}};

static const char *const vol_sql[] = {
    /* q_list: every volunteer, by name */
    "SELECT id, name, contact, skills, unit, active FROM volunteers"
    " WHERE deleted IS NOT 1 ORDER BY name, id",
    /* q_points: views_points for one volunteer */
    "SELECT coalesce(sum(points), 0),"
    " coalesce(sum(CASE WHEN kind IN ('earn', 'revoke')"
    "  THEN minutes ELSE 0 END), 0)"
    " FROM point_entries WHERE volunteer = ?1",
    /* q_unit */
    "SELECT name FROM units WHERE id = ?1",
    /* q_entries: the detail, newest first */
    "SELECT occurred_at, kind, points, minutes, activity, reason, author"
    " FROM point_entries WHERE volunteer = ?1"
    " ORDER BY occurred_at DESC, id DESC LIMIT ?2",
    /* q_user */
    "SELECT coalesce(display_name, username) FROM users WHERE id = ?1",
};

/* Minutes as hours with one decimal: "1.5". */
static void
vol_hours(int64_t minutes, char *buf, size_t size)
{
	int64_t tenths = (minutes * 10 + (minutes >= 0 ? 30 : -30)) / 60;

	snprintf(buf, size, "%s%lld.%lld", tenths < 0 ? "-" : "",
	         (long long)(llabs(tenths) / 10),
	         (long long)(llabs(tenths) % 10));
}

/* The keys of the screen the user may use, for the line at the bottom:
 * an action's key is shown only if the user's role may take it. */
static const struct ui_hint vol_hints[] = {{"a", "award", N_("award")},
                                           {"R", "redeem", N_("redeem")},
                                           {"n", "volunteer", N_("new")},
                                           {"Enter", NULL, N_("entries")},
                                           {"/", NULL, N_("search")}};

static void
vol_rows_free(struct volunteers *st)
{
	for (int i = 0; i < st->nrows; i++) {
		free(st->rows[i].name);
		free(st->rows[i].contact);
		free(st->rows[i].skills);
		free(st->rows[i].unit_id);
		free(st->rows[i].unit);
	}
	free(st->rows);
	free(st->view);
	st->rows = NULL;
	st->view = NULL;
	st->nrows = st->nview = 0;
}

static void
vol_entries_free(struct volunteers *st)
{
	for (int i = 0; i < st->nentries; i++) {
		free(st->entries[i].kind);
		free(st->entries[i].what);
		free(st->entries[i].who);
	}
	free(st->entries);
	st->entries = NULL;
	st->nentries = 0;
}

/* 1 if s holds needle, ASCII letters compared without case. */
static int
vol_match(const char *s, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return 1;
	for (; s != NULL && *s != '\0'; s++)
		if (strncasecmp(s, needle, n) == 0)
			return 1;
	return 0;
}

static void
vol_apply_filter(struct volunteers *st)
{
	st->nview = 0;
	for (int i = 0; i < st->nrows; i++)
		if (vol_match(st->rows[i].name, st->filter))
			st->view[st->nview++] = i;
	st->list.n = st->nview;
	ui_list_fit(&st->list, st->page > 0 ? st->page : 1);
}

static struct vol_row *
vol_selected(struct volunteers *st)
{
	if (st->nview == 0 || st->list.sel < 0 || st->list.sel >= st->nview)
		return NULL;
	return &st->rows[st->view[st->list.sel]];
}

static void vol_detail_build(struct volunteers *st);

static void
vol_reload(struct ui *u, void *arg)
{
	struct volunteers *st = arg;
	struct vol_row *sel = vol_selected(st);
	char keep[VOL_ID] = "";
	int cap = 0;

	(void)u;
	if (st->broken[0] != '\0')
		return;
	ui_hints_make(st->u, vol_hints, sizeof vol_hints / sizeof vol_hints[0],
	              st->hint, sizeof st->hint);
	if (sel != NULL)
		memcpy(keep, sel->id, VOL_ID);
	vol_rows_free(st);
	sqlite3_reset(st->q_list);
	while (sqlite3_step(st->q_list) == SQLITE_ROW) {
		struct vol_row *r;
		const unsigned char *id = sqlite3_column_text(st->q_list, 0);

		if (st->nrows == cap) {
			cap = cap ? cap * 2 : 64;
			st->rows = ui_xrealloc(st->rows,
			                       (size_t)cap * sizeof *st->rows);
		}
		r = &st->rows[st->nrows++];
		memset(r, 0, sizeof *r);
		snprintf(r->id, sizeof r->id, "%s",
		         id != NULL ? (const char *)id : "");
		r->name = ui_xstrdup(
		    (const char *)sqlite3_column_text(st->q_list, 1));
		r->contact = ui_xstrdup(
		    (const char *)sqlite3_column_text(st->q_list, 2));
		r->skills = ui_xstrdup(
		    (const char *)sqlite3_column_text(st->q_list, 3));
		r->unit_id = ui_xstrdup(
		    (const char *)sqlite3_column_text(st->q_list, 4));
		/* active is optional: absent means active */
		r->active = sqlite3_column_type(st->q_list, 5) == SQLITE_NULL ||
		            sqlite3_column_int(st->q_list, 5) != 0;
	}
	sqlite3_reset(st->q_list);
	st->view = ui_xrealloc(NULL, (size_t)st->nrows * sizeof *st->view);
	vol_apply_filter(st);
	for (int v = 0; keep[0] != '\0' && v < st->nview; v++)
		if (strcmp(st->rows[st->view[v]].id, keep) == 0) {
			st->list.sel = v;
			break;
		}
	ui_list_fit(&st->list, st->page > 0 ? st->page : 1);
	if (st->detail)
		vol_detail_build(st);
}

/* Balance, hours and unit name of one row, as views_points gives them. */
int
ui_volunteers_points(sqlite3 *db, const char *volunteer,
                     struct gk_points_row *out)
{
	sqlite3_stmt *q;
	int rc = GK_E_DB;

	if (sqlite3_prepare_v2(db, vol_sql[1], -1, &q, NULL) != SQLITE_OK)
		return GK_E_DB;
	sqlite3_bind_text(q, 1, volunteer, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW) {
		snprintf(out->volunteer, sizeof out->volunteer, "%s",
		         volunteer);
		out->points = sqlite3_column_int64(q, 0);
		out->minutes = sqlite3_column_int64(q, 1);
		rc = GK_OK;
	}
	sqlite3_finalize(q);
	return rc;
}

static void
vol_figures(struct volunteers *st, struct vol_row *r)
{
	r->have = 1;
	sqlite3_bind_text(st->q_points, 1, r->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st->q_points) == SQLITE_ROW) {
		r->points = sqlite3_column_int64(st->q_points, 0);
		r->minutes = sqlite3_column_int64(st->q_points, 1);
	}
	sqlite3_reset(st->q_points);
	sqlite3_bind_text(st->q_unit, 1, r->unit_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st->q_unit) == SQLITE_ROW)
		r->unit = ui_xstrdup(
		    (const char *)sqlite3_column_text(st->q_unit, 0));
	else
		r->unit = ui_xstrdup(NULL);
	sqlite3_reset(st->q_unit);
}

static const char *
vol_kind_word(const char *kind)
{
	static const char *const words[][2] = {
	    {"grant", N_("grant")},          {"earn", N_("earn")},
	    {"bonus", N_("bonus")},          {"redeem", N_("redeem")},
	    {"revoke", N_("revoke")},        {"expire", N_("expire")},
	    {"correction", N_("correction")}};

	for (size_t i = 0; kind != NULL && i < sizeof words / sizeof words[0];
	     i++)
		if (strcmp(kind, words[i][0]) == 0)
			return _(words[i][1]);
	return kind != NULL ? kind : "";
}

static void
vol_detail_build(struct volunteers *st)
{
	struct vol_row *r = vol_selected(st);
	sqlite3_stmt *q = st->q_entries;
	int cap = 0;

	vol_entries_free(st);
	if (r == NULL)
		return;
	if (!r->have)
		vol_figures(st, r);
	sqlite3_bind_text(q, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 2, VOL_MAXENTRIES);
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct vol_entry *e;
		const unsigned char *t = sqlite3_column_text(q, 0);
		const unsigned char *act = sqlite3_column_text(q, 4);
		const unsigned char *why = sqlite3_column_text(q, 5);
		const unsigned char *who = sqlite3_column_text(q, 6);
		size_t n;

		if (st->nentries == cap) {
			cap = cap ? cap * 2 : 32;
			st->entries = ui_xrealloc(
			    st->entries, (size_t)cap * sizeof *st->entries);
		}
		e = &st->entries[st->nentries++];
		memset(e, 0, sizeof *e);
		ui_local_time(t != NULL ? (const char *)t : "", e->when);
		e->kind = ui_xstrdup(
		    vol_kind_word((const char *)sqlite3_column_text(q, 1)));
		e->points = sqlite3_column_int64(q, 2);
		e->minutes = sqlite3_column_int64(q, 3);
		n = (act ? strlen((const char *)act) : 0) +
		    (why ? strlen((const char *)why) : 0) + 4;
		e->what = ui_xrealloc(NULL, n);
		snprintf(e->what, n, "%s%s%s", act ? (const char *)act : "",
		         act && why ? ": " : "", why ? (const char *)why : "");
		e->who = ui_name_of(st->q_user, (const char *)who);
	}
	sqlite3_reset(q);
	st->dlist.n = st->nentries;
	ui_list_fit(&st->dlist, st->dpage > 0 ? st->dpage : 1);
}

/* ---- drawing ------------------------------------------------------------- */

static void
vol_draw_list(struct volunteers *st, WINDOW *w, int rows, int cols)
{
	/* name, unit, points, hours, active, note, skills */
	int wn = 14, wu = 14, wp = 7, wh = 7, wa = 6, ws = 11, wk;
	int listrows, y, x, footer;

	if (cols < 70)
		wu = 0;
	if (cols < 56) /* narrow: points, hours and the discrepancy word */
		wa = 0;
	wk = cols - wn - (wu ? wu + 1 : 0) - wp - wh - (wa ? wa + 1 : 0) - ws -
	     4;
	if (wk < 0) {
		wn += wk;
		wk = 0;
	}
	footer = rows >= 8 ? 2 : rows >= 6 ? 1 : 0;
	listrows = rows - 1 - footer;
	if (listrows < 1)
		listrows = 1;
	st->page = listrows;
	st->list.n = st->nview;
	ui_list_fit(&st->list, listrows);

	x = 0;
	wattron(w, A_BOLD);
	ui_cell(w, 0, x, wn, _("Name"), 0);
	x += wn + 1;
	if (wu > 0) {
		ui_cell(w, 0, x, wu, _("Unit"), 0);
		x += wu + 1;
	}
	ui_head_right(w, 0, x, wp, _("Points"));
	x += wp + 1;
	ui_head_right(w, 0, x, wh, _("Hours"));
	x += wh + 1;
	if (wa > 0) {
		ui_cell(w, 0, x, wa, _("Active"), 0);
		x += wa + 1;
	}
	ui_cell(w, 0, x, ws, "", 0);
	x += ws + 1;
	ui_cell(w, 0, x, wk, _("Skills"), 0);
	wattroff(w, A_BOLD);

	if (footer > 0)
		ui_cell(w, rows - 1, 0, cols, st->hint, A_DIM);
	if (st->nview == 0) {
		ui_text(w, 2, 1, cols - 2,
		        st->filter[0] != '\0'
		            ? _("no volunteer matches the search")
		            : _("no volunteers yet: n adds one"),
		        0);
		return;
	}
	for (y = 0; y < listrows && st->list.top + y < st->nview; y++) {
		int vi = st->list.top + y;
		struct vol_row *r = &st->rows[st->view[vi]];
		int base = vi == st->list.sel ? A_REVERSE : 0;
		char num[32], hrs[32];
		const char *note = "";
		int sattr = 0;

		if (!r->have)
			vol_figures(st, r);
		if (base)
			mvwchgat(w, y + 1, 0, cols, A_REVERSE, 0, NULL);
		if (!r->active)
			base |= A_DIM;
		if (r->points < 0) {
			note = _("discrepancy");
			sattr = ui_alert_attr(st->u);
		}
		x = 0;
		ui_cell(w, y + 1, x, wn, r->name, base);
		x += wn + 1;
		if (wu > 0) {
			ui_cell(w, y + 1, x, wu, r->unit, base);
			x += wu + 1;
		}
		snprintf(num, sizeof num, "%lld", (long long)r->points);
		ui_right(w, y + 1, x, wp, num, base | sattr);
		x += wp + 1;
		vol_hours(r->minutes, hrs, sizeof hrs);
		ui_right(w, y + 1, x, wh, hrs, base);
		x += wh + 1;
		if (wa > 0) {
			ui_cell(w, y + 1, x, wa, r->active ? _("yes") : _("no"),
			        base);
			x += wa + 1;
		}
		ui_cell(w, y + 1, x, ws, note, base | sattr);
		x += ws + 1;
		ui_cell(w, y + 1, x, wk, r->skills, base);
	}
	if (footer == 2) {
		struct vol_row *r = vol_selected(st);
		char line[512];

		if (r == NULL)
			return;
		snprintf(line, sizeof line, "%s  %s  %s%s%s", r->name,
		         r->contact, r->unit ? r->unit : "",
		         st->filter[0] ? "  / " : "", st->filter);
		ui_text(w, rows - 2, 0, cols, line, 1);
	}
}

static void
vol_draw_detail(struct volunteers *st, WINDOW *w, int rows, int cols)
{
	struct vol_row *r = vol_selected(st);
	int wt = 16, wk = 10, wp = 7, wh = 6, ww = 12, wr;
	int listrows = rows - 2, x, y;
	char num[32], hrs[32], line[256];

	if (r == NULL)
		return;
	if (cols < 70)
		ww = 0;
	wr = cols - wt - wk - wp - wh - ww - 5;
	vol_hours(r->minutes, hrs, sizeof hrs);
	snprintf(line, sizeof line, _("%lld points, %s hours"),
	         (long long)r->points, hrs);
	wattron(w, A_BOLD);
	ui_text(w, 0, 0, cols / 2, r->name, 0);
	wattroff(w, A_BOLD);
	ui_cell(w, 0, cols / 2, cols - cols / 2, line,
	        r->points < 0 ? ui_alert_attr(st->u) : 0);
	if (rows < 3)
		return;
	x = 0;
	wattron(w, A_BOLD);
	ui_cell(w, 1, x, wt, _("When"), 0);
	x += wt + 1;
	ui_cell(w, 1, x, wk, _("Kind"), 0);
	x += wk + 1;
	ui_head_right(w, 1, x, wp, _("Points"));
	x += wp + 1;
	ui_head_right(w, 1, x, wh, _("Hours"));
	x += wh + 1;
	ui_cell(w, 1, x, wr, _("Activity or reason"), 0);
	x += wr + 1;
	ui_cell(w, 1, x, ww, _("By"), 0);
	wattroff(w, A_BOLD);
	if (st->nentries == 0) {
		ui_text(w, 2, 1, cols - 2, _("no point entries yet"), 0);
		return;
	}
	st->dpage = listrows;
	st->dlist.n = st->nentries;
	ui_list_fit(&st->dlist, listrows);
	for (y = 0; y < listrows && st->dlist.top + y < st->nentries; y++) {
		int i = st->dlist.top + y;
		struct vol_entry *e = &st->entries[i];
		int base = i == st->dlist.sel ? A_REVERSE : 0;

		if (base)
			mvwchgat(w, y + 2, 0, cols, A_REVERSE, 0, NULL);
		x = 0;
		ui_cell(w, y + 2, x, wt, e->when, base);
		x += wt + 1;
		ui_cell(w, y + 2, x, wk, e->kind, base);
		x += wk + 1;
		snprintf(num, sizeof num, "%+lld", (long long)e->points);
		ui_right(w, y + 2, x, wp, num, base);
		x += wp + 1;
		if (e->minutes != 0)
			vol_hours(e->minutes, hrs, sizeof hrs);
		else
			hrs[0] = '\0';
		ui_right(w, y + 2, x, wh, hrs, base);
		x += wh + 1;
		ui_cell(w, y + 2, x, wr, e->what, base);
		x += wr + 1;
		ui_cell(w, y + 2, x, ww, e->who, base);
	}
}

static void
vol_draw(struct ui *u, void *arg, WINDOW *w, int rows, int cols)
{
	struct volunteers *st = arg;

	(void)u;
	if (rows < 1 || cols < 1)
		return;
	if (st->broken[0] != '\0')
		ui_text(w, 0, 0, cols, st->broken, 1);
	else if (st->detail)
		vol_draw_detail(st, w, rows, cols);
	else
		vol_draw_list(st, w, rows, cols);
}

/* ---- keys and forms ------------------------------------------------------ */

static void
vol_form(struct volunteers *st, const char *name, int needs_row)
{
	struct gk_client *c = ui_client(st->u);
	const struct gk_action *a = ui_action_get(st->u, name);
	struct vol_row *r = vol_selected(st);
	const char *target = NULL;
	json_t *pre;

	if (a == NULL)
		return;
	if (needs_row && r == NULL) {
		ui_flash(st->u, "%s", _("select a volunteer first"));
		return;
	}
	if (needs_row && a->target != NULL &&
	    strcmp(a->target, "volunteer") == 0)
		target = r->id;
	if (!ui_action_may(st->u, a, target))
		return;
	pre = json_object(); /* NULL: an empty form */
	if (needs_row && target == NULL) {
		for (int i = 0; i < a->ninputs; i++)
			if (a->inputs[i].type == ACT_REF &&
			    a->inputs[i].ref != NULL &&
			    strcmp(a->inputs[i].ref, "volunteer") == 0) {
				json_object_set_new(
				    pre, a->inputs[i].name,
				    json_string(ui_ref_text(c, "volunteer",
				                            r->name, r->id)));
				break;
			}
	}
	ui_form_open(st->u, a, target, pre, NULL, NULL);
	json_decref(pre);
}

static void
vol_search_done(struct ui *u, void *arg, const char *text)
{
	struct volunteers *st = arg;

	if (text == NULL)
		return;
	snprintf(st->filter, sizeof st->filter, "%s", text);
	st->list.sel = st->list.top = 0;
	vol_apply_filter(st);
	ui_dirty(u);
}

static int
vol_key(struct ui *u, void *arg, wint_t ch, int is_key)
{
	struct volunteers *st = arg;

	if (st->broken[0] != '\0')
		return 0;
	if (st->detail) {
		if (ui_key_back(ch, is_key)) {
			st->detail = 0;
			vol_entries_free(st);
			ui_dirty(u);
			return 1;
		}
		if (ui_list_key(&st->dlist, ch, is_key,
		                st->dpage > 0 ? st->dpage : 1)) {
			ui_dirty(u);
			return 1;
		}
	} else {
		if (ui_list_key(&st->list, ch, is_key,
		                st->page > 0 ? st->page : 1)) {
			ui_dirty(u);
			return 1;
		}
		if (!is_key && ch == L'\n') {
			if (vol_selected(st) != NULL) {
				st->detail = 1;
				st->dlist.sel = st->dlist.top = 0;
				vol_detail_build(st);
				ui_dirty(u);
			}
			return 1;
		}
		if (!is_key && ch == L'/') {
			ui_prompt_open(u, _("Search volunteers by name:"),
			               st->filter, vol_search_done, st);
			return 1;
		}
		if (!is_key && ch == 27 && st->filter[0] != '\0') {
			st->filter[0] = '\0';
			vol_apply_filter(st);
			ui_dirty(u);
			return 1;
		}
	}
	if (is_key)
		return 0;
	switch (ch) {
	case L'a':
		vol_form(st, "award", 1);
		return 1;
	case L'R':
	case L'x':
		vol_form(st, "redeem", 1);
		return 1;
	case L'n':
		vol_form(st, "volunteer", 0);
		return 1;
	}
	return 0;
}

/* ---- open and close ------------------------------------------------------ */

static void
vol_close(void *arg)
{
	struct volunteers *st = arg;

	if (st == NULL)
		return;
	sqlite3_finalize(st->q_list);
	sqlite3_finalize(st->q_points);
	sqlite3_finalize(st->q_unit);
	sqlite3_finalize(st->q_entries);
	sqlite3_finalize(st->q_user);
	vol_rows_free(st);
	vol_entries_free(st);
	free(st);
}

static void *
vol_open(struct ui *u)
{
	struct volunteers *st = ui_xrealloc(NULL, sizeof *st);

	memset(st, 0, sizeof *st);
	sqlite3_stmt **q[] = {&st->q_list, &st->q_points, &st->q_unit,
	                      &st->q_entries, &st->q_user};
	st->u = u;
	st->db = ui_client(u)->db;
	if (ui_prepare(st->db, vol_sql, q, sizeof q / sizeof q[0], st->broken,
	               sizeof st->broken) != 0)
		return st;
	vol_reload(u, st);
	return st;
}

const struct ui_screen ui_screen_volunteers = {
    N_("Volunteers"), vol_open, vol_close, vol_reload,
    vol_draw,         vol_key,  vol_help,
};
