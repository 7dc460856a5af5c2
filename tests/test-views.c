/*
 * test-views.c: stock on hand, expired lots, in transit and shortfall;
 * point balances and hours; overdue hazards. Discrepancies (negative stock)
 * are shown as they are, never clamped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#define D1     "0193a1b2-0000-7000-8000-0000000000d1"
#define D2     "0193a1b2-0000-7000-8000-0000000000d2"
#define D3     "0193a1b2-0000-7000-8000-0000000000d3"
#define WATER  "0193a1b2-0000-7000-8000-0000000000f1"
#define NOODLE "0193a1b2-0000-7000-8000-0000000000f2"
#define T1     "0193a1b2-0000-7000-8000-0000000000b1"
#define T2     "0193a1b2-0000-7000-8000-0000000000b2"
#define V1     "0193a1b2-0000-7000-8000-0000000000e1"
#define V2     "0193a1b2-0000-7000-8000-0000000000e2"
#define GRID   "0193a1b2-0000-7000-8000-0000000000a1"

struct maker {
	sqlite3 *db;
	int seq;
};

/* Apply one change made of a table, op, row id and the fields' JSON. */
static void
put(struct maker *mk, const char *table, const char *op, const char *row,
    const char *fields)
{
	char json[2048];

	mk->seq++;
	snprintf(json, sizeof json,
	         "{\"id\":\"0193a1b2-0000-7000-8000-%012x\",\"node\":"
	         "\"aaaaaaaaaaaaaaaa\",\"hlc\":\"%016x\",\"table\":\"%s\","
	         "\"op\":\"%s\",\"row\":\"%s\",\"fields\":%s}",
	         mk->seq, mk->seq << 16, table, op, row, fields);
	tu_apply(mk->db, json);
}

static void
move(struct maker *mk, const char *fields)
{
	char row[GK_ID_LEN + 1];

	snprintf(row, sizeof row, "0193a1b2-0000-7000-9000-%012x", mk->seq + 1);
	put(mk, "stock_moves", "append", row, fields);
}

#define AT ",\"occurred_at\":\"2026-11-20T08:00:00Z\"}"

struct rows {
	struct gk_stock_row s[16];
	struct gk_points_row p[16];
	struct gk_overdue_row o[16];
	int n;
};

static int
take_stock(void *arg, const struct gk_stock_row *r)
{
	struct rows *rs = arg;

	rs->s[rs->n++] = *r;
	return rs->n == 16;
}

static const struct gk_stock_row *
find_stock(const struct rows *rs, const char *depot, const char *item)
{
	for (int i = 0; i < rs->n; i++)
		if (strcmp(rs->s[i].depot, depot) == 0 &&
		    strcmp(rs->s[i].item, item) == 0)
			return &rs->s[i];
	fail_msg("no stock row for %s %s", depot, item);
	return NULL;
}

static void
test_stock_sums_moves_and_keeps_expired_lots_and_transit_apart(void **state)
{
	struct maker mk = {tu_replica(), 0};
	struct rows rs = {.n = 0};
	const struct gk_stock_row *r;
	int64_t today;

	(void)state;
	move(&mk,
	     "{\"depot\":\"" D1 "\",\"item\":\"" WATER "\",\"kind\":"
	     "\"receive\",\"quantity\":100,\"source\":\"purchase\",\"lot\":"
	     "\"L1\",\"expiry\":\"2027-06-01\"" AT);
	move(&mk, "{\"depot\":\"" D1 "\",\"item\":\"" WATER "\",\"kind\":"
	          "\"receive\",\"quantity\":20,\"source\":\"donation\",\"lot\":"
	          "\"L2\",\"expiry\":\"2026-11-01\"" AT);
	move(&mk, "{\"depot\":\"" D1 "\",\"item\":\"" WATER "\",\"kind\":"
	          "\"issue\",\"quantity\":-30,\"purpose\":\"incident\",\"lot\":"
	          "\"L1\"" AT);
	move(&mk, "{\"depot\":\"" D1 "\",\"item\":\"" WATER "\",\"kind\":"
	          "\"transfer_out\",\"quantity\":-10,\"transfer_id\":\"" T1
	          "\",\"counterpart\":\"" D2 "\",\"lot\":\"L1\"" AT);
	move(&mk, "{\"depot\":\"" D2 "\",\"item\":\"" WATER "\",\"kind\":"
	          "\"transfer_in\",\"quantity\":10,\"transfer_id\":\"" T1
	          "\",\"counterpart\":\"" D1 "\"" AT);
	move(&mk, "{\"depot\":\"" D1 "\",\"item\":\"" WATER "\",\"kind\":"
	          "\"transfer_out\",\"quantity\":-5,\"transfer_id\":\"" T2
	          "\",\"counterpart\":\"" D2 "\",\"lot\":\"L1\"" AT);
	move(&mk, "{\"depot\":\"" D2 "\",\"item\":\"" WATER "\",\"kind\":"
	          "\"count_adjust\",\"quantity\":-2,\"counted\":8,"
	          "\"seen_on_hand\":10" AT);
	move(&mk, "{\"depot\":\"" D1 "\",\"item\":\"" NOODLE "\",\"kind\":"
	          "\"issue\",\"quantity\":-3,\"purpose\":\"drill\"" AT);
	put(&mk, "standards", "insert", "0193a1b2-0000-7000-8000-0000000000c1",
	    "{\"depot\":\"" D1 "\",\"item\":\"" WATER "\",\"min_qty\":100}");
	put(&mk, "standards", "insert", "0193a1b2-0000-7000-8000-0000000000c2",
	    "{\"depot\":\"" D2 "\",\"item\":\"" WATER "\",\"min_qty\":5}");
	put(&mk, "standards", "insert", "0193a1b2-0000-7000-8000-0000000000c3",
	    "{\"depot\":\"" D3 "\",\"item\":\"" NOODLE "\",\"min_qty\":50}");

	assert_int_equal(text_date_parse("2026-11-23", 10, &today), GK_OK);
	assert_int_equal(views_stock(mk.db, today, take_stock, &rs), GK_OK);
	assert_int_equal(rs.n, 4);

	r = find_stock(&rs, D1, WATER);
	assert_int_equal(r->on_hand, 75);
	assert_int_equal(r->expired, 20);
	assert_int_equal(r->in_transit, 5);
	assert_int_equal(r->minimum, 100);
	assert_int_equal(r->shortfall, 45);

	r = find_stock(&rs, D1, NOODLE); /* issued more than ever received */
	assert_int_equal(r->on_hand, -3);
	assert_int_equal(r->minimum, -1);
	assert_int_equal(r->shortfall, 0);

	r = find_stock(&rs, D2, WATER);
	assert_int_equal(r->on_hand, 8);
	assert_int_equal(r->in_transit, 0);
	assert_int_equal(r->shortfall, 0);

	r = find_stock(&rs, D3, NOODLE); /* a standard with no stock at all */
	assert_int_equal(r->on_hand, 0);
	assert_int_equal(r->shortfall, 50);

	/* The day the lot expires it is still usable; the day after it is not.
	 */
	rs.n = 0;
	assert_int_equal(text_date_parse("2026-11-01", 10, &today), GK_OK);
	assert_int_equal(views_stock(mk.db, today, take_stock, &rs), GK_OK);
	assert_int_equal(find_stock(&rs, D1, WATER)->expired, 0);
	db_close(mk.db);
}

static int
take_points(void *arg, const struct gk_points_row *r)
{
	struct rows *rs = arg;

	rs->p[rs->n++] = *r;
	return rs->n == 16;
}

static void
test_points_balance_and_hours_are_kept_apart(void **state)
{
	struct maker mk = {tu_replica(), 0};
	struct rows rs = {.n = 0};
	char row[GK_ID_LEN + 1];

	(void)state;
	put(&mk, "volunteers", "insert", V1,
	    "{\"unit\":\"" GRID "\",\"name\":\"张三\"}");
	put(&mk, "volunteers", "insert", V2,
	    "{\"unit\":\"" GRID "\",\"name\":\"李四\"}");
#define ENTRY(f)                                                               \
	snprintf(row, sizeof row, "0193a1b2-0000-7000-9000-%012x",             \
	         mk.seq + 1);                                                  \
	put(&mk, "point_entries", "append", row, f)
	ENTRY("{\"volunteer\":\"" V1 "\",\"kind\":\"grant\",\"points\":10" AT);
	ENTRY("{\"volunteer\":\"" V1 "\",\"kind\":\"earn\",\"points\":2,"
	      "\"minutes\":120,\"activity\":\"a1\"" AT);
	ENTRY("{\"volunteer\":\"" V1 "\",\"kind\":\"redeem\",\"points\":-5" AT);

	assert_int_equal(views_points(mk.db, take_points, &rs), GK_OK);
	assert_int_equal(rs.n, 2);
	assert_string_equal(rs.p[0].volunteer, V1);
	assert_int_equal(rs.p[0].points, 7);
	assert_int_equal(rs.p[0].minutes, 120); /* redeeming keeps the hours */
	assert_string_equal(rs.p[1].volunteer, V2);
	assert_int_equal(rs.p[1].points, 0);

	/* a complaint revokes the activity: points and hours both reversed */
	ENTRY("{\"volunteer\":\"" V1 "\",\"kind\":\"revoke\",\"points\":-2,"
	      "\"minutes\":-120,\"activity\":\"a1\",\"ref_entry\":"
	      "\"0193a1b2-0000-7000-9000-000000000004\"" AT);
	/* and a second redemption offline takes the balance below zero */
	ENTRY("{\"volunteer\":\"" V1 "\",\"kind\":\"redeem\",\"points\":-9" AT);
	rs.n = 0;
	assert_int_equal(views_points(mk.db, take_points, &rs), GK_OK);
	assert_int_equal(rs.p[0].points, -4);
	assert_int_equal(rs.p[0].minutes, 0);
#undef ENTRY
	db_close(mk.db);
}

static int
take_overdue(void *arg, const struct gk_overdue_row *r)
{
	struct rows *rs = arg;

	rs->o[rs->n++] = *r;
	return rs->n == 16;
}

static void
hazard(struct maker *mk, int n, int risk, const char *occurred)
{
	char row[GK_ID_LEN + 1], fields[512];

	snprintf(row, sizeof row, "0193a1b2-0000-7000-8000-00000000aa%02d", n);
	snprintf(fields, sizeof fields,
	         "{\"grid\":\"" GRID
	         "\",\"category\":\"fire\",\"risk_level\":%d,"
	         "\"title\":\"隐患%d\",\"occurred_at\":\"%s\"}",
	         risk, n, occurred);
	put(mk, "hazards", "insert", row, fields);
}

static void
event(struct maker *mk, int n, const char *from, const char *to,
      const char *extra)
{
	char row[GK_ID_LEN + 1], fields[1024];

	snprintf(row, sizeof row, "0193a1b2-0000-7000-9000-%012x", mk->seq + 1);
	snprintf(fields, sizeof fields,
	         "{\"hazard\":\"0193a1b2-0000-7000-8000-00000000aa%02d\","
	         "\"kind\":\"transition\",\"from_status\":\"%s\",\"to_status\":"
	         "\"%s\"%s,\"occurred_at\":\"2026-11-20T08:00:00Z\"}",
	         n, from, to, extra);
	put(mk, "hazard_events", "append", row, fields);
}

static void
test_overdue_is_past_the_deadline_or_the_response_target(void **state)
{
	struct maker mk = {tu_replica(), 0};
	struct rows rs = {.n = 0};
	struct gk_policy pol;
	int64_t now;
	static const char *const plan_past =
	    ",\"plan_measures\":\"清理\",\"plan_responsible\":\"王五\","
	    "\"plan_deadline\":\"2026-11-22T00:00:00Z\"";
	static const char *const plan_future =
	    ",\"plan_measures\":\"清理\",\"plan_responsible\":\"王五\","
	    "\"plan_deadline\":\"2026-12-22T00:00:00Z\"";

	(void)state;
	validate_policy_default(&pol);
	/* 1: red, reported 4 h ago: past its 2 h response target */
	hazard(&mk, 1, 1, "2026-11-23T08:00:00Z");
	event(&mk, 1, "new", "reported", "");
	/* 2: yellow, reported 4 h ago: within its 72 h */
	hazard(&mk, 2, 3, "2026-11-23T08:00:00Z");
	event(&mk, 2, "new", "reported", "");
	/* 3: rectifying past its plan's deadline */
	hazard(&mk, 3, 2, "2026-11-01T08:00:00Z");
	event(&mk, 3, "new", "reported", "");
	event(&mk, 3, "reported", "verified", "");
	event(&mk, 3, "verified", "rectifying", plan_past);
	/* 4: the same, but resolved: not overdue */
	hazard(&mk, 4, 2, "2026-11-01T08:00:00Z");
	event(&mk, 4, "new", "reported", "");
	event(&mk, 4, "reported", "verified", "");
	event(&mk, 4, "verified", "rectifying", plan_past);
	event(&mk, 4, "rectifying", "resolved", ",\"note\":\"已清理\"");
	/* 5: rectifying, deadline ahead */
	hazard(&mk, 5, 2, "2026-11-01T08:00:00Z");
	event(&mk, 5, "new", "reported", "");
	event(&mk, 5, "reported", "verified", "");
	event(&mk, 5, "verified", "rectifying", plan_future);

	assert_int_equal(text_time_parse("2026-11-23T12:00:00Z", 20, &now),
	                 GK_OK);
	assert_int_equal(views_overdue(mk.db, now, &pol, take_overdue, &rs),
	                 GK_OK);
	assert_int_equal(rs.n, 2);
	assert_string_equal(rs.o[0].hazard,
	                    "0193a1b2-0000-7000-8000-00000000aa01");
	assert_true(rs.o[0].response_late);
	assert_false(rs.o[0].past_deadline);
	assert_string_equal(rs.o[1].hazard,
	                    "0193a1b2-0000-7000-8000-00000000aa03");
	assert_true(rs.o[1].past_deadline);
	assert_false(rs.o[1].response_late);
	db_close(mk.db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_stock_sums_moves_and_keeps_expired_lots_and_transit_apart),
	    cmocka_unit_test(test_points_balance_and_hours_are_kept_apart),
	    cmocka_unit_test(
	        test_overdue_is_past_the_deadline_or_the_response_target),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
