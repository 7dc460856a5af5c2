/*
 * ui_depots.c: the Depots screen. Stock on hand per depot and item, the
 * reserve standard's shortfall, lots expiring within 30 days, stock in
 * transit, and the receive, issue, transfer, count and dispose forms
 * (actions.c) prefilled with the selected depot and item. Enter shows the
 * lots and the moves of a row.
 *
 * The figures are those of views_stock (sync/views.c), with the same
 * definitions, but computed per (depot, item) and only for the rows on
 * the screen: views_stock sums every move of every depot, which on a
 * replica of 500,000 records takes a second, while one row's moves are a
 * range of the stock_moves_depot_item index. The rows themselves (the
 * items a depot holds or has a standard for) are read a depot at a time,
 * in name order, as the list reaches them (dep_ensure): a walk of every
 * depot's moves would cost 25 ms on that replica. Figures are cached per
 * row until the next reload.
 *
 * Nothing is clamped: a negative on-hand is drawn as a discrepancy.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gridkeep.h"
#include "ui.h"

#define DEP_ID       (GK_ID_LEN + 1)
#define DEP_SOON     30  /* days: a lot expiring within them is shown */
#define DEP_MAXMOVES 500 /* moves shown in the detail, newest first */

/* A depot or an item, by id (arrays sorted by id for bsearch). */
struct dep_name {
	char id[DEP_ID];
	char *name; /* owned; "" if the row is not here yet */
	char *code; /* items: code, uom */
	char *uom;
	int agreement; /* depots: an agreement reserve (协议储备) */
};

struct dep_row {
	int depot; /* index into st->depots */
	int item;  /* index into st->items, -1: a depot holding nothing */
	const char *icode; /* sort key, borrowed from the names */
	int have;          /* the figures below are loaded */
	int64_t on_hand, expired, transit, minimum, shortfall;
	int64_t soon_qty; /* in lots expiring within DEP_SOON days */
	char soon[11];    /* the first such expiry, or "" */
};

/* One line of the detail: a heading, a lot, a move, or text. */
enum dep_dkind { DL_TITLE, DL_TEXT, DL_LOTHEAD, DL_LOT, DL_MOVEHEAD, DL_MOVE };
#define DL_COLS 6
struct dep_dline {
	enum dep_dkind kind;
	int attr;           /* of the status column (lots, moves) */
	char *col[DL_COLS]; /* owned */
};

struct depots {
	struct ui *u;
	sqlite3 *db;
	char broken[200]; /* why the replica cannot be read, or "" */
	sqlite3_stmt *q_depots, *q_items, *q_keys, *q_figs, *q_transit, *q_std,
	    *q_lots, *q_moves, *q_user, *q_suggest;

	struct dep_name *depots, *items;
	int ndepots, nitems;
	int *order; /* depots by name */
	int norder;
	int nloaded;          /* depots of order whose rows are in rows */
	struct dep_row *rows; /* in display order: depot name, item code */
	int nrows, caprows;
	int *view; /* rows matching the filter */
	int nview;
	char filter[128];
	char hint[256]; /* the keys the user may use */
	struct ui_list list;
	int *line_of;    /* per view row: its line (depots have lines too) */
	int nlist_lines; /* lines of the list */
	int vtop;        /* first line shown */
	int page;        /* list lines at the last draw */
	char today[11], soon_end[11];

	int detail; /* showing the lots and moves of the selected row */
	struct dep_dline *lines;
	int nlines;
	struct ui_list dlist;
	int dpage;
};

static const struct ui_keyhelp dep_help[] = {
    {"j, k, Up, Down", N_("move in the list")},
    {"PgUp, PgDn, g, G", N_("page up, page down, first, last")},
    {"Enter", N_("lots and moves of the selected row")},
    {"Esc, q, Left", N_("back from the lots and moves to the list")},
    {"/", N_("filter by depot or item name or code (empty: all)")},
    {"Esc", N_("clear the filter (with no filter: quit)")},
    {"r", N_("receive stock into the selected depot")},
    {"i", N_("issue stock of the selected item")},
    {"t", N_("transfer stock to another depot")},
    {"c", N_("count the selected item (records the difference)")},
    {"d", N_("dispose of stock (expired, damaged, lost)")},
    {NULL, NULL}};

/* ---- small helpers ------------------------------------------------------- */

/* n zeroed elements of size bytes (n small: the lists of one screen). */
static void *
dep_alloc(size_t n, size_t size)
{
	return memset(ui_xrealloc(NULL, n * size), 0, n * size);
}

static void
dep_copy_id(char dst[DEP_ID], sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	snprintf(dst, DEP_ID, "%s", s != NULL ? (const char *)s : "");
}

/* A number right-aligned in width columns. */
static void
dep_num(WINDOW *w, int y, int x, int width, int64_t v, int attr)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%lld", (long long)v);
	ui_right(w, y, x, width, buf, attr);
}

static int
dep_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dep_name *)a)->id,
	              ((const struct dep_name *)b)->id);
}

static int
dep_find(const struct dep_name *v, int n, const char *id)
{
	struct dep_name key;
	const struct dep_name *p;

	snprintf(key.id, sizeof key.id, "%s", id);
	p = bsearch(&key, v, (size_t)n, sizeof *v, dep_name_cmp);
	return p != NULL ? (int)(p - v) : -1;
}

static void
dep_names_free(struct dep_name *v, int n)
{
	for (int i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].code);
		free(v[i].uom);
	}
	free(v);
}

static void
dep_lines_free(struct depots *st)
{
	for (int i = 0; i < st->nlines; i++)
		for (int j = 0; j < DL_COLS; j++)
			free(st->lines[i].col[j]);
	free(st->lines);
	st->lines = NULL;
	st->nlines = 0;
}

/* The keys of the screen the user may use, for the line at the bottom:
 * an action's key is shown only if the user's role may take it. */
static const struct ui_hint dep_hints[] = {
    {"r", "receive", N_("receive")},   {"i", "issue", N_("issue")},
    {"t", "transfer", N_("transfer")}, {"c", "count", N_("count")},
    {"d", "dispose", N_("dispose")},   {"Enter", NULL, N_("lots")},
    {"/", NULL, N_("filter")}};

/* ---- loading --------------------------------------------------------------
 */

static const char *const dep_sql[] = {
    /* q_depots: every depot, by id (deleted ones: 1 in col 3) */
    "SELECT id, name, agreement, deleted FROM depots ORDER BY id",
    /* q_items */
    "SELECT id, name, code, uom FROM items ORDER BY id",
    /* q_keys: the items of one depot, with moves or a standard: a range
     * of the covering index stock_moves_depot_item */
    "SELECT item FROM stock_moves WHERE depot = ?1 AND item IS NOT NULL"
    " GROUP BY item UNION SELECT item FROM standards"
    " WHERE depot = ?1 AND deleted IS NOT 1 AND item IS NOT NULL",
    /* q_figs: views_stock's lots and sums, for one (depot, item);
     * ?3 today, ?4 the last day counted as expiring soon */
    "WITH lots AS (SELECT max(expiry) AS expiry, sum(quantity) AS qty"
    "  FROM stock_moves WHERE depot = ?1 AND item = ?2"
    "  GROUP BY coalesce(lot, ''))"
    " SELECT coalesce(sum(qty), 0),"
    "  coalesce(sum(CASE WHEN expiry IS NOT NULL AND expiry < ?3"
    "   AND qty > 0 THEN qty ELSE 0 END), 0),"
    "  coalesce(sum(CASE WHEN qty > 0 AND expiry >= ?3 AND expiry <= ?4"
    "   THEN qty ELSE 0 END), 0),"
    "  min(CASE WHEN qty > 0 AND expiry >= ?3 AND expiry <= ?4"
    "   THEN expiry END)"
    " FROM lots",
    /* q_transit: sent out and not yet received (views_stock's rule) */
    "SELECT coalesce(-sum(o.quantity), 0) FROM stock_moves o"
    " WHERE o.depot = ?1 AND o.item = ?2 AND o.kind = 'transfer_out'"
    " AND NOT EXISTS (SELECT 1 FROM stock_moves i"
    "  WHERE i.transfer_id = o.transfer_id AND i.kind = 'transfer_in')",
    /* q_std */
    "SELECT max(min_qty) FROM standards"
    " WHERE depot = ?1 AND item = ?2 AND deleted IS NOT 1",
    /* q_lots: the detail's lots, soonest expiry first */
    "SELECT lot, max(expiry) AS e, sum(quantity) FROM stock_moves"
    " WHERE depot = ?1 AND item = ?2 GROUP BY coalesce(lot, '')"
    " ORDER BY e IS NULL, e, lot",
    /* q_moves */
    "SELECT occurred_at, kind, quantity, lot, source, purpose,"
    " dispose_reason, recipient, counterpart, note, author, counted,"
    " seen_on_hand FROM stock_moves WHERE depot = ?1 AND item = ?2"
    " ORDER BY occurred_at DESC, id DESC LIMIT ?3",
    /* q_user */
    "SELECT coalesce(display_name, username) FROM users WHERE id = ?1",
    /* q_suggest: the lot an issue takes first (the unexpired lot that
     * expires first, ?4 = 0) or a disposal of expired stock (the lot
     * that expired first, ?4 = 1); ?3 today */
    "SELECT lot FROM (SELECT lot, max(expiry) AS e, sum(quantity) AS q"
    "  FROM stock_moves WHERE depot = ?1 AND item = ?2"
    "  AND lot IS NOT NULL AND lot != '' GROUP BY lot)"
    " WHERE q > 0 AND e IS NOT NULL AND (e < ?3) = ?4 ORDER BY e LIMIT 1",
};

static int
dep_prepare(struct depots *st)
{
	sqlite3_stmt **q[] = {&st->q_depots, &st->q_items,   &st->q_keys,
	                      &st->q_figs,   &st->q_transit, &st->q_std,
	                      &st->q_lots,   &st->q_moves,   &st->q_user,
	                      &st->q_suggest};

	return ui_prepare(st->db, dep_sql, q, sizeof q / sizeof q[0],
	                  st->broken, sizeof st->broken);
}

static struct dep_name *
dep_load_names(sqlite3_stmt *q, int depots, int *n_out)
{
	struct dep_name *v = NULL;
	int n = 0, cap = 0;

	sqlite3_reset(q);
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (depots && sqlite3_column_int(q, 3) == 1)
			continue; /* a deleted depot is not shown */
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = ui_xrealloc(v, (size_t)cap * sizeof *v);
		}
		memset(&v[n], 0, sizeof v[n]);
		dep_copy_id(v[n].id, q, 0);
		v[n].name = ui_xstrdup((const char *)sqlite3_column_text(q, 1));
		if (depots) {
			v[n].agreement = sqlite3_column_int(q, 2);
		} else {
			v[n].code =
			    ui_xstrdup((const char *)sqlite3_column_text(q, 2));
			v[n].uom =
			    ui_xstrdup((const char *)sqlite3_column_text(q, 3));
		}
		n++;
	}
	sqlite3_reset(q);
	*n_out = n;
	return v;
}

/* 1 if s holds needle, ASCII letters compared without case. */
static int
dep_match(const char *s, const char *needle)
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
dep_apply_filter(struct depots *st)
{
	st->nview = 0;
	for (int i = 0; i < st->nrows; i++) {
		const struct dep_row *r = &st->rows[i];
		const struct dep_name *it =
		    r->item >= 0 ? &st->items[r->item] : NULL;

		if (st->filter[0] == '\0' ||
		    dep_match(st->depots[r->depot].name, st->filter) ||
		    (it != NULL && (dep_match(it->name, st->filter) ||
		                    dep_match(it->code, st->filter))))
			st->view[st->nview++] = i;
	}
	st->nlist_lines = 0;
	for (int v = 0; v < st->nview; v++) {
		if (v == 0 || st->rows[st->view[v]].depot !=
		                  st->rows[st->view[v - 1]].depot)
			st->nlist_lines++; /* the depot's line */
		st->line_of[v] = st->nlist_lines++;
	}
	st->list.n = st->nview;
	ui_list_fit(&st->list, st->page > 0 ? st->page : 1);
}

static void
dep_dates(struct depots *st)
{
	int64_t days = client_now_ms(ui_client(st->u)) / 86400000;
	char buf[32];

	text_time_format(days * 86400000, buf);
	snprintf(st->today, sizeof st->today, "%.10s", buf);
	text_time_format((days + DEP_SOON) * 86400000, buf);
	snprintf(st->soon_end, sizeof st->soon_end, "%.10s", buf);
}

/* The selected row, or NULL. */
static struct dep_row *
dep_selected(struct depots *st)
{
	if (st->nview == 0 || st->list.sel < 0 || st->list.sel >= st->nview)
		return NULL;
	return &st->rows[st->view[st->list.sel]];
}

static void dep_detail_build(struct depots *st);

/* A depot in the name order. */
struct dep_ord {
	const char *name;
	int i;
};

static int
dep_order_cmp(const void *a, const void *b)
{
	const struct dep_ord *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : x->i - y->i;
}

/* Append a row of st->rows (grown with view and line_of). */
static struct dep_row *
dep_row_add(struct depots *st, int depot, int item)
{
	struct dep_row *r;

	if (st->nrows == st->caprows) {
		st->caprows = st->caprows ? st->caprows * 2 : 64;
		st->rows = ui_xrealloc(st->rows,
		                       (size_t)st->caprows * sizeof *st->rows);
		st->view = ui_xrealloc(st->view,
		                       (size_t)st->caprows * sizeof *st->view);
		st->line_of = ui_xrealloc(st->line_of, (size_t)st->caprows *
		                                           sizeof *st->line_of);
	}
	r = &st->rows[st->nrows++];
	memset(r, 0, sizeof *r);
	r->depot = depot;
	r->item = item;
	r->icode = item >= 0 ? st->items[item].code : "";
	return r;
}

static int
dep_item_cmp(const void *a, const void *b)
{
	const struct dep_row *x = a, *y = b;
	int c = strcmp(x->icode, y->icode);

	return c != 0 ? c : x->item - y->item;
}

/*
 * Read the rows of more depots, in name order, until want rows are read
 * (want < 0: every depot). Rows are read only as the list reaches them,
 * so opening the screen costs the depots on it, not every depot's moves.
 */
static void
dep_ensure(struct depots *st, int want)
{
	int before = st->nrows;

	if (st->filter[0] != '\0')
		want = -1; /* a filter looks at every row */
	while (st->nloaded < st->norder && (want < 0 || st->nrows < want)) {
		int d = st->order[st->nloaded++], first = st->nrows;
		sqlite3_stmt *q = st->q_keys;

		sqlite3_bind_text(q, 1, st->depots[d].id, -1, SQLITE_STATIC);
		while (sqlite3_step(q) == SQLITE_ROW) {
			int i =
			    dep_find(st->items, st->nitems,
			             (const char *)sqlite3_column_text(q, 0));
			if (i >= 0) /* else its item is not here yet */
				dep_row_add(st, d, i);
		}
		sqlite3_reset(q);
		if (st->nrows == first)
			dep_row_add(st, d, -1); /* a depot holding nothing */
		qsort(st->rows + first, (size_t)(st->nrows - first),
		      sizeof *st->rows, dep_item_cmp);
	}
	if (st->nrows != before || st->nview > st->nrows)
		dep_apply_filter(st);
}

static void
dep_reload(struct ui *u, void *arg)
{
	struct depots *st = arg;
	char keep_depot[DEP_ID] = "", keep_item[DEP_ID] = "";
	struct dep_row *sel = dep_selected(st);
	int want = st->page > 0 ? 3 * st->page : 64;
	struct dep_ord *ord;

	(void)u;
	if (st->broken[0] != '\0')
		return;
	ui_hints_make(st->u, dep_hints, sizeof dep_hints / sizeof dep_hints[0],
	              st->hint, sizeof st->hint);
	if (sel != NULL) {
		memcpy(keep_depot, st->depots[sel->depot].id, DEP_ID);
		if (sel->item >= 0)
			memcpy(keep_item, st->items[sel->item].id, DEP_ID);
	}
	dep_names_free(st->depots, st->ndepots);
	dep_names_free(st->items, st->nitems);
	st->nrows = st->nview = st->nloaded = 0;
	dep_dates(st);

	st->depots = dep_load_names(st->q_depots, 1, &st->ndepots);
	st->items = dep_load_names(st->q_items, 0, &st->nitems);
	ord = dep_alloc((size_t)st->ndepots, sizeof *ord);
	for (int d = 0; d < st->ndepots; d++) {
		ord[d].name = st->depots[d].name;
		ord[d].i = d;
	}
	qsort(ord, (size_t)st->ndepots, sizeof *ord, dep_order_cmp);
	free(st->order);
	st->order = dep_alloc((size_t)st->ndepots, sizeof *st->order);
	for (int d = 0; d < st->ndepots; d++)
		st->order[d] = ord[d].i;
	st->norder = st->ndepots;
	free(ord);

	/* Read as far as the selected row, and a screen or so beyond. */
	for (int k = 0; keep_depot[0] != '\0' && k < st->norder; k++)
		if (strcmp(st->depots[st->order[k]].id, keep_depot) == 0) {
			while (st->nloaded <= k)
				dep_ensure(st, st->nrows + 1);
			break;
		}
	dep_ensure(st, st->nrows + want);
	dep_apply_filter(st);
	for (int v = 0; keep_depot[0] != '\0' && v < st->nview; v++) {
		const struct dep_row *r = &st->rows[st->view[v]];
		if (strcmp(st->depots[r->depot].id, keep_depot) == 0 &&
		    strcmp(r->item >= 0 ? st->items[r->item].id : "",
		           keep_item) == 0) {
			st->list.sel = v;
			break;
		}
	}
	ui_list_fit(&st->list, st->page > 0 ? st->page : 1);
	if (st->detail)
		dep_detail_build(st);
}

/*
 * The figures of (depot d, item i) into r, as views_stock gives them on
 * day today, with the statements q_figs, q_transit and q_std of dep_sql;
 * soon_end is the last day counted as expiring soon.
 */
static void
dep_figures_q(sqlite3_stmt *const q[3], const char *d, const char *i,
              const char *today, const char *soon_end, struct dep_row *r)
{
	r->on_hand = r->expired = r->soon_qty = r->transit = 0;
	r->soon[0] = '\0';
	r->minimum = -1;
	sqlite3_bind_text(q[0], 1, d, -1, SQLITE_STATIC);
	sqlite3_bind_text(q[0], 2, i, -1, SQLITE_STATIC);
	sqlite3_bind_text(q[0], 3, today, -1, SQLITE_STATIC);
	sqlite3_bind_text(q[0], 4, soon_end, -1, SQLITE_STATIC);
	if (sqlite3_step(q[0]) == SQLITE_ROW) {
		const unsigned char *e = sqlite3_column_text(q[0], 3);
		r->on_hand = sqlite3_column_int64(q[0], 0);
		r->expired = sqlite3_column_int64(q[0], 1);
		r->soon_qty = sqlite3_column_int64(q[0], 2);
		snprintf(r->soon, sizeof r->soon, "%.10s",
		         e != NULL ? (const char *)e : "");
	}
	sqlite3_reset(q[0]);
	sqlite3_bind_text(q[1], 1, d, -1, SQLITE_STATIC);
	sqlite3_bind_text(q[1], 2, i, -1, SQLITE_STATIC);
	if (sqlite3_step(q[1]) == SQLITE_ROW)
		r->transit = sqlite3_column_int64(q[1], 0);
	sqlite3_reset(q[1]);
	sqlite3_bind_text(q[2], 1, d, -1, SQLITE_STATIC);
	sqlite3_bind_text(q[2], 2, i, -1, SQLITE_STATIC);
	if (sqlite3_step(q[2]) == SQLITE_ROW &&
	    sqlite3_column_type(q[2], 0) != SQLITE_NULL)
		r->minimum = sqlite3_column_int64(q[2], 0);
	sqlite3_reset(q[2]);
	r->shortfall = 0;
	if (r->minimum >= 0 && r->minimum > r->on_hand - r->expired)
		r->shortfall = r->minimum - (r->on_hand - r->expired);
}

/* The figures of one row, loaded when it is first drawn. */
static void
dep_figures(struct depots *st, struct dep_row *r)
{
	sqlite3_stmt *const q[3] = {st->q_figs, st->q_transit, st->q_std};

	r->have = 1;
	r->minimum = -1;
	if (r->item >= 0)
		dep_figures_q(q, st->depots[r->depot].id, st->items[r->item].id,
		              st->today, st->soon_end, r);
}

int
ui_depots_figures(sqlite3 *db, const char *depot, const char *item,
                  const char *today, struct gk_stock_row *out)
{
	sqlite3_stmt *q[3] = {NULL, NULL, NULL};
	struct dep_row r;
	int rc = GK_OK;

	for (int k = 0; k < 3 && rc == GK_OK; k++)
		if (sqlite3_prepare_v2(db, dep_sql[3 + k], -1, &q[k], NULL) !=
		    SQLITE_OK)
			rc = GK_E_DB;
	if (rc == GK_OK) {
		memset(&r, 0, sizeof r);
		dep_figures_q(q, depot, item, today, today, &r);
		snprintf(out->depot, sizeof out->depot, "%s", depot);
		snprintf(out->item, sizeof out->item, "%s", item);
		out->on_hand = r.on_hand;
		out->expired = r.expired;
		out->in_transit = r.transit;
		out->minimum = r.minimum;
		out->shortfall = r.shortfall;
	}
	for (int k = 0; k < 3; k++)
		sqlite3_finalize(q[k]);
	return rc;
}

/* ---- the detail: lots and moves of one row ---------------------------------
 */

static struct dep_dline *
dep_line_add(struct depots *st, enum dep_dkind kind, int attr)
{
	struct dep_dline *l;

	st->lines = ui_xrealloc(st->lines,
	                        (size_t)(st->nlines + 1) * sizeof *st->lines);
	l = &st->lines[st->nlines++];
	memset(l, 0, sizeof *l);
	l->kind = kind;
	l->attr = attr;
	return l;
}

static char *dep_fmt(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static char *
dep_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0; /* cannot happen with our formats: an empty text */
	s = ui_xrealloc(NULL, (size_t)n + 1);
	s[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

static const char *
dep_kind_word(const char *kind)
{
	static const char *const words[][2] = {
	    {"receive", N_("receive")},
	    {"issue", N_("issue")},
	    {"transfer_out", N_("transfer out")},
	    {"transfer_in", N_("transfer in")},
	    {"count_adjust", N_("count")},
	    {"dispose", N_("dispose")}};

	for (size_t i = 0; kind != NULL && i < sizeof words / sizeof words[0];
	     i++)
		if (strcmp(kind, words[i][0]) == 0)
			return _(words[i][1]);
	return kind != NULL ? kind : "";
}

/* The word of a source, purpose or disposal reason, translated. */
static const char *
dep_reason_word(const char *w)
{
	static const char *const words[][2] = {
	    {"upstream", N_("from upstream")},
	    {"donation", N_("donation")},
	    {"purchase", N_("purchase")},
	    {"opening", N_("opening balance")},
	    {"distribution", N_("distribution")},
	    {"incident", N_("incident")},
	    {"drill", N_("drill")},
	    {"expired", N_("expired")},
	    {"damaged", N_("damaged")},
	    {"lost", N_("lost")},
	    {"stolen", N_("stolen")},
	    {"other", N_("other")}};

	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcmp(w, words[i][0]) == 0)
			return _(words[i][1]);
	return w;
}

static void
dep_detail_build(struct depots *st)
{
	struct dep_row *r = dep_selected(st);
	const struct dep_name *dn, *in;
	struct dep_dline *l;
	sqlite3_stmt *q;
	int nlots = 0, nmoves = 0;

	dep_lines_free(st);
	if (r == NULL)
		return;
	if (!r->have)
		dep_figures(st, r);
	dn = &st->depots[r->depot];
	l = dep_line_add(st, DL_TITLE, A_BOLD);
	l->col[0] = ui_xstrdup(dn->name);
	if (dn->agreement) {
		l = dep_line_add(st, DL_TEXT, 0);
		l->col[0] = ui_xstrdup(_("agreement reserve (held by a shop)"));
	}
	if (r->item < 0) {
		l = dep_line_add(st, DL_TEXT, 0);
		l->col[0] = ui_xstrdup(_("no stock recorded at this depot"));
		return;
	}
	in = &st->items[r->item];
	l = dep_line_add(st, DL_TITLE, A_BOLD);
	l->col[0] = dep_fmt("%s %s (%s)", in->code, in->name, in->uom);
	l = dep_line_add(st, DL_TEXT,
	                 r->on_hand < 0 ? ui_alert_attr(st->u) : 0);
	if (r->minimum >= 0)
		l->col[0] =
		    dep_fmt(_("on hand %lld, expired %lld, in transit "
		              "%lld, standard %lld, short %lld"),
		            (long long)r->on_hand, (long long)r->expired,
		            (long long)r->transit, (long long)r->minimum,
		            (long long)r->shortfall);
	else
		l->col[0] =
		    dep_fmt(_("on hand %lld, expired %lld, in transit "
		              "%lld, no standard"),
		            (long long)r->on_hand, (long long)r->expired,
		            (long long)r->transit);

	dep_line_add(st, DL_TEXT, 0);
	l = dep_line_add(st, DL_LOTHEAD, A_BOLD);
	q = st->q_lots;
	sqlite3_bind_text(q, 1, dn->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, in->id, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const unsigned char *lot = sqlite3_column_text(q, 0);
		const unsigned char *e = sqlite3_column_text(q, 1);
		int64_t qty = sqlite3_column_int64(q, 2);
		int attr = 0;
		const char *state = "";

		if (qty < 0 && (lot == NULL || lot[0] == '\0')) {
			state = _("moves that name no lot");
		} else if (qty < 0) {
			attr = ui_alert_attr(st->u);
			state = _("negative: a discrepancy");
		} else if (qty > 0 && e != NULL &&
		           strcmp((const char *)e, st->today) < 0) {
			attr = ui_alert_attr(st->u);
			state = _("expired");
		} else if (qty > 0 && e != NULL &&
		           strcmp((const char *)e, st->soon_end) <= 0) {
			attr = ui_risk_attr(st->u, 2);
			state = _("expires soon");
		}
		l = dep_line_add(st, DL_LOT, attr);
		l->col[0] =
		    ui_xstrdup(lot != NULL && lot[0] != '\0' ? (const char *)lot
		                                             : _("(no lot)"));
		l->col[1] = ui_xstrdup((const char *)e);
		l->col[2] = dep_fmt("%lld", (long long)qty);
		l->col[3] = ui_xstrdup(state);
		nlots++;
	}
	sqlite3_reset(q);
	if (nlots == 0) {
		l = dep_line_add(st, DL_TEXT, 0);
		l->col[0] = ui_xstrdup(_("no lots"));
	}

	dep_line_add(st, DL_TEXT, 0);
	l = dep_line_add(st, DL_MOVEHEAD, A_BOLD);
	q = st->q_moves;
	sqlite3_bind_text(q, 1, dn->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, in->id, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 3, DEP_MAXMOVES);
	while (sqlite3_step(q) == SQLITE_ROW) {
		char when[32];
		const unsigned char *t = sqlite3_column_text(q, 0);
		const char *kind = (const char *)sqlite3_column_text(q, 1);
		const unsigned char *lot = sqlite3_column_text(q, 3);
		const unsigned char *cp = sqlite3_column_text(q, 8);
		const char *part[4];
		char *detail;
		int np = 0;

		ui_local_time(t != NULL ? (const char *)t : "", when);
		/* source, purpose or reason; recipient; note */
		for (int c = 4; c <= 7; c++)
			if (sqlite3_column_text(q, c) != NULL && np < 2)
				part[np++] =
				    c < 7
				        ? dep_reason_word(
				              (const char *)sqlite3_column_text(
				                  q, c))
				        : (const char *)sqlite3_column_text(q,
				                                            c);
		if (sqlite3_column_text(q, 9) != NULL)
			part[np++] = (const char *)sqlite3_column_text(q, 9);
		if (cp != NULL) {
			int k =
			    dep_find(st->depots, st->ndepots, (const char *)cp);
			detail =
			    dep_fmt(_("with %s"), k >= 0 ? st->depots[k].name
			                                 : (const char *)cp);
		} else if (kind != NULL && strcmp(kind, "count_adjust") == 0) {
			detail =
			    dep_fmt(_("counted %lld, books said %lld"),
			            (long long)sqlite3_column_int64(q, 11),
			            (long long)sqlite3_column_int64(q, 12));
		} else {
			detail =
			    dep_fmt("%s%s%s%s%s", np > 0 ? part[0] : "",
			            np > 1 ? " " : "", np > 1 ? part[1] : "",
			            np > 2 ? " " : "", np > 2 ? part[2] : "");
		}
		l = dep_line_add(st, DL_MOVE, 0);
		l->col[0] = ui_xstrdup(when);
		l->col[1] = ui_xstrdup(dep_kind_word(kind));
		l->col[2] =
		    dep_fmt("%+lld", (long long)sqlite3_column_int64(q, 2));
		l->col[3] = ui_xstrdup((const char *)lot);
		l->col[4] = detail;
		l->col[5] = ui_name_of(
		    st->q_user, (const char *)sqlite3_column_text(q, 10));
		nmoves++;
	}
	sqlite3_reset(q);
	if (nmoves == 0) {
		l = dep_line_add(st, DL_TEXT, 0);
		l->col[0] = ui_xstrdup(_("no moves"));
	}
}

/* ---- drawing ------------------------------------------------------------- */

/* Column widths of the list for cols columns. */
struct dep_cols {
	int item, on_hand, minimum, transit, status;
};

static struct dep_cols
dep_layout(int cols)
{
	struct dep_cols c = {0, 7, 5, 7, 0};
	int rest;

	if (cols < 60) /* narrow: drop the standard and transit */
		c.minimum = c.transit = 0;
	rest = cols - 2 - c.on_hand - c.minimum - c.transit - 4;
	c.item = rest * 2 / 5;
	if (c.item > 30)
		c.item = 30;
	c.status = rest - c.item;
	return c;
}

/* The status words of a row into buf, and their attribute. */
static int
dep_status(struct depots *st, const struct dep_row *r, char *buf, size_t size)
{
	const char *part[4];
	char shortw[64], soon[64], expired[64];
	int attr = 0, n = 0;
	size_t len = 0;

	if (r->on_hand < 0) {
		part[n++] = _("negative: a discrepancy");
		attr = ui_alert_attr(st->u);
	}
	if (r->shortfall > 0) {
		snprintf(shortw, sizeof shortw, _("short %lld"),
		         (long long)r->shortfall);
		part[n++] = shortw;
		if (attr == 0)
			attr = ui_risk_attr(st->u, 2);
	}
	if (r->soon[0] != '\0') {
		snprintf(soon, sizeof soon, _("expires %s"), r->soon);
		part[n++] = soon;
		if (attr == 0)
			attr = ui_risk_attr(st->u, 3);
	}
	if (r->expired > 0) {
		snprintf(expired, sizeof expired, _("expired %lld"),
		         (long long)r->expired);
		part[n++] = expired;
		if (attr == 0)
			attr = ui_alert_attr(st->u);
	}
	buf[0] = '\0';
	for (int i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		                        i > 0 ? "; " : "", part[i]);
	return attr;
}

/*
 * The list is drawn as lines: each depot's name, then its rows indented.
 * dep_line_row gives the row (an index into view) of a line, or -1 for a
 * depot's line, whose depot goes into *depot.
 */
static int
dep_line_row(const struct depots *st, int line, int *depot)
{
	int lo = 0, hi = st->nview - 1;

	/* line_of is increasing: find the row on this line, if any */
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (st->line_of[mid] == line)
			return mid;
		if (st->line_of[mid] < line)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	/* a depot's line comes just before its first row, lo */
	*depot = lo < st->nview ? st->rows[st->view[lo]].depot : -1;
	return -1;
}

static void
dep_draw_row(struct depots *st, WINDOW *w, int y, int vi, int cols,
             const struct dep_cols *c)
{
	struct dep_row *r = &st->rows[st->view[vi]];
	int base = vi == st->list.sel ? A_REVERSE : 0;
	char status[200], *name;
	int x = 2, sattr;

	if (!r->have)
		dep_figures(st, r);
	if (base)
		mvwchgat(w, y, 0, cols, A_REVERSE, 0, NULL);
	if (r->item < 0) {
		ui_cell(w, y, x, cols - x, _("(no stock recorded)"), base);
		return;
	}
	name =
	    dep_fmt("%s %s", st->items[r->item].code, st->items[r->item].name);
	ui_cell(w, y, x, c->item, name, base);
	free(name);
	x += c->item + 1;
	dep_num(w, y, x, c->on_hand, r->on_hand,
	        base | (r->on_hand < 0 ? ui_alert_attr(st->u) : 0));
	x += c->on_hand + 1;
	if (c->minimum > 0) {
		if (r->minimum >= 0)
			dep_num(w, y, x, c->minimum, r->minimum, base);
		x += c->minimum + 1;
	}
	if (c->transit > 0) {
		if (r->transit != 0)
			dep_num(w, y, x, c->transit, r->transit, base);
		x += c->transit + 1;
	}
	sattr = dep_status(st, r, status, sizeof status);
	ui_cell(w, y, x, cols - x, status, base | sattr);
}

static void
dep_draw_list(struct depots *st, WINDOW *w, int rows, int cols)
{
	struct dep_cols c = dep_layout(cols);
	int x, y, listrows, sel_line;
	int footer = rows >= 8 ? 2 : rows >= 6 ? 1 : 0;

	listrows = rows - 1 - footer;
	if (listrows < 1)
		listrows = 1;
	st->page = listrows;
	dep_ensure(st, st->list.sel + 2 * listrows + 2);
	st->list.n = st->nview;
	ui_list_fit(&st->list, listrows);

	x = 2;
	wattron(w, A_BOLD);
	ui_cell(w, 0, 0, 2, "", 0);
	ui_cell(w, 0, x, c.item, _("Item"), 0);
	x += c.item + 1;
	ui_head_right(w, 0, x, c.on_hand, _("On hand"));
	x += c.on_hand + 1;
	if (c.minimum > 0) {
		ui_head_right(w, 0, x, c.minimum, _("Min"));
		x += c.minimum + 1;
	}
	if (c.transit > 0) {
		ui_head_right(w, 0, x, c.transit, _("Transit"));
		x += c.transit + 1;
	}
	ui_cell(w, 0, x, cols - x, _("Status"), 0);
	wattroff(w, A_BOLD);

	if (footer > 0)
		ui_cell(w, rows - 1, 0, cols, st->hint, A_DIM);
	if (st->nview == 0) {
		ui_text(w, 2, 1, cols - 2,
		        st->filter[0] != '\0'
		            ? _("no depot or item matches the filter")
		            : _("no depots yet: they come from the server with "
		                "the first sync"),
		        0);
		return;
	}
	/* Keep the selected row on screen, and its depot's line with it
	 * when it is the depot's first row. */
	sel_line = st->line_of[st->list.sel];
	if (sel_line - 1 < st->vtop &&
	    (st->list.sel == 0 || st->rows[st->view[st->list.sel - 1]].depot !=
	                              st->rows[st->view[st->list.sel]].depot))
		st->vtop = sel_line - 1;
	if (sel_line < st->vtop)
		st->vtop = sel_line;
	if (sel_line >= st->vtop + listrows)
		st->vtop = sel_line - listrows + 1;
	if (st->vtop > st->nlist_lines - listrows)
		st->vtop = st->nlist_lines - listrows;
	if (st->vtop < 0)
		st->vtop = 0;
	for (y = 0; y < listrows && st->vtop + y < st->nlist_lines; y++) {
		int depot = -1, vi = dep_line_row(st, st->vtop + y, &depot);

		if (vi >= 0) {
			dep_draw_row(st, w, y + 1, vi, cols, &c);
		} else if (depot >= 0) {
			const struct dep_name *d = &st->depots[depot];
			char *s = dep_fmt(
			    "%s%s", d->name,
			    d->agreement ? _(" (agreement reserve)") : "");
			ui_cell(w, y + 1, 0, cols, s, A_BOLD);
			free(s);
		}
	}
	if (footer == 2) {
		struct dep_row *r = dep_selected(st);
		char *s;

		if (r == NULL)
			return;
		if (r->item >= 0)
			s = dep_fmt(
			    "%s | %s %s (%s)%s%s", st->depots[r->depot].name,
			    st->items[r->item].code, st->items[r->item].name,
			    st->items[r->item].uom,
			    st->filter[0] ? " | / " : "", st->filter);
		else
			s = dep_fmt("%s", st->depots[r->depot].name);
		ui_text(w, rows - 2, 0, cols, s, 1);
		free(s);
	}
}

static void
dep_draw_detail(struct depots *st, WINDOW *w, int rows, int cols)
{
	/* lots: lot, expiry, qty, state; moves: time, kind, qty, lot,
	 * detail, who */
	int wl[4] = {16, 11, 8, 0};
	int wm[6] = {16, 11, 6, 8, 0, 10};
	int y;

	wl[3] = cols - wl[0] - wl[1] - wl[2] - 3;
	if (cols < 70) {
		wm[3] = 0;
		wm[5] = 0;
	}
	wm[4] = cols - wm[0] - wm[1] - wm[2] - wm[3] - wm[5] - 5;
	/* The detail scrolls: dlist.sel is its first line shown. */
	st->dpage = rows;
	st->dlist.n = st->nlines > rows ? st->nlines - rows + 1 : 1;
	ui_list_fit(&st->dlist, rows);
	for (y = 0; y < rows && st->dlist.sel + y < st->nlines; y++) {
		int li = st->dlist.sel + y;
		struct dep_dline *l = &st->lines[li];
		int base = 0;
		const char *head[6];
		int x = 0, n = 0, *wv = NULL;

		if (base)
			mvwchgat(w, y, 0, cols, A_REVERSE, 0, NULL);
		switch (l->kind) {
		case DL_TITLE:
		case DL_TEXT:
			ui_cell(w, y, 0, cols, l->col[0] ? l->col[0] : "",
			        base | l->attr);
			continue;
		case DL_LOTHEAD:
			head[0] = _("Lot");
			head[1] = _("Expiry");
			head[2] = _("Qty");
			head[3] = "";
			for (int i = 0; i < 4; i++) {
				ui_cell(w, y, x, wl[i], head[i], base | A_BOLD);
				x += wl[i] + 1;
			}
			continue;
		case DL_MOVEHEAD:
			head[0] = _("When");
			head[1] = _("Move");
			head[2] = _("Qty");
			head[3] = _("Lot");
			head[4] = _("Detail");
			head[5] = _("By");
			for (int i = 0; i < 6; i++) {
				if (wm[i] <= 0)
					continue;
				ui_cell(w, y, x, wm[i], head[i], base | A_BOLD);
				x += wm[i] + 1;
			}
			continue;
		case DL_LOT:
			wv = wl;
			n = 4;
			break;
		case DL_MOVE:
			wv = wm;
			n = 6;
			break;
		}
		for (int i = 0; i < n; i++) {
			int attr = base;
			if (wv[i] <= 0)
				continue;
			if (l->kind == DL_LOT && i >= 2)
				attr |= l->attr;
			if (i == 2)
				dep_num(w, y, x, wv[i],
				        strtoll(l->col[i], NULL, 10), attr);
			else
				ui_cell(w, y, x, wv[i],
				        l->col[i] ? l->col[i] : "", attr);
			x += wv[i] + 1;
		}
	}
}

static void
dep_draw(struct ui *u, void *arg, WINDOW *w, int rows, int cols)
{
	struct depots *st = arg;

	(void)u;
	if (rows < 1 || cols < 1)
		return;
	if (st->broken[0] != '\0') {
		ui_text(w, 0, 0, cols, st->broken, 1);
		return;
	}
	if (st->detail)
		dep_draw_detail(st, w, rows, cols);
	else
		dep_draw_list(st, w, rows, cols);
}

/* ---- keys and forms ------------------------------------------------------ */

/*
 * Prefill the inputs of a that refer to a kind of record: the input named
 * like the kind if there is one, else the first input of that kind.
 */
static void
dep_prefill(json_t *pre, const struct gk_action *a, const char *ref,
            const char *value)
{
	const struct act_input *first = NULL;

	for (int i = 0; i < a->ninputs; i++) {
		const struct act_input *in = &a->inputs[i];
		if (in->type != ACT_REF || in->ref == NULL ||
		    strcmp(in->ref, ref) != 0)
			continue;
		if (strcmp(in->name, ref) == 0) {
			first = in;
			break;
		}
		if (first == NULL)
			first = in;
	}
	if (first != NULL)
		json_object_set_new(pre, first->name, json_string(value));
}

/*
 * Suggest the lot of a move into pre: for an issue the unexpired lot
 * that expires first (DESIGN.md), for a disposal the lot that expired
 * first. 1 if there was one.
 */
static int
dep_suggest_lot(struct depots *st, const struct dep_row *r, int expired,
                json_t *pre)
{
	sqlite3_stmt *q = st->q_suggest;
	int found = 0;

	sqlite3_bind_text(q, 1, st->depots[r->depot].id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, st->items[r->item].id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, st->today, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 4, expired);
	if (sqlite3_step(q) == SQLITE_ROW &&
	    sqlite3_column_text(q, 0) != NULL) {
		json_object_set_new(
		    pre, "lot",
		    json_string((const char *)sqlite3_column_text(q, 0)));
		found = 1;
	}
	sqlite3_reset(q);
	return found;
}

static void
dep_form(struct depots *st, const char *name)
{
	struct gk_client *c = ui_client(st->u);
	const struct gk_action *a = ui_action_get(st->u, name);
	struct dep_row *r = dep_selected(st);
	const char *target = NULL;
	json_t *pre;

	if (a == NULL)
		return;
	if (r != NULL && a->target != NULL && strcmp(a->target, "depot") == 0)
		target = st->depots[r->depot].id;
	if (a->target != NULL && target == NULL) {
		ui_flash(st->u, "%s", _("select a depot first"));
		return;
	}
	if (!ui_action_may(st->u, a, target))
		return;
	pre = json_object(); /* NULL: an empty form */
	if (r != NULL) {
		const struct dep_name *dn = &st->depots[r->depot];
		if (target == NULL)
			dep_prefill(pre, a, "depot",
			            ui_ref_text(c, "depot", dn->name, dn->id));
		if (r->item >= 0) {
			const struct dep_name *in = &st->items[r->item];
			dep_prefill(pre, a, "item",
			            ui_ref_text(c, "item", in->code, in->id));
			if (strcmp(name, "issue") == 0)
				dep_suggest_lot(st, r, 0, pre);
			else if (strcmp(name, "dispose") == 0 &&
			         r->expired > 0 &&
			         dep_suggest_lot(st, r, 1, pre))
				json_object_set_new(pre, "reason",
				                    json_string("expired"));
		}
	}
	ui_form_open(st->u, a, target, pre, NULL, NULL);
	json_decref(pre);
}

static void
dep_filter_done(struct ui *u, void *arg, const char *text)
{
	struct depots *st = arg;

	if (text == NULL)
		return;
	snprintf(st->filter, sizeof st->filter, "%s", text);
	st->list.sel = st->list.top = 0;
	dep_ensure(st, -1);
	dep_apply_filter(st);
	ui_dirty(u);
}

static int
dep_key(struct ui *u, void *arg, wint_t ch, int is_key)
{
	struct depots *st = arg;

	if (st->detail) {
		if (ui_key_back(ch, is_key)) {
			st->detail = 0;
			dep_lines_free(st);
			ui_dirty(u);
			return 1;
		}
		if (ui_list_key(&st->dlist, ch, is_key,
		                st->dpage > 0 ? st->dpage : 1)) {
			ui_dirty(u);
			return 1;
		}
	} else {
		/* Read the depots the move may reach: all of them for the end.
		 */
		if ((is_key && ch == KEY_END) || (!is_key && ch == L'G'))
			dep_ensure(st, -1);
		else
			dep_ensure(st, st->list.sel +
			                   3 * (st->page > 0 ? st->page : 1));
		if (ui_list_key(&st->list, ch, is_key,
		                st->page > 0 ? st->page : 1)) {
			ui_dirty(u);
			return 1;
		}
		if (!is_key && ch == L'\n') {
			if (dep_selected(st) == NULL)
				return 1;
			st->detail = 1;
			st->dlist.sel = st->dlist.top = 0;
			dep_detail_build(st);
			ui_dirty(u);
			return 1;
		}
		if (!is_key && ch == L'/') {
			ui_prompt_open(u, _("Filter depots and items:"),
			               st->filter, dep_filter_done, st);
			return 1;
		}
		if (!is_key && ch == 27 && st->filter[0] != '\0') {
			st->filter[0] = '\0';
			dep_apply_filter(st);
			ui_dirty(u);
			return 1;
		}
	}
	if (is_key)
		return 0;
	switch (ch) {
	case 'r':
		dep_form(st, "receive");
		return 1;
	case 'i':
		dep_form(st, "issue");
		return 1;
	case 't':
		dep_form(st, "transfer");
		return 1;
	case 'c':
		dep_form(st, "count");
		return 1;
	case 'd':
		dep_form(st, "dispose");
		return 1;
	}
	return 0;
}

/* ---- open and close ------------------------------------------------------ */

static void
dep_close(void *arg)
{
	struct depots *st = arg;
	if (st == NULL)
		return;
	sqlite3_stmt *q[] = {
	    st->q_depots, st->q_items, st->q_keys,  st->q_figs, st->q_transit,
	    st->q_std,    st->q_lots,  st->q_moves, st->q_user, st->q_suggest};

	for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
		sqlite3_finalize(q[i]);
	dep_names_free(st->depots, st->ndepots);
	dep_names_free(st->items, st->nitems);
	dep_lines_free(st);
	free(st->rows);
	free(st->view);
	free(st->line_of);
	free(st->order);
	free(st);
}

static void *
dep_open(struct ui *u)
{
	struct depots *st = dep_alloc(1, sizeof *st);

	st->u = u;
	st->db = ui_client(u)->db;
	if (dep_prepare(st) != 0)
		return st;
	dep_reload(u, st);
	return st;
}

const struct ui_screen ui_screen_depots = {
    N_("Depots"), dep_open, dep_close, dep_reload, dep_draw, dep_key, dep_help,
};
