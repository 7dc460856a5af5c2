/*
 * test-actions.c: the actions staff take, run in-process on a real replica
 * file: what each writes (one transaction, the outbox), what a form must
 * refuse (naming the input, writing nothing), and the exports.
 *
 * Each test gets a fresh replica seeded, as admin-authored changes through
 * the merge, with a street's units, two depots, items, a volunteer and a
 * notice, and a station user logged in by hand. The clock is a test clock
 * (2026-11-20 10:00 in Beijing) and TZ is CST-8, so local times typed into
 * the forms convert the same way everywhere.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "gridkeep.h"
#include "testutil.h"

#define ID(n)    "00000000-0000-7000-8000-0000000000" n
#define DISTRICT ID("01")
#define STREET   ID("02")
#define COMM     ID("03")
#define GRID1    ID("04")
#define GRID2    ID("05")
#define TWIN1    ID("06")
#define TWIN2    ID("07")
#define DEPOT1   ID("10")
#define DEPOT2   ID("11")
#define DEPOT3   ID("12")
#define WATER    ID("20")
#define MASKS    ID("21")
#define ODD      ID("22")
#define VOL      ID("30")
#define NOTICE   ID("40")
#define ADMIN    ID("90")
#define STATION  ID("91")
#define WORKER   ID("92")
#define STREETU  ID("93")

#define NOW_MS 1795140000000LL /* 2026-11-20T02:00:00Z, 10:00 in Beijing */

struct fx {
	char dir[64];
	char path[96];
	struct gk_testenv tenv;
	struct gk_client c;
	int seq;
};

/* Apply one admin-authored change, stamped a day before the test clock. */
static void
seed(struct fx *f, const char *table, const char *op, const char *row,
     const char *fields)
{
	char json[4096], id[GK_ID_LEN + 1];

	uuid_v7(&f->c.env, id);
	snprintf(json, sizeof json,
	         "{\"id\":\"%s\",\"node\":\"00000000000000aa\","
	         "\"hlc\":\"%016llx\",\"table\":\"%s\",\"op\":\"%s\","
	         "\"row\":\"%s\",\"author\":\"%s\",\"fields\":%s}",
	         id,
	         (unsigned long long)(((NOW_MS - 86400000LL) << 16) +
	                              (unsigned)f->seq++),
	         table, op, row, ADMIN, fields);
	tu_apply(f->c.db, json);
}

static void
login_as(struct fx *f, enum gk_role role, const char *user)
{
	memset(&f->c.sess, 0, sizeof f->c.sess);
	f->c.sess.logged_in = 1;
	f->c.sess.role = role;
	snprintf(f->c.sess.user_id, sizeof f->c.sess.user_id, "%s", user);
	snprintf(f->c.sess.unit, sizeof f->c.sess.unit, "%s",
	         role == GK_ROLE_GRID_WORKER ? GRID1
	         : role == GK_ROLE_STREET    ? STREET
	                                     : COMM);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct gk_error err = {0};

	setenv("TZ", "CST-8", 1);
	tzset();
	snprintf(f->dir, sizeof f->dir, "/tmp/gk-actions-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		fail_msg("mkdtemp");
	snprintf(f->path, sizeof f->path, "%s/replica.db", f->dir);
	gk_testenv_init(&f->tenv, 42, NOW_MS);
	f->c.env = gk_testenv_env(&f->tenv);
	f->c.db_path = f->path;
	validate_policy_default(&f->c.policy);
	if (replica_open(&f->c, REPLICA_CREATE, NULL, &err) != GK_OK)
		fail_msg("replica_open: %s", err.msg);

	seed(f, "units", "insert", DISTRICT,
	     "{\"level\":\"district\",\"name\":\"和平区\"}");
	seed(
	    f, "units", "insert", STREET,
	    "{\"level\":\"street\",\"name\":\"幸福街道\",\"parent\":\"" DISTRICT
	    "\"}");
	seed(f, "units", "insert", COMM,
	     "{\"level\":\"community\",\"name\":\"和平社区\",\"parent\":"
	     "\"" STREET "\"}");
	seed(f, "units", "insert", GRID1,
	     "{\"level\":\"grid\",\"name\":\"和平一网格\",\"code\":\"G1\","
	     "\"parent\":\"" COMM "\"}");
	seed(f, "units", "insert", GRID2,
	     "{\"level\":\"grid\",\"name\":\"和平二网格\",\"code\":\"G2\","
	     "\"parent\":\"" COMM "\"}");
	seed(f, "units", "insert", TWIN1,
	     "{\"level\":\"grid\",\"name\":\"同名网格\",\"parent\":\"" COMM
	     "\"}");
	seed(f, "units", "insert", TWIN2,
	     "{\"level\":\"grid\",\"name\":\"同名网格\",\"parent\":\"" COMM
	     "\"}");
	seed(f, "depots", "insert", DEPOT1,
	     "{\"unit\":\"" COMM "\",\"name\":\"和平社区储备点\","
	     "\"lat\":39.9,\"lon\":116.4}");
	seed(f, "depots", "insert", DEPOT2,
	     "{\"unit\":\"" COMM "\",\"name\":\"和平二号点\"}");
	seed(f, "depots", "insert", DEPOT3,
	     "{\"unit\":\"" STREET "\",\"name\":\"街道储备库\"}");
	seed(f, "items", "insert", WATER,
	     "{\"code\":\"W01\",\"name\":\"饮用水\",\"uom\":\"箱\"}");
	seed(f, "items", "insert", MASKS,
	     "{\"code\":\"M01\",\"name\":\"口罩\",\"uom\":\"盒\","
	     "\"shelf_life_days\":365}");
	seed(f, "items", "insert", ODD,
	     "{\"code\":\"X,1\",\"name\":\"水,\\\"大\\\"桶\",\"uom\":\"桶\"}");
	seed(f, "volunteers", "insert", VOL,
	     "{\"unit\":\"" COMM "\",\"name\":\"王芳\",\"active\":true}");
	seed(f, "notices", "insert", NOTICE,
	     "{\"unit\":\"" STREET "\",\"kind\":\"warning\",\"level\":2,"
	     "\"title\":\"寒潮预警\",\"targets\":[\"" COMM "\"],"
	     "\"occurred_at\":\"2026-11-19T00:00:00Z\"}");
	seed(f, "stock_moves", "append", ID("50"),
	     "{\"depot\":\"" DEPOT1 "\",\"item\":\"" WATER "\","
	     "\"kind\":\"receive\",\"quantity\":5,\"source\":\"upstream\","
	     "\"occurred_at\":\"2026-11-19T00:00:00Z\"}");
	seed(f, "point_entries", "append", ID("60"),
	     "{\"volunteer\":\"" VOL "\",\"kind\":\"grant\",\"points\":12,"
	     "\"occurred_at\":\"2026-11-19T00:00:00Z\"}");
	login_as(f, GK_ROLE_STATION, STATION);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char p[160];

	client_close(&f->c);
	snprintf(p, sizeof p, "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", f->path);
	unlink(p);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Run action name with inputs given as "key", "value" pairs, NULL-ended. */
static int
vrun(struct fx *f, const char *name, const char *target, struct act_result *res,
     struct gk_error *err, va_list ap)
{
	const struct gk_action *a = action_find(name);
	json_t *in = json_object();
	const char *k;
	int rc;

	assert_non_null(a);
	while ((k = va_arg(ap, const char *)) != NULL)
		json_object_set_new(in, k,
		                    json_string(va_arg(ap, const char *)));
	memset(err, 0, sizeof *err);
	rc = action_run(&f->c, a, target, in, res, err);
	json_decref(in);
	return rc;
}

static int
run(struct fx *f, const char *name, const char *target, struct act_result *res,
    struct gk_error *err, ...)
{
	va_list ap;
	int rc;

	va_start(ap, err);
	rc = vrun(f, name, target, res, err, ap);
	va_end(ap);
	return rc;
}

/* Run and require success; the record's id into out (may be NULL). */
static void
run_ok(struct fx *f, char *out, const char *name, const char *target, ...)
{
	struct act_result res;
	struct gk_error err;
	va_list ap;
	int rc;

	va_start(ap, target);
	rc = vrun(f, name, target, &res, &err, ap);
	va_end(ap);
	if (rc != GK_OK)
		fail_msg("%s: %s (%s): %s", name, gk_code_name(rc), res.field,
		         err.msg);
	assert_int_equal(strlen(res.row), GK_ID_LEN);
	if (out != NULL)
		memcpy(out, res.row, GK_ID_LEN + 1);
}

static long long
q(struct fx *f, const char *sql)
{
	return tu_int(f->c.db, sql);
}

static const char *
qt(struct fx *f, const char *sql)
{
	static char buf[512];

	return tu_text(f->c.db, sql, buf, sizeof buf);
}

/* Count the commits made through db. */
static int
count_commit(void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/* ---- the write path ------------------------------------------------------ */

static void
test_write_needs_a_login(void **state)
{
	struct fx *f = *state;
	struct gk_error err = {0};
	json_t *fields = json_pack("{s:s,s:s,s:s}", "code", "Z9", "name",
	                           "毯子", "uom", "条");
	char row[GK_ID_LEN + 1];

	f->c.sess.logged_in = 0;
	uuid_v7(&f->c.env, row);
	assert_int_equal(write_begin(&f->c, &err), GK_OK);
	assert_int_equal(write_change_tx(&f->c, "items", GK_OP_INSERT, row,
	                                 fields, NULL, &err),
	                 GK_E_AUTH);
	write_rollback(&f->c);
	assert_non_null(strstr(err.msg, "gridkeep login"));
	assert_int_equal(q(f, "SELECT count(*) FROM outbox"), 0);
	json_decref(fields);
}

static void
test_write_stamps_queues_and_saves_the_clock(void **state)
{
	struct fx *f = *state;
	struct gk_error err = {0};
	json_t *fields = json_pack("{s:s,s:s,s:s}", "code", "Z9", "name",
	                           "毯子", "uom", "条");
	char row[GK_ID_LEN + 1], cid[GK_ID_LEN + 1], hlc[GK_HLC_LEN + 1];

	login_as(f, GK_ROLE_STREET, STREETU);
	uuid_v7(&f->c.env, row);
	assert_int_equal(write_begin(&f->c, &err), GK_OK);
	assert_int_equal(write_change_tx(&f->c, "items", GK_OP_INSERT, row,
	                                 fields, cid, &err),
	                 GK_OK);
	assert_int_equal(write_commit(&f->c, &err), GK_OK);
	json_decref(fields);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE state = "
	                      "'saved' AND tbl = 'items'"),
	                 1);
	assert_string_equal(qt(f, "SELECT id FROM outbox"), cid);
	assert_int_equal(q(f, "SELECT count(*) FROM items WHERE code = 'Z9'"),
	                 1);
	hlc_format(f->c.clock.last, hlc);
	assert_string_equal(
	    qt(f, "SELECT value FROM client_meta WHERE key = 'hlc'"), hlc);
	assert_true(hlc_ms(f->c.clock.last) == NOW_MS);
	/* The JSON in the outbox is the change as it will be sent. */
	assert_non_null(strstr(qt(f, "SELECT json FROM outbox"),
	                       "\"author\":\"" STREETU "\""));
}

static void
test_refused_change_leaves_transaction_usable(void **state)
{
	struct fx *f = *state;
	struct gk_error err = {0};
	json_t *bad = json_pack("{s:s}", "code", "Z9"); /* no name, uom */
	json_t *good =
	    json_pack("{s:s,s:s,s:s}", "code", "Z8", "name", "毯", "uom", "条");
	char r1[GK_ID_LEN + 1], r2[GK_ID_LEN + 1];

	login_as(f, GK_ROLE_STREET, STREETU);
	uuid_v7(&f->c.env, r1);
	uuid_v7(&f->c.env, r2);
	assert_int_equal(write_begin(&f->c, &err), GK_OK);
	assert_int_equal(
	    write_change_tx(&f->c, "items", GK_OP_INSERT, r1, bad, NULL, &err),
	    GK_E_MISSING);
	assert_int_equal(
	    write_change_tx(&f->c, "items", GK_OP_INSERT, r2, good, NULL, &err),
	    GK_OK);
	assert_int_equal(write_commit(&f->c, &err), GK_OK);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox"), 1);
	json_decref(bad);
	json_decref(good);
}

/* ---- hazards ------------------------------------------------------------- */

static void
test_report_makes_a_reported_hazard_and_two_outbox_rows_in_one_commit(
    void **state)
{
	struct fx *f = *state;
	char id[GK_ID_LEN + 1], sql[200];
	int commits = 0;

	sqlite3_commit_hook(f->c.db, count_commit, &commits);
	run_ok(f, id, "report", NULL, "grid", "G1", "category", "fire", "risk",
	       "3", "title", "楼道堆物", "place", "3号楼2单元", NULL);
	sqlite3_commit_hook(f->c.db, NULL, NULL);
	assert_int_equal(commits, 1);
	snprintf(sql, sizeof sql, "SELECT status FROM hazards WHERE id = '%s'",
	         id);
	assert_string_equal(qt(f, sql), "reported");
	snprintf(sql, sizeof sql,
	         "SELECT reporter FROM hazards WHERE id = '%s'", id);
	assert_string_equal(qt(f, sql), STATION);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE state = "
	                      "'saved'"),
	                 2);
	assert_string_equal(qt(f, "SELECT group_concat(tbl) FROM (SELECT tbl "
	                          "FROM outbox ORDER BY seq)"),
	                    "hazards,hazard_events");
	assert_string_equal(qt(f, "SELECT grid FROM hazards"), GRID1);
}

static void
test_fixed_on_the_spot_is_resolved_with_its_note(void **state)
{
	struct fx *f = *state;

	run_ok(f, NULL, "report", NULL, "grid", "和平一网格", "category",
	       "electrical", "risk", "4", "title", "飞线充电", "fixed", "yes",
	       "note", "当场拆除", NULL);
	assert_string_equal(qt(f, "SELECT status FROM hazards"), "resolved");
	assert_string_equal(qt(f, "SELECT note FROM hazard_events"),
	                    "当场拆除");
	assert_string_equal(qt(f, "SELECT from_status || '>' || to_status "
	                          "FROM hazard_events"),
	                    "new>resolved");
}

static void
test_local_time_is_stored_as_utc(void **state)
{
	struct fx *f = *state;

	run_ok(f, NULL, "report", NULL, "grid", "G1", "category", "gas", "risk",
	       "3", "title", "燃气味", "occurred_at", "2026-11-20 08:30", NULL);
	assert_string_equal(qt(f, "SELECT occurred_at FROM hazards"),
	                    "2026-11-20T00:30:00Z");
}

static void
test_hazard_goes_through_its_workflow(void **state)
{
	struct fx *f = *state;
	char id[GK_ID_LEN + 1], sql[160];

	run_ok(f, id, "report", NULL, "grid", "G2", "category", "structure",
	       "risk", "2", "title", "外墙脱落", NULL);
	run_ok(f, NULL, "verify", id, NULL);
	run_ok(f, NULL, "plan", "外墙脱落", "measures", "拉警戒线，拆除",
	       "responsible", "物业", "deadline", "2026-11-25 18:00",
	       "acceptor", "陈静", NULL);
	snprintf(sql, sizeof sql,
	         "SELECT status || ' ' || plan_deadline FROM hazards "
	         "WHERE id = '%s'",
	         id);
	assert_string_equal(qt(f, sql), "rectifying 2026-11-25T10:00:00Z");
	/* Already rectifying: a plan is a plan event, not a transition. */
	run_ok(f, NULL, "plan", id, "measures", "整体加固", "responsible",
	       "物业", "deadline", "2026-11-28 18:00", NULL);
	assert_string_equal(qt(f, "SELECT plan_measures FROM hazards"),
	                    "整体加固");
	run_ok(f, NULL, "resolve", id, "note", "已加固", NULL);
	login_as(f, GK_ROLE_STREET, STREETU);
	run_ok(f, NULL, "close", id, NULL);
	run_ok(f, NULL, "reopen", id, "reason", "又有脱落", NULL);
	assert_string_equal(qt(f, "SELECT status FROM hazards"), "rectifying");
	assert_int_equal(q(f, "SELECT conflicts FROM hazards"), 0);
}

static void
test_edit_updates_the_hazard_fields(void **state)
{
	struct fx *f = *state;
	char id[GK_ID_LEN + 1];

	run_ok(f, id, "report", NULL, "grid", "G1", "category", "fire", "risk",
	       "3", "title", "楼道堆物", NULL);
	run_ok(f, NULL, "edit", id, "risk", "2", "lat", "39.91", "lon",
	       "116.41", NULL);
	assert_int_equal(q(f, "SELECT risk_level FROM hazards"), 2);
	assert_string_equal(qt(f, "SELECT lat || ',' || lon FROM hazards"),
	                    "39.91,116.41");
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE tbl = "
	                      "'hazards'"),
	                 2);
}

static void
test_allowed_follows_role_and_status(void **state)
{
	struct fx *f = *state;
	struct gk_error err = {0};
	char id[GK_ID_LEN + 1];

	run_ok(f, id, "report", NULL, "grid", "G1", "category", "fire", "risk",
	       "3", "title", "楼道堆物", NULL);
	assert_true(action_allowed(&f->c, action_find("verify"), id, &err));
	assert_false(action_allowed(&f->c, action_find("resolve"), id, &err));
	assert_int_equal(err.code, GK_E_TRANSITION);
	assert_false(action_allowed(&f->c, action_find("close"), id, &err));
	assert_int_equal(err.code, GK_E_ROLE);
	assert_true(action_allowed(&f->c, action_find("note"), id, &err));
	login_as(f, GK_ROLE_GRID_WORKER, WORKER);
	assert_false(action_allowed(&f->c, action_find("issue"), NULL, &err));
	assert_true(action_allowed(&f->c, action_find("patrol"), NULL, &err));
}

static void
test_patrol_records_the_hazards_found(void **state)
{
	struct fx *f = *state;
	char h1[GK_ID_LEN + 1], h2[GK_ID_LEN + 1], want[100];

	login_as(f, GK_ROLE_GRID_WORKER, WORKER);
	run_ok(f, h1, "report", NULL, "grid", "G1", "category", "fire", "risk",
	       "3", "title", "楼道堆物", NULL);
	run_ok(f, h2, "report", NULL, "grid", "G1", "category", "other", "risk",
	       "4", "title", "井盖松动", NULL);
	run_ok(f, NULL, "patrol", NULL, "grid", "G1", "started",
	       "2026-11-20 08:00", "ended", "2026-11-20 09:30", "places", "12",
	       "hazards", "楼道堆物，井盖松动", NULL);
	assert_string_equal(qt(f, "SELECT occurred_at || ' ' || ended_at "
	                          "FROM inspections"),
	                    "2026-11-20T00:00:00Z 2026-11-20T01:30:00Z");
	snprintf(want, sizeof want, "[\"%s\",\"%s\"]", h1, h2);
	assert_string_equal(qt(f, "SELECT hazards_found FROM inspections"),
	                    want);
}

/* ---- stock and points --------------------------------------------------- */

static void
test_issue_lowers_stock_on_hand(void **state)
{
	struct fx *f = *state;

	run_ok(f, NULL, "issue", NULL, "depot", "和平社区储备点", "item", "W01",
	       "quantity", "5", "purpose", "distribution", NULL);
	assert_int_equal(q(f, "SELECT sum(quantity) FROM stock_moves"), 0);
	assert_int_equal(q(f, "SELECT quantity FROM stock_moves WHERE kind = "
	                      "'issue'"),
	                 -5);
}

static void
test_transfer_is_a_pair_sharing_one_transfer_id(void **state)
{
	struct fx *f = *state;
	char out[GK_ID_LEN + 1], sql[200];

	run_ok(f, out, "transfer", NULL, "depot", "和平社区储备点", "to",
	       "和平二号点", "item", "饮用水", "quantity", "2", NULL);
	assert_int_equal(q(f, "SELECT count(DISTINCT transfer_id) FROM "
	                      "stock_moves WHERE kind LIKE 'transfer%'"),
	                 1);
	assert_int_equal(q(f, "SELECT count(*) FROM stock_moves WHERE kind "
	                      "LIKE 'transfer%'"),
	                 2);
	assert_int_equal(q(f, "SELECT sum(quantity) FROM stock_moves WHERE "
	                      "depot = '" DEPOT1 "'"),
	                 3);
	assert_int_equal(q(f, "SELECT sum(quantity) FROM stock_moves WHERE "
	                      "depot = '" DEPOT2 "'"),
	                 2);
	snprintf(sql, sizeof sql,
	         "SELECT kind || ' ' || counterpart FROM stock_moves "
	         "WHERE id = '%s'",
	         out);
	assert_string_equal(qt(f, sql), "transfer_out " DEPOT2);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox"), 2);
}

static void
test_count_adjusts_by_counted_minus_on_hand(void **state)
{
	struct fx *f = *state;

	run_ok(f, NULL, "count", NULL, "depot", DEPOT1, "item", "W01",
	       "counted", "8", NULL);
	assert_string_equal(qt(f, "SELECT quantity || ' ' || counted || ' ' || "
	                          "seen_on_hand FROM stock_moves WHERE kind = "
	                          "'count_adjust'"),
	                    "3 8 5");
}

static void
test_receive_of_an_item_with_shelf_life_needs_expiry(void **state)
{
	struct fx *f = *state;
	struct act_result res;
	struct gk_error err;

	assert_int_equal(run(f, "receive", NULL, &res, &err, "depot", DEPOT1,
	                     "item", "M01", "quantity", "10", "source",
	                     "donation", NULL),
	                 GK_E_MISSING);
	assert_string_equal(res.field, "expiry");
	run_ok(f, NULL, "receive", NULL, "depot", DEPOT1, "item", "M01",
	       "quantity", "10", "source", "donation", "expiry", "2027-11-01",
	       NULL);
}

static void
test_award_caps_earned_points_per_policy(void **state)
{
	struct fx *f = *state;

	run_ok(f, NULL, "award", NULL, "volunteer", "王芳", "activity",
	       "2026-11-20 清雪", "hours", "3", NULL);
	assert_string_equal(qt(f, "SELECT points || ' ' || minutes FROM "
	                          "point_entries WHERE kind = 'earn'"),
	                    "2 180");
	run_ok(f, NULL, "award", NULL, "volunteer", VOL, "activity", "巡逻",
	       "hours", "1.5", NULL);
	assert_int_equal(q(f, "SELECT points FROM point_entries WHERE "
	                      "activity = '巡逻'"),
	                 1);
	run_ok(f, NULL, "award", NULL, "volunteer", VOL, "kind", "bonus",
	       "points", "5", "reason", "表彰", NULL);
	assert_int_equal(q(f, "SELECT sum(points) FROM point_entries"),
	                 12 + 2 + 1 + 5);
}

static void
test_redeem_within_the_balance(void **state)
{
	struct fx *f = *state;

	run_ok(f, NULL, "redeem", NULL, "volunteer", "王芳", "points", "12",
	       "reason", "毛巾", NULL);
	assert_int_equal(q(f, "SELECT sum(points) FROM point_entries"), 0);
}

static void
test_ack_volunteer_depot_notice_request_item_standard(void **state)
{
	struct fx *f = *state;

	login_as(f, GK_ROLE_GRID_WORKER, WORKER);
	run_ok(f, NULL, "ack", "寒潮预警", "told", "30", "total", "32", NULL);
	assert_int_equal(q(f, "SELECT households_told FROM notice_acks"), 30);
	login_as(f, GK_ROLE_STATION, STATION);
	run_ok(f, NULL, "volunteer", NULL, "name", "李雷", "skills", "急救",
	       NULL);
	assert_string_equal(qt(f, "SELECT unit FROM volunteers WHERE name = "
	                          "'李雷'"),
	                    COMM);
	run_ok(f, NULL, "depot", NULL, "name", "三号点", "lat", "39.95", "lon",
	       "116.45", NULL);
	run_ok(f, NULL, "request", NULL, "depot", "三号点", "item", "W01",
	       "quantity", "20", "reason", "寒潮", NULL);
	assert_string_equal(qt(f, "SELECT upstream FROM "
	                          "replenishment_requests"),
	                    STREET);
	login_as(f, GK_ROLE_STREET, STREETU);
	run_ok(f, NULL, "notice", NULL, "kind", "notice", "level", "3", "title",
	       "防火通知", "targets", "和平社区, G1", NULL);
	assert_string_equal(qt(f, "SELECT targets FROM notices WHERE title = "
	                          "'防火通知'"),
	                    "[\"" COMM "\",\"" GRID1 "\"]");
	run_ok(f, NULL, "item", NULL, "code", "B01", "name", "棉被", "uom",
	       "条", NULL);
	run_ok(f, NULL, "standard", NULL, "depot", DEPOT1, "item", "B01",
	       "minimum", "10", NULL);
	run_ok(f, NULL, "standard", NULL, "depot", DEPOT1, "item", "B01",
	       "minimum", "15", NULL);
	assert_string_equal(qt(f, "SELECT count(*) || ' ' || max(min_qty) "
	                          "FROM standards"),
	                    "1 15");
}

/* ---- refusals ----------------------------------------------------------- */

struct refusal {
	const char *name; /* specification */
	enum gk_role role;
	const char *action;
	const char *target; /* "HAZARD" = the hazard made first */
	const char *inputs[16];
	const char *field;
	int code;
	const char *says; /* part of the message */
};

static const struct refusal refusals[] = {
    {"empty required input",
     GK_ROLE_STATION,
     "report",
     NULL,
     {"grid", "G1", "category", "fire", "risk", "3", "title", "", NULL},
     "title",
     GK_E_MISSING,
     "required"},
    {"negative quantity",
     GK_ROLE_STATION,
     "receive",
     NULL,
     {"depot", DEPOT1, "item", "W01", "quantity", "-3", "source", "upstream",
      NULL},
     "quantity",
     GK_E_RANGE,
     "negative"},
    {"quantity that is not a number",
     GK_ROLE_STATION,
     "issue",
     NULL,
     {"depot", DEPOT1, "item", "W01", "quantity", "五", "purpose", "drill",
      NULL},
     "quantity",
     GK_E_TYPE,
     "not a whole number"},
    {"issue larger than stock on hand",
     GK_ROLE_STATION,
     "issue",
     NULL,
     {"depot", "和平社区储备点", "item", "W01", "quantity", "7", "purpose",
      "distribution", NULL},
     "quantity",
     GK_E_RANGE,
     "7 is more than the 5 on hand"},
    {"transfer larger than stock on hand",
     GK_ROLE_STATION,
     "transfer",
     NULL,
     {"depot", DEPOT1, "to", DEPOT2, "item", "W01", "quantity", "6", NULL},
     "quantity",
     GK_E_RANGE,
     "on hand"},
    {"dispose larger than stock on hand",
     GK_ROLE_STATION,
     "dispose",
     NULL,
     {"depot", DEPOT2, "item", "W01", "quantity", "1", "reason", "expired",
      NULL},
     "quantity",
     GK_E_RANGE,
     "the 0 on hand"},
    {"transfer to the same depot",
     GK_ROLE_STATION,
     "transfer",
     NULL,
     {"depot", DEPOT1, "to", "和平社区储备点", "item", "W01", "quantity", "1",
      NULL},
     "to",
     GK_E_INCONSISTENT,
     "another depot"},
    {"transfer to a depot outside the station's unit",
     GK_ROLE_STATION,
     "transfer",
     NULL,
     {"depot", DEPOT1, "to", "街道储备库", "item", "W01", "quantity", "1",
      NULL},
     "to",
     GK_E_ROLE,
     "outside your unit"},
    {"grid worker reporting in another grid",
     GK_ROLE_GRID_WORKER,
     "report",
     NULL,
     {"grid", "G2", "category", "fire", "risk", "3", "title", "t", NULL},
     "grid",
     GK_E_ROLE,
     "outside your unit"},
    {"redeem larger than balance",
     GK_ROLE_STATION,
     "redeem",
     NULL,
     {"volunteer", "王芳", "points", "30", "reason", "毛巾", NULL},
     "points",
     GK_E_RANGE,
     "30 is more than the 12 points"},
    {"grid worker closing a hazard",
     GK_ROLE_GRID_WORKER,
     "close",
     "HAZARD",
     {NULL},
     "hazard",
     GK_E_ROLE,
     "grid_worker"},
    {"grid worker issuing stock",
     GK_ROLE_GRID_WORKER,
     "issue",
     NULL,
     {"depot", DEPOT1, "item", "W01", "quantity", "1", "purpose", "drill",
      NULL},
     "",
     GK_E_ROLE,
     "may not issue"},
    {"resolving a hazard that is only reported",
     GK_ROLE_STATION,
     "resolve",
     "HAZARD",
     {"note", "done", NULL},
     "hazard",
     GK_E_TRANSITION,
     "reported"},
    {"a plan for a hazard not yet verified",
     GK_ROLE_STATION,
     "plan",
     "HAZARD",
     {"measures", "m", "responsible", "r", "deadline", "now", NULL},
     "hazard",
     GK_E_TRANSITION,
     "verified"},
    {"unknown depot",
     GK_ROLE_STATION,
     "issue",
     NULL,
     {"depot", "不存在的点", "item", "W01", "quantity", "1", "purpose", "drill",
      NULL},
     "depot",
     GK_E_NOT_FOUND,
     "不存在的点"},
    {"unknown hazard",
     GK_ROLE_STATION,
     "verify",
     "没有这个隐患",
     {NULL},
     "hazard",
     GK_E_NOT_FOUND,
     "没有这个隐患"},
    {"ambiguous grid name",
     GK_ROLE_STATION,
     "report",
     NULL,
     {"grid", "同名网格", "category", "fire", "risk", "3", "title", "t", NULL},
     "grid",
     GK_E_INCONSISTENT,
     TWIN1 ", " TWIN2},
    {"word not in the list",
     GK_ROLE_STATION,
     "report",
     NULL,
     {"grid", "G1", "category", "meteor", "risk", "3", "title", "t", NULL},
     "category",
     GK_E_ENUM,
     "not one of"},
    {"risk out of range",
     GK_ROLE_STATION,
     "report",
     NULL,
     {"grid", "G1", "category", "fire", "risk", "5", "title", "t", NULL},
     "risk",
     GK_E_RANGE,
     "1..4"},
    {"time that is not a time",
     GK_ROLE_STATION,
     "report",
     NULL,
     {"grid", "G1", "category", "fire", "risk", "3", "title", "t",
      "occurred_at", "2026-02-30 10:00", NULL},
     "occurred_at",
     GK_E_TIME,
     "not a time"},
    {"latitude out of range",
     GK_ROLE_STATION,
     "report",
     NULL,
     {"grid", "G1", "category", "fire", "risk", "3", "title", "t", "lat", "91",
      "lon", "116", NULL},
     "lat",
     GK_E_RANGE,
     "between"},
    {"fixed on the spot without a note",
     GK_ROLE_STATION,
     "report",
     NULL,
     {"grid", "G1", "category", "fire", "risk", "3", "title", "t", "fixed",
      "yes", NULL},
     "note",
     GK_E_MISSING,
     "fixed"},
    {"control character in text",
     GK_ROLE_STATION,
     "report",
     NULL,
     {"grid", "G1", "category", "fire", "risk", "3", "title", "a\x1b[2Jb",
      NULL},
     "title",
     GK_E_CONTROL,
     "control"},
    {"earn without hours",
     GK_ROLE_STATION,
     "award",
     NULL,
     {"volunteer", VOL, "activity", "a", NULL},
     "hours",
     GK_E_MISSING,
     "hours"},
    {"unknown input",
     GK_ROLE_STATION,
     "issue",
     NULL,
     {"depot", DEPOT1, "colour", "red", NULL},
     "colour",
     GK_E_UNKNOWN_FIELD,
     "colour"},
    {"reject as duplicate without naming it",
     GK_ROLE_STREET,
     "reject",
     "HAZARD",
     {"reason", "duplicate", NULL},
     "duplicate_of",
     GK_E_MISSING,
     "duplicate_of"},
    {"told more households than there are",
     GK_ROLE_GRID_WORKER,
     "ack",
     "寒潮预警",
     {"told", "40", "total", "32", NULL},
     "told",
     GK_E_INCONSISTENT,
     "40"},
    {"an item code already taken",
     GK_ROLE_STREET,
     "item",
     NULL,
     {"code", "W01", "name", "水", "uom", "箱", NULL},
     "code",
     GK_E_EXISTS,
     "W01"},
};

static void
test_refusals_name_their_field_and_write_nothing(void **state)
{
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
		const struct refusal *t = &refusals[i];
		const struct gk_action *a = action_find(t->action);
		char hazard[GK_ID_LEN + 1], *before, *after;
		struct act_result res;
		struct gk_error err = {0};
		size_t blen, alen;
		long long outbox;
		json_t *in = json_object();
		int rc;

		login_as(f, GK_ROLE_STATION, STATION);
		run_ok(f, hazard, "report", NULL, "grid", "G2", "category",
		       "other", "risk", "4", "title", t->name, NULL);
		login_as(f, t->role,
		         t->role == GK_ROLE_GRID_WORKER ? WORKER
		         : t->role == GK_ROLE_STREET    ? STREETU
		                                        : STATION);
		for (int k = 0; t->inputs[k] != NULL; k += 2)
			json_object_set_new(in, t->inputs[k],
			                    json_string(t->inputs[k + 1]));
		assert_int_equal(dump_records(f->c.db, &before, &blen, &err),
		                 GK_OK);
		outbox = q(f, "SELECT count(*) FROM outbox");
		rc = action_run(&f->c, a,
		                t->target != NULL &&
		                        strcmp(t->target, "HAZARD") == 0
		                    ? hazard
		                    : t->target,
		                in, &res, &err);
		json_decref(in);
		if (rc != t->code || strcmp(res.field, t->field) != 0 ||
		    strstr(err.msg, t->says) == NULL)
			fail_msg("%s: got %s field \"%s\": %s", t->name,
			         gk_code_name(rc), res.field, err.msg);
		assert_string_equal(res.row, "");
		assert_int_equal(q(f, "SELECT count(*) FROM outbox"), outbox);
		assert_int_equal(dump_records(f->c.db, &after, &alen, &err),
		                 GK_OK);
		if (blen != alen || memcmp(before, after, blen) != 0)
			fail_msg("%s: the records changed", t->name);
		free(before);
		free(after);
	}
}

static void
test_risk_two_plan_without_measures_names_measures(void **state)
{
	struct fx *f = *state;
	struct act_result res;
	struct gk_error err;
	char id[GK_ID_LEN + 1];

	run_ok(f, id, "report", NULL, "grid", "G1", "category", "gas", "risk",
	       "1", "title", "燃气泄漏", NULL);
	run_ok(f, NULL, "verify", id, NULL);
	assert_int_equal(run(f, "plan", id, &res, &err, NULL),
	                 GK_E_PLAN_REQUIRED);
	assert_string_equal(res.field, "measures");
	assert_int_equal(q(f, "SELECT count(*) FROM hazard_events"), 2);
}

static void
test_second_earn_for_an_activity_names_activity(void **state)
{
	struct fx *f = *state;
	struct act_result res;
	struct gk_error err;

	run_ok(f, NULL, "award", NULL, "volunteer", VOL, "activity", "清雪",
	       "hours", "1", NULL);
	assert_int_equal(run(f, "award", NULL, &res, &err, "volunteer", VOL,
	                     "activity", "清雪", "hours", "2", NULL),
	                 GK_E_DUPLICATE_EARN);
	assert_string_equal(res.field, "activity");
}

/* ---- refs and the table ------------------------------------------------- */

static void
test_refs_resolve_by_id_name_and_code(void **state)
{
	struct fx *f = *state;
	struct gk_error err = {0};
	char id[GK_ID_LEN + 1];

	assert_int_equal(action_resolve_ref(&f->c, "grid", "G1", id, &err),
	                 GK_OK);
	assert_string_equal(id, GRID1);
	assert_int_equal(
	    action_resolve_ref(&f->c, "grid", "和平二网格", id, &err), GK_OK);
	assert_string_equal(id, GRID2);
	assert_int_equal(action_resolve_ref(&f->c, "unit", COMM, id, &err),
	                 GK_OK);
	assert_int_equal(action_resolve_ref(&f->c, "item", "饮用水", id, &err),
	                 GK_OK);
	assert_string_equal(id, WATER);
	assert_int_equal(
	    action_resolve_ref(&f->c, "volunteer", "王芳", id, &err), GK_OK);
	assert_string_equal(id, VOL);
	/* A community is not a grid. */
	assert_int_equal(
	    action_resolve_ref(&f->c, "grid", "和平社区", id, &err),
	    GK_E_NOT_FOUND);
	assert_int_equal(action_resolve_ref(&f->c, "grid", COMM, id, &err),
	                 GK_E_NOT_FOUND);
}

/* Which record field an ENUM input feeds: its words must be a subset. */
static const struct {
	const char *action, *input, *table, *field;
} enum_fields[] = {
    {"report", "category", "hazards", "category"},
    {"edit", "category", "hazards", "category"},
    {"reject", "reason", "hazard_events", "reject_reason"},
    {"receive", "source", "stock_moves", "source"},
    {"issue", "purpose", "stock_moves", "purpose"},
    {"dispose", "reason", "stock_moves", "dispose_reason"},
    {"award", "kind", "point_entries", "kind"},
    {"notice", "kind", "notices", "kind"},
};

static void
test_action_words_are_record_words(void **state)
{
	const struct gk_action *const *all;
	int n, checked = 0;

	(void)state;
	for (size_t i = 0; i < sizeof enum_fields / sizeof enum_fields[0];
	     i++) {
		const struct gk_action *a = action_find(enum_fields[i].action);
		const struct gk_table *t = record_table(enum_fields[i].table);
		const struct gk_field *fld =
		    &t->fields[record_field(t, enum_fields[i].field)];

		assert_non_null(a);
		for (int k = 0; k < a->ninputs; k++) {
			if (strcmp(a->inputs[k].name, enum_fields[i].input))
				continue;
			for (int w = 0; a->inputs[k].words[w] != NULL; w++) {
				int found = 0;
				for (int x = 0; fld->words[x] != NULL; x++)
					found |=
					    strcmp(fld->words[x],
					           a->inputs[k].words[w]) == 0;
				if (!found)
					fail_msg("%s --%s: %s is not a word "
					         "of %s.%s",
					         a->name, a->inputs[k].name,
					         a->inputs[k].words[w], t->name,
					         fld->name);
			}
			checked++;
		}
	}
	assert_int_equal(checked, 8);
	/* Every ENUM input of every action is listed above. */
	all = action_all(&n);
	checked = 0;
	for (int i = 0; i < n; i++)
		for (int k = 0; k < all[i]->ninputs; k++)
			checked += all[i]->inputs[k].type == ACT_ENUM;
	assert_int_equal(checked, 8);
}

static void
test_every_action_is_complete(void **state)
{
	const struct gk_action *const *all;
	int n;

	(void)state;
	all = action_all(&n);
	assert_true(n >= 24);
	for (int i = 0; i < n; i++) {
		assert_ptr_equal(action_find(all[i]->name), all[i]);
		assert_non_null(all[i]->title);
		assert_non_null(all[i]->run);
		assert_true(all[i]->roles != 0);
		for (int k = 0; k < all[i]->ninputs; k++) {
			const struct act_input *in = &all[i]->inputs[k];
			assert_non_null(in->label);
			assert_non_null(in->help);
			assert_true(strlen(in->name) < 32);
			if (in->type == ACT_REF)
				assert_non_null(in->ref);
			if (in->type == ACT_ENUM)
				assert_non_null(in->words);
		}
	}
}

/* ---- export ------------------------------------------------------------- */

static char *
export_mem(struct fx *f, const char *table, enum export_format fmt, size_t *len)
{
	struct gk_error err = {0};
	char *buf = NULL;
	FILE *m = open_memstream(&buf, len);

	assert_non_null(m);
	if (export_table(&f->c, table, fmt, m, &err) != GK_OK)
		fail_msg("export %s: %s", table, err.msg);
	fclose(m);
	return buf;
}

static void
test_export_csv_is_rfc4180_utf8_byte_exact(void **state)
{
	struct fx *f = *state;
	static const char want[] =
	    "id,code,name,uom,shelf_life_days\r\n" WATER
	    ",W01,饮用水,箱,\r\n" MASKS ",M01,口罩,盒,365\r\n" ODD
	    ",\"X,1\",\"水,\"\"大\"\"桶\",桶,\r\n";
	size_t len;
	char *csv = export_mem(f, "items", EXPORT_CSV, &len);

	assert_int_equal(len, strlen(want));
	assert_memory_equal(csv, want, len);
	free(csv);
}

static void
test_export_csv_of_hazards_has_status_and_overdue(void **state)
{
	struct fx *f = *state;
	size_t len;
	char *csv;

	run_ok(f, NULL, "report", NULL, "grid", "G1", "category", "fire",
	       "risk", "1", "title", "堆物", "description", "多行\n描述",
	       "occurred_at", "2026-11-19 08:00", NULL);
	csv = export_mem(f, "hazards", EXPORT_CSV, &len);
	assert_non_null(strstr(csv, ",status,reporter,"));
	assert_non_null(strstr(csv, ",conflicts,overdue\r\n"));
	/* Reported a day ago at risk 1 (2 hours to respond): overdue. */
	assert_non_null(strstr(csv, ",reported," STATION));
	assert_non_null(strstr(csv, ",true\r\n"));
	assert_non_null(strstr(csv, "\"多行\n描述\""));
	free(csv);
	/* A title a spreadsheet would run as a formula stays text. */
	run_ok(f, NULL, "report", NULL, "grid", "G1", "category", "fire",
	       "risk", "3", "title", "=HYPERLINK(\"x\")", NULL);
	csv = export_mem(f, "hazards", EXPORT_CSV, &len);
	assert_non_null(strstr(csv, ",\"'=HYPERLINK(\"\"x\"\")\","));
	free(csv);
}

static void
test_export_json_parses_back(void **state)
{
	struct fx *f = *state;
	json_error_t jerr;
	json_t *arr, *h;
	size_t len;
	char *text;

	run_ok(f, NULL, "report", NULL, "grid", "G1", "category", "fire",
	       "risk", "3", "title", "楼道\"堆物\"", "lat", "39.9", "lon",
	       "116.4", NULL);
	text = export_mem(f, "hazards", EXPORT_JSON, &len);
	arr = json_loadb(text, len, 0, &jerr);
	if (arr == NULL)
		fail_msg("json: %s in %s", jerr.text, text);
	assert_true(json_is_array(arr));
	assert_int_equal(json_array_size(arr), 1);
	h = json_array_get(arr, 0);
	assert_string_equal(json_string_value(json_object_get(h, "title")),
	                    "楼道\"堆物\"");
	assert_string_equal(json_string_value(json_object_get(h, "status")),
	                    "reported");
	assert_int_equal(json_integer_value(json_object_get(h, "risk_level")),
	                 3);
	assert_true(json_real_value(json_object_get(h, "lat")) == 39.9);
	assert_true(json_is_false(json_object_get(h, "overdue")));
	assert_null(json_object_get(h, "deleted"));
	json_decref(arr);
	free(text);

	/* An empty table is an empty array; a list field is a list. */
	text = export_mem(f, "inspections", EXPORT_JSON, &len);
	arr = json_loadb(text, len, 0, &jerr);
	assert_non_null(arr);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	free(text);
	text = export_mem(f, "notices", EXPORT_JSON, &len);
	arr = json_loadb(text, len, 0, &jerr);
	assert_non_null(arr);
	assert_true(
	    json_is_array(json_object_get(json_array_get(arr, 0), "targets")));
	json_decref(arr);
	free(text);
}

static void
test_export_geojson_has_only_rows_with_a_place(void **state)
{
	struct fx *f = *state;
	json_t *fc, *feats, *coords;
	char id[GK_ID_LEN + 1];
	size_t len;
	char *text;

	run_ok(f, id, "report", NULL, "grid", "G1", "category", "fire", "risk",
	       "3", "title", "有位置", "lat", "39.9", "lon", "116.4", NULL);
	run_ok(f, NULL, "report", NULL, "grid", "G1", "category", "fire",
	       "risk", "3", "title", "无位置", NULL);
	text = export_mem(f, "hazards", EXPORT_GEOJSON, &len);
	fc = json_loadb(text, len, 0, NULL);
	assert_non_null(fc);
	assert_string_equal(json_string_value(json_object_get(fc, "type")),
	                    "FeatureCollection");
	feats = json_object_get(fc, "features");
	assert_int_equal(json_array_size(feats), 1);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(feats, 0), "id")),
	    id);
	coords = json_object_get(
	    json_object_get(json_array_get(feats, 0), "geometry"),
	    "coordinates");
	assert_true(json_real_value(json_array_get(coords, 0)) == 116.4);
	assert_true(json_real_value(json_array_get(coords, 1)) == 39.9);
	json_decref(fc);
	free(text);

	/* Depots have places too; one of the two seeded has one. */
	text = export_mem(f, "depots", EXPORT_GEOJSON, &len);
	fc = json_loadb(text, len, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(fc, "features")), 1);
	json_decref(fc);
	free(text);
}

static void
test_export_refuses_unknown_tables_listing_the_known(void **state)
{
	struct fx *f = *state;
	struct gk_error err = {0};
	char *buf = NULL;
	size_t len;
	FILE *m = open_memstream(&buf, &len);

	assert_int_equal(export_table(&f->c, "passwords", EXPORT_CSV, m, &err),
	                 GK_E_UNKNOWN_TABLE);
	assert_non_null(strstr(err.msg, "hazards"));
	assert_non_null(strstr(err.msg, "stock_moves"));
	assert_int_equal(export_table(&f->c, "items", EXPORT_GEOJSON, m, &err),
	                 GK_E_USAGE);
	fclose(m);
	free(buf);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_write_needs_a_login),
	    T(test_write_stamps_queues_and_saves_the_clock),
	    T(test_refused_change_leaves_transaction_usable),
	    T(test_report_makes_a_reported_hazard_and_two_outbox_rows_in_one_commit),
	    T(test_fixed_on_the_spot_is_resolved_with_its_note),
	    T(test_local_time_is_stored_as_utc),
	    T(test_hazard_goes_through_its_workflow),
	    T(test_edit_updates_the_hazard_fields),
	    T(test_allowed_follows_role_and_status),
	    T(test_patrol_records_the_hazards_found),
	    T(test_issue_lowers_stock_on_hand),
	    T(test_transfer_is_a_pair_sharing_one_transfer_id),
	    T(test_count_adjusts_by_counted_minus_on_hand),
	    T(test_receive_of_an_item_with_shelf_life_needs_expiry),
	    T(test_award_caps_earned_points_per_policy),
	    T(test_redeem_within_the_balance),
	    T(test_ack_volunteer_depot_notice_request_item_standard),
	    T(test_refusals_name_their_field_and_write_nothing),
	    T(test_risk_two_plan_without_measures_names_measures),
	    T(test_second_earn_for_an_activity_names_activity),
	    T(test_refs_resolve_by_id_name_and_code),
	    cmocka_unit_test(test_action_words_are_record_words),
	    cmocka_unit_test(test_every_action_is_complete),
	    T(test_export_csv_is_rfc4180_utf8_byte_exact),
	    T(test_export_csv_of_hazards_has_status_and_overdue),
	    T(test_export_json_parses_back),
	    T(test_export_geojson_has_only_rows_with_a_place),
	    T(test_export_refuses_unknown_tables_listing_the_known),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
