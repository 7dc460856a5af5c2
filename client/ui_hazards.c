/*
 * ui_hazards.c: the Hazards screen: the list, its filters and search, the
 * detail of one hazard with its event history, and the forms of the
 * actions the user's role allows on it now.
 *
 * The list must open and scroll at once on a replica of 500,000 records,
 * so it never holds the whole list: reload counts the rows that match the
 * filters, and draw reads only the rows one window shows (LIMIT/OFFSET in
 * the list's order, on the index of schema/client/0002-ui-indexes.sql,
 * which also carries the columns the filters test, so neither counting
 * nor skipping touches the table). The rows read are cached until the
 * window moves or the replica changes, so the one-second status redraw
 * costs no SQL.
 *
 * Order: risk level (1, major, first), then the newest occurred time.
 * Overdue is derived as in views_overdue: past the plan's deadline and
 * not resolved, or still "reported" past its first-response target.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridkeep.h"
#include "ui.h"

#define PAGE_MAX  256
#define CAP_FIRST 1000 /* rows counted at first; see list_count */

/* The status filter's steps: "open", then all, then each status. */
static const char *const status_filter[] = {
    "open",     "",       "reported", "verified", "rectifying",
    "resolved", "closed", "rejected", NULL};
#define NSTATUS_FILTER 8

static const char *const status_words[] = {
    N_("new"),      N_("reported"), N_("verified"), N_("rectifying"),
    N_("resolved"), N_("closed"),   N_("rejected")};

/*
 * Words of the records shown translated (_() of the stored word): listed
 * here so that xgettext finds them.
 */
static const char *const record_words[] __attribute__((unused)) = {
    N_("fire"),      N_("gas"),           N_("electrical"),
    N_("structure"), N_("geological"),    N_("flood"),
    N_("traffic"),   N_("public_health"), N_("special_equipment"),
    N_("dispute"),   N_("other"),         N_("transition"),
    N_("note"),      N_("plan"),          N_("duplicate"),
    N_("invalid")};

/* The hazard action keys of the detail, in the order they are listed. */
static const struct {
	wint_t key;
	const char *action;
} detail_keys[] = {{L'v', "verify"}, {L'p', "plan"},   {L'r', "resolve"},
                   {L'c', "close"},  {L'x', "reject"}, {L'o', "reopen"},
                   {L'e', "edit"},   {L'n', "note"}};
#define NDETAIL_KEYS ((int)(sizeof detail_keys / sizeof detail_keys[0]))

static const struct ui_keyhelp hazards_help[] = {
    {"Enter", N_("show the hazard, its plan and history")},
    {"n", N_("report a new hazard (list); add a note (detail)")},
    {"f", N_("status filter: open, all, each status")},
    {"r", N_("risk filter: all, 1 to 4 (list); resolve (detail)")},
    {"o", N_("overdue only, on and off (list); reopen (detail)")},
    {"/", N_("search in title and place; empty clears")},
    {"v p c x", N_("detail: verify, plan, close, reject")},
    {"e", N_("detail: edit the report")},
    {"Esc, q", N_("detail: back to the list")},
    {"!", N_("(in the list) overdue")},
    {NULL, NULL}};

struct hrow {
	char id[GK_ID_LEN + 1];
	int risk;
	char status[16];
	char title[256];
	char grid[128];
	char occurred[40];
	int overdue;
};

struct hazards {
	struct ui *u;
	/* filters */
	int status;  /* index in status_filter */
	int risk;    /* 0 all, else 1-4 */
	int overdue; /* overdue only */
	char search[256];
	/* the list */
	struct ui_list l;
	int rows;                   /* rows of the last draw */
	struct hrow page[PAGE_MAX]; /* rows page_top.. of the list */
	int page_top, page_n, page_valid;
	int cap, more; /* rows counted at most; more than that exist */
	/* the detail, when open */
	int detail;
	char id[GK_ID_LEN + 1];
	int drisk;
	/* attr: 0 plain, 1 bold, 2 risk colour, 3 alert */
	struct ui_lines lines;
	int dtop;
	int nvis;          /* lines as drawn, wrapped */
	char actions[256]; /* "v verify  p plan ..." allowed now */
};

/* ---- SQL ----------------------------------------------------------------- */

#define OVERDUE_SQL                                                            \
	"((status IN ('reported', 'verified', 'rectifying') AND "              \
	"plan_deadline IS NOT NULL AND plan_deadline < ?4) OR "                \
	"(status = 'reported' AND occurred_at < CASE risk_level "              \
	"WHEN 1 THEN ?5 WHEN 2 THEN ?6 WHEN 3 THEN ?7 WHEN 4 THEN ?8 "         \
	"ELSE '' END))"

/*
 * The WHERE of the list, with only the filters in use: a clause that
 * names a column outside the index (title, place) would make every
 * count and skip read the table.
 */
static void
filter_sql(struct hazards *s, char *buf, size_t size)
{
	snprintf(buf, size, " FROM hazards h WHERE deleted IS NOT 1%s%s%s%s",
	         s->status == 0  ? " AND status IN ('new', 'reported',"
	                           " 'verified', 'rectifying')"
	         : s->status > 1 ? " AND status = ?1"
	                         : "",
	         s->risk ? " AND risk_level = ?2" : "",
	         s->overdue ? " AND " OVERDUE_SQL : "",
	         s->search[0] ? " AND (instr(title, ?3) > 0 OR"
	                        " instr(place, ?3) > 0)"
	                      : "");
}

static void
bind_filters(struct hazards *s, sqlite3_stmt *st)
{
	struct gk_client *c = ui_client(s->u);
	int64_t now = client_now_ms(c);
	char t[5][32];

	text_time_format(now, t[0]);
	for (int r = 1; r <= 4; r++)
		text_time_format(
		    now - (int64_t)c->policy.response_hours[r] * 3600000, t[r]);
	sqlite3_bind_text(st, 1, status_filter[s->status], -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, s->risk);
	sqlite3_bind_text(st, 3, s->search, -1, SQLITE_TRANSIENT);
	for (int i = 0; i < 5; i++)
		sqlite3_bind_text(st, 4 + i, t[i], -1, SQLITE_TRANSIENT);
}

static void
copy_col(char *dst, size_t size, sqlite3_stmt *st, int i)
{
	const char *v = (const char *)sqlite3_column_text(st, i);

	snprintf(dst, size, "%s", v != NULL ? v : "");
}

/*
 * Count the rows, but at most s->cap of them: counting 300,000 rows takes
 * longer than a screen may, and nobody scrolls that far without a filter.
 * The cap grows as the selection nears it (and G counts them all).
 */
static void
list_count(struct hazards *s)
{
	sqlite3 *db = ui_client(s->u)->db;
	char where[1024], sql[1400];
	sqlite3_stmt *st;

	if (s->cap < CAP_FIRST)
		s->cap = CAP_FIRST;
	filter_sql(s, where, sizeof where);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT 1%s LIMIT ?12)",
	         where);
	s->l.n = 0;
	s->more = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		ui_flash(s->u, "hazards: %s", sqlite3_errmsg(db));
		return;
	}
	bind_filters(s, st);
	sqlite3_bind_int64(st, 12, (sqlite3_int64)s->cap + 1);
	if (sqlite3_step(st) == SQLITE_ROW)
		s->l.n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (s->l.n > s->cap) {
		s->l.n = s->cap;
		s->more = 1;
	}
}

/* Read the rows from top, as many as fit, into the page cache. */
static void
list_page(struct hazards *s, int top, int n)
{
	sqlite3 *db = ui_client(s->u)->db;
	char where[1024], sql[2400];
	sqlite3_stmt *st;
	int back;

	s->page_n = 0;
	s->page_top = top;
	s->page_valid = 1;
	if (n > PAGE_MAX)
		n = PAGE_MAX;
	/* In the second half of a list counted whole, skip from its end:
	 * an OFFSET costs as many index entries as it skips. */
	back = !s->more && top > s->l.n / 2;
	if (back && top + n > s->l.n)
		n = s->l.n - top;
	filter_sql(s, where, sizeof where);
	snprintf(sql, sizeof sql,
	         "SELECT id, risk_level, status, title,"
	         " (SELECT name FROM units WHERE units.id = h.grid),"
	         " occurred_at, " OVERDUE_SQL "%s"
	         " ORDER BY risk_level%s, occurred_at%s, id%s"
	         " LIMIT ?10 OFFSET ?11",
	         where, back ? " DESC" : "", back ? "" : " DESC",
	         back ? "" : " DESC");
	if (n <= 0 || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return;
	bind_filters(s, st);
	sqlite3_bind_int(st, 10, n);
	sqlite3_bind_int(st, 11, back ? s->l.n - top - n : top);
	while (s->page_n < n && sqlite3_step(st) == SQLITE_ROW) {
		struct hrow *r = &s->page[s->page_n++];

		copy_col(r->id, sizeof r->id, st, 0);
		r->risk = sqlite3_column_int(st, 1);
		copy_col(r->status, sizeof r->status, st, 2);
		copy_col(r->title, sizeof r->title, st, 3);
		copy_col(r->grid, sizeof r->grid, st, 4);
		ui_local_time((const char *)sqlite3_column_text(st, 5),
		              r->occurred);
		r->overdue = sqlite3_column_int(st, 6);
	}
	sqlite3_finalize(st);
	for (int i = 0; back && i < s->page_n / 2; i++) {
		struct hrow t = s->page[i];

		s->page[i] = s->page[s->page_n - 1 - i];
		s->page[s->page_n - 1 - i] = t;
	}
}

static const char *
status_word(const char *status)
{
	for (int i = 0; i < GK_HS_COUNT; i++)
		if (strcmp(status, hazard_status_name((enum gk_hstatus)i)) == 0)
			return _(status_words[i]);
	return "?";
}

/* ---- the detail ---------------------------------------------------------- */

static void dadd(struct hazards *s, int attr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
dadd(struct hazards *s, int attr, const char *fmt, ...)
{
	va_list ap;
	char buf[2048];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	ui_lines_add(&s->lines, attr, buf);
}

static const char *
col(sqlite3_stmt *st, int i)
{
	const char *v = (const char *)sqlite3_column_text(st, i);

	return v != NULL ? v : "";
}

/* One labelled field of the detail, skipped when empty. Text with line
 * breaks is split, each line drawn safely later. */
static void
dfield(struct hazards *s, const char *label, const char *value)
{
	const char *p = value, *nl;

	if (value == NULL || value[0] == '\0')
		return;
	nl = strchr(p, '\n');
	dadd(s, 0, "%-12s %.*s", label, nl ? (int)(nl - p) : (int)strlen(p), p);
	while (nl != NULL) {
		p = nl + 1;
		nl = strchr(p, '\n');
		dadd(s, 0, "%-12s %.*s", "",
		     nl ? (int)(nl - p) : (int)strlen(p), p);
	}
}

static void
dtime(struct hazards *s, const char *label, const char *utc)
{
	char t[32];

	ui_local_time(utc, t);
	dfield(s, label, t);
}

/* Build the detail's lines from the replica. */
static void
detail_load(struct hazards *s)
{
	static const char hsql[] =
	    "SELECT h.title, h.status, h.risk_level, h.category,"
	    " (SELECT name FROM units WHERE units.id = h.grid), h.place,"
	    " h.lat, h.lon, h.occurred_at, h.description,"
	    " coalesce((SELECT display_name FROM users WHERE users.id ="
	    " h.reporter), h.reporter), h.plan_measures, h.plan_responsible,"
	    " h.plan_deadline, h.plan_acceptor, h.resolved_at, h.conflicts,"
	    " h.id"
	    " FROM hazards h WHERE h.id = ?1";
	static const char esql[] =
	    "SELECT e.occurred_at, coalesce((SELECT display_name FROM users"
	    " WHERE users.id = e.author), e.author), e.kind, e.from_status,"
	    " e.to_status, e.note, e.conflict, e.reject_reason,"
	    " e.plan_measures FROM hazard_events e WHERE e.hazard = ?1"
	    " ORDER BY e.hlc, e.node, e.id";
	struct gk_client *c = ui_client(s->u);
	sqlite3_stmt *st;
	char buf[160];
	int used = 0;

	ui_lines_clear(&s->lines);
	s->actions[0] = '\0';
	if (sqlite3_prepare_v2(c->db, hsql, -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		dadd(s, 3, "%s", _("This hazard is no longer in the replica."));
		return;
	}
	s->drisk = sqlite3_column_int(st, 2);
	dadd(s, 1, "%s", col(st, 0));
	dadd(s, 2, "%s %d %s", _("Risk"), s->drisk, ui_risk_word(s->drisk));
	dfield(s, _("Status"), status_word(col(st, 1)));
	dfield(s, _("Category"), col(st, 3)[0] ? _(col(st, 3)) : "");
	dfield(s, _("Grid"), col(st, 4));
	dfield(s, _("Place"), col(st, 5));
	if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
		snprintf(buf, sizeof buf, "%.6f, %.6f",
		         sqlite3_column_double(st, 6),
		         sqlite3_column_double(st, 7));
		dfield(s, _("Position"), buf);
	}
	dtime(s, _("Found at"), col(st, 8));
	dfield(s, _("Reporter"), col(st, 10));
	dfield(s, _("Description"), col(st, 9));
	if (col(st, 11)[0] || col(st, 13)[0]) {
		dadd(s, 1, "%s", _("Plan (one point, one plan)"));
		dfield(s, _("Measures"), col(st, 11));
		dfield(s, _("Responsible"), col(st, 12));
		dtime(s, _("Deadline"), col(st, 13));
		dfield(s, _("Acceptor"), col(st, 14));
	}
	dtime(s, _("Resolved at"), col(st, 15));
	if (sqlite3_column_int(st, 16) > 0)
		dadd(s, 3,
		     _("%d conflicting events: the street office "
		       "settles them"),
		     sqlite3_column_int(st, 16));
	sqlite3_finalize(st);

	/* The actions the role allows now, as keys. */
	for (int i = 0; i < NDETAIL_KEYS; i++) {
		const struct gk_action *a = action_find(detail_keys[i].action);
		struct gk_error e = {0};

		if (a == NULL || !action_allowed(c, a, s->id, &e))
			continue;
		used += snprintf(s->actions + used,
		                 sizeof s->actions - (size_t)used, "%s%c %s",
		                 used ? "  " : "", (char)detail_keys[i].key,
		                 _(a->name));
		if (used >= (int)sizeof s->actions - 1)
			break;
	}

	dadd(s, 0, "%s", "");
	dadd(s, 1, "%s", _("History"));
	if (sqlite3_prepare_v2(c->db, esql, -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char t[32], move[96];

		ui_local_time(col(st, 0), t);
		if (col(st, 4)[0] != '\0')
			snprintf(move, sizeof move, "%s -> %s",
			         col(st, 3)[0] ? status_word(col(st, 3)) : "",
			         status_word(col(st, 4)));
		else
			snprintf(move, sizeof move, "%s", _(col(st, 2)));
		dadd(s, sqlite3_column_int(st, 6) ? 3 : 0, "%s  %s  %s%s%s%s",
		     t, col(st, 1), move,
		     sqlite3_column_int(st, 6) ? _("  [conflict]") : "",
		     col(st, 7)[0] ? "  " : "",
		     col(st, 7)[0] ? _(col(st, 7)) : "");
		if (col(st, 5)[0])
			dfield(s, "", col(st, 5));
		if (col(st, 8)[0])
			dfield(s, _("  plan:"), col(st, 8));
	}
	sqlite3_finalize(st);
}

static void
detail_done(struct ui *u, void *arg, const struct act_result *res)
{
	struct hazards *s = arg;

	(void)u;
	(void)res;
	if (s->detail)
		detail_load(s);
}

/* Prefill of the edit form: the hazard as it is now. */
static json_t *
edit_prefill(struct hazards *s)
{
	static const char sql[] =
	    "SELECT title, category, risk_level, description, place, lat, lon"
	    " FROM hazards WHERE id = ?1";
	sqlite3 *db = ui_client(s->u)->db;
	json_t *o = json_object();
	sqlite3_stmt *st;

	if (o == NULL ||
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return o;
	sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		static const char *const names[] = {
		    "title", "category", "risk", "description",
		    "place", "lat",      "lon"};

		for (int i = 0; i < 7; i++)
			if (sqlite3_column_type(st, i) != SQLITE_NULL)
				json_object_set_new(o, names[i],
				                    json_string(col(st, i)));
	}
	sqlite3_finalize(st);
	return o;
}

static int
detail_key(struct hazards *s, wint_t ch, int is_key)
{
	struct ui *u = s->u;
	int page = s->rows > 3 ? s->rows - 3 : 1;

	if (!is_key && (ch == 27 || ch == L'q')) {
		s->detail = 0;
		ui_lines_clear(&s->lines);
		s->page_valid = 0;
		return 1;
	}
	if ((is_key && ch == KEY_DOWN) || (!is_key && ch == L'j'))
		s->dtop++;
	else if ((is_key && ch == KEY_UP) || (!is_key && ch == L'k'))
		s->dtop--;
	else if ((is_key && ch == KEY_NPAGE) || (!is_key && ch == L' '))
		s->dtop += page;
	else if (is_key && ch == KEY_PPAGE)
		s->dtop -= page;
	else if (!is_key) {
		for (int i = 0; i < NDETAIL_KEYS; i++) {
			const struct gk_action *a;
			struct gk_error e = {0};
			json_t *pre = NULL;

			if (detail_keys[i].key != ch)
				continue;
			if ((a = action_find(detail_keys[i].action)) == NULL)
				return 0;
			if (!action_allowed(ui_client(u), a, s->id, &e)) {
				ui_flash(u, "%s: %s", _(a->title),
				         e.msg[0] ? e.msg
				                  : _("not allowed now"));
				return 1;
			}
			if (strcmp(a->name, "edit") == 0)
				pre = edit_prefill(s);
			ui_form_open(u, a, s->id, pre, detail_done, s);
			json_decref(pre);
			return 1;
		}
		return 0;
	} else
		return 0;
	if (s->dtop > s->nvis - 1)
		s->dtop = s->nvis - 1;
	if (s->dtop < 0)
		s->dtop = 0;
	return 1;
}

static void
detail_draw(struct hazards *s, WINDOW *w, int rows, int cols)
{
	int y = 0, vis = 0;

	/* Long lines wrap; dtop counts the lines as shown. */
	for (int i = 0; i < s->lines.n; i++) {
		const char *p = s->lines.v[i].text;
		int a = s->lines.v[i].attr;

		wattrset(w, a == 1   ? (int)A_BOLD
		            : a == 2 ? ui_risk_attr(s->u, s->drisk)
		            : a == 3 ? ui_alert_attr(s->u)
		                     : (int)A_NORMAL);
		do {
			size_t n = ui_fit(p, cols);

			if (vis++ >= s->dtop && y < rows - 1) {
				char *part = strndup(p, n);

				if (part != NULL)
					ui_text(w, y++, 0, cols, part, 0);
				free(part);
			}
			p += n;
		} while (*p != '\0');
		wattrset(w, A_NORMAL);
	}
	s->nvis = vis;
	wattrset(w, A_REVERSE);
	{
		char bar[320];

		snprintf(bar, sizeof bar, "%s %s", _("Esc back |"),
		         s->actions[0] ? s->actions
		                       : _("no action is open to you now"));
		ui_text(w, rows - 1, 0, cols, bar, 1);
	}
	wattrset(w, A_NORMAL);
}

/* ---- the list ------------------------------------------------------------ */

static void
search_done(struct ui *u, void *arg, const char *text)
{
	struct hazards *s = arg;

	if (text == NULL)
		return;
	snprintf(s->search, sizeof s->search, "%s", text);
	s->l.sel = s->l.top = 0;
	s->cap = CAP_FIRST;
	list_count(s);
	s->page_valid = 0;
	ui_dirty(u);
}

static void
report_done(struct ui *u, void *arg, const struct act_result *res)
{
	struct hazards *s = arg;

	(void)u;
	(void)res;
	s->page_valid = 0;
}

static void
refilter(struct hazards *s)
{
	s->l.sel = s->l.top = 0;
	s->cap = CAP_FIRST;
	list_count(s);
	s->page_valid = 0;
}

static void *
hazards_open(struct ui *u)
{
	struct hazards *s = calloc(1, sizeof *s);

	if (s != NULL)
		s->u = u;
	return s;
}

static void
hazards_close(void *st)
{
	struct hazards *s = st;

	if (s == NULL)
		return;
	ui_lines_clear(&s->lines);
	free(s);
}

static void
hazards_reload(struct ui *u, void *st)
{
	struct hazards *s = st;

	(void)u;
	if (s == NULL)
		return;
	list_count(s);
	ui_list_fit(&s->l, s->rows > 0 ? s->rows : 1);
	s->page_valid = 0;
	if (s->detail)
		detail_load(s);
}

static int
hazards_key(struct ui *u, void *st, wint_t ch, int is_key)
{
	struct hazards *s = st;

	if (s == NULL)
		return 0;
	if (s->detail)
		return detail_key(s, ch, is_key);
	if (ui_list_key(&s->l, ch, is_key, s->rows > 0 ? s->rows : 1)) {
		int rows = s->rows > 0 ? s->rows : 1;
		int end = (is_key && ch == KEY_END) || (!is_key && ch == L'G');

		/* Near the rows counted so far: count further. */
		if (s->more && (end || s->l.sel + 2 * rows >= s->l.n)) {
			s->cap = end || s->cap > INT_MAX / 8 ? INT_MAX - 1
			                                     : s->cap * 4;
			list_count(s);
			if (end)
				s->l.sel = s->l.n - 1;
			ui_list_fit(&s->l, rows);
		}
		return 1;
	}
	if (is_key)
		return 0;
	switch (ch) {
	case L'\n':
		if (s->l.n > 0 && s->page_valid && s->l.sel >= s->page_top &&
		    s->l.sel < s->page_top + s->page_n) {
			memcpy(s->id, s->page[s->l.sel - s->page_top].id,
			       sizeof s->id);
			s->detail = 1;
			s->dtop = 0;
			detail_load(s);
		}
		return 1;
	case L'f':
		s->status = (s->status + 1) % NSTATUS_FILTER;
		refilter(s);
		return 1;
	case L'r':
		s->risk = (s->risk + 1) % 5;
		refilter(s);
		return 1;
	case L'o':
		s->overdue = !s->overdue;
		refilter(s);
		return 1;
	case L'/':
		ui_prompt_open(u, _("Search title or place:"), s->search,
		               search_done, s);
		return 1;
	case L'n': {
		const struct gk_action *a = action_find("report");
		struct gk_error e = {0};

		if (a == NULL)
			return 0;
		if (!action_allowed(ui_client(u), a, NULL, &e)) {
			ui_flash(u, "%s", e.msg[0] ? e.msg : _("not allowed"));
			return 1;
		}
		ui_form_open(u, a, NULL, NULL, report_done, s);
		return 1;
	}
	}
	return 0;
}

/* One column: text in width columns and a space after; the next x. */
static int
cell(WINDOW *w, int y, int x, int width, const char *text)
{
	ui_text(w, y, x, width, text, 1);
	ui_text(w, y, x + width, 1, " ", 1);
	return x + width + 1;
}

static void
hazards_draw(struct ui *u, void *st, WINDOW *w, int rows, int cols)
{
	struct hazards *s = st;
	int rw = 0, sw = 0, tw, gw, ow, x, lrows;
	char head[512];

	if (s == NULL)
		return;
	if (s->detail) {
		s->rows = rows;
		detail_draw(s, w, rows, cols);
		return;
	}
	/* Column widths from the words as translated. */
	for (int r = 1; r <= 4; r++)
		if (ui_width(ui_risk_short(r)) > rw)
			rw = ui_width(ui_risk_short(r));
	for (int i = 0; i < GK_HS_COUNT; i++)
		if (ui_width(_(status_words[i])) > sw)
			sw = ui_width(_(status_words[i]));
	rw = rw > 10 ? 10 : rw;
	sw = sw > 12 ? 12 : sw;
	ow = cols >= 72 ? 16 : 0;
	gw = cols >= 60 ? 12 : 0;
	tw = cols - (rw + 1) - (sw + 1) - (gw ? gw + 1 : 0) -
	     (ow ? ow + 1 : 0) - 2;
	if (tw < 8)
		tw = 8;

	snprintf(head, sizeof head,
	         _("%d%s hazards | f status: %s | r risk: %s | o overdue: "
	           "%s%s%s"),
	         s->l.n, s->more ? "+" : "",
	         s->status == 0   ? _("open")
	         : s->status == 1 ? _("all")
	                          : status_word(status_filter[s->status]),
	         s->risk ? ui_risk_short(s->risk) : _("all"),
	         s->overdue ? _("only") : _("any"),
	         s->search[0] ? _(" | search: ") : "", s->search);
	ui_text(w, 0, 0, cols, head, 1);
	wattrset(w, A_BOLD | A_UNDERLINE);
	x = cell(w, 1, 0, rw, _("Risk"));
	x = cell(w, 1, x, sw, _("Status"));
	x = cell(w, 1, x, tw, _("Title"));
	if (gw)
		x = cell(w, 1, x, gw, _("Grid"));
	if (ow)
		x = cell(w, 1, x, ow, _("Found at"));
	ui_text(w, 1, x, cols - x, "", 1);
	wattrset(w, A_NORMAL);

	lrows = rows - 2;
	if (lrows < 1)
		return;
	s->rows = lrows;
	ui_list_fit(&s->l, lrows);
	if (!s->page_valid || s->l.top != s->page_top ||
	    (s->page_n < lrows && s->page_top + s->page_n < s->l.n))
		list_page(s, s->l.top, lrows);
	if (s->l.n == 0) {
		ui_text(w, 2, 0, cols,
		        _("No hazard matches. n reports one; f, r, o and / "
		          "change the filters."),
		        0);
		return;
	}
	for (int i = 0; i < lrows && i < s->page_n; i++) {
		struct hrow *r = &s->page[i];
		int y = 2 + i, sel = s->page_top + i == s->l.sel;
		int base = sel ? A_REVERSE : A_NORMAL;

		x = 0;
		wattrset(w, base | ui_risk_attr(u, r->risk));
		x += ui_text(w, y, x, rw, ui_risk_short(r->risk), 1);
		wattrset(w, base);
		x += ui_text(w, y, x, 1, " ", 1);
		x = cell(w, y, x, sw, status_word(r->status));
		x = cell(w, y, x, tw, r->title);
		if (gw)
			x = cell(w, y, x, gw, r->grid);
		if (ow)
			x = cell(w, y, x, ow, r->occurred);
		if (r->overdue) {
			wattrset(w, base | ui_alert_attr(u));
			x += ui_text(w, y, x, cols - x, "!", 1);
		} else
			x += ui_text(w, y, x, cols - x, "", 1);
		wattrset(w, A_NORMAL);
	}
}

const struct ui_screen ui_screen_hazards = {
    N_("Hazards"), hazards_open, hazards_close, hazards_reload,
    hazards_draw,  hazards_key,  hazards_help,
};
