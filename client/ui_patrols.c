/*
 * ui_patrols.c: the Patrols screen (巡查打卡). On top, the coverage of the
 * grids this replica holds: per grid, the patrols of the last day and of
 * the last 7 days, the places visited in those 7 days, and the last visit,
 * all by occurred time. Below, the patrols of the last 7 days, newest
 * first. Coverage is shown as facts: no ranking, no quota, no figure per
 * person (DESIGN.md, Patrols).
 *
 * One selection runs through both parts; the grid of the selected line
 * (a grid, or a patrol's grid) is the one n logs a patrol of. Enter on a
 * grid shows only its patrols; Enter on a patrol shows it whole.
 *
 * Every query is a range of inspections_grid_time (grid, occurred_at): a
 * grid's coverage is its rows of the last 7 days, and the recent list is
 * the same ranges merged and cut at PAT_RECENT rows.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gridkeep.h"
#include "ui.h"

#define PAT_ID     (GK_ID_LEN + 1)
#define PAT_RECENT 200 /* patrols listed */
#define PAT_DAYS   7   /* the window of the list and of coverage */

struct pat_grid {
	char id[PAT_ID];
	char *name, *code; /* owned */
	int64_t day, week; /* patrols in the last 1 and 7 days */
	int64_t places;    /* places visited in 7 days, -1: not read */
	char last[32];     /* last visit, UTC text, or "" */
};

struct pat_row {
	char id[PAT_ID];
	int grid; /* index into st->grids */
	char when[32];
	int64_t places; /* -1: not recorded */
	int hazards;    /* found */
	char author[PAT_ID];
	char *who; /* owned, loaded when first drawn */
};

struct patrols {
	struct ui *u;
	sqlite3 *db;
	char broken[200];
	sqlite3_stmt *q_grids, *q_cover, *q_places, *q_last, *q_recent,
	    *q_recent1, *q_any, *q_user, *q_one, *q_hazard, *q_template;

	struct pat_grid *grids;
	int ngrids, day_grids, week_grids;
	struct pat_row *rows;
	int nrows, any; /* any: the replica holds a patrol at all */
	int only;       /* show the patrols of this grid only, or -1 */
	char hint[256]; /* the keys the user may use */
	char week[32];  /* the time 7 days ago at the last reload */

	/* One selection over the grids, then the patrols. */
	struct ui_list list;
	int vtop; /* first line of the body shown */
	int page;

	int detail;
	struct ui_lines lines;
	int dtop, dshown, dtotal;
};

static const struct ui_keyhelp pat_help[] = {
    {"j, k, Up, Down", N_("move through the grids, then the patrols")},
    {"PgUp, PgDn, g, G", N_("page up, page down, first, last")},
    {"Enter", N_("on a grid: only its patrols; on a patrol: all of it")},
    {"Esc, q, Left", N_("back: all the patrols, or from a patrol")},
    {"n", N_("log a patrol of the selected grid")},
    {NULL, NULL}};

static const char *const pat_sql[] = {
    /* q_grids */
    "SELECT id, name, code FROM units WHERE level = 'grid'"
    " AND deleted IS NOT 1 ORDER BY code, name, id",
    /* q_cover: ?2 a day ago, ?3 7 days ago; the index alone answers */
    "SELECT coalesce(sum(occurred_at >= ?2), 0), count(*)"
    " FROM inspections WHERE grid = ?1 AND occurred_at >= ?3",
    /* q_places: visited in the last 7 days (?2), for the grids shown */
    "SELECT coalesce(sum(places_visited), 0) FROM inspections"
    " WHERE grid = ?1 AND occurred_at >= ?2",
    /* q_last */
    "SELECT max(occurred_at) FROM inspections WHERE grid = ?1",
    /* q_recent: every grid's range of the last 7 days, merged and cut
     * in the index, then only the rows kept are read */
    "SELECT id, grid, occurred_at, places_visited, hazards_found, author"
    " FROM inspections WHERE rowid IN (SELECT rowid FROM inspections"
    "  WHERE grid IN (SELECT id FROM units"
    "   WHERE level = 'grid' AND deleted IS NOT 1) AND occurred_at >= ?1"
    "  ORDER BY occurred_at DESC LIMIT ?2)"
    " ORDER BY occurred_at DESC, id DESC",
    /* q_recent1: one grid's, at any time */
    "SELECT id, grid, occurred_at, places_visited, hazards_found, author"
    " FROM inspections WHERE grid = ?1"
    " ORDER BY occurred_at DESC, id DESC LIMIT ?2",
    /* q_any */
    "SELECT 1 FROM inspections LIMIT 1",
    /* q_user */
    "SELECT coalesce(display_name, username) FROM users WHERE id = ?1",
    /* q_one: the detail */
    "SELECT occurred_at, ended_at, checklist, notes, places_visited,"
    " hazards_found, author FROM inspections WHERE id = ?1",
    /* q_hazard */
    "SELECT title, status FROM hazards WHERE id = ?1",
    /* q_template: the checklist of the grid's last patrol */
    "SELECT checklist FROM inspections WHERE grid = ?1"
    " AND checklist IS NOT NULL ORDER BY occurred_at DESC LIMIT 1",
};

#define PAT_COL(q, i) ((const char *)sqlite3_column_text((q), (i)))

static void
pat_num(WINDOW *w, int y, int x, int width, int64_t v, int attr)
{
	char buf[32];

	if (width <= 0)
		return;
	snprintf(buf, sizeof buf, "%lld", (long long)v);
	if ((int)strlen(buf) > width)
		snprintf(buf, sizeof buf, "#");
	wattron(w, attr);
	mvwprintw(w, y, x, "%*s", width, buf);
	wattroff(w, attr);
}

/* The keys of the screen the user may use, for the line at the bottom:
 * an action's key is shown only if the user's role may take it. */
static const struct ui_hint pat_hints[] = {
    {"n", "patrol", N_("log a patrol")},
    {"Enter", NULL, N_("a grid's patrols, or a patrol whole")}};

static void
pat_free_data(struct patrols *st)
{
	for (int i = 0; i < st->ngrids; i++) {
		free(st->grids[i].name);
		free(st->grids[i].code);
	}
	free(st->grids);
	for (int i = 0; i < st->nrows; i++)
		free(st->rows[i].who);
	free(st->rows);
	st->grids = NULL;
	st->rows = NULL;
	st->ngrids = st->nrows = 0;
}

static int
pat_grid_index(const struct patrols *st, const char *id)
{
	for (int i = 0; id != NULL && i < st->ngrids; i++)
		if (strcmp(st->grids[i].id, id) == 0)
			return i;
	return -1;
}

/* The grid of the selected line, or -1. */
static int
pat_selected_grid(const struct patrols *st)
{
	int s = st->list.sel;

	if (s < st->ngrids)
		return st->ngrids > 0 ? s : -1;
	if (s - st->ngrids < st->nrows)
		return st->rows[s - st->ngrids].grid;
	return -1;
}

static struct pat_row *
pat_selected_row(struct patrols *st)
{
	int s = st->list.sel - st->ngrids;

	return s >= 0 && s < st->nrows ? &st->rows[s] : NULL;
}

/* The time days before now, as record text, to the second. */
static void
pat_ago(struct patrols *st, int days, char out[32])
{
	int64_t now = client_now_ms(ui_client(st->u)) / 1000 * 1000;

	text_time_format(now - (int64_t)days * 86400000, out);
}

static void
pat_load_rows(struct patrols *st)
{
	sqlite3_stmt *q;
	char since[32];
	int cap = 0;

	if (st->only >= 0) {
		q = st->q_recent1;
		sqlite3_bind_text(q, 1, st->grids[st->only].id, -1,
		                  SQLITE_STATIC);
	} else {
		q = st->q_recent;
		pat_ago(st, PAT_DAYS, since);
		sqlite3_bind_text(q, 1, since, -1, SQLITE_TRANSIENT);
	}
	sqlite3_bind_int(q, 2, PAT_RECENT);
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct pat_row *r;
		int g = pat_grid_index(st, PAT_COL(q, 1));
		json_t *found;

		if (g < 0)
			continue;
		if (st->nrows == cap) {
			cap = cap ? cap * 2 : 32;
			st->rows = ui_xrealloc(st->rows,
			                       (size_t)cap * sizeof *st->rows);
		}
		r = &st->rows[st->nrows++];
		memset(r, 0, sizeof *r);
		snprintf(r->id, sizeof r->id, "%s",
		         PAT_COL(q, 0) ? PAT_COL(q, 0) : "");
		r->grid = g;
		ui_local_time(PAT_COL(q, 2), r->when);
		r->places = sqlite3_column_type(q, 3) == SQLITE_NULL
		                ? -1
		                : sqlite3_column_int64(q, 3);
		found =
		    PAT_COL(q, 4) ? json_loads(PAT_COL(q, 4), 0, NULL) : NULL;
		r->hazards =
		    json_is_array(found) ? (int)json_array_size(found) : 0;
		json_decref(found);
		snprintf(r->author, sizeof r->author, "%s",
		         PAT_COL(q, 5) ? PAT_COL(q, 5) : "");
	}
	sqlite3_reset(q);
}

static void pat_detail_build(struct patrols *st);

static void
pat_reload(struct ui *u, void *arg)
{
	struct patrols *st = arg;
	char keep_grid[PAT_ID] = "", keep_row[PAT_ID] = "", only[PAT_ID] = "";
	char day[32], week[32];
	struct pat_row *sr = pat_selected_row(st);
	int sg = pat_selected_grid(st), cap = 0;
	sqlite3_stmt *q;

	(void)u;
	if (st->broken[0] != '\0')
		return;
	ui_hints_make(st->u, pat_hints, sizeof pat_hints / sizeof pat_hints[0],
	              st->hint, sizeof st->hint);
	if (sr != NULL)
		memcpy(keep_row, sr->id, PAT_ID);
	else if (sg >= 0)
		memcpy(keep_grid, st->grids[sg].id, PAT_ID);
	if (st->only >= 0)
		memcpy(only, st->grids[st->only].id, PAT_ID);
	pat_free_data(st);

	q = st->q_grids;
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct pat_grid *g;

		if (st->ngrids == cap) {
			cap = cap ? cap * 2 : 16;
			st->grids = ui_xrealloc(
			    st->grids, (size_t)cap * sizeof *st->grids);
		}
		g = &st->grids[st->ngrids++];
		memset(g, 0, sizeof *g);
		snprintf(g->id, sizeof g->id, "%s",
		         PAT_COL(q, 0) ? PAT_COL(q, 0) : "");
		g->name = ui_xstrdup(PAT_COL(q, 1));
		g->code = ui_xstrdup(PAT_COL(q, 2));
	}
	sqlite3_reset(q);

	/* Coverage: every grid's range of the last 7 days. */
	pat_ago(st, 1, day);
	pat_ago(st, PAT_DAYS, week);
	memcpy(st->week, week, sizeof st->week);
	st->day_grids = st->week_grids = 0;
	for (int i = 0; i < st->ngrids; i++) {
		struct pat_grid *g = &st->grids[i];

		q = st->q_cover;
		sqlite3_bind_text(q, 1, g->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, day, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, week, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW) {
			g->day = sqlite3_column_int64(q, 0);
			g->week = sqlite3_column_int64(q, 1);
		}
		g->places = -1;
		sqlite3_reset(q);
		q = st->q_last;
		sqlite3_bind_text(q, 1, g->id, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW && PAT_COL(q, 0) != NULL)
			snprintf(g->last, sizeof g->last, "%s", PAT_COL(q, 0));
		sqlite3_reset(q);
		st->day_grids += g->day > 0;
		st->week_grids += g->week > 0;
	}

	st->only = pat_grid_index(st, only[0] ? only : NULL);
	pat_load_rows(st);
	st->any = st->nrows > 0 || sqlite3_step(st->q_any) == SQLITE_ROW;
	sqlite3_reset(st->q_any);

	st->list.n = st->ngrids + st->nrows;
	for (int i = 0; keep_row[0] && i < st->nrows; i++)
		if (strcmp(st->rows[i].id, keep_row) == 0)
			st->list.sel = st->ngrids + i;
	for (int i = 0; keep_grid[0] && i < st->ngrids; i++)
		if (strcmp(st->grids[i].id, keep_grid) == 0)
			st->list.sel = i;
	ui_list_fit(&st->list, st->page > 0 ? st->page : 1);
	if (st->detail)
		pat_detail_build(st);
}

/* ---- the detail of one patrol -------------------------------------------- */

/* A hazard's status, translated (the words are ui_hazards.c's). */
static const char *
pat_status_word(const char *s)
{
	static const char *const words[] = {
	    N_("new"),      N_("reported"), N_("verified"), N_("rectifying"),
	    N_("resolved"), N_("closed"),   N_("rejected")};

	for (size_t i = 0; s != NULL && i < sizeof words / sizeof words[0]; i++)
		if (strcmp(s, words[i]) == 0)
			return _(words[i]);
	return s != NULL ? s : "";
}

static void
pat_detail_build(struct patrols *st)
{
	struct pat_row *r = pat_selected_row(st);
	sqlite3_stmt *q = st->q_one;
	char buf[600], t0[32], t1[32];
	json_t *found = NULL, *v;
	size_t i;

	ui_lines_clear(&st->lines);
	if (r == NULL)
		return;
	sqlite3_bind_text(q, 1, r->id, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_ROW) {
		sqlite3_reset(q);
		ui_lines_add(&st->lines, 0, _("this patrol is no longer here"));
		return;
	}
	ui_lines_add(&st->lines, A_BOLD, st->grids[r->grid].name);
	ui_local_time(PAT_COL(q, 0), t0);
	ui_local_time(PAT_COL(q, 1), t1);
	snprintf(buf, sizeof buf, "%s - %s", t0, t1);
	ui_lines_add(&st->lines, 0, buf);
	{
		char *who = ui_name_of(st->q_user, PAT_COL(q, 6));
		snprintf(buf, sizeof buf, _("by %s"), who);
		free(who);
		ui_lines_add(&st->lines, 0, buf);
	}
	if (sqlite3_column_type(q, 4) != SQLITE_NULL) {
		snprintf(buf, sizeof buf, _("places visited: %lld"),
		         (long long)sqlite3_column_int64(q, 4));
		ui_lines_add(&st->lines, 0, buf);
	}
	ui_lines_add(&st->lines, 0, "");
	ui_lines_add(&st->lines, A_BOLD, _("Checklist:"));
	ui_lines_add(&st->lines, 0,
	             PAT_COL(q, 2) && *PAT_COL(q, 2) ? PAT_COL(q, 2)
	                                             : _("(none recorded)"));
	if (PAT_COL(q, 3) != NULL && *PAT_COL(q, 3) != '\0') {
		ui_lines_add(&st->lines, 0, "");
		ui_lines_add(&st->lines, A_BOLD, _("Notes:"));
		ui_lines_add(&st->lines, 0, PAT_COL(q, 3));
	}
	if (PAT_COL(q, 5) != NULL)
		found = json_loads(PAT_COL(q, 5), 0, NULL);
	sqlite3_reset(q);
	ui_lines_add(&st->lines, 0, "");
	ui_lines_add(&st->lines, A_BOLD, _("Hazards found:"));
	if (!json_is_array(found) || json_array_size(found) == 0)
		ui_lines_add(&st->lines, 0, _("  none"));
	json_array_foreach (found, i, v) {
		const char *id = json_string_value(v);

		if (id == NULL)
			continue;
		sqlite3_bind_text(st->q_hazard, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st->q_hazard) == SQLITE_ROW)
			snprintf(buf, sizeof buf, "  %s (%s)",
			         PAT_COL(st->q_hazard, 0)
			             ? PAT_COL(st->q_hazard, 0)
			             : "",
			         pat_status_word(PAT_COL(st->q_hazard, 1)));
		else
			snprintf(buf, sizeof buf, "  %s", id);
		sqlite3_reset(st->q_hazard);
		ui_lines_add(&st->lines, 0, buf);
	}
	json_decref(found);
}

static void
pat_draw_detail(struct patrols *st, WINDOW *w, int rows, int cols)
{
	st->dshown = rows;
	st->dtotal = ui_lines_draw(w, &st->lines, st->dtop, rows, cols);
}

/* ---- the list ------------------------------------------------------------ */

/*
 * The body is a run of lines: the coverage summary, the grid heading, the
 * grids, the patrols' title and heading, the patrols. Item i of the list
 * (a grid, then a patrol) is on line pat_line_of(i).
 */
static int
pat_line_of(const struct patrols *st, int i)
{
	return i < st->ngrids ? 2 + i : 2 + st->ngrids + 2 + (i - st->ngrids);
}

static void
pat_draw_line(struct patrols *st, WINDOW *w, int y, int line, int cols)
{
	/* grids: name, code, 1 day, 7 days, places, last visit */
	int gn, gc = 10, g1 = 7, g7 = 7, gp = 7, gl = 16;
	/* patrols: when, grid, places, hazards, by */
	int pw = 16, pg, pp = 7, ph = 8, pb = 14;
	char buf[256];
	int x = 0;

	if (cols < 70) {
		gc = 0;
		gl = 11;
		pb = 0;
	}
	if (cols < 56) { /* narrow: the counts and times only */
		gp = gl = pp = 0;
		pw = 11;
	}
	gn = cols - gc - g1 - g7 - gp - gl - 5;
	pg = cols - pw - pp - ph - pb - 4;

	if (line == 0) {
		if (st->ngrids == 0) {
			ui_text(w, y, 0, cols,
			        _("no grids in this replica yet"), 1);
			return;
		}
		snprintf(buf, sizeof buf,
		         _("Grids visited: %d of %d in the last day, %d of %d "
		           "in the last 7 days"),
		         st->day_grids, st->ngrids, st->week_grids, st->ngrids);
		ui_cell(w, y, 0, cols, buf, 0);
		return;
	}
	if (line == 1) {
		wattron(w, A_BOLD);
		ui_cell(w, y, x, gn, _("Grid"), 0);
		x += gn + 1;
		if (gc > 0) {
			ui_cell(w, y, x, gc, _("Code"), 0);
			x += gc + 1;
		}
		ui_head_right(w, y, x, g1, _("1 day"));
		x += g1 + 1;
		ui_head_right(w, y, x, g7, _("7 days"));
		x += g7 + 1;
		ui_head_right(w, y, x, gp, _("Places"));
		x += gp + 1;
		ui_cell(w, y, x, gl, _("Last visit"), 0);
		wattroff(w, A_BOLD);
		return;
	}
	if (line < 2 + st->ngrids) {
		int i = line - 2;
		struct pat_grid *g = &st->grids[i];
		int base = st->list.sel == i ? A_REVERSE : 0;
		char last[32];

		if (base)
			mvwchgat(w, y, 0, cols, A_REVERSE, 0, NULL);
		if (st->only == i)
			base |= A_BOLD;
		ui_cell(w, y, x, gn, g->name, base);
		x += gn + 1;
		if (gc > 0) {
			ui_cell(w, y, x, gc, g->code, base);
			x += gc + 1;
		}
		pat_num(w, y, x, g1, g->day, base);
		x += g1 + 1;
		pat_num(w, y, x, g7, g->week, base);
		x += g7 + 1;
		if (g->places < 0) { /* read for the grids shown only */
			sqlite3_bind_text(st->q_places, 1, g->id, -1,
			                  SQLITE_STATIC);
			sqlite3_bind_text(st->q_places, 2, st->week, -1,
			                  SQLITE_STATIC);
			g->places = sqlite3_step(st->q_places) == SQLITE_ROW
			                ? sqlite3_column_int64(st->q_places, 0)
			                : 0;
			sqlite3_reset(st->q_places);
		}
		pat_num(w, y, x, gp, g->places, base);
		x += gp + 1;
		ui_local_time(g->last, last);
		ui_cell(w, y, x, gl,
		        last[0]
		            ? (gl < 16 && strlen(last) > 5 ? last + 5 : last)
		            : _("never"),
		        base);
		return;
	}
	if (line == 2 + st->ngrids) {
		/* the patrols' title, between the parts */
		if (st->only >= 0)
			snprintf(buf, sizeof buf,
			         _("Patrols of %s (Esc: every grid)"),
			         st->grids[st->only].name);
		else
			snprintf(buf, sizeof buf, "%s",
			         _("Patrols in the last 7 days"));
		ui_cell(w, y, 0, cols, buf, A_BOLD);
		return;
	}
	if (line == 3 + st->ngrids) {
		wattron(w, A_BOLD);
		ui_cell(w, y, x, pw, _("When"), 0);
		x += pw + 1;
		ui_cell(w, y, x, pg, _("Grid"), 0);
		x += pg + 1;
		ui_head_right(w, y, x, pp, _("Places"));
		x += pp + 1;
		ui_head_right(w, y, x, ph, _("Hazards"));
		x += ph + 1;
		ui_cell(w, y, x, pb, _("By"), 0);
		wattroff(w, A_BOLD);
		return;
	}
	{
		int i = line - 4 - st->ngrids;
		struct pat_row *r = &st->rows[i];
		int base = st->list.sel == st->ngrids + i ? A_REVERSE : 0;

		if (base)
			mvwchgat(w, y, 0, cols, A_REVERSE, 0, NULL);
		if (r->who == NULL)
			r->who = ui_name_of(st->q_user, r->author);
		/* "MM-DD HH:MM" of "YYYY-MM-DD HH:MM" when narrow */
		ui_cell(w, y, x, pw,
		        pw < 16 && strlen(r->when) > 5 ? r->when + 5 : r->when,
		        base);
		x += pw + 1;
		ui_cell(w, y, x, pg, st->grids[r->grid].name, base);
		x += pg + 1;
		if (r->places >= 0)
			pat_num(w, y, x, pp, r->places, base);
		else
			ui_cell(w, y, x, pp, "", base);
		x += pp + 1;
		pat_num(w, y, x, ph, r->hazards, base);
		x += ph + 1;
		ui_cell(w, y, x, pb, r->who, base);
	}
}

static void
pat_draw_list(struct patrols *st, WINDOW *w, int rows, int cols)
{
	int nlines = 4 + st->ngrids + st->nrows, sel_line;

	if (rows >= 6) {
		rows--;
		ui_cell(w, rows, 0, cols, st->hint, A_DIM);
	}
	st->page = rows;
	st->list.n = st->ngrids + st->nrows;
	ui_list_fit(&st->list, rows);
	/* Keep the selected line on screen; show the headings when the
	 * selection is at the top of its part. */
	sel_line = st->list.n > 0 ? pat_line_of(st, st->list.sel) : 0;
	if (st->list.sel == 0)
		st->vtop = 0;
	else if (st->list.sel == st->ngrids && sel_line - 2 < st->vtop)
		st->vtop = sel_line - 2;
	if (sel_line < st->vtop)
		st->vtop = sel_line;
	if (sel_line >= st->vtop + rows)
		st->vtop = sel_line - rows + 1;
	if (st->vtop > nlines - rows)
		st->vtop = nlines - rows;
	if (st->vtop < 0)
		st->vtop = 0;
	for (int y = 0; y < rows && st->vtop + y < nlines; y++)
		pat_draw_line(st, w, y, st->vtop + y, cols);
	if (st->nrows == 0) {
		int y = 4 + st->ngrids - st->vtop;
		const char *msg = !st->any ? _("no patrols yet: n logs one")
		                  : st->only >= 0
		                      ? _("no patrols of this grid yet")
		                      : _("no patrols in the last 7 days");
		if (y >= 0 && y < rows)
			ui_text(w, y, 1, cols - 1, msg, 1);
	}
}

static void
pat_draw(struct ui *u, void *arg, WINDOW *w, int rows, int cols)
{
	struct patrols *st = arg;

	(void)u;
	if (rows < 1 || cols < 1)
		return;
	if (st->broken[0] != '\0')
		ui_text(w, 0, 0, cols, st->broken, 1);
	else if (st->detail)
		pat_draw_detail(st, w, rows, cols);
	else
		pat_draw_list(st, w, rows, cols);
}

/* ---- keys ---------------------------------------------------------------- */

static void
pat_new(struct patrols *st)
{
	struct gk_client *c = ui_client(st->u);
	const struct gk_action *a = ui_action_get(st->u, "patrol");
	int g = pat_selected_grid(st);
	json_t *pre;
	char now[32];
	time_t t = (time_t)(client_now_ms(c) / 1000);
	struct tm tm;

	if (a == NULL)
		return;
	if (!ui_action_may(st->u, a, NULL))
		return;
	pre = json_object(); /* NULL: an empty form */
	if (g >= 0) {
		json_object_set_new(
		    pre, "grid",
		    json_string(ui_ref_text(c, "grid", st->grids[g].name,
		                            st->grids[g].id)));
		/* The checklist of the grid's last patrol, to fill in again. */
		sqlite3_bind_text(st->q_template, 1, st->grids[g].id, -1,
		                  SQLITE_STATIC);
		if (sqlite3_step(st->q_template) == SQLITE_ROW &&
		    PAT_COL(st->q_template, 0) != NULL)
			json_object_set_new(
			    pre, "checklist",
			    json_string(PAT_COL(st->q_template, 0)));
		sqlite3_reset(st->q_template);
	}
	if (json_object_get(pre, "checklist") == NULL)
		json_object_set_new(
		    pre, "checklist",
		    json_string(_("fire exits: ok\ngas: ok\ndrains: ok\n"
		                  "electric bikes: ok")));
	if (localtime_r(&t, &tm) != NULL &&
	    strftime(now, sizeof now, "%Y-%m-%d %H:%M", &tm) > 0)
		json_object_set_new(pre, "started", json_string(now));
	ui_form_open(st->u, a, NULL, pre, NULL, NULL);
	json_decref(pre);
}

static int
pat_key(struct ui *u, void *arg, wint_t ch, int is_key)
{
	struct patrols *st = arg;
	int back = ui_key_back(ch, is_key);

	if (st->broken[0] != '\0')
		return 0;
	if (st->detail) {
		int page = st->dshown > 1 ? st->dshown - 1 : 1;
		int max = st->dtotal - st->dshown;

		if (back) {
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
		} else if (!is_key && ch == L'n') {
			pat_new(st);
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
		if (st->list.sel < st->ngrids) {
			/* Only this grid's patrols, at any time. */
			st->only = st->list.sel;
			pat_reload(u, st);
			ui_dirty(u);
		} else if (pat_selected_row(st) != NULL) {
			st->detail = 1;
			st->dtop = st->dtotal = st->dshown = 0;
			pat_detail_build(st);
			ui_dirty(u);
		}
		return 1;
	}
	if (st->only >= 0 &&
	    ((!is_key && ch == 27) || (is_key && ch == KEY_LEFT))) {
		st->only = -1;
		pat_reload(u, st);
		ui_dirty(u);
		return 1;
	}
	if (!is_key && ch == L'n') {
		pat_new(st);
		return 1;
	}
	return 0;
}

/* ---- open and close ------------------------------------------------------ */

static void
pat_close(void *arg)
{
	struct patrols *st = arg;

	if (st == NULL)
		return;
	sqlite3_finalize(st->q_grids);
	sqlite3_finalize(st->q_cover);
	sqlite3_finalize(st->q_places);
	sqlite3_finalize(st->q_last);
	sqlite3_finalize(st->q_recent);
	sqlite3_finalize(st->q_recent1);
	sqlite3_finalize(st->q_any);
	sqlite3_finalize(st->q_user);
	sqlite3_finalize(st->q_one);
	sqlite3_finalize(st->q_hazard);
	sqlite3_finalize(st->q_template);
	pat_free_data(st);
	ui_lines_clear(&st->lines);
	free(st);
}

static void *
pat_open(struct ui *u)
{
	struct patrols *st = ui_xrealloc(NULL, sizeof *st);

	memset(st, 0, sizeof *st);
	sqlite3_stmt **q[] = {&st->q_grids,  &st->q_cover,   &st->q_places,
	                      &st->q_last,   &st->q_recent,  &st->q_recent1,
	                      &st->q_any,    &st->q_user,    &st->q_one,
	                      &st->q_hazard, &st->q_template};
	st->u = u;
	st->only = -1;
	st->db = ui_client(u)->db;
	if (ui_prepare(st->db, pat_sql, q, sizeof q / sizeof q[0], st->broken,
	               sizeof st->broken) != 0)
		return st;
	pat_reload(u, st);
	return st;
}

const struct ui_screen ui_screen_patrols = {
    N_("Patrols"), pat_open, pat_close, pat_reload, pat_draw, pat_key, pat_help,
};
