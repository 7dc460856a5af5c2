/*
 * hazard.c: the hazard workflow of DESIGN.md, and the status derived from
 * a hazard's events.
 *
 * Why derived and not merged. Offline, two people can move the same hazard
 * at once: a station verifies it (reported -> verified) while the street
 * rejects it (reported -> rejected). If status were a field merged last-
 * writer-wins, the later stamp would silently overwrite the other act, and
 * a replica could even walk backwards (a late "verified" landing on a
 * hazard already resolved). So the status is never written by a change.
 * Each act is an append-only hazard_events row, and the merge gives every
 * replica the same set of rows in the end (insert if absent). The status,
 * reporter, plan, resolved time and each event's conflict flag are a pure
 * function of that set, computed here; equal sets give equal results,
 * whatever order the rows arrived in and however often.
 *
 * The function. Take the hazard's events in (hlc, node, id) order and
 * replay them from "new":
 *
 *   transition  legal iff from_status is the current state and the table
 *               below allows from -> to at all. Then the state becomes to;
 *               from "new" the author is the reporter; to "rectifying"
 *               with any plan field, the event's four plan fields are the
 *               plan; to "resolved", resolved_at is the event's
 *               occurred_at; back to "rectifying" from resolved or closed
 *               (a reopen), resolved_at is NULL again.
 *   plan        legal iff the state is verified or rectifying; the event's
 *               four plan fields are the plan.
 *   note        always legal, changes nothing.
 *
 * Any other event (unknown kind, missing or unknown status word) is
 * illegal. An illegal event is kept, flagged conflict = 1 for the street
 * to settle, and leaves everything as it was; hazards.conflicts counts
 * the flagged events. Who may make a transition is not checked here: the
 * role was checked when the change was pushed, and the role of an author
 * is not part of the event set, so using it would break convergence. The
 * id is the last key of the order only so that two events that share
 * (hlc, node), which no honest node produces, still order the same way
 * everywhere.
 *
 * Invariants. Nothing read here depends on arrival order: not the hazard
 * row's merged fields, not the derived columns themselves, not rowids.
 * Every call replays from scratch, so a flag may flip either way while
 * events are still arriving (an earlier event turns up and a later one
 * stops fitting); once all have arrived, every replica holds the same
 * flags. The merge calls hazard_derive_tx after every new event and after
 * a hazards row is created, inside its transaction; a hazard whose row
 * has not arrived gets its event flags now and its row when the row comes.
 *
 * Cost. One indexed range scan of the hazard's events (hazard_events_order;
 * the id tie-break adds a sort of equal keys only), so O(events) per call
 * and O(n^2) over a hazard's life of n events, with n in the tens. Nothing
 * is written unless it changed: only events whose flag flips, and the
 * hazards row only when its UPDATE's WHERE finds a derived column that
 * differs, so re-deriving an unchanged hazard dirties no page. The
 * statements and buffers live in struct gk_hazard_deriver and are reused,
 * so a call allocates nothing once the buffers have grown.
 */
#include <stdlib.h>
#include <string.h>

#include "sync.h"

#define ADMIN   GK_ROLE_BIT(GK_ROLE_ADMIN)
#define STREET  GK_ROLE_BIT(GK_ROLE_STREET)
#define STATION GK_ROLE_BIT(GK_ROLE_STATION)
#define WORKER  GK_ROLE_BIT(GK_ROLE_GRID_WORKER)

/* Who may make each transition; 0 = never allowed. The admin may make
 * every allowed transition. */
static const unsigned transitions[GK_HS_COUNT][GK_HS_COUNT] = {
    [GK_HS_NEW][GK_HS_REPORTED] = WORKER | STATION | ADMIN,
    [GK_HS_NEW][GK_HS_RESOLVED] = WORKER | STATION | ADMIN, /* 立查立改 */
    [GK_HS_REPORTED][GK_HS_VERIFIED] = STATION | STREET | ADMIN,
    [GK_HS_VERIFIED][GK_HS_RECTIFYING] = STATION | STREET | ADMIN,
    [GK_HS_RECTIFYING][GK_HS_RESOLVED] = STATION | STREET | ADMIN,
    [GK_HS_RESOLVED][GK_HS_CLOSED] = STREET | ADMIN,
    [GK_HS_REPORTED][GK_HS_REJECTED] = STREET | ADMIN,
    [GK_HS_VERIFIED][GK_HS_REJECTED] = STREET | ADMIN,
    [GK_HS_RESOLVED][GK_HS_RECTIFYING] = STREET | ADMIN, /* reopened */
    [GK_HS_CLOSED][GK_HS_RECTIFYING] = STREET | ADMIN,
};

int
hazard_status_parse(const char *s, enum gk_hstatus *out)
{
	for (int i = 0; i < GK_HS_COUNT; i++)
		if (strcmp(s, gk_hazard_status_words[i]) == 0) {
			*out = (enum gk_hstatus)i;
			return GK_OK;
		}
	return GK_E_ENUM;
}

const char *
hazard_status_name(enum gk_hstatus s)
{
	return (unsigned)s < GK_HS_COUNT ? gk_hazard_status_words[s]
	                                 : "unknown";
}

unsigned
hazard_transition_roles(enum gk_hstatus from, enum gk_hstatus to)
{
	if ((unsigned)from >= GK_HS_COUNT || (unsigned)to >= GK_HS_COUNT)
		return 0;
	return transitions[from][to];
}

/* ---- deriving ----------------------------------------------------------- */

#define HAZARD_NPLAN 4 /* measures, responsible, deadline, acceptor */

/* The columns of hazard_sql_events. */
enum {
	EV_ROWID,
	EV_KIND,
	EV_FROM,
	EV_TO,
	EV_PLAN,
	EV_OCCURRED = EV_PLAN + HAZARD_NPLAN,
	EV_AUTHOR,
	EV_CONFLICT
};

static const char hazard_sql_events[] =
    "SELECT rowid, kind, from_status, to_status, plan_measures,"
    " plan_responsible, plan_deadline, plan_acceptor, occurred_at, author,"
    " conflict FROM hazard_events WHERE hazard = ?1"
    " ORDER BY hlc, node, id";
static const char hazard_sql_set_event[] =
    "UPDATE hazard_events SET conflict = ?2 WHERE rowid = ?1";
/* The WHERE makes an unchanged row a read, never a write. */
static const char hazard_sql_set_hazard[] =
    "UPDATE hazards SET status = ?2, reporter = ?3, plan_measures = ?4,"
    " plan_responsible = ?5, plan_deadline = ?6, plan_acceptor = ?7,"
    " resolved_at = ?8, conflicts = ?9"
    " WHERE id = ?1 AND (status IS NOT ?2 OR reporter IS NOT ?3"
    " OR plan_measures IS NOT ?4 OR plan_responsible IS NOT ?5"
    " OR plan_deadline IS NOT ?6 OR plan_acceptor IS NOT ?7"
    " OR resolved_at IS NOT ?8 OR conflicts IS NOT ?9)";

/* A text column's value, NULL or not, kept across sqlite3_step. */
struct hazard_text {
	char *s;
	size_t len, cap;
	int null;
};

/* An event whose stored conflict flag is not the derived one. */
struct hazard_flip {
	sqlite3_int64 rowid;
	int conflict;
};

struct gk_hazard_deriver {
	sqlite3 *db;
	sqlite3_stmt *events, *set_event, *set_hazard;

	/* The replay's state, reset by each hazard_derive_tx. */
	enum gk_hstatus status;
	struct hazard_text reporter;
	struct hazard_text plan[HAZARD_NPLAN];
	struct hazard_text resolved_at;
	sqlite3_int64 conflicts;

	struct hazard_flip *flips;
	size_t nflips, flipcap;
};

static int
hazard_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st,
               struct gk_error *err)
{
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
	                       NULL) != SQLITE_OK)
		return gk_error_set(err, GK_E_DB, "hazard: %s",
		                    sqlite3_errmsg(db));
	return GK_OK;
}

struct gk_hazard_deriver *
hazard_deriver_new(sqlite3 *db, struct gk_error *err)
{
	struct gk_hazard_deriver *d;

	if ((d = calloc(1, sizeof *d)) == NULL) {
		gk_error_set(err, GK_E_NOMEM, "out of memory");
		return NULL;
	}
	d->db = db;
	if (hazard_prepare(db, hazard_sql_events, &d->events, err) != GK_OK ||
	    hazard_prepare(db, hazard_sql_set_event, &d->set_event, err) !=
	        GK_OK ||
	    hazard_prepare(db, hazard_sql_set_hazard, &d->set_hazard, err) !=
	        GK_OK)
		goto fail;
	return d;

fail:
	hazard_deriver_free(d);
	return NULL;
}

void
hazard_deriver_free(struct gk_hazard_deriver *d)
{
	if (d == NULL)
		return;
	sqlite3_finalize(d->events);
	sqlite3_finalize(d->set_event);
	sqlite3_finalize(d->set_hazard);
	free(d->reporter.s);
	for (int i = 0; i < HAZARD_NPLAN; i++)
		free(d->plan[i].s);
	free(d->resolved_at.s);
	free(d->flips);
	free(d);
}

/* Copy column col of the current row into t; GK_E_NOMEM if it cannot. */
static int
hazard_text_copy(struct hazard_text *t, sqlite3_stmt *st, int col)
{
	const unsigned char *s;
	size_t len;

	if (sqlite3_column_type(st, col) == SQLITE_NULL) {
		t->null = 1;
		t->len = 0;
		return GK_OK;
	}
	s = sqlite3_column_text(st, col);
	if (s == NULL) /* out of memory converting the value */
		return GK_E_NOMEM;
	len = (size_t)sqlite3_column_bytes(st, col);
	if (len + 1 > t->cap) {
		char *ns = realloc(t->s, len + 1);
		if (ns == NULL)
			return GK_E_NOMEM;
		t->s = ns;
		t->cap = len + 1;
	}
	memcpy(t->s, s, len + 1);
	t->len = len;
	t->null = 0;
	return GK_OK;
}

static void
hazard_text_clear(struct hazard_text *t)
{
	t->null = 1;
	t->len = 0;
}

static int
hazard_text_bind(sqlite3_stmt *st, int idx, const struct hazard_text *t)
{
	if (t->null)
		return sqlite3_bind_null(st, idx);
	return sqlite3_bind_text(st, idx, t->s, (int)t->len, SQLITE_STATIC);
}

/* The status word in column col, or -1 if it is NULL or no status. */
static int
hazard_column_status(sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);
	enum gk_hstatus hs;

	if (s == NULL || hazard_status_parse(s, &hs) != GK_OK)
		return -1;
	return (int)hs;
}

static int
hazard_has_plan(sqlite3_stmt *st)
{
	for (int i = 0; i < HAZARD_NPLAN; i++)
		if (sqlite3_column_type(st, EV_PLAN + i) != SQLITE_NULL)
			return 1;
	return 0;
}

static int
hazard_take_plan(struct gk_hazard_deriver *d, sqlite3_stmt *st)
{
	for (int i = 0; i < HAZARD_NPLAN; i++)
		if (hazard_text_copy(&d->plan[i], st, EV_PLAN + i) != GK_OK)
			return GK_E_NOMEM;
	return GK_OK;
}

/*
 * Apply the event in the current row of d->events to the state. Sets
 * *conflict to 1 if the event is illegal at this place (state untouched),
 * else 0. Fails only for lack of memory.
 */
static int
hazard_replay(struct gk_hazard_deriver *d, sqlite3_stmt *st, int *conflict)
{
	const char *kind = (const char *)sqlite3_column_text(st, EV_KIND);
	int from, to;

	*conflict = 1;
	if (kind == NULL)
		return GK_OK;
	if (strcmp(kind, "note") == 0) {
		*conflict = 0;
		return GK_OK;
	}
	if (strcmp(kind, "plan") == 0) {
		if (d->status != GK_HS_VERIFIED &&
		    d->status != GK_HS_RECTIFYING)
			return GK_OK;
		*conflict = 0;
		return hazard_take_plan(d, st);
	}
	if (strcmp(kind, "transition") != 0)
		return GK_OK;

	from = hazard_column_status(st, EV_FROM);
	to = hazard_column_status(st, EV_TO);
	if (from < 0 || to < 0 || (enum gk_hstatus)from != d->status ||
	    hazard_transition_roles(from, to) == 0)
		return GK_OK;
	*conflict = 0;
	d->status = (enum gk_hstatus)to;
	if (from == GK_HS_NEW &&
	    hazard_text_copy(&d->reporter, st, EV_AUTHOR) != GK_OK)
		return GK_E_NOMEM;
	if (to == GK_HS_RESOLVED &&
	    hazard_text_copy(&d->resolved_at, st, EV_OCCURRED) != GK_OK)
		return GK_E_NOMEM;
	if (to == GK_HS_RECTIFYING) {
		if (from == GK_HS_RESOLVED || from == GK_HS_CLOSED)
			hazard_text_clear(&d->resolved_at);
		if (hazard_has_plan(st))
			return hazard_take_plan(d, st);
	}
	return GK_OK;
}

static int
hazard_add_flip(struct gk_hazard_deriver *d, sqlite3_int64 rowid, int conflict)
{
	if (d->nflips == d->flipcap) {
		size_t ncap = d->flipcap ? d->flipcap * 2 : 16;
		struct hazard_flip *nf = realloc(d->flips, ncap * sizeof *nf);
		if (nf == NULL)
			return GK_E_NOMEM;
		d->flips = nf;
		d->flipcap = ncap;
	}
	d->flips[d->nflips].rowid = rowid;
	d->flips[d->nflips].conflict = conflict;
	d->nflips++;
	return GK_OK;
}

/* Step a write statement to its end and reset it; GK_E_DB on failure. */
static int
hazard_write(struct gk_hazard_deriver *d, sqlite3_stmt *st,
             struct gk_error *err)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return gk_error_set(err, GK_E_DB, "hazard: %s",
		                    sqlite3_errmsg(d->db));
	return GK_OK;
}

int
hazard_derive_tx(struct gk_hazard_deriver *d, const char *hazard_id,
                 struct gk_error *err)
{
	sqlite3_stmt *ev = d->events, *sh = d->set_hazard;
	int rc = GK_OK, step, conflict;

	d->status = GK_HS_NEW;
	hazard_text_clear(&d->reporter);
	for (int i = 0; i < HAZARD_NPLAN; i++)
		hazard_text_clear(&d->plan[i]);
	hazard_text_clear(&d->resolved_at);
	d->conflicts = 0;
	d->nflips = 0;

	/* Replay first, write after: no write while the scan is open. */
	sqlite3_bind_text(ev, 1, hazard_id, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(ev)) == SQLITE_ROW) {
		if ((rc = hazard_replay(d, ev, &conflict)) != GK_OK)
			break;
		d->conflicts += conflict;
		if ((sqlite3_column_int(ev, EV_CONFLICT) != 0) != conflict &&
		    (rc = hazard_add_flip(d, sqlite3_column_int64(ev, EV_ROWID),
		                          conflict)) != GK_OK)
			break;
	}
	if (rc == GK_E_NOMEM) {
		gk_error_set(err, rc, "hazard %s: out of memory", hazard_id);
		goto out;
	}
	if (step != SQLITE_DONE) {
		rc = gk_error_set(err, GK_E_DB, "hazard %s: %s", hazard_id,
		                  sqlite3_errmsg(d->db));
		goto out;
	}
	sqlite3_reset(ev);

	for (size_t i = 0; i < d->nflips; i++) {
		sqlite3_bind_int64(d->set_event, 1, d->flips[i].rowid);
		sqlite3_bind_int(d->set_event, 2, d->flips[i].conflict);
		if ((rc = hazard_write(d, d->set_event, err)) != GK_OK)
			goto out;
	}

	sqlite3_bind_text(sh, 1, hazard_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(sh, 2, hazard_status_name(d->status), -1,
	                  SQLITE_STATIC);
	hazard_text_bind(sh, 3, &d->reporter);
	for (int i = 0; i < HAZARD_NPLAN; i++)
		hazard_text_bind(sh, 4 + i, &d->plan[i]);
	hazard_text_bind(sh, 8, &d->resolved_at);
	sqlite3_bind_int64(sh, 9, d->conflicts);
	rc = hazard_write(d, sh, err);

out:
	sqlite3_reset(ev);
	sqlite3_clear_bindings(ev);
	sqlite3_clear_bindings(sh);
	return rc;
}
