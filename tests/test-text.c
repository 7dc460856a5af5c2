/*
 * test-text.c: the text checks every field value goes through.
 *
 * text_check is what keeps a malformed byte or a terminal escape out of the
 * records a station's ncurses UI will draw, so each malformed class and each
 * control class gets its own case. Times and dates have exactly one form;
 * anything else is refused, and formatting then parsing gives back the time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sync.h"

/* The code text_check gives a literal (which may hold NULs: sizeof - 1). */
#define CHECK(lit, nl) text_check((lit), sizeof(lit) - 1, (nl))

static void
assert_time(const char *s, int want_rc, int64_t want_ms)
{
	int64_t ms = -1;
	int rc = text_time_parse(s, strlen(s), &ms);

	if (rc != want_rc)
		fail_msg("text_time_parse(\"%s\") gave %s, want %s", s,
		         gk_code_name(rc), gk_code_name(want_rc));
	if (rc == GK_OK && ms != want_ms)
		fail_msg("text_time_parse(\"%s\") gave %lld ms, want %lld", s,
		         (long long)ms, (long long)want_ms);
}

static void
assert_date(const char *s, int want_rc, int64_t want_days)
{
	int64_t days = -1;
	int rc = text_date_parse(s, strlen(s), &days);

	if (rc != want_rc)
		fail_msg("text_date_parse(\"%s\") gave %s, want %s", s,
		         gk_code_name(rc), gk_code_name(want_rc));
	if (rc == GK_OK && days != want_days)
		fail_msg("text_date_parse(\"%s\") gave day %lld, want %lld", s,
		         (long long)days, (long long)want_days);
}

/* ---- text_check: what is accepted -------------------------------------- */

static void
test_text_accepts_plain_ascii(void **state)
{
	(void)state;
	assert_int_equal(CHECK("Gas smell at No. 12, stairwell B", 0), GK_OK);
	assert_int_equal(CHECK(" !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~", 0),
	                 GK_OK);
	assert_int_equal(CHECK("", 0), GK_OK);
}

static void
test_text_accepts_chinese(void **state)
{
	(void)state;
	assert_int_equal(CHECK("幸福街道 隐患", 0), GK_OK);
	assert_int_equal(CHECK("一点一案：消防通道堵塞，"
	                       "限期三日整改。",
	                       0),
	                 GK_OK);
}

static void
test_text_accepts_four_byte_emoji_and_the_last_code_point(void **state)
{
	(void)state;
	/* U+1F600, U+1F30A among text, U+10FFFF, U+10000 */
	assert_int_equal(CHECK("\xf0\x9f\x98\x80", 0), GK_OK);
	assert_int_equal(CHECK("水位 \xf0\x9f\x8c\x8a!", 0), GK_OK);
	assert_int_equal(CHECK("\xf4\x8f\xbf\xbf", 0), GK_OK);
	assert_int_equal(CHECK("\xf0\x90\x80\x80", 0), GK_OK);
}

static void
test_text_accepts_the_first_code_points_past_each_boundary(void **state)
{
	(void)state;
	assert_int_equal(CHECK("\xc2\xa0", 0), GK_OK);     /* U+00A0 */
	assert_int_equal(CHECK("\xdf\xbf", 0), GK_OK);     /* U+07FF */
	assert_int_equal(CHECK("\xe0\xa0\x80", 0), GK_OK); /* U+0800 */
	assert_int_equal(CHECK("\xed\x9f\xbf", 0), GK_OK); /* U+D7FF */
	assert_int_equal(CHECK("\xee\x80\x80", 0), GK_OK); /* U+E000 */
	assert_int_equal(CHECK("\xef\xbf\xbd", 0), GK_OK); /* U+FFFD */
}

static void
test_text_reads_only_len_bytes(void **state)
{
	(void)state;
	assert_int_equal(text_check("ok\xff", 2, 0), GK_OK);
	assert_int_equal(text_check("\x01", 0, 0), GK_OK);
}

/* ---- text_check: malformed UTF-8 is GK_E_UTF8 ---------------------------- */

static void
test_text_refuses_a_lone_continuation_byte(void **state)
{
	(void)state;
	assert_int_equal(CHECK("a\x80z", 0), GK_E_UTF8);
	assert_int_equal(CHECK("\xbf", 0), GK_E_UTF8);
	/* one continuation byte too many after a good character */
	assert_int_equal(CHECK("\xc3\xa9\xa9", 0), GK_E_UTF8);
}

static void
test_text_refuses_a_sequence_truncated_at_the_end(void **state)
{
	(void)state;
	assert_int_equal(CHECK("abc\xc3", 0), GK_E_UTF8);
	assert_int_equal(CHECK("隐\xe6\x82", 0), GK_E_UTF8);
	assert_int_equal(CHECK("\xf0\x9f\x98", 0), GK_E_UTF8);
	/* the full character is there, but len cuts it */
	assert_int_equal(text_check("\xe9\x9a\x90", 2, 0), GK_E_UTF8);
}

static void
test_text_refuses_a_sequence_cut_short_by_another_character(void **state)
{
	(void)state;
	assert_int_equal(CHECK("\xe9\x9a"
	                       "a",
	                       0),
	                 GK_E_UTF8);
	assert_int_equal(CHECK("\xf0\x9f\x98\xc3\xa9", 0), GK_E_UTF8);
}

static void
test_text_refuses_overlong_two_byte_forms(void **state)
{
	(void)state;
	assert_int_equal(CHECK("\xc0\xaf", 0), GK_E_UTF8); /* '/' */
	assert_int_equal(CHECK("\xc0\x80", 0), GK_E_UTF8); /* NUL */
	assert_int_equal(CHECK("\xc1\xbf", 0), GK_E_UTF8);
}

static void
test_text_refuses_overlong_three_and_four_byte_forms(void **state)
{
	(void)state;
	assert_int_equal(CHECK("\xe0\x80\xaf", 0), GK_E_UTF8);     /* '/' */
	assert_int_equal(CHECK("\xe0\x9f\xbf", 0), GK_E_UTF8);     /* U+07FF */
	assert_int_equal(CHECK("\xf0\x80\x80\xaf", 0), GK_E_UTF8); /* '/' */
	assert_int_equal(CHECK("\xf0\x8f\xbf\xbf", 0), GK_E_UTF8); /* U+FFFF */
}

static void
test_text_refuses_surrogates_encoded_in_utf8(void **state)
{
	(void)state;
	assert_int_equal(CHECK("\xed\xa0\x80", 0), GK_E_UTF8); /* U+D800 */
	assert_int_equal(CHECK("\xed\xbf\xbf", 0), GK_E_UTF8); /* U+DFFF */
	/* a CESU-8 pair for U+1F600 */
	assert_int_equal(CHECK("\xed\xa0\xbd\xed\xb8\x80", 0), GK_E_UTF8);
}

static void
test_text_refuses_code_points_past_u10ffff(void **state)
{
	(void)state;
	assert_int_equal(CHECK("\xf4\x90\x80\x80", 0), GK_E_UTF8); /* 110000 */
	assert_int_equal(CHECK("\xf5\x80\x80\x80", 0), GK_E_UTF8);
	assert_int_equal(CHECK("\xf7\xbf\xbf\xbf", 0), GK_E_UTF8);
	assert_int_equal(CHECK("\xf8\x88\x80\x80\x80", 0), GK_E_UTF8);
}

static void
test_text_refuses_bytes_that_never_appear_in_utf8(void **state)
{
	(void)state;
	assert_int_equal(CHECK("\xff", 0), GK_E_UTF8);
	assert_int_equal(CHECK("\xfe", 0), GK_E_UTF8);
	assert_int_equal(CHECK("title \xff\xfe", 0), GK_E_UTF8);
}

/* ---- text_check: controls are GK_E_CONTROL ------------------------------- */

static void
test_text_refuses_nul_inside_the_length(void **state)
{
	(void)state;
	assert_int_equal(CHECK("a\0b", 0), GK_E_CONTROL);
	assert_int_equal(CHECK("a\0b", 1), GK_E_CONTROL);
}

static void
test_text_refuses_c0_controls_and_del(void **state)
{
	(void)state;
	assert_int_equal(CHECK("a\x01", 0), GK_E_CONTROL);
	assert_int_equal(CHECK("\x1b[2J", 0), GK_E_CONTROL); /* ESC */
	assert_int_equal(CHECK("\x1b[2J", 1), GK_E_CONTROL);
	assert_int_equal(CHECK("rub\x7fout", 0), GK_E_CONTROL); /* DEL */
	assert_int_equal(CHECK("rub\x7fout", 1), GK_E_CONTROL);
	assert_int_equal(CHECK("\x1f", 1), GK_E_CONTROL);
	assert_int_equal(CHECK("line\r\n", 1), GK_E_CONTROL); /* CR */
}

static void
test_text_refuses_c1_controls(void **state)
{
	(void)state;
	assert_int_equal(CHECK("\xc2\x85", 0), GK_E_CONTROL); /* NEL */
	assert_int_equal(CHECK("\xc2\x9b"
	                       "2J",
	                       0),
	                 GK_E_CONTROL); /* CSI */
	assert_int_equal(CHECK("\xc2\x9b"
	                       "2J",
	                       1),
	                 GK_E_CONTROL);
	assert_int_equal(CHECK("\xc2\x80", 0), GK_E_CONTROL); /* first */
	assert_int_equal(CHECK("\xc2\x9f", 0), GK_E_CONTROL); /* last */
}

static void
test_text_allows_newline_and_tab_only_when_asked(void **state)
{
	(void)state;
	assert_int_equal(CHECK("step 1\nstep 2", 0), GK_E_CONTROL);
	assert_int_equal(CHECK("item:\tok", 0), GK_E_CONTROL);
	assert_int_equal(CHECK("step 1\nstep 2", 1), GK_OK);
	assert_int_equal(CHECK("item:\tok\n", 1), GK_OK);
}

/* ---- times and dates ----------------------------------------------------- */

static void
test_time_parse_accepts_utc_seconds_and_milliseconds(void **state)
{
	(void)state;
	assert_time("1970-01-01T00:00:00Z", GK_OK, 0);
	assert_time("1999-12-31T23:59:59Z", GK_OK, 946684799000LL);
	assert_time("2026-03-14T09:26:53Z", GK_OK, 1773480413000LL);
	assert_time("2026-03-14T09:26:53.589Z", GK_OK, 1773480413589LL);
	assert_time("2026-03-14T09:26:53.000Z", GK_OK, 1773480413000LL);
	assert_time("2028-02-29T12:00:00Z", GK_OK, 1835438400000LL);
	assert_time("9999-12-31T23:59:59.999Z", GK_OK, 253402300799999LL);
}

static void
test_time_parse_refuses_days_the_calendar_does_not_have(void **state)
{
	(void)state;
	assert_time("2026-02-29T00:00:00Z", GK_E_TIME, 0);
	assert_time("2100-02-29T00:00:00Z", GK_E_TIME, 0);
	assert_time("2026-13-01T00:00:00Z", GK_E_TIME, 0);
	assert_time("2026-00-10T00:00:00Z", GK_E_TIME, 0);
	assert_time("2026-01-00T00:00:00Z", GK_E_TIME, 0);
	assert_time("2026-04-31T00:00:00Z", GK_E_TIME, 0);
	assert_time("1969-12-31T23:59:59Z", GK_E_TIME, 0);
}

static void
test_time_parse_refuses_times_of_day_out_of_range(void **state)
{
	(void)state;
	assert_time("2026-01-01T24:00:00Z", GK_E_TIME, 0);
	assert_time("2026-01-01T23:60:00Z", GK_E_TIME, 0);
	assert_time("2026-01-01T23:59:60Z", GK_E_TIME, 0); /* leap second */
}

static void
test_time_parse_refuses_anything_but_the_one_utc_form(void **state)
{
	(void)state;
	assert_time("2026-01-01T08:00:00", GK_E_TIME, 0); /* no Z */
	assert_time("2026-01-01T08:00:00+08:00", GK_E_TIME, 0);
	assert_time("2026-01-01T08:00:00.000+08:00", GK_E_TIME, 0);
	assert_time("2026-01-01T08:00:00+0800", GK_E_TIME, 0); /* len 24 */
	assert_time("2026-01-01T08:00:00.1Z", GK_E_TIME, 0);
	assert_time("2026-01-01T08:00:00.1234Z", GK_E_TIME, 0);
	assert_time("2026-01-01T08:00:00.12aZ", GK_E_TIME, 0);
	assert_time("2026-01-01 08:00:00Z", GK_E_TIME, 0);
	assert_time("2026-01-01t08:00:00z", GK_E_TIME, 0);
	assert_time("2026-1-01T08:00:00Z", GK_E_TIME, 0);
	assert_time("+026-01-01T08:00:00Z", GK_E_TIME, 0);
	assert_time("2026-01-01T8:00:00Z", GK_E_TIME, 0);
	assert_time("2026-01-01T08:00:00ZZ", GK_E_TIME, 0);
	assert_time("2026-01-01", GK_E_TIME, 0);
	assert_time("", GK_E_TIME, 0);
	assert_int_equal(text_time_parse("2026-01-01T08:00:00Zjunk", 21, NULL),
	                 GK_E_TIME);
}

static void
test_date_parse_accepts_real_dates(void **state)
{
	(void)state;
	assert_date("1970-01-01", GK_OK, 0);
	assert_date("2026-03-14", GK_OK, 20526);
	assert_date("2028-02-29", GK_OK, 20526 + 717);
	assert_date("2000-02-29", GK_OK, 11016);
	assert_date("9999-12-31", GK_OK, 2932896);
}

static void
test_date_parse_refuses_bad_dates_and_other_forms(void **state)
{
	(void)state;
	assert_date("2026-02-29", GK_E_TIME, 0);
	assert_date("2026-13-01", GK_E_TIME, 0);
	assert_date("2026-12-32", GK_E_TIME, 0);
	assert_date("2026-06-31", GK_E_TIME, 0);
	assert_date("1900-02-29", GK_E_TIME, 0);
	assert_date("2026/03/14", GK_E_TIME, 0);
	assert_date("2026-3-14", GK_E_TIME, 0);
	assert_date("2026-03-14Z", GK_E_TIME, 0);
	assert_date("2026-03-14T00:00:00Z", GK_E_TIME, 0);
	assert_date("20260314", GK_E_TIME, 0);
	assert_date("2026-03-1\xd9", GK_E_TIME, 0);
}

/* Format, then parse: the same time again, and the date part alone parses
 * to the same day. */
static void
assert_round_trip(int64_t ms)
{
	char buf[32];
	int64_t back = -1, days = -1;

	text_time_format(ms, buf);
	if (text_time_parse(buf, strlen(buf), &back) != GK_OK || back != ms)
		fail_msg("%lld formats as \"%s\", which parses as %lld",
		         (long long)ms, buf, (long long)back);
	if (text_date_parse(buf, 10, &days) != GK_OK || days != ms / 86400000)
		fail_msg("\"%s\" has day %lld, want %lld", buf, (long long)days,
		         (long long)(ms / 86400000));
}

static void
test_time_format_writes_the_one_utc_form(void **state)
{
	char buf[32];

	(void)state;
	text_time_format(0, buf);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	text_time_format(951782400000LL, buf);
	assert_string_equal(buf, "2000-02-29T00:00:00Z");
	text_time_format(1773480413000LL, buf);
	assert_string_equal(buf, "2026-03-14T09:26:53Z");
	text_time_format(253402300799000LL, buf);
	assert_string_equal(buf, "9999-12-31T23:59:59Z");
}

static void
test_time_format_keeps_milliseconds(void **state)
{
	char buf[32];

	(void)state;
	text_time_format(1773480413589LL, buf);
	assert_string_equal(buf, "2026-03-14T09:26:53.589Z");
	text_time_format(1773480413001LL, buf);
	assert_string_equal(buf, "2026-03-14T09:26:53.001Z");
}

static void
test_time_format_never_overflows_its_buffer(void **state)
{
	char buf[32];

	(void)state;
	/* Far outside what parse takes; only "no crash, terminated". */
	text_time_format(INT64_MIN, buf);
	assert_true(strlen(buf) < sizeof buf);
	text_time_format(INT64_MAX, buf);
	assert_true(strlen(buf) < sizeof buf);
	text_time_format(-1, buf);
	assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
}

static void
test_time_round_trips_through_format_on_every_day_1970_to_2200(void **state)
{
	(void)state;
	for (int64_t day = 0; day < 84000; day++) {
		assert_round_trip(day * 86400000);
		assert_round_trip(day * 86400000 + 86399999);
	}
}

static void
test_time_round_trips_through_format_for_random_times(void **state)
{
	struct gk_testenv t;

	(void)state;
	gk_testenv_init(&t, 20260314, 0);
	assert_round_trip(946684799000LL);    /* before 2000 */
	assert_round_trip(946684800000LL);    /* 2000 itself */
	assert_round_trip(4102444800000LL);   /* 2100-01-01 */
	assert_round_trip(253402300799999LL); /* the last one */
	for (int i = 0; i < 100000; i++)
		assert_round_trip(
		    (int64_t)gk_testenv_below(&t, 253402300800000ULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_text_accepts_plain_ascii),
	    cmocka_unit_test(test_text_accepts_chinese),
	    cmocka_unit_test(
	        test_text_accepts_four_byte_emoji_and_the_last_code_point),
	    cmocka_unit_test(
	        test_text_accepts_the_first_code_points_past_each_boundary),
	    cmocka_unit_test(test_text_reads_only_len_bytes),
	    cmocka_unit_test(test_text_refuses_a_lone_continuation_byte),
	    cmocka_unit_test(test_text_refuses_a_sequence_truncated_at_the_end),
	    cmocka_unit_test(
	        test_text_refuses_a_sequence_cut_short_by_another_character),
	    cmocka_unit_test(test_text_refuses_overlong_two_byte_forms),
	    cmocka_unit_test(
	        test_text_refuses_overlong_three_and_four_byte_forms),
	    cmocka_unit_test(test_text_refuses_surrogates_encoded_in_utf8),
	    cmocka_unit_test(test_text_refuses_code_points_past_u10ffff),
	    cmocka_unit_test(test_text_refuses_bytes_that_never_appear_in_utf8),
	    cmocka_unit_test(test_text_refuses_nul_inside_the_length),
	    cmocka_unit_test(test_text_refuses_c0_controls_and_del),
	    cmocka_unit_test(test_text_refuses_c1_controls),
	    cmocka_unit_test(test_text_allows_newline_and_tab_only_when_asked),
	    cmocka_unit_test(
	        test_time_parse_accepts_utc_seconds_and_milliseconds),
	    cmocka_unit_test(
	        test_time_parse_refuses_days_the_calendar_does_not_have),
	    cmocka_unit_test(test_time_parse_refuses_times_of_day_out_of_range),
	    cmocka_unit_test(
	        test_time_parse_refuses_anything_but_the_one_utc_form),
	    cmocka_unit_test(test_date_parse_accepts_real_dates),
	    cmocka_unit_test(test_date_parse_refuses_bad_dates_and_other_forms),
	    cmocka_unit_test(test_time_format_writes_the_one_utc_form),
	    cmocka_unit_test(test_time_format_keeps_milliseconds),
	    cmocka_unit_test(test_time_format_never_overflows_its_buffer),
	    cmocka_unit_test(
	        test_time_round_trips_through_format_on_every_day_1970_to_2200),
	    cmocka_unit_test(
	        test_time_round_trips_through_format_for_random_times),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
