/*
 * check.c: `gridkeepd check`, the integrity check and the record
 * invariants.
 *
 * check reads everything inside one transaction, so it sees one state,
 * and rolls that transaction back: re-deriving the hazards writes, and a
 * check must change nothing. Each invariant prints one line, "name: ok
 * (...)" or "name: FAILED (...)", then up to CHECK_SHOW indented lines
 * naming rows. Stock or points below zero are not failures: offline work
 * makes them (two stations issue the last bottles at once), and DESIGN.md
 * wants them shown, never hidden or fixed, so they are listed as
 * "discrepancy: ..." lines and leave the exit status alone.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gridkeepd.h"

/* ---- small SQL helpers ----------------------------------------------------
 */

/*
 * Copy text from the database for printing: NULL becomes "(none)", and
 * C0 controls and DEL (which a hand-edited file could hold) become '?'.
 */
static const char *
safe_copy(char *dst, size_t size, const unsigned char *src)
{
	size_t i;

	if (src == NULL)
		src = (const unsigned char *)"(none)";
	for (i = 0; src[i] != '\0' && i + 1 < size; i++)
		dst[i] = (char)(src[i] < 0x20 || src[i] == 0x7f ? '?' : src[i]);
	dst[i] = '\0';
	return dst;
}

/* ---- check ------------------------------------------------------------------
 */

#define CHECK_SHOW 10 /* detail lines shown per invariant */
#define CHECK_LINE 512

struct check {
	struct gk_server *s;
	sqlite3 *db;

	/* The invariant being checked. */
	int problems;
	int nlines, hidden;
	char lines[CHECK_SHOW][CHECK_LINE];
	int is_problem[CHECK_SHOW];

	/* The whole check. */
	int invariants, failed, discrepancies;

	/* Names to print beside ids. */
	sqlite3_stmt *depot_name, *item_name, *volunteer_name;
};

static void
check_start(struct check *ck)
{
	ck->problems = 0;
	ck->nlines = 0;
	ck->hidden = 0;
}

/* Keep a line to show; once CHECK_SHOW are kept, a problem replaces a note. */
static void
check_vline(struct check *ck, int problem, const char *fmt, va_list ap)
{
	int i = ck->nlines;

	if (i == CHECK_SHOW) {
		ck->hidden++;
		for (i = CHECK_SHOW - 1; i >= 0; i--)
			if (problem && !ck->is_problem[i])
				break;
		if (i < 0)
			return;
	} else {
		ck->nlines++;
	}
	ck->is_problem[i] = problem;
	vsnprintf(ck->lines[i], CHECK_LINE, fmt, ap);
}

/* A row that breaks the invariant being checked. */
static void __attribute__((format(printf, 2, 3)))
check_problem(struct check *ck, const char *fmt, ...)
{
	va_list ap;

	ck->problems++;
	va_start(ap, fmt);
	check_vline(ck, 1, fmt, ap);
	va_end(ap);
}

/* Something worth knowing that breaks nothing. */
static void __attribute__((format(printf, 2, 3)))
check_note(struct check *ck, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_vline(ck, 0, fmt, ap);
	va_end(ap);
}

/*
 * Print the invariant's line, with what holds when it holds, then its
 * problems and then its notes.
 */
static void __attribute__((format(printf, 3, 4)))
check_finish(struct check *ck, const char *name, const char *fmt, ...)
{
	char detail[CHECK_LINE];
	va_list ap;

	ck->invariants++;
	if (ck->problems > 0) {
		ck->failed++;
		printf("%s: FAILED (%d problem%s)\n", name, ck->problems,
		       ck->problems == 1 ? "" : "s");
	} else {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof detail, fmt, ap);
		va_end(ap);
		printf("%s: ok (%s)\n", name, detail);
	}
	for (int problem = 1; problem >= 0; problem--)
		for (int i = 0; i < ck->nlines; i++)
			if (ck->is_problem[i] == problem)
				printf("  %s\n", ck->lines[i]);
	if (ck->hidden > 0)
		printf("  ... and %d more\n", ck->hidden);
}

/* The name of a depot, item or volunteer, or its id if it has none. */
static const char *
check_name(sqlite3_stmt *st, const char *id, char *buf, size_t size)
{
	const unsigned char *name = NULL;

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		name = sqlite3_column_text(st, 0);
	safe_copy(buf, size, name != NULL ? name : (const unsigned char *)id);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return buf;
}

static int
check_integrity(struct check *ck, struct gk_error *err)
{
	struct gk_error e = {0};

	ck->invariants++;
	if (db_check(ck->db, 1, &e) != GK_OK) {
		printf("integrity: FAILED (%s)\n", e.msg);
		return gk_error_set(err, GK_E_CORRUPT,
		                    "check: %s is damaged; restore it from "
		                    "a backup",
		                    ck->s->db_path);
	}
	printf("integrity: ok (integrity_check)\n");
	return GK_OK;
}

static int
check_schema(struct check *ck, struct gk_error *err)
{
	int rec = schema_version(ck->db, "records");
	int srv = schema_version(ck->db, "server");
	int lrec = schema_latest("records"), lsrv = schema_latest("server");

	ck->invariants++;
	if (schema_version(ck->db, "client") > 0) {
		printf("schema: FAILED (a gridkeep replica)\n");
		return gk_error_set(err, GK_E_USAGE,
		                    "%s is a station replica, not a gridkeepd "
		                    "database",
		                    ck->s->db_path);
	}
	if (rec == 0 && srv == 0) {
		printf("schema: FAILED (none)\n");
		return gk_error_set(err, GK_E_NOT_FOUND,
		                    "%s is not a gridkeepd database (gridkeepd "
		                    "init creates one)",
		                    ck->s->db_path);
	}
	if (rec > lrec || srv > lsrv) {
		printf("schema: FAILED (records %d, server %d: newer than "
		       "this gridkeepd's %d, %d)\n",
		       rec, srv, lrec, lsrv);
		return gk_error_set(err, GK_E_SCHEMA_NEWER,
		                    "database schema is records %d, server %d, "
		                    "newer than this program's %d, %d: use a "
		                    "newer gridkeepd",
		                    rec, srv, lrec, lsrv);
	}
	if (rec < lrec || srv < lsrv) {
		printf("schema: FAILED (records %d, server %d: older than "
		       "this gridkeepd's %d, %d)\n",
		       rec, srv, lrec, lsrv);
		return gk_error_set(err, GK_E_CORRUPT,
		                    "check: the schema of %s is older than "
		                    "this gridkeepd's: gridkeepd init "
		                    "migrates it",
		                    ck->s->db_path);
	}
	printf("schema: ok (records %d, server %d)\n", rec, srv);
	return GK_OK;
}

/*
 * Every reference an append-only row makes must name a row that exists:
 * such rows are never edited, so nothing could repair one later.
 */
#define CHECK_REF(t, col, parent)                                              \
	"SELECT x.id, x." col " FROM " t " x WHERE NOT EXISTS (SELECT 1 "      \
	"FROM " parent " p WHERE p.id = x." col ") ORDER BY x.id"

static const struct {
	const char *row, *col, *sql;
} check_refs[] = {
    {"stock move", "depot", CHECK_REF("stock_moves", "depot", "depots")},
    {"stock move", "item", CHECK_REF("stock_moves", "item", "items")},
    {"point entry", "volunteer",
     CHECK_REF("point_entries", "volunteer", "volunteers")},
    {"hazard event", "hazard", CHECK_REF("hazard_events", "hazard", "hazards")},
    {"notice ack", "notice", CHECK_REF("notice_acks", "notice", "notices")},
    {"inspection", "grid", CHECK_REF("inspections", "grid", "units")},
    {"replenishment request", "depot",
     CHECK_REF("replenishment_requests", "depot", "depots")},
    {"replenishment request", "item",
     CHECK_REF("replenishment_requests", "item", "items")},
};

static int
check_references(struct check *ck, struct gk_error *err)
{
	char id[GK_ID_LEN + 1], ref[64];
	sqlite3_stmt *st;
	size_t i;
	int rc = GK_OK, r;

	check_start(ck);
	for (i = 0; i < sizeof check_refs / sizeof check_refs[0]; i++) {
		if ((rc = store_prepare(ck->db, check_refs[i].sql, &st, err)) !=
		    GK_OK)
			return rc;
		while ((r = sqlite3_step(st)) == SQLITE_ROW)
			check_problem(ck, "%s %s names a missing %s %s",
			              check_refs[i].row,
			              safe_copy(id, sizeof id,
			                        sqlite3_column_text(st, 0)),
			              check_refs[i].col,
			              safe_copy(ref, sizeof ref,
			                        sqlite3_column_text(st, 1)));
		if (r != SQLITE_DONE)
			rc = gk_error_set(err, GK_E_DB, "%s",
			                  sqlite3_errmsg(ck->db));
		sqlite3_finalize(st);
		if (rc != GK_OK)
			return rc;
	}
	check_finish(ck, "references",
	             "every row an append-only record names exists");
	return GK_OK;
}

/* One half of a transfer, as read. */
struct check_half {
	char id[GK_ID_LEN + 1], depot[64], item[64], counterpart[64];
	int64_t quantity;
};

struct check_transfer {
	char id[64];
	int nout, nin;
	struct check_half out, in;
};

static void
check_half_read(struct check_half *h, sqlite3_stmt *st)
{
	safe_copy(h->id, sizeof h->id, sqlite3_column_text(st, 1));
	safe_copy(h->depot, sizeof h->depot, sqlite3_column_text(st, 3));
	safe_copy(h->item, sizeof h->item, sqlite3_column_text(st, 4));
	h->quantity = sqlite3_column_int64(st, 5);
	safe_copy(h->counterpart, sizeof h->counterpart,
	          sqlite3_column_text(st, 6));
}

/* Judge one transfer once all its moves are read. */
static void
check_transfer_end(struct check *ck, const struct check_transfer *t,
                   int *matched, int *transit)
{
	const struct check_half *o = &t->out, *i = &t->in;
	char item[CHECK_LINE / 4], from[CHECK_LINE / 4], to[CHECK_LINE / 4];

	if (t->nout == 0) {
		check_problem(ck,
		              "transfer %s has a transfer_in and no "
		              "transfer_out",
		              t->id);
	} else if (t->nout > 1 || t->nin > 1) {
		check_problem(ck,
		              "transfer %s has %d transfer_out and %d "
		              "transfer_in moves",
		              t->id, t->nout, t->nin);
	} else if (t->nin == 0) {
		check_note(
		    ck, "in transit: %s x%lld from %s to %s (transfer %s)",
		    check_name(ck->item_name, o->item, item, sizeof item),
		    (long long)-o->quantity,
		    check_name(ck->depot_name, o->depot, from, sizeof from),
		    check_name(ck->depot_name, o->counterpart, to, sizeof to),
		    t->id);
		(*transit)++;
	} else if (strcmp(o->item, i->item) != 0) {
		check_problem(
		    ck, "transfer %s: its halves move different items", t->id);
	} else if (o->quantity >= 0 || i->quantity != -o->quantity) {
		check_problem(ck,
		              "transfer %s: quantities %lld out and %lld in "
		              "do not mirror each other",
		              t->id, (long long)o->quantity,
		              (long long)i->quantity);
	} else if (strcmp(o->depot, i->counterpart) != 0 ||
	           strcmp(i->depot, o->counterpart) != 0) {
		check_problem(ck,
		              "transfer %s: its depots and counterparts "
		              "do not cross",
		              t->id);
	} else {
		(*matched)++;
	}
}

static int
check_transfers(struct check *ck, struct gk_error *err)
{
	static const char sql[] =
	    "SELECT transfer_id, id, kind, depot, item, quantity, counterpart "
	    "FROM stock_moves WHERE transfer_id IS NOT NULL "
	    "OR kind IN ('transfer_out', 'transfer_in') ORDER BY transfer_id, "
	    "id";
	struct check_transfer t;
	char id[GK_ID_LEN + 1], kind[32];
	sqlite3_stmt *st;
	int rc = GK_OK, r, matched = 0, transit = 0;

	check_start(ck);
	memset(&t, 0, sizeof t);
	if ((rc = store_prepare(ck->db, sql, &st, err)) != GK_OK)
		return rc;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *tid = sqlite3_column_text(st, 0);

		safe_copy(id, sizeof id, sqlite3_column_text(st, 1));
		safe_copy(kind, sizeof kind, sqlite3_column_text(st, 2));
		if (tid == NULL) {
			check_problem(ck,
			              "stock move %s is a %s without a "
			              "transfer id",
			              id, kind);
			continue;
		}
		if (t.id[0] == '\0' || strcmp(t.id, (const char *)tid) != 0) {
			if (t.id[0] != '\0')
				check_transfer_end(ck, &t, &matched, &transit);
			memset(&t, 0, sizeof t);
			safe_copy(t.id, sizeof t.id, tid);
		}
		if (strcmp(kind, "transfer_out") == 0) {
			if (t.nout++ == 0)
				check_half_read(&t.out, st);
		} else if (strcmp(kind, "transfer_in") == 0) {
			if (t.nin++ == 0)
				check_half_read(&t.in, st);
		} else {
			check_problem(ck,
			              "stock move %s has a transfer id but "
			              "is a %s",
			              id, kind);
		}
	}
	if (r != SQLITE_DONE)
		rc = gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(ck->db));
	else if (t.id[0] != '\0')
		check_transfer_end(ck, &t, &matched, &transit);
	sqlite3_finalize(st);
	if (rc != GK_OK)
		return rc;
	check_finish(ck, "transfers", "%d matched, %d in transit", matched,
	             transit);
	return GK_OK;
}

static int
check_earns(struct check *ck, struct gk_error *err)
{
	static const char sql[] =
	    "SELECT volunteer, activity, count(*) FROM point_entries "
	    "WHERE kind = 'earn' GROUP BY volunteer, activity "
	    "HAVING count(*) > 1 ORDER BY volunteer, activity";
	char name[CHECK_LINE / 2], activity[CHECK_LINE / 4];
	sqlite3_stmt *st;
	int rc = GK_OK, r;

	check_start(ck);
	if ((rc = store_prepare(ck->db, sql, &st, err)) != GK_OK)
		return rc;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);

		safe_copy(activity, sizeof activity,
		          sqlite3_column_text(st, 1));
		check_problem(ck,
		              "volunteer %s has %d earn entries for "
		              "activity %s",
		              v != NULL ? check_name(ck->volunteer_name, v,
		                                     name, sizeof name)
		                        : "(none)",
		              sqlite3_column_int(st, 2), activity);
	}
	if (r != SQLITE_DONE)
		rc = gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(ck->db));
	sqlite3_finalize(st);
	if (rc != GK_OK)
		return rc;
	check_finish(ck, "earns", "at most one per volunteer and activity");
	return GK_OK;
}

/*
 * The derived columns of hazards and hazard_events are copied to temporary
 * tables, every hazard is derived again, and the two are compared. All of
 * it is rolled back with the check's transaction.
 */
static const char *const check_hazard_cols[] = {
    "status",        "reporter",      "plan_measures", "plan_responsible",
    "plan_deadline", "plan_acceptor", "resolved_at",   "conflicts"};
#define CHECK_NHCOLS 8

static int
check_hazards(struct check *ck, struct gk_error *err)
{
	static const char copy[] =
	    "CREATE TEMP TABLE check_hazards AS SELECT id, title, status, "
	    "reporter, plan_measures, plan_responsible, plan_deadline, "
	    "plan_acceptor, resolved_at, conflicts FROM main.hazards";
	static const char copy_events[] =
	    "CREATE TEMP TABLE check_events AS SELECT id, hazard, conflict "
	    "FROM main.hazard_events";
	static const char compare[] =
	    "SELECT b.id, b.title, b.status, h.status, b.reporter, h.reporter, "
	    "b.plan_measures, h.plan_measures, b.plan_responsible, "
	    "h.plan_responsible, b.plan_deadline, h.plan_deadline, "
	    "b.plan_acceptor, h.plan_acceptor, b.resolved_at, h.resolved_at, "
	    "b.conflicts, h.conflicts FROM temp.check_hazards b "
	    "JOIN main.hazards h ON h.id = b.id WHERE b.status IS NOT h.status "
	    "OR b.reporter IS NOT h.reporter "
	    "OR b.plan_measures IS NOT h.plan_measures "
	    "OR b.plan_responsible IS NOT h.plan_responsible "
	    "OR b.plan_deadline IS NOT h.plan_deadline "
	    "OR b.plan_acceptor IS NOT h.plan_acceptor "
	    "OR b.resolved_at IS NOT h.resolved_at "
	    "OR b.conflicts IS NOT h.conflicts ORDER BY b.id";
	static const char compare_events[] =
	    "SELECT b.id, b.hazard, b.conflict, e.conflict "
	    "FROM temp.check_events b JOIN main.hazard_events e ON e.id = b.id "
	    "WHERE b.conflict IS NOT e.conflict ORDER BY b.id";
	struct gk_hazard_deriver *d = NULL;
	sqlite3_stmt *st = NULL;
	char id[GK_ID_LEN + 1], hz[GK_ID_LEN + 1], title[CHECK_LINE / 4];
	char was[CHECK_LINE / 4], now[CHECK_LINE / 4];
	int rc, r, n = 0;

	check_start(ck);
	if ((rc = db_exec(ck->db, copy, err)) != GK_OK ||
	    (rc = db_exec(ck->db, copy_events, err)) != GK_OK)
		goto out;
	if ((d = hazard_deriver_new(ck->db, err)) == NULL) {
		rc = err != NULL ? err->code : GK_E_DB;
		goto out;
	}
	if ((rc = store_prepare(ck->db,
	                        "SELECT id FROM temp.check_hazards "
	                        "WHERE id IS NOT NULL ORDER BY id",
	                        &st, err)) != GK_OK)
		goto out;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		rc = hazard_derive_tx(
		    d, (const char *)sqlite3_column_text(st, 0), err);
		if (rc != GK_OK)
			goto out;
		n++;
	}
	if (r != SQLITE_DONE) {
		rc = gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(ck->db));
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;

	if ((rc = store_prepare(ck->db, compare, &st, err)) != GK_OK)
		goto out;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		int c;

		for (c = 0; c < CHECK_NHCOLS - 1; c++) {
			const unsigned char *a =
			    sqlite3_column_text(st, 2 + 2 * c);
			const unsigned char *b =
			    sqlite3_column_text(st, 3 + 2 * c);
			if ((a == NULL) != (b == NULL) ||
			    (a != NULL &&
			     strcmp((const char *)a, (const char *)b) != 0))
				break;
		}
		check_problem(
		    ck, "hazard %s (%s): %s is %s, derived %s",
		    safe_copy(id, sizeof id, sqlite3_column_text(st, 0)),
		    safe_copy(title, sizeof title, sqlite3_column_text(st, 1)),
		    check_hazard_cols[c],
		    safe_copy(was, sizeof was,
		              sqlite3_column_text(st, 2 + 2 * c)),
		    safe_copy(now, sizeof now,
		              sqlite3_column_text(st, 3 + 2 * c)));
	}
	if (r != SQLITE_DONE) {
		rc = gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(ck->db));
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;

	if ((rc = store_prepare(ck->db, compare_events, &st, err)) != GK_OK)
		goto out;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		check_problem(
		    ck,
		    "hazard event %s of hazard %s: conflict is "
		    "%d, derived %d",
		    safe_copy(id, sizeof id, sqlite3_column_text(st, 0)),
		    safe_copy(hz, sizeof hz, sqlite3_column_text(st, 1)),
		    sqlite3_column_int(st, 2), sqlite3_column_int(st, 3));
	if (r != SQLITE_DONE) {
		rc = gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(ck->db));
		goto out;
	}
	check_finish(ck, "hazards",
	             "%d hazards derived again from their events, equal", n);
	rc = GK_OK;

out:
	sqlite3_finalize(st);
	hazard_deriver_free(d);
	return rc;
}

/* Every row of the change log decodes, and says what its columns say. */
static int
check_changes(struct check *ck, struct gk_error *err)
{
	static const char sql[] = "SELECT seq, id, tbl, row_id, author, json "
	                          "FROM changes ORDER BY seq";
	struct gk_change c;
	struct gk_error e;
	sqlite3_stmt *st;
	int rc, r, n = 0;

	check_start(ck);
	if ((rc = store_prepare(ck->db, sql, &st, err)) != GK_OK)
		return rc;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		long long seq = sqlite3_column_int64(st, 0);
		const char *id = (const char *)sqlite3_column_text(st, 1);
		const char *tbl = (const char *)sqlite3_column_text(st, 2);
		const char *row = (const char *)sqlite3_column_text(st, 3);
		const char *author = (const char *)sqlite3_column_text(st, 4);
		const char *json = (const char *)sqlite3_column_text(st, 5);

		n++;
		memset(&e, 0, sizeof e);
		if (json == NULL ||
		    change_decode(json, (size_t)sqlite3_column_bytes(st, 5), &c,
		                  &e) != GK_OK) {
			check_problem(ck, "change %lld does not decode: %s: %s",
			              seq, gk_code_name(e.code),
			              json == NULL ? "no JSON" : e.msg);
			continue;
		}
		if (id == NULL || strcmp(id, c.id) != 0 || tbl == NULL ||
		    strcmp(tbl, c.table->name) != 0 || row == NULL ||
		    strcmp(row, c.row) != 0 ||
		    strcmp(author != NULL ? author : "", c.author) != 0)
			check_problem(ck,
			              "change %lld: its id, table, row or "
			              "author differ from its JSON",
			              seq);
		change_clear(&c);
	}
	if (r != SQLITE_DONE)
		rc = gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(ck->db));
	sqlite3_finalize(st);
	if (rc != GK_OK)
		return rc;
	check_finish(ck, "changes", "%d change%s decode", n, n == 1 ? "" : "s");
	return GK_OK;
}

/*
 * Every change has the scope rows its record's unit gives it (store.c says
 * which), or some user who may read it never receives it; and every scope
 * row names a change and a unit that exist. The rows are written again,
 * INSERT OR IGNORE, by the code that logged them: a row that was missing
 * shows up as a row added (and the check's rollback takes it away again).
 * Extra rows are no fault: a moved user's history stays where it was. A
 * change whose record (or what it hangs on) is gone is only noted: the
 * references and transfers invariants name the broken record.
 */
static int
check_scopes(struct check *ck, struct gk_error *err)
{
	static const char changes_sql[] =
	    "SELECT seq, json FROM changes ORDER BY seq";
	static const char *const orphan_sql[] = {
	    "SELECT s.seq, s.unit FROM change_scopes s WHERE NOT EXISTS "
	    "(SELECT 1 FROM changes c WHERE c.seq = s.seq) ORDER BY s.seq",
	    "SELECT s.seq, s.unit FROM change_scopes s WHERE NOT EXISTS "
	    "(SELECT 1 FROM units u WHERE u.id = s.unit) ORDER BY s.seq"};
	char text[64], unit[GK_ID_LEN + 1];
	struct gk_change c;
	struct gk_error e;
	sqlite3_stmt *st = NULL;
	int rc = GK_OK, r, n = 0, rows = 0, cache = ck->s->stmts == NULL;

	check_start(ck);
	if (cache && (rc = store_open_cache(ck->s, err)) != GK_OK)
		return rc;
	if ((rc = store_prepare(ck->db, changes_sql, &st, err)) != GK_OK)
		goto out;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		long long seq = sqlite3_column_int64(st, 0);
		const char *json = (const char *)sqlite3_column_text(st, 1);
		int added = 0;

		memset(&e, 0, sizeof e);
		if (json == NULL ||
		    change_decode(json, (size_t)sqlite3_column_bytes(st, 1), &c,
		                  &e) != GK_OK)
			continue; /* the "changes" invariant names it */
		n++;
		rc = store_change_unit_tx(ck->db, &c, unit, &e);
		if (rc == GK_OK)
			rc = store_scope_change_tx(ck->s, &c, unit, seq, &added,
			                           &e);
		if (rc == GK_E_NOT_FOUND)
			/* The record or what it hangs on is gone: the
			 * invariant of that record names it. */
			check_note(ck,
			           "change %lld (%s %s): its record has no "
			           "unit now; not checked",
			           seq, c.table->name, c.row);
		else if (rc == GK_OK && added > 0)
			check_problem(ck,
			              "change %lld (%s %s) lacked %d scope "
			              "row%s",
			              seq, c.table->name, c.row, added,
			              added == 1 ? "" : "s");
		change_clear(&c);
		if (rc != GK_OK && rc != GK_E_NOT_FOUND) {
			rc = gk_error_set(err, rc, "%s", e.msg);
			goto out;
		}
		rc = GK_OK;
	}
	if (r != SQLITE_DONE) {
		rc = gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(ck->db));
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		sqlite3_finalize(st);
		st = NULL;
		if ((rc = store_prepare(ck->db, orphan_sql[i], &st, err)) !=
		    GK_OK)
			goto out;
		while ((r = sqlite3_step(st)) == SQLITE_ROW) {
			long long seq = sqlite3_column_int64(st, 0);
			safe_copy(text, sizeof text,
			          sqlite3_column_text(st, 1));
			if (i == 0)
				check_problem(ck,
				              "the scope of change %lld "
				              "(unit %s) names no change",
				              seq, text);
			else
				check_problem(ck,
				              "change %lld belongs to a "
				              "missing unit %s",
				              seq, text);
		}
		if (r != SQLITE_DONE) {
			rc = gk_error_set(err, GK_E_DB, "%s",
			                  sqlite3_errmsg(ck->db));
			goto out;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = store_prepare(ck->db, "SELECT count(*) FROM change_scopes",
	                        &st, err)) != GK_OK)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW)
		rows = sqlite3_column_int(st, 0);
	check_finish(ck, "scopes",
	             "%d change%s reach every unit they should, %d scope rows",
	             n, n == 1 ? "" : "s", rows);

out:
	sqlite3_finalize(st);
	if (cache)
		store_close_cache(ck->s);
	return rc;
}

static int
check_stock_cb(void *arg, const struct gk_stock_row *r)
{
	struct check *ck = arg;
	char item[CHECK_LINE / 2], depot[CHECK_LINE / 2];

	if (r->on_hand >= 0)
		return 0;
	printf("discrepancy: stock of %s at %s is %lld\n",
	       check_name(ck->item_name, r->item, item, sizeof item),
	       check_name(ck->depot_name, r->depot, depot, sizeof depot),
	       (long long)r->on_hand);
	ck->discrepancies++;
	return 0;
}

static int
check_points_cb(void *arg, const struct gk_points_row *r)
{
	struct check *ck = arg;
	char name[CHECK_LINE / 2];

	if (r->points >= 0)
		return 0;
	printf("discrepancy: points of %s are %lld\n",
	       check_name(ck->volunteer_name, r->volunteer, name, sizeof name),
	       (long long)r->points);
	ck->discrepancies++;
	return 0;
}

static int
check_overdue_cb(void *arg, const struct gk_overdue_row *r)
{
	int *n = arg;

	if (r->past_deadline)
		(*n)++;
	return 0;
}

/* Shown, never failed: negative stock and points, and a few figures. */
static int
check_figures(struct check *ck, struct gk_error *err)
{
	int64_t now = ck->s->env.now_ms(ck->s->env.arg);
	sqlite3_stmt *st;
	int rc, r, sep = 0, overdue = 0;

	if (views_stock(ck->db, now / 86400000, check_stock_cb, ck) != GK_OK ||
	    views_points(ck->db, check_points_cb, ck) != GK_OK ||
	    views_overdue(ck->db, now, &ck->s->policy, check_overdue_cb,
	                  &overdue) != GK_OK)
		return gk_error_set(err, GK_E_DB, "cannot sum the ledgers: %s",
		                    sqlite3_errmsg(ck->db));

	/* Counted from the copy: what is stored, not what was re-derived. */
	if ((rc = store_prepare(
	         ck->db,
	         "SELECT status, count(*) FROM temp.check_hazards "
	         "GROUP BY status ORDER BY CASE status "
	         "WHEN 'new' THEN 0 WHEN 'reported' THEN 1 "
	         "WHEN 'verified' THEN 2 WHEN 'rectifying' THEN 3 "
	         "WHEN 'resolved' THEN 4 WHEN 'closed' THEN 5 "
	         "WHEN 'rejected' THEN 6 ELSE 7 END, status",
	         &st, err)) != GK_OK)
		return rc;
	printf("hazards by status:");
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		char status[32];
		printf("%s %s %d", sep++ ? "," : "",
		       safe_copy(status, sizeof status,
		                 sqlite3_column_text(st, 0)),
		       sqlite3_column_int(st, 1));
	}
	printf("%s\n", sep ? "" : " none");
	if (r != SQLITE_DONE)
		rc = gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(ck->db));
	sqlite3_finalize(st);
	if (rc == GK_OK && overdue > 0)
		printf("overdue: %d hazard%s past the plan's deadline\n",
		       overdue, overdue == 1 ? "" : "s");
	return rc;
}

int
operator_check_exec(struct gk_server *s, int argc, char **argv,
                    struct gk_error *err)
{
	struct check ck;
	int rc, intx = 0;

	(void)argc;
	(void)argv;
	memset(&ck, 0, sizeof ck);
	ck.s = s;
	if ((rc = operator_open(s, 0, err)) != GK_OK)
		return rc;
	ck.db = s->db;
	if ((rc = check_integrity(&ck, err)) != GK_OK ||
	    (rc = check_schema(&ck, err)) != GK_OK)
		goto out;
	if (db_begin(s->db) != GK_OK) {
		rc = gk_error_set(err, GK_E_DB, "cannot begin: %s",
		                  sqlite3_errmsg(s->db));
		goto out;
	}
	intx = 1;
	if ((rc = store_prepare(s->db, "SELECT name FROM depots WHERE id = ?1",
	                        &ck.depot_name, err)) != GK_OK ||
	    (rc = store_prepare(s->db, "SELECT name FROM items WHERE id = ?1",
	                        &ck.item_name, err)) != GK_OK ||
	    (rc = store_prepare(s->db,
	                        "SELECT name FROM volunteers WHERE id = ?1",
	                        &ck.volunteer_name, err)) != GK_OK)
		goto out;

	if ((rc = check_references(&ck, err)) != GK_OK ||
	    (rc = check_transfers(&ck, err)) != GK_OK ||
	    (rc = check_earns(&ck, err)) != GK_OK ||
	    (rc = check_hazards(&ck, err)) != GK_OK ||
	    (rc = check_changes(&ck, err)) != GK_OK ||
	    (rc = check_scopes(&ck, err)) != GK_OK ||
	    (rc = check_figures(&ck, err)) != GK_OK)
		goto out;

	if (ck.failed > 0) {
		rc = gk_error_set(err, GK_E_CORRUPT,
		                  "check: %d of %d invariants failed in %s",
		                  ck.failed, ck.invariants, s->db_path);
		goto out;
	}
	printf("check: ok (%d invariants hold, %d discrepanc%s shown)\n",
	       ck.invariants, ck.discrepancies,
	       ck.discrepancies == 1 ? "y" : "ies");

out:
	sqlite3_finalize(ck.depot_name);
	sqlite3_finalize(ck.item_name);
	sqlite3_finalize(ck.volunteer_name);
	if (intx)
		db_rollback(s->db);
	return rc;
}
