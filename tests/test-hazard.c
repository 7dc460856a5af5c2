/*
 * test-hazard.c: the hazard status derived from its events (sync/hazard.c).
 *
 * Each test delivers hazard rows and events to replicas, one at a time,
 * the way a merge does: insert if absent, then derive, in one transaction.
 * A replica delivers either by plain SQL and hazard_derive_tx, which tests
 * the derivation alone, or by change JSON through the merge (tu_apply),
 * which tests that the merge derives where it should. The order tests run
 * every delivery order on fresh replicas and compare all derived columns
 * as text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#define HAZ     "01900000-0000-7000-8000-00000000a001"
#define HAZ2    "01900000-0000-7000-8000-00000000a002"
#define GRID    "01900000-0000-7000-8000-00000000d001"
#define WORKER  "01900000-0000-7000-8000-00000000b001"
#define STATION "01900000-0000-7000-8000-00000000b002"
#define STREET  "01900000-0000-7000-8000-00000000b003"
#define E(n)    "01900000-0000-7000-8000-0000000e00" #n

#define NODE_W  "00000000000000a1"
#define NODE_S  "00000000000000a2"
#define NODE_ST "00000000000000a3"

/* An HLC stamp x milliseconds after a fixed moment. */
#define MS(x) (((uint64_t)1714550400000 + (x)) << 16)

#define NPLAN       4
#define DERIVED_MAX 2048

/* One hazard event as it is written on its replica. */
struct ev {
	const char *id; /* the row; its change id is the same with 'c' first */
	const char *kind;
	const char *from, *to;
	uint64_t hlc;
	const char *node;
	const char *author;
	const char *occurred;
	const char *plan[NPLAN]; /* measures, responsible, deadline, acceptor */
};

/* A replica, and whether it delivers through the merge or plain SQL. */
struct rep {
	sqlite3 *db;
	struct gk_hazard_deriver *d;
	int via_merge;
	char status[32]; /* filled by status() */
};

static const char *const plan_gas[NPLAN] = {"更换燃气软管并加装报警器", "王伟",
                                            "2024-05-08T00:00:00Z", "李娜"};

static void
rep_open(struct rep *r, int via_merge)
{
	struct gk_error err = {0};

	r->db = tu_replica();
	r->via_merge = via_merge;
	r->d = hazard_deriver_new(r->db, &err);
	if (r->d == NULL)
		fail_msg("hazard_deriver_new: %s", err.msg);
}

static void
rep_close(struct rep *r)
{
	hazard_deriver_free(r->d);
	db_close(r->db);
	r->d = NULL;
	r->db = NULL;
}

/* Empty the replica's hazards and events, as if it were new. */
static void
rep_reset(struct rep *r)
{
	struct gk_error err = {0};

	if (db_exec(r->db, "DELETE FROM hazard_events; DELETE FROM hazards;",
	            &err) != GK_OK)
		fail_msg("reset: %s", err.msg);
}

static void
bind_opt(sqlite3_stmt *st, int idx, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, idx);
}

static void
run_stmt(sqlite3 *db, sqlite3_stmt *st)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		fail_msg("step: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
}

static sqlite3_stmt *
prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("prepare %s: %s", sql, sqlite3_errmsg(db));
	return st;
}

/* Derive one hazard in a transaction of its own; the test fails on error. */
static void
derive(struct rep *r, const char *hazard)
{
	struct gk_error err = {0};
	int rc;

	assert_int_equal(db_begin(r->db), GK_OK);
	rc = hazard_derive_tx(r->d, hazard, &err);
	if (rc != GK_OK) {
		db_rollback(r->db);
		fail_msg("hazard_derive_tx: %s: %s", gk_code_name(rc), err.msg);
	}
	assert_int_equal(db_commit(r->db), GK_OK);
}

static void
change_id(char out[GK_ID_LEN + 1], const char *row)
{
	memcpy(out, row, GK_ID_LEN + 1);
	out[0] = 'c';
}

static void
apply_json(sqlite3 *db, json_t *c)
{
	char *s = json_dumps(c, JSON_COMPACT);

	if (s == NULL)
		fail_msg("json_dumps");
	tu_apply(db, s);
	free(s);
	json_decref(c);
}

/* Deliver the hazard row: insert if absent, then derive. */
static void
deliver_hazard(struct rep *r, const char *hazard)
{
	sqlite3_stmt *st;
	char cid[GK_ID_LEN + 1];

	if (r->via_merge) {
		change_id(cid, hazard);
		apply_json(r->db,
		           json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
		                     " s:{s:s, s:s, s:i, s:s, s:s}}",
		                     "id", cid, "node", NODE_W, "hlc",
		                     "018f3000000a0000", "table", "hazards",
		                     "op", "insert", "row", hazard, "author",
		                     WORKER, "fields", "grid", GRID, "category",
		                     "gas", "risk_level", 2, "title",
		                     "燃气软管老化", "occurred_at",
		                     "2024-05-01T07:50:00Z"));
		return;
	}
	st = prep(r->db, "INSERT OR IGNORE INTO hazards(id, grid, category,"
	                 " risk_level, title, occurred_at, _stamps)"
	                 " VALUES (?1, ?2, 'gas', 2, '燃气软管老化',"
	                 " '2024-05-01T07:50:00Z', x'')");
	sqlite3_bind_text(st, 1, hazard, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, GRID, -1, SQLITE_STATIC);
	run_stmt(r->db, st);
	derive(r, hazard);
}

static void
json_set_opt(json_t *o, const char *key, const char *s)
{
	if (s != NULL)
		json_object_set_new(o, key, json_string(s));
}

/* Deliver one event of a hazard: insert if absent, then derive. */
static void
deliver(struct rep *r, const char *hazard, const struct ev *e)
{
	static const char *const plan_cols[NPLAN] = {
	    "plan_measures", "plan_responsible", "plan_deadline",
	    "plan_acceptor"};
	sqlite3_stmt *st;
	char cid[GK_ID_LEN + 1], hlc[GK_HLC_LEN + 1];

	if (r->via_merge) {
		json_t *f =
		    json_pack("{s:s, s:s, s:s}", "hazard", hazard, "kind",
		              e->kind, "occurred_at", e->occurred);
		json_t *c;

		json_set_opt(f, "from_status", e->from);
		json_set_opt(f, "to_status", e->to);
		for (int i = 0; i < NPLAN; i++)
			json_set_opt(f, plan_cols[i], e->plan[i]);
		change_id(cid, e->id);
		hlc_format(e->hlc, hlc);
		c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "id", cid,
		              "node", e->node, "hlc", hlc, "table",
		              "hazard_events", "op", "append", "row", e->id,
		              "fields", f);
		json_set_opt(c, "author", e->author);
		apply_json(r->db, c);
		return;
	}
	st = prep(r->db,
	          "INSERT OR IGNORE INTO hazard_events(id, hazard, kind,"
	          " from_status, to_status, plan_measures, plan_responsible,"
	          " plan_deadline, plan_acceptor, occurred_at, author, hlc,"
	          " node) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
	          " ?11, ?12, ?13)");
	bind_opt(st, 1, e->id);
	bind_opt(st, 2, hazard);
	bind_opt(st, 3, e->kind);
	bind_opt(st, 4, e->from);
	bind_opt(st, 5, e->to);
	for (int i = 0; i < NPLAN; i++)
		bind_opt(st, 6 + i, e->plan[i]);
	bind_opt(st, 10, e->occurred);
	bind_opt(st, 11, e->author);
	sqlite3_bind_int64(st, 12, (sqlite3_int64)e->hlc);
	bind_opt(st, 13, e->node);
	run_stmt(r->db, st);
	derive(r, hazard);
}

/* Item i of a delivery set: 0 is the hazard row, i > 0 is event i - 1. */
static void
deliver_item(struct rep *r, const struct ev *evs, int i)
{
	if (i == 0)
		deliver_hazard(r, HAZ);
	else
		deliver(r, HAZ, &evs[i - 1]);
}

/* The first column of a query with ?1 bound to a hazard id, as text. */
static const char *
query(struct rep *r, const char *sql, const char *hazard, char *buf,
      size_t size)
{
	sqlite3_stmt *st = prep(r->db, sql);
	int rc;

	sqlite3_bind_text(st, 1, hazard, -1, SQLITE_STATIC);
	buf[0] = '\0';
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		snprintf(buf, size, "%s", sqlite3_column_text(st, 0));
	else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		fail_msg("step %s: %s", sql, sqlite3_errmsg(r->db));
	sqlite3_finalize(st);
	return buf;
}

/*
 * Every derived column of a hazard and its events as one line: the
 * hazard's columns quoted, then each event's "id tail=conflict" in id
 * order. Two replicas agree on a hazard iff these lines are equal.
 */
static const char *
derived(struct rep *r, const char *hazard, char buf[DERIVED_MAX])
{
	return query(
	    r,
	    "SELECT ifnull((SELECT quote(status) || ' ' || quote(reporter)"
	    " || ' ' || quote(plan_measures) || ' ' || quote(plan_responsible)"
	    " || ' ' || quote(plan_deadline) || ' ' || quote(plan_acceptor)"
	    " || ' ' || quote(resolved_at) || ' ' || conflicts"
	    " FROM hazards WHERE id = ?1), 'no row') || ' |' ||"
	    " ifnull((SELECT group_concat(c, '') FROM (SELECT ' ' ||"
	    " substr(id, 31) || '=' || conflict AS c FROM hazard_events"
	    " WHERE hazard = ?1 ORDER BY id)), '')",
	    hazard, buf, DERIVED_MAX);
}

static const char *
status(struct rep *r, const char *hazard)
{
	return query(r, "SELECT status FROM hazards WHERE id = ?1", hazard,
	             r->status, sizeof r->status);
}

/* A text column of the hazard ("" for NULL); col is a literal name. */
static const char *
column(struct rep *r, const char *col, char *buf, size_t size)
{
	char sql[128];

	snprintf(sql, sizeof sql, "SELECT %s FROM hazards WHERE id = ?1", col);
	return query(r, sql, HAZ, buf, size);
}

static int
is_null(struct rep *r, const char *col)
{
	char sql[128], buf[8];

	snprintf(sql, sizeof sql,
	         "SELECT %s IS NULL FROM hazards WHERE id = ?1", col);
	return strcmp(query(r, sql, HAZ, buf, sizeof buf), "1") == 0;
}

static long long
conflicts(struct rep *r)
{
	char buf[32];

	return atoll(query(r, "SELECT conflicts FROM hazards WHERE id = ?1",
	                   HAZ, buf, sizeof buf));
}

static int
flagged(struct rep *r, const char *event)
{
	char buf[8];

	query(r, "SELECT conflict FROM hazard_events WHERE id = ?1", event, buf,
	      sizeof buf);
	if (buf[0] == '\0')
		fail_msg("no event %s", event);
	return strcmp(buf, "1") == 0;
}

static void
assert_plan(struct rep *r, const char *const plan[NPLAN])
{
	static const char *const cols[NPLAN] = {
	    "plan_measures", "plan_responsible", "plan_deadline",
	    "plan_acceptor"};
	char buf[512];

	for (int i = 0; i < NPLAN; i++) {
		if (plan[i] == NULL)
			assert_true(is_null(r, cols[i]));
		else
			assert_string_equal(column(r, cols[i], buf, sizeof buf),
			                    plan[i]);
	}
}

/* The next permutation of a[0..n) in lexical order; 0 after the last. */
static int
next_perm(int *a, int n)
{
	int i = n - 2, j = n - 1, t;

	while (i >= 0 && a[i] >= a[i + 1])
		i--;
	if (i < 0)
		return 0;
	while (a[j] <= a[i])
		j--;
	t = a[i], a[i] = a[j], a[j] = t;
	for (j = n - 1, i++; i < j; i++, j--)
		t = a[i], a[i] = a[j], a[j] = t;
	return 1;
}

/* ---- the workflow, one event at a time ----------------------------------- */

static const struct ev life[] = {
    {E(01),
     "transition",
     "new",
     "reported",
     MS(1000),
     NODE_W,
     WORKER,
     "2024-05-01T08:00:00Z",
     {NULL}},
    {E(02),
     "transition",
     "reported",
     "verified",
     MS(2000),
     NODE_S,
     STATION,
     "2024-05-01T09:00:00Z",
     {NULL}},
    {E(03),
     "transition",
     "verified",
     "rectifying",
     MS(3000),
     NODE_S,
     STATION,
     "2024-05-01T10:00:00Z",
     {"更换燃气软管并加装报警器", "王伟", "2024-05-08T00:00:00Z", "李娜"}},
    {E(04),
     "transition",
     "rectifying",
     "resolved",
     MS(4000),
     NODE_S,
     STATION,
     "2024-05-06T15:30:00Z",
     {NULL}},
    {E(05),
     "transition",
     "resolved",
     "closed",
     MS(5000),
     NODE_ST,
     STREET,
     "2024-05-07T11:00:00Z",
     {NULL}},
};

static void
run_lifecycle(int via_merge)
{
	static const char *const want[] = {"reported", "verified", "rectifying",
	                                   "resolved", "closed"};
	struct rep r;
	char buf[64];

	rep_open(&r, via_merge);
	deliver_hazard(&r, HAZ);
	assert_string_equal(status(&r, HAZ), "new");
	assert_true(is_null(&r, "reporter"));
	for (size_t i = 0; i < sizeof life / sizeof life[0]; i++) {
		deliver(&r, HAZ, &life[i]);
		assert_string_equal(status(&r, HAZ), want[i]);
		if (i < 3)
			assert_true(is_null(&r, "resolved_at"));
	}
	assert_string_equal(column(&r, "reporter", buf, sizeof buf), WORKER);
	assert_plan(&r, plan_gas);
	assert_string_equal(column(&r, "resolved_at", buf, sizeof buf),
	                    "2024-05-06T15:30:00Z");
	assert_int_equal(conflicts(&r), 0);
	for (size_t i = 0; i < sizeof life / sizeof life[0]; i++)
		assert_false(flagged(&r, life[i].id));
	rep_close(&r);
}

static void
test_lifecycle_derives_each_status_reporter_plan_and_resolved_at(void **state)
{
	(void)state;
	run_lifecycle(0);
}

static void
test_fixed_on_the_spot_is_resolved_then_closed_by_the_street(void **state)
{
	static const struct ev evs[] = {
	    {E(01),
	     "transition",
	     "new",
	     "resolved",
	     MS(1000),
	     NODE_W,
	     WORKER,
	     "2024-05-01T08:05:00Z",
	     {NULL}},
	    {E(02),
	     "transition",
	     "resolved",
	     "closed",
	     MS(2000),
	     NODE_ST,
	     STREET,
	     "2024-05-02T09:00:00Z",
	     {NULL}},
	};
	struct rep r;
	char buf[64];

	(void)state;
	rep_open(&r, 0);
	deliver_hazard(&r, HAZ);
	deliver(&r, HAZ, &evs[0]);
	assert_string_equal(status(&r, HAZ), "resolved");
	assert_string_equal(column(&r, "reporter", buf, sizeof buf), WORKER);
	assert_string_equal(column(&r, "resolved_at", buf, sizeof buf),
	                    "2024-05-01T08:05:00Z");
	assert_true(is_null(&r, "plan_measures"));
	deliver(&r, HAZ, &evs[1]);
	assert_string_equal(status(&r, HAZ), "closed");
	assert_string_equal(column(&r, "resolved_at", buf, sizeof buf),
	                    "2024-05-01T08:05:00Z");
	assert_int_equal(conflicts(&r), 0);
	rep_close(&r);
}

static void
test_reopen_from_resolved_or_closed_clears_resolved_at(void **state)
{
	static const char *const plan2[NPLAN] = {
	    "整体更换燃气管线", "赵强", "2024-06-01T00:00:00Z", "李娜"};
	static const struct ev evs[] = {
	    /* resolved -> rectifying, no new plan: the old plan stays */
	    {E(06),
	     "transition",
	     "resolved",
	     "rectifying",
	     MS(6000),
	     NODE_ST,
	     STREET,
	     "2024-05-07T10:00:00Z",
	     {NULL}},
	    {E(07),
	     "transition",
	     "rectifying",
	     "resolved",
	     MS(7000),
	     NODE_S,
	     STATION,
	     "2024-05-09T16:00:00Z",
	     {NULL}},
	    {E(08),
	     "transition",
	     "resolved",
	     "closed",
	     MS(8000),
	     NODE_ST,
	     STREET,
	     "2024-05-10T09:00:00Z",
	     {NULL}},
	    /* closed -> rectifying with a new plan: the plan is replaced */
	    {E(09),
	     "transition",
	     "closed",
	     "rectifying",
	     MS(9000),
	     NODE_ST,
	     STREET,
	     "2024-05-20T09:00:00Z",
	     {"整体更换燃气管线", "赵强", "2024-06-01T00:00:00Z", "李娜"}},
	};
	struct rep r;
	char buf[64];

	(void)state;
	rep_open(&r, 0);
	deliver_hazard(&r, HAZ);
	for (int i = 0; i < 4; i++)
		deliver(&r, HAZ, &life[i]);
	assert_string_equal(column(&r, "resolved_at", buf, sizeof buf),
	                    "2024-05-06T15:30:00Z");

	deliver(&r, HAZ, &evs[0]);
	assert_string_equal(status(&r, HAZ), "rectifying");
	assert_true(is_null(&r, "resolved_at"));
	assert_plan(&r, plan_gas);

	deliver(&r, HAZ, &evs[1]);
	assert_string_equal(column(&r, "resolved_at", buf, sizeof buf),
	                    "2024-05-09T16:00:00Z");
	deliver(&r, HAZ, &evs[2]);
	assert_string_equal(status(&r, HAZ), "closed");
	assert_string_equal(column(&r, "resolved_at", buf, sizeof buf),
	                    "2024-05-09T16:00:00Z");

	deliver(&r, HAZ, &evs[3]);
	assert_string_equal(status(&r, HAZ), "rectifying");
	assert_true(is_null(&r, "resolved_at"));
	assert_plan(&r, plan2);
	assert_int_equal(conflicts(&r), 0);
	rep_close(&r);
}

static void
test_event_from_another_state_is_flagged_and_leaves_the_status(void **state)
{
	static const struct ev evs[] = {
	    /* from_status does not match the state at its place */
	    {E(11),
	     "transition",
	     "verified",
	     "rectifying",
	     MS(2000),
	     NODE_S,
	     STATION,
	     "2024-05-01T09:00:00Z",
	     {"a plan", "x", NULL, NULL}},
	    /* from matches, but reported -> closed is never allowed */
	    {E(12),
	     "transition",
	     "reported",
	     "closed",
	     MS(2100),
	     NODE_ST,
	     STREET,
	     "2024-05-01T09:10:00Z",
	     {NULL}},
	    /* a second report of the same hazard */
	    {E(13),
	     "transition",
	     "new",
	     "reported",
	     MS(2200),
	     NODE_S,
	     STATION,
	     "2024-05-01T09:20:00Z",
	     {NULL}},
	    /* no from_status at all */
	    {E(14),
	     "transition",
	     NULL,
	     "verified",
	     MS(2300),
	     NODE_S,
	     STATION,
	     "2024-05-01T09:30:00Z",
	     {NULL}},
	    /* an unknown status word, and an unknown kind */
	    {E(15),
	     "transition",
	     "reported",
	     "fixed",
	     MS(2400),
	     NODE_S,
	     STATION,
	     "2024-05-01T09:40:00Z",
	     {NULL}},
	    {E(16),
	     "escalation",
	     NULL,
	     NULL,
	     MS(2500),
	     NODE_S,
	     STATION,
	     "2024-05-01T09:50:00Z",
	     {NULL}},
	};
	static const struct ev verify = {
	    E(17),    "transition", "reported", "verified",
	    MS(9000), NODE_S,       STATION,    "2024-05-01T11:00:00Z",
	    {NULL}};
	struct rep r;
	char buf[64];

	(void)state;
	rep_open(&r, 0);
	deliver_hazard(&r, HAZ);
	deliver(&r, HAZ, &life[0]);
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++) {
		deliver(&r, HAZ, &evs[i]);
		assert_string_equal(status(&r, HAZ), "reported");
		assert_true(flagged(&r, evs[i].id));
		assert_int_equal(conflicts(&r), (long long)i + 1);
	}
	/* The flagged events changed nothing else either. */
	assert_string_equal(column(&r, "reporter", buf, sizeof buf), WORKER);
	assert_true(is_null(&r, "plan_measures"));
	assert_false(flagged(&r, life[0].id));

	/* The workflow goes on from the state the flags left. */
	deliver(&r, HAZ, &verify);
	assert_string_equal(status(&r, HAZ), "verified");
	assert_false(flagged(&r, verify.id));
	assert_true(flagged(&r, evs[0].id)); /* it came before the verify */
	rep_close(&r);
}

static void
test_roles_are_not_checked_when_deriving(void **state)
{
	/* The street may not report: that was refused at push, not here. */
	static const struct ev ev = {
	    E(01),    "transition", "new",  "reported",
	    MS(1000), NODE_ST,      STREET, "2024-05-01T08:00:00Z",
	    {NULL}};
	struct rep r;
	char buf[64];

	(void)state;
	rep_open(&r, 0);
	deliver_hazard(&r, HAZ);
	deliver(&r, HAZ, &ev);
	assert_string_equal(status(&r, HAZ), "reported");
	assert_string_equal(column(&r, "reporter", buf, sizeof buf), STREET);
	assert_false(flagged(&r, ev.id));
	rep_close(&r);
}

/* ---- concurrent offline transitions, in every delivery order ------------- */

/*
 * evs[0] reports; evs[1] (station) verifies and evs[2] (street) rejects,
 * both from "reported", offline. winner is the one earlier in (hlc, node).
 * Every order of {hazard row, evs[0..2]} is delivered to a fresh replica,
 * each item is then delivered again, and all replicas must agree.
 */
static void
run_concurrent(const struct ev evs[3], int winner, const char *status_want,
               int via_merge)
{
	int perm[4] = {0, 1, 2, 3}, orders = 0;
	char want[DERIVED_MAX], got[DERIVED_MAX];

	want[0] = '\0';
	do {
		struct rep r;

		rep_open(&r, via_merge);
		for (int i = 0; i < 4; i++) {
			deliver_item(&r, evs, perm[i]);
			if (i > 0) /* a duplicate, before the set is complete */
				deliver_item(&r, evs, perm[i - 1]);
		}
		for (int i = 3; i >= 0; i--)
			deliver_item(&r, evs, perm[i]);

		assert_string_equal(status(&r, HAZ), status_want);
		assert_false(flagged(&r, evs[0].id));
		assert_false(flagged(&r, evs[winner].id));
		assert_true(flagged(&r, evs[3 - winner].id));
		assert_int_equal(conflicts(&r), 1);
		derived(&r, HAZ, got);
		if (want[0] == '\0')
			memcpy(want, got, sizeof want);
		else
			assert_string_equal(got, want);
		rep_close(&r);
		orders++;
	} while (next_perm(perm, 4));
	assert_int_equal(orders, 24);
}

/* The street's clock is 3 ms behind the station's: the verify is later. */
static const struct ev verify_reject[3] = {
    {E(01),
     "transition",
     "new",
     "reported",
     MS(1000),
     NODE_W,
     WORKER,
     "2024-05-01T08:00:00Z",
     {NULL}},
    {E(02),
     "transition",
     "reported",
     "verified",
     MS(5000),
     NODE_S,
     STATION,
     "2024-05-01T09:00:05Z",
     {NULL}},
    {E(03),
     "transition",
     "reported",
     "rejected",
     MS(5003),
     NODE_ST,
     STREET,
     "2024-05-01T09:00:00Z",
     {NULL}},
};

/* The same hlc on both: the smaller node, the street's, comes first. */
static const struct ev verify_reject_tie[3] = {
    {E(01),
     "transition",
     "new",
     "reported",
     MS(1000),
     NODE_W,
     WORKER,
     "2024-05-01T08:00:00Z",
     {NULL}},
    {E(02),
     "transition",
     "reported",
     "verified",
     MS(5000),
     "00000000000000f2",
     STATION,
     "2024-05-01T09:00:00Z",
     {NULL}},
    {E(03),
     "transition",
     "reported",
     "rejected",
     MS(5000),
     "00000000000000f1",
     STREET,
     "2024-05-01T09:00:00Z",
     {NULL}},
};

static void
test_concurrent_verify_and_reject_converge_on_the_earlier(void **state)
{
	(void)state;
	run_concurrent(verify_reject, 1, "verified", 0);
}

static void
test_concurrent_verify_and_reject_tie_on_hlc_is_broken_by_node(void **state)
{
	(void)state;
	run_concurrent(verify_reject_tie, 2, "rejected", 0);
}

static void
test_flag_moves_when_an_earlier_event_arrives_late(void **state)
{
	struct rep r;

	(void)state;
	rep_open(&r, 0);
	deliver_hazard(&r, HAZ);
	/* The verify arrives before the report it follows. */
	deliver(&r, HAZ, &verify_reject[1]);
	assert_string_equal(status(&r, HAZ), "new");
	assert_true(flagged(&r, verify_reject[1].id));
	deliver(&r, HAZ, &verify_reject[0]);
	assert_string_equal(status(&r, HAZ), "verified");
	assert_false(flagged(&r, verify_reject[1].id));
	assert_int_equal(conflicts(&r), 0);

	/* The tie case: the reject sorts before the verify already seen. */
	rep_reset(&r);
	deliver_hazard(&r, HAZ);
	deliver(&r, HAZ, &verify_reject_tie[0]);
	deliver(&r, HAZ, &verify_reject_tie[1]);
	assert_string_equal(status(&r, HAZ), "verified");
	assert_false(flagged(&r, verify_reject_tie[1].id));
	deliver(&r, HAZ, &verify_reject_tie[2]);
	assert_string_equal(status(&r, HAZ), "rejected");
	assert_true(flagged(&r, verify_reject_tie[1].id));
	assert_false(flagged(&r, verify_reject_tie[2].id));
	assert_int_equal(conflicts(&r), 1);
	rep_close(&r);
}

/* ---- order independence in general ------------------------------------- */

/*
 * Six events, two of them illegal wherever they arrive: the reject ties
 * with the verify on hlc and loses on node; the close comes from the wrong
 * state. The plan and the start of rectifying share (hlc, node), which no
 * honest node makes: the id orders them, so the plan that rectifying
 * brings is the last one everywhere.
 */
static const struct ev six[6] = {
    {E(21),
     "transition",
     "new",
     "reported",
     MS(1000),
     NODE_W,
     WORKER,
     "2024-05-01T08:00:00Z",
     {NULL}},
    {E(22),
     "transition",
     "reported",
     "verified",
     MS(2000),
     NODE_S,
     STATION,
     "2024-05-01T09:00:00Z",
     {NULL}},
    {E(23),
     "transition",
     "reported",
     "rejected",
     MS(2000),
     NODE_ST,
     STREET,
     "2024-05-01T09:00:00Z",
     {NULL}},
    {E(24),
     "plan",
     NULL,
     NULL,
     MS(3000),
     NODE_S,
     STATION,
     "2024-05-01T10:00:00Z",
     {"关阀并通风", "王伟", NULL, NULL}},
    {E(25),
     "transition",
     "verified",
     "rectifying",
     MS(3000),
     NODE_S,
     STATION,
     "2024-05-01T10:00:00Z",
     {"更换燃气软管并加装报警器", "王伟", "2024-05-08T00:00:00Z", "李娜"}},
    {E(26),
     "transition",
     "resolved",
     "closed",
     MS(4000),
     NODE_ST,
     STREET,
     "2024-05-02T10:00:00Z",
     {NULL}},
};

static void
test_six_events_in_every_order_derive_the_same(void **state)
{
	int perm[6] = {0, 1, 2, 3, 4, 5}, orders = 0;
	char want[DERIVED_MAX], got[DERIVED_MAX];
	struct rep r;

	(void)state;
	rep_open(&r, 0);
	want[0] = '\0';
	do {
		rep_reset(&r);
		deliver_hazard(&r, HAZ);
		for (int i = 0; i < 6; i++)
			deliver(&r, HAZ, &six[perm[i]]);
		derived(&r, HAZ, got);
		if (want[0] == '\0')
			memcpy(want, got, sizeof want);
		else
			assert_string_equal(got, want);
		orders++;
	} while (next_perm(perm, 6));
	assert_int_equal(orders, 720);

	/* And what they agree on is the replay in (hlc, node, id) order. */
	assert_string_equal(status(&r, HAZ), "rectifying");
	assert_plan(&r, plan_gas);
	assert_false(flagged(&r, six[1].id));
	assert_true(flagged(&r, six[2].id));
	assert_false(flagged(&r, six[3].id));
	assert_false(flagged(&r, six[4].id));
	assert_true(flagged(&r, six[5].id));
	assert_int_equal(conflicts(&r), 2);
	rep_close(&r);
}

/* ---- plans and notes ---------------------------------------------------- */

static void
test_plan_events_are_legal_only_when_verified_or_rectifying(void **state)
{
	static const char *const p1[NPLAN] = {"关阀并通风", "王伟",
	                                      "2024-05-03T00:00:00Z", NULL};
	static const char *const p2[NPLAN] = {"更换软管", "陈芳", NULL, NULL};
	static const struct ev evs[] = {
	    {E(30),
	     "plan",
	     NULL,
	     NULL,
	     MS(500),
	     NODE_S,
	     STATION,
	     "2024-05-01T07:59:00Z",
	     {"too early", NULL, NULL, NULL}},
	    {E(31),
	     "transition",
	     "new",
	     "reported",
	     MS(1000),
	     NODE_W,
	     WORKER,
	     "2024-05-01T08:00:00Z",
	     {NULL}},
	    {E(32),
	     "plan",
	     NULL,
	     NULL,
	     MS(1500),
	     NODE_S,
	     STATION,
	     "2024-05-01T08:30:00Z",
	     {"still too early", NULL, NULL, NULL}},
	    {E(33),
	     "transition",
	     "reported",
	     "verified",
	     MS(2000),
	     NODE_S,
	     STATION,
	     "2024-05-01T09:00:00Z",
	     {NULL}},
	    {E(34),
	     "plan",
	     NULL,
	     NULL,
	     MS(2500),
	     NODE_S,
	     STATION,
	     "2024-05-01T09:30:00Z",
	     {"关阀并通风", "王伟", "2024-05-03T00:00:00Z", NULL}},
	    /* rectifying with no plan fields keeps the plan */
	    {E(35),
	     "transition",
	     "verified",
	     "rectifying",
	     MS(3000),
	     NODE_S,
	     STATION,
	     "2024-05-01T10:00:00Z",
	     {NULL}},
	    /* a plan event replaces all four fields, the absent ones too */
	    {E(36),
	     "plan",
	     NULL,
	     NULL,
	     MS(3500),
	     NODE_S,
	     STATION,
	     "2024-05-01T10:30:00Z",
	     {"更换软管", "陈芳", NULL, NULL}},
	    {E(37),
	     "transition",
	     "rectifying",
	     "resolved",
	     MS(4000),
	     NODE_S,
	     STATION,
	     "2024-05-02T10:00:00Z",
	     {NULL}},
	    {E(38),
	     "plan",
	     NULL,
	     NULL,
	     MS(4500),
	     NODE_S,
	     STATION,
	     "2024-05-02T10:30:00Z",
	     {"too late", "x", NULL, NULL}},
	};
	static const int want_flag[] = {1, 0, 1, 0, 0, 0, 0, 0, 1};
	struct rep r;

	(void)state;
	rep_open(&r, 0);
	deliver_hazard(&r, HAZ);
	for (int i = 0; i < 5; i++)
		deliver(&r, HAZ, &evs[i]);
	assert_string_equal(status(&r, HAZ), "verified");
	assert_plan(&r, p1);
	deliver(&r, HAZ, &evs[5]);
	assert_plan(&r, p1);
	deliver(&r, HAZ, &evs[6]);
	assert_plan(&r, p2);
	deliver(&r, HAZ, &evs[7]);
	deliver(&r, HAZ, &evs[8]);
	assert_string_equal(status(&r, HAZ), "resolved");
	assert_plan(&r, p2);
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
		assert_int_equal(flagged(&r, evs[i].id), want_flag[i]);
	assert_int_equal(conflicts(&r), 3);
	rep_close(&r);
}

static void
test_notes_never_conflict_and_change_nothing(void **state)
{
	static const struct ev evs[] = {
	    {E(40),
	     "note",
	     NULL,
	     NULL,
	     MS(500),
	     NODE_W,
	     WORKER,
	     "2024-05-01T07:59:00Z",
	     {NULL}},
	    {E(41),
	     "transition",
	     "new",
	     "reported",
	     MS(1000),
	     NODE_W,
	     WORKER,
	     "2024-05-01T08:00:00Z",
	     {NULL}},
	    {E(42),
	     "note",
	     NULL,
	     NULL,
	     MS(1500),
	     NODE_S,
	     STATION,
	     "2024-05-01T08:30:00Z",
	     {NULL}},
	    {E(43),
	     "transition",
	     "reported",
	     "rejected",
	     MS(2000),
	     NODE_ST,
	     STREET,
	     "2024-05-01T09:00:00Z",
	     {NULL}},
	    /* a note that carries from/to and plan fields is still a note */
	    {E(44),
	     "note",
	     "closed",
	     "reported",
	     MS(2500),
	     NODE_ST,
	     STREET,
	     "2024-05-01T09:30:00Z",
	     {"ignored", NULL, NULL, NULL}},
	};
	struct rep r;

	(void)state;
	rep_open(&r, 0);
	deliver_hazard(&r, HAZ);
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
		deliver(&r, HAZ, &evs[i]);
	assert_string_equal(status(&r, HAZ), "rejected");
	assert_true(is_null(&r, "plan_measures"));
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
		assert_false(flagged(&r, evs[i].id));
	assert_int_equal(conflicts(&r), 0);
	rep_close(&r);
}

/* ---- the hazard row, idempotence, unknown ids --------------------------- */

static void
test_hazard_row_arriving_after_its_events_is_derived_on_insert(void **state)
{
	struct rep r;
	char late[DERIVED_MAX], first[DERIVED_MAX];

	(void)state;
	rep_open(&r, 0);
	deliver(&r, HAZ, &life[1]); /* the verify, before the report */
	assert_true(flagged(&r, life[1].id));
	deliver(&r, HAZ, &life[0]);
	deliver(&r, HAZ, &life[2]);
	/* No row yet: the events' flags are derived, nothing else exists. */
	assert_false(flagged(&r, life[1].id));
	assert_int_equal(tu_int(r.db, "SELECT count(*) FROM hazards"), 0);
	deliver_hazard(&r, HAZ);
	assert_string_equal(status(&r, HAZ), "rectifying");
	assert_string_equal(column(&r, "reporter", late, sizeof late), WORKER);
	assert_plan(&r, plan_gas);
	derived(&r, HAZ, late);

	/* The same as a replica that had the row first. */
	rep_reset(&r);
	deliver_hazard(&r, HAZ);
	for (int i = 0; i < 3; i++)
		deliver(&r, HAZ, &life[i]);
	assert_string_equal(derived(&r, HAZ, first), late);
	rep_close(&r);
}

static void
test_derive_twice_gives_the_same_and_writes_nothing(void **state)
{
	struct rep r;
	char once[DERIVED_MAX], twice[DERIVED_MAX];
	sqlite3_int64 changes;

	(void)state;
	rep_open(&r, 0);
	deliver_hazard(&r, HAZ);
	for (int i = 0; i < 3; i++)
		deliver(&r, HAZ, &verify_reject[i]);
	derived(&r, HAZ, once);
	changes = sqlite3_total_changes64(r.db);
	derive(&r, HAZ);
	derive(&r, HAZ);
	assert_string_equal(derived(&r, HAZ, twice), once);
	assert_int_equal(sqlite3_total_changes64(r.db), changes);
	rep_close(&r);
}

static void
test_derive_of_an_unknown_hazard_is_not_an_error(void **state)
{
	struct rep r;
	sqlite3_int64 changes;
	char before[DERIVED_MAX], after[DERIVED_MAX];

	(void)state;
	rep_open(&r, 0);
	deliver_hazard(&r, HAZ);
	deliver(&r, HAZ, &life[0]);
	derived(&r, HAZ, before);
	changes = sqlite3_total_changes64(r.db);
	derive(&r, HAZ2);
	derive(&r, "not even an id");
	assert_int_equal(sqlite3_total_changes64(r.db), changes);
	assert_string_equal(derived(&r, HAZ, after), before);
	assert_int_equal(tu_int(r.db, "SELECT count(*) FROM hazards"), 1);
	rep_close(&r);
}

static void
test_hazards_are_derived_apart(void **state)
{
	struct rep r;
	char buf[64];

	(void)state;
	rep_open(&r, 0);
	deliver_hazard(&r, HAZ);
	deliver_hazard(&r, HAZ2);
	deliver(&r, HAZ, &life[0]);
	deliver(&r, HAZ, &life[1]);
	/* HAZ2's only event is a verify: illegal for a hazard never reported.
	 */
	deliver(&r, HAZ2,
	        &(struct ev){E(50),
	                     "transition",
	                     "reported",
	                     "verified",
	                     MS(1500),
	                     NODE_S,
	                     STATION,
	                     "2024-05-01T08:30:00Z",
	                     {NULL}});
	assert_string_equal(status(&r, HAZ), "verified");
	assert_string_equal(status(&r, HAZ2), "new");
	assert_true(flagged(&r, E(50)));
	assert_string_equal(query(&r,
	                          "SELECT conflicts FROM hazards"
	                          " WHERE id = ?1",
	                          HAZ2, buf, sizeof buf),
	                    "1");
	assert_int_equal(conflicts(&r), 0);
	assert_string_equal(column(&r, "reporter", buf, sizeof buf), WORKER);
	rep_close(&r);
}

/* ---- end to end, through the merge -------------------------------------- */

static void
test_merge_derives_the_lifecycle_from_change_json(void **state)
{
	(void)state;
	run_lifecycle(1);
}

static void
test_merge_converges_concurrent_verify_and_reject_in_every_order(void **state)
{
	(void)state;
	run_concurrent(verify_reject, 1, "verified", 1);
	run_concurrent(verify_reject_tie, 2, "rejected", 1);
}

static void
test_merge_and_plain_replay_derive_the_same(void **state)
{
	struct rep a, b;
	char da[DERIVED_MAX], db[DERIVED_MAX];

	(void)state;
	rep_open(&a, 0);
	rep_open(&b, 1);
	/* Events first, row last, through the merge; the reverse in SQL. */
	for (int i = 5; i >= 0; i--)
		deliver(&b, HAZ, &six[i]);
	deliver_hazard(&b, HAZ);
	deliver_hazard(&a, HAZ);
	for (int i = 0; i < 6; i++)
		deliver(&a, HAZ, &six[i]);
	assert_string_equal(derived(&b, HAZ, db), derived(&a, HAZ, da));
	assert_string_equal(status(&b, HAZ), "rectifying");
	rep_close(&a);
	rep_close(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_lifecycle_derives_each_status_reporter_plan_and_resolved_at),
	    cmocka_unit_test(
	        test_fixed_on_the_spot_is_resolved_then_closed_by_the_street),
	    cmocka_unit_test(
	        test_reopen_from_resolved_or_closed_clears_resolved_at),
	    cmocka_unit_test(
	        test_event_from_another_state_is_flagged_and_leaves_the_status),
	    cmocka_unit_test(test_roles_are_not_checked_when_deriving),
	    cmocka_unit_test(
	        test_concurrent_verify_and_reject_converge_on_the_earlier),
	    cmocka_unit_test(
	        test_concurrent_verify_and_reject_tie_on_hlc_is_broken_by_node),
	    cmocka_unit_test(
	        test_flag_moves_when_an_earlier_event_arrives_late),
	    cmocka_unit_test(test_six_events_in_every_order_derive_the_same),
	    cmocka_unit_test(
	        test_plan_events_are_legal_only_when_verified_or_rectifying),
	    cmocka_unit_test(test_notes_never_conflict_and_change_nothing),
	    cmocka_unit_test(
	        test_hazard_row_arriving_after_its_events_is_derived_on_insert),
	    cmocka_unit_test(
	        test_derive_twice_gives_the_same_and_writes_nothing),
	    cmocka_unit_test(test_derive_of_an_unknown_hazard_is_not_an_error),
	    cmocka_unit_test(test_hazards_are_derived_apart),
	    cmocka_unit_test(test_merge_derives_the_lifecycle_from_change_json),
	    cmocka_unit_test(
	        test_merge_converges_concurrent_verify_and_reject_in_every_order),
	    cmocka_unit_test(test_merge_and_plain_replay_derive_the_same),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
