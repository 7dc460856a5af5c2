/*
 * test-ui-figures.c: the Depots and Volunteers screens read their figures
 * one row at a time from the ledgers' indexes (client/ui_depots.c,
 * client/ui_volunteers.c), so that a screen opens in milliseconds on a
 * replica of 500,000 records. Those figures must be exactly the ones
 * views_stock and views_points derive for the whole replica: on random
 * ledgers made by tests/gen.c (every kind of move, transfers in transit,
 * lots with expiries, negative stock, redemptions), for several days so
 * that lots expire, every row the views give is compared.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gen.h"
#include "testutil.h"
#include "ui.h"

#define START_MS 1793491200000LL /* 2026-11-01T00:00:00Z */
#define CHANGES  3000
#define SEEDS    3

/* What the comparisons met, so a run that compared nothing fails. */
struct seen {
	int rows, expired, negative, transit, shortfall, minimum;
	int volunteers, negative_points, minutes;
};

struct stock_ctx {
	sqlite3 *db;
	const char *today;
	struct seen *seen;
};

static int
check_stock_row(void *arg, const struct gk_stock_row *v)
{
	struct stock_ctx *cx = arg;
	struct gk_stock_row s;

	assert_int_equal(
	    ui_depots_figures(cx->db, v->depot, v->item, cx->today, &s), GK_OK);
	if (s.on_hand != v->on_hand || s.expired != v->expired ||
	    s.in_transit != v->in_transit || s.minimum != v->minimum ||
	    s.shortfall != v->shortfall)
		fail_msg("%s %s on %s: the screen has on hand %lld, expired "
		         "%lld, in transit %lld, minimum %lld, short %lld; "
		         "views_stock has %lld, %lld, %lld, %lld, %lld",
		         v->depot, v->item, cx->today, (long long)s.on_hand,
		         (long long)s.expired, (long long)s.in_transit,
		         (long long)s.minimum, (long long)s.shortfall,
		         (long long)v->on_hand, (long long)v->expired,
		         (long long)v->in_transit, (long long)v->minimum,
		         (long long)v->shortfall);
	cx->seen->rows++;
	cx->seen->expired += v->expired > 0;
	cx->seen->negative += v->on_hand < 0;
	cx->seen->transit += v->in_transit > 0;
	cx->seen->shortfall += v->shortfall > 0;
	cx->seen->minimum += v->minimum >= 0;
	return 0;
}

static int
check_points_row(void *arg, const struct gk_points_row *v)
{
	struct stock_ctx *cx = arg;
	struct gk_points_row s;

	assert_int_equal(ui_volunteers_points(cx->db, v->volunteer, &s), GK_OK);
	if (s.points != v->points || s.minutes != v->minutes)
		fail_msg("%s: the screen has %lld points and %lld minutes; "
		         "views_points has %lld and %lld",
		         v->volunteer, (long long)s.points,
		         (long long)s.minutes, (long long)v->points,
		         (long long)v->minutes);
	cx->seen->volunteers++;
	cx->seen->negative_points += v->points < 0;
	cx->seen->minutes += v->minutes > 0;
	return 0;
}

/*
 * A replica holding CHANGES random changes of seed's world, in the mix
 * that makes every kind often: many depots and items, concurrent-looking
 * issues that go below zero, transfers not yet received.
 */
static sqlite3 *
make_replica(uint64_t seed)
{
	struct gk_testenv t;
	struct gen_world w;
	struct gen_replica r;
	struct gk_error err = {0};
	sqlite3 *db = tu_replica();

	gk_testenv_init(&t, seed, START_MS);
	gen_world_init(&w, &t);
	if (gen_replica_init(&r, &w, db, 0, &err) != GK_OK)
		fail_msg("gen_replica_init: %s", err.msg);
	for (int i = 0; i < CHANGES; i++) {
		struct gk_change c;

		gen_change(&r, &gen_mix_converge, &c);
		change_clear(&c);
	}
	gen_replica_free(&r);
	gen_world_free(&w);
	return db;
}

static void
test_depots_figures_are_views_stock(void **state)
{
	struct seen seen = {0};

	(void)state;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		sqlite3 *db = make_replica(seed);

		/* Today, and later days on which more lots have expired. */
		for (int64_t plus = 0; plus <= 800; plus += 200) {
			int64_t days = START_MS / 86400000 + plus;
			char today[32];
			struct stock_ctx cx = {db, today, &seen};

			text_time_format(days * 86400000, today);
			today[10] = '\0';
			assert_int_equal(
			    views_stock(db, days, check_stock_row, &cx), GK_OK);
		}
		db_close(db);
	}
	/* The ledgers held every case the screen draws. */
	assert_true(seen.rows > 100);
	assert_true(seen.expired > 0);
	assert_true(seen.negative > 0);
	assert_true(seen.transit > 0);
	assert_true(seen.shortfall > 0);
	assert_true(seen.minimum > 0);
}

static void
test_volunteer_balances_are_views_points(void **state)
{
	struct seen seen = {0};

	(void)state;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		sqlite3 *db = make_replica(seed);
		struct stock_ctx cx = {db, NULL, &seen};

		assert_int_equal(views_points(db, check_points_row, &cx),
		                 GK_OK);
		db_close(db);
	}
	assert_true(seen.volunteers > 10);
	assert_true(seen.negative_points > 0);
	assert_true(seen.minutes > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_depots_figures_are_views_stock),
	    cmocka_unit_test(test_volunteer_balances_are_views_points),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
