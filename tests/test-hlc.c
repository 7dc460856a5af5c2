/*
 * test-hlc.c: the hybrid logical clock, node ids and UUIDv7 ids.
 *
 * These are what order every change and name every record, so the tests
 * state their promises: a replica's stamps only ever go up, whatever its
 * wall clock does; a stamp from elsewhere is adopted unless it is too far
 * ahead; the text forms sort like the numbers; ids are well formed,
 * time-ordered and, from the same seed, the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sync.h"

#define T0 1773480413000LL /* 2026-03-14T09:26:53Z */

/* ---- hlc_now ------------------------------------------------------------- */

static void
test_hlc_stays_monotonic_when_wall_clock_steps_back(void **state)
{
	struct gk_testenv t;
	struct hlc h = {0};
	int64_t wall = T0;
	uint64_t prev = 0;

	(void)state;
	gk_testenv_init(&t, 7, T0);
	for (int i = 0; i < 100000; i++) {
		uint64_t r = gk_testenv_below(&t, 100), s;

		if (r < 60)
			wall += (int64_t)gk_testenv_below(&t, 3); /* 0..2 ms */
		else if (r < 90)
			wall -= (int64_t)gk_testenv_below(&t, 50);
		else if (r < 99)
			wall -= 3600000; /* an NTP step of an hour */
		else
			wall += (int64_t)gk_testenv_below(&t, 7200000);
		s = hlc_now(&h, wall);
		if (s <= prev)
			fail_msg("call %d: stamp %llx after %llx (wall %lld)",
			         i, (unsigned long long)s,
			         (unsigned long long)prev, (long long)wall);
		assert_true(hlc_ms(s) >= wall || hlc_ms(s) >= hlc_ms(prev));
		prev = s;
	}
}

static void
test_hlc_follows_the_wall_clock_when_it_moves_forward(void **state)
{
	struct hlc h = {0};
	uint64_t s;

	(void)state;
	s = hlc_now(&h, T0);
	assert_int_equal(hlc_ms(s), T0);
	assert_int_equal(s & 0xffff, 0);
	s = hlc_now(&h, T0);
	assert_int_equal(hlc_ms(s), T0);
	assert_int_equal(s & 0xffff, 1);
	s = hlc_now(&h, T0 + 5000);
	assert_int_equal(s, (uint64_t)(T0 + 5000) << 16);
}

static void
test_hlc_catches_up_with_the_wall_clock_after_a_step_back(void **state)
{
	struct hlc h = {0};
	uint64_t s;

	(void)state;
	hlc_now(&h, T0);
	s = hlc_now(&h, T0 - 60000); /* a minute back: keep counting */
	assert_int_equal(hlc_ms(s), T0);
	assert_int_equal(s & 0xffff, 1);
	s = hlc_now(&h, T0 + 1); /* wall passes the last stamp again */
	assert_int_equal(s, (uint64_t)(T0 + 1) << 16);
}

static void
test_hlc_counter_overflow_within_one_ms_stays_monotonic(void **state)
{
	struct hlc h = {0};
	uint64_t prev = 0, s = 0;

	(void)state;
	for (int i = 0; i < 70000; i++) {
		s = hlc_now(&h, T0);
		if (s <= prev)
			fail_msg("call %d: %llx after %llx", i,
			         (unsigned long long)s,
			         (unsigned long long)prev);
		prev = s;
	}
	/* 65,536 stamps fit in T0; the rest ran ahead into T0 + 1. */
	assert_int_equal(hlc_ms(s), T0 + 1);
	assert_int_equal(s & 0xffff, 70000 - 65536 - 1);
	/* and the wall clock takes over again once it is ahead */
	s = hlc_now(&h, T0 + 2);
	assert_int_equal(s, (uint64_t)(T0 + 2) << 16);
}

static void
test_hlc_counts_a_wall_clock_before_1970_as_zero(void **state)
{
	struct hlc h = {0};

	(void)state;
	assert_int_equal(hlc_now(&h, -5), 1); /* 0 is "never set" */
	assert_int_equal(hlc_now(&h, -5), 2);
	assert_int_equal(hlc_now(&h, 0), 3);
}

/* ---- hlc_recv ------------------------------------------------------------ */

static void
test_hlc_recv_adopts_a_stamp_so_the_next_local_sorts_after(void **state)
{
	struct hlc h = {0};
	uint64_t remote = ((uint64_t)(T0 + 2000) << 16) | 7, s;

	(void)state;
	hlc_now(&h, T0);
	assert_int_equal(hlc_recv(&h, remote, T0, 5 * 60000), GK_OK);
	assert_int_equal(h.last, remote);
	s = hlc_now(&h, T0 + 1); /* our wall is still behind the remote */
	assert_true(s > remote);
	assert_int_equal(s, remote + 1);
}

static void
test_hlc_recv_never_moves_the_clock_back(void **state)
{
	struct hlc h = {0};
	uint64_t mine;

	(void)state;
	mine = hlc_now(&h, T0);
	assert_int_equal(hlc_recv(&h, (uint64_t)(T0 - 1000) << 16, T0, 1000),
	                 GK_OK);
	assert_int_equal(h.last, mine);
	assert_true(hlc_now(&h, T0) > mine);
}

static void
test_hlc_recv_refuses_a_stamp_beyond_max_skew_and_leaves_clock(void **state)
{
	struct hlc h = {0};
	uint64_t mine, at_limit, past_limit;

	(void)state;
	mine = hlc_now(&h, T0);
	at_limit = ((uint64_t)(T0 + 300000) << 16) | 0xffff;
	past_limit = (uint64_t)(T0 + 300001) << 16;
	assert_int_equal(hlc_recv(&h, past_limit, T0, 300000), GK_E_SKEW);
	assert_int_equal(h.last, mine);
	assert_int_equal(hlc_recv(&h, UINT64_MAX, T0, 300000), GK_E_HLC);
	assert_int_equal(h.last, mine);
	assert_int_equal(hlc_recv(&h, at_limit, T0, 300000), GK_OK);
	assert_int_equal(h.last, at_limit);
	/* a skew of 0: nothing ahead of our own millisecond */
	h.last = mine;
	assert_int_equal(hlc_recv(&h, (uint64_t)(T0 + 1) << 16, T0, 0),
	                 GK_E_SKEW);
	assert_int_equal(hlc_recv(&h, (uint64_t)T0 << 16 | 9, T0, 0), GK_OK);
}

static void
test_hlc_recv_with_negative_max_skew_adopts_anything(void **state)
{
	struct hlc h = {0};
	uint64_t far = (uint64_t)(T0 + 10LL * 365 * 86400000) << 16;

	(void)state;
	hlc_now(&h, T0);
	assert_int_equal(hlc_recv(&h, far, T0, -1), GK_OK);
	assert_int_equal(h.last, far);
	assert_true(hlc_now(&h, T0) > far);
}

static void
test_hlc_recv_with_a_huge_max_skew_adopts_any_storable_stamp(void **state)
{
	struct hlc h = {0};
	uint64_t far = (uint64_t)INT64_MAX - 5;

	(void)state;
	hlc_now(&h, T0);
	assert_int_equal(hlc_recv(&h, far, T0, INT64_MAX), GK_OK);
	assert_int_equal(h.last, far);
	assert_int_equal(hlc_recv(&h, far + 1, INT64_MAX, 1), GK_OK);
	assert_int_equal(h.last, far + 1);
	/* past 2^63 a stamp cannot be stored as SQLite's signed integer */
	assert_int_equal(hlc_recv(&h, (UINT64_C(1) << 63) | 5, T0, -1),
	                 GK_E_HLC);
	assert_int_equal(h.last, far + 1);
}

/* ---- the text forms ------------------------------------------------------ */

static uint64_t
random64(struct gk_testenv *t)
{
	uint64_t v;
	struct gk_env env = gk_testenv_env(t);

	env.random(env.arg, &v, sizeof v);
	return v;
}

static void
test_hlc_format_and_parse_round_trip(void **state)
{
	static const uint64_t edges[] = {0,
	                                 1,
	                                 0xffff,
	                                 0x10000,
	                                 UINT64_MAX,
	                                 UINT64_MAX - 1,
	                                 UINT64_C(0x0123456789abcdef)};
	struct gk_testenv t;
	char buf[GK_HLC_LEN + 1];
	uint64_t v, back;

	(void)state;
	hlc_format(UINT64_C(0x0123456789abcdef), buf);
	assert_string_equal(buf, "0123456789abcdef");
	hlc_format(0, buf);
	assert_string_equal(buf, "0000000000000000");
	for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
		hlc_format(edges[i], buf);
		assert_int_equal(strlen(buf), GK_HLC_LEN);
		assert_int_equal(hlc_parse(buf, GK_HLC_LEN, &back), GK_OK);
		assert_int_equal(back, edges[i]);
	}
	gk_testenv_init(&t, 11, 0);
	for (int i = 0; i < 10000; i++) {
		v = random64(&t) >> gk_testenv_below(&t, 64);
		hlc_format(v, buf);
		assert_int_equal(hlc_parse(buf, strlen(buf), &back), GK_OK);
		assert_int_equal(back, v);
		node_format(v, buf);
		assert_int_equal(node_parse(buf, strlen(buf), &back), GK_OK);
		assert_int_equal(back, v);
	}
}

static int
sign(long long x)
{
	return (x > 0) - (x < 0);
}

static void
test_hlc_text_sorts_like_the_numbers(void **state)
{
	struct gk_testenv t;
	char a[GK_HLC_LEN + 1], b[GK_HLC_LEN + 1];

	(void)state;
	gk_testenv_init(&t, 12, 0);
	for (int i = 0; i < 100000; i++) {
		uint64_t x = random64(&t) >> gk_testenv_below(&t, 64);
		uint64_t y;

		/* half the pairs close together, sharing a long prefix */
		if (i % 2)
			y = x + gk_testenv_below(&t, 1000) - 500;
		else
			y = random64(&t) >> gk_testenv_below(&t, 64);
		hlc_format(x, a);
		hlc_format(y, b);
		if (sign(strcmp(a, b)) != sign((x > y) - (x < y)))
			fail_msg("%s vs %s sorts unlike %llx vs %llx", a, b,
			         (unsigned long long)x, (unsigned long long)y);
	}
}

/* Each string that hlc_parse and node_parse must refuse. */
static const struct {
	const char *s;
	size_t len;
} bad_hex[] = {
    {"0123456789ABCDEF", 16},  /* uppercase */
    {"0123456789abcdeF", 16},  /* one uppercase digit */
    {"0123456789abcde", 15},   /* short */
    {"0123456789abcdef0", 17}, /* long */
    {"", 0},
    {"0123456789abcdeg", 16}, /* not hex */
    {"0x23456789abcdef", 16},
    {" 123456789abcdef", 16},
    {"-123456789abcdef", 16},
    {"0123456789abcde\0", 16}, /* NUL inside the length */
    {"０123456789abcde", 16},  /* a full-width digit, 3 bytes */
};

static void
test_hlc_parse_refuses_all_but_16_lowercase_hex_digits(void **state)
{
	uint64_t v = 42;

	(void)state;
	for (size_t i = 0; i < sizeof bad_hex / sizeof bad_hex[0]; i++) {
		if (hlc_parse(bad_hex[i].s, bad_hex[i].len, &v) != GK_E_HLC)
			fail_msg("hlc_parse took \"%.*s\"", (int)bad_hex[i].len,
			         bad_hex[i].s);
		assert_int_equal(v, 42); /* untouched on failure */
	}
	assert_int_equal(hlc_parse(NULL, 16, &v), GK_E_HLC);
}

static void
test_node_parse_refuses_all_but_16_lowercase_hex_digits(void **state)
{
	uint64_t v = 42;

	(void)state;
	for (size_t i = 0; i < sizeof bad_hex / sizeof bad_hex[0]; i++) {
		if (node_parse(bad_hex[i].s, bad_hex[i].len, &v) != GK_E_NODE)
			fail_msg("node_parse took \"%.*s\"",
			         (int)bad_hex[i].len, bad_hex[i].s);
		assert_int_equal(v, 42);
	}
}

/* ---- node ids ------------------------------------------------------------ */

/* A random source that yields zero bytes for its first few calls. */
struct zeros_first {
	int zero_calls;
	int calls;
};

static void
zeros_then_ones(void *arg, void *buf, size_t len)
{
	struct zeros_first *z = arg;

	memset(buf, z->calls++ < z->zero_calls ? 0 : 0x5a, len);
}

static int64_t
fixed_now(void *arg)
{
	(void)arg;
	return T0;
}

static void
test_node_new_is_never_zero(void **state)
{
	struct zeros_first z = {3, 0};
	struct gk_env env = {fixed_now, zeros_then_ones, &z};
	struct gk_testenv t;
	struct gk_env tenv;

	(void)state;
	assert_int_equal(node_new(&env), UINT64_C(0x5a5a5a5a5a5a5a5a));
	assert_int_equal(z.calls, 4);
	gk_testenv_init(&t, 13, T0);
	tenv = gk_testenv_env(&t);
	for (int i = 0; i < 10000; i++)
		assert_int_not_equal(node_new(&tenv), 0);
}

/* ---- UUIDv7 -------------------------------------------------------------- */

static void
assert_v7(const char *id, int64_t ms)
{
	char hexms[13];

	if (strlen(id) != GK_ID_LEN || !uuid_valid(id, GK_ID_LEN))
		fail_msg("\"%s\" is not a canonical UUID", id);
	if (id[14] != '7')
		fail_msg("\"%s\" is not version 7", id);
	if (strchr("89ab", id[19]) == NULL)
		fail_msg("\"%s\" has not the RFC 9562 variant", id);
	/* the first 48 bits are the milliseconds, big-endian */
	snprintf(hexms, sizeof hexms, "%012llx", (unsigned long long)ms);
	if (memcmp(id, hexms, 8) != 0 || memcmp(id + 9, hexms + 8, 4) != 0)
		fail_msg("\"%s\" does not start with %s", id, hexms);
}

static void
test_uuid_v7_is_well_formed(void **state)
{
	struct gk_testenv t;
	struct gk_env env;
	char id[GK_ID_LEN + 1];

	(void)state;
	gk_testenv_init(&t, 14, T0);
	env = gk_testenv_env(&t);
	for (int i = 0; i < 1000; i++) {
		t.now = T0 + i * 977;
		uuid_v7(&env, id);
		assert_v7(id, t.now);
	}
	uuid_v7(&gk_env_system, id);
	assert_true(uuid_valid(id, strlen(id)));
	assert_int_equal(id[14], '7');
}

static void
test_uuid_v7_is_time_ordered_for_an_increasing_clock(void **state)
{
	struct gk_testenv t;
	struct gk_env env;
	char prev[GK_ID_LEN + 1], id[GK_ID_LEN + 1];

	(void)state;
	gk_testenv_init(&t, 15, 0);
	env = gk_testenv_env(&t);
	uuid_v7(&env, prev);
	for (int i = 0; i < 10000; i++) {
		t.now += 1 + (int64_t)gk_testenv_below(&t, 100000000);
		uuid_v7(&env, id);
		if (strcmp(prev, id) >= 0)
			fail_msg("%s made after %s", id, prev);
		memcpy(prev, id, sizeof id);
	}
}

static int
cmp_ids(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
test_uuid_v7_ids_are_distinct_within_one_millisecond(void **state)
{
	enum { N = 10000 };
	char(*ids)[GK_ID_LEN + 1] = malloc(N * sizeof *ids);
	struct gk_testenv t;
	struct gk_env env;

	(void)state;
	assert_non_null(ids);
	gk_testenv_init(&t, 16, T0); /* the clock never moves */
	env = gk_testenv_env(&t);
	for (int i = 0; i < N; i++)
		uuid_v7(&env, ids[i]);
	qsort(ids, N, sizeof *ids, cmp_ids);
	for (int i = 1; i < N; i++)
		if (strcmp(ids[i - 1], ids[i]) == 0)
			fail_msg("%s made twice", ids[i]);
	free(ids);
}

static void
test_uuid_v7_is_deterministic_from_the_same_seed(void **state)
{
	struct gk_testenv a, b, c;
	struct gk_env ea, eb, ec;
	char ia[GK_ID_LEN + 1], ib[GK_ID_LEN + 1], ic[GK_ID_LEN + 1];
	int differ = 0;

	(void)state;
	gk_testenv_init(&a, 99, T0);
	gk_testenv_init(&b, 99, T0);
	gk_testenv_init(&c, 100, T0);
	ea = gk_testenv_env(&a);
	eb = gk_testenv_env(&b);
	ec = gk_testenv_env(&c);
	for (int i = 0; i < 100; i++) {
		uuid_v7(&ea, ia);
		uuid_v7(&eb, ib);
		uuid_v7(&ec, ic);
		assert_string_equal(ia, ib);
		differ += strcmp(ia, ic) != 0;
	}
	assert_int_equal(differ, 100);
	assert_int_equal(node_new(&ea), node_new(&eb));
}

static void
test_uuid_valid_takes_canonical_lowercase_of_any_version(void **state)
{
	(void)state;
	assert_true(uuid_valid("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", 36));
	assert_true(uuid_valid("f47ac10b-58cc-4372-a567-0e02b2c3d479", 36));
	assert_true(uuid_valid("00000000-0000-0000-0000-000000000000", 36));
}

static void
test_uuid_valid_refuses_other_forms(void **state)
{
	static const char *const bad[] = {
	    "0193A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B", /* uppercase */
	    "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5B",
	    "0193a1b2c3d47e5f8a9b0c1d2e3f4a5b",      /* no dashes */
	    "0193a1b2-c3d47e5f-8a9b-0c1d2e3f4a5b-",  /* dash moved */
	    "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5",   /* short */
	    "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b0", /* long */
	    "{0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b}",
	    "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5g", /* not hex */
	    "0193a1b2_c3d4_7e5f_8a9b_0c1d2e3f4a5b",
	    "",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (uuid_valid(bad[i], strlen(bad[i])))
			fail_msg("uuid_valid took \"%s\"", bad[i]);
	/* only the first len bytes count, and a NUL among them is refused */
	assert_false(uuid_valid("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", 35));
	assert_false(uuid_valid("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5\0", 36));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_hlc_stays_monotonic_when_wall_clock_steps_back),
	    cmocka_unit_test(
	        test_hlc_follows_the_wall_clock_when_it_moves_forward),
	    cmocka_unit_test(
	        test_hlc_catches_up_with_the_wall_clock_after_a_step_back),
	    cmocka_unit_test(
	        test_hlc_counter_overflow_within_one_ms_stays_monotonic),
	    cmocka_unit_test(test_hlc_counts_a_wall_clock_before_1970_as_zero),
	    cmocka_unit_test(
	        test_hlc_recv_adopts_a_stamp_so_the_next_local_sorts_after),
	    cmocka_unit_test(test_hlc_recv_never_moves_the_clock_back),
	    cmocka_unit_test(
	        test_hlc_recv_refuses_a_stamp_beyond_max_skew_and_leaves_clock),
	    cmocka_unit_test(
	        test_hlc_recv_with_negative_max_skew_adopts_anything),
	    cmocka_unit_test(
	        test_hlc_recv_with_a_huge_max_skew_adopts_any_storable_stamp),
	    cmocka_unit_test(test_hlc_format_and_parse_round_trip),
	    cmocka_unit_test(test_hlc_text_sorts_like_the_numbers),
	    cmocka_unit_test(
	        test_hlc_parse_refuses_all_but_16_lowercase_hex_digits),
	    cmocka_unit_test(
	        test_node_parse_refuses_all_but_16_lowercase_hex_digits),
	    cmocka_unit_test(test_node_new_is_never_zero),
	    cmocka_unit_test(test_uuid_v7_is_well_formed),
	    cmocka_unit_test(
	        test_uuid_v7_is_time_ordered_for_an_increasing_clock),
	    cmocka_unit_test(
	        test_uuid_v7_ids_are_distinct_within_one_millisecond),
	    cmocka_unit_test(test_uuid_v7_is_deterministic_from_the_same_seed),
	    cmocka_unit_test(
	        test_uuid_valid_takes_canonical_lowercase_of_any_version),
	    cmocka_unit_test(test_uuid_valid_refuses_other_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
