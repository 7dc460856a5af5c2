/*
 * test-ui-draw.c: the terminal UI draws untrusted text safely and in the
 * right columns.
 *
 * ui_width and ui_text (client/ui_draw.c) stand between every record from
 * the server and the terminal. Here ncurses draws into a virtual screen
 * (newterm on /dev/null) and the cells are read back: no escape or
 * control character may reach a cell, invalid UTF-8 becomes "?", Chinese
 * takes two columns, and a wide character is never cut in half.
 */
#include <limits.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "gridkeep.h"
#include "ui.h"

static SCREEN *scr;
static FILE *devout, *devin;
static WINDOW *win;

static int
setup(void **state)
{
	(void)state;
	if (setlocale(LC_ALL, "C.UTF-8") == NULL)
		return -1;
	if ((devout = fopen("/dev/null", "w")) == NULL ||
	    (devin = fopen("/dev/null", "r")) == NULL)
		return -1;
	if ((scr = newterm("xterm", devout, devin)) == NULL)
		return -1;
	if ((win = newwin(3, 40, 0, 0)) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	delwin(win);
	endwin();
	delscreen(scr);
	fclose(devout);
	fclose(devin);
	return 0;
}

/* The characters of row y of the window as UTF-8 (the cells read back). */
static void
row_at(int y, char *buf, size_t size)
{
	wchar_t w[64];
	mbstate_t ms;
	size_t used = 0;
	int n = mvwinnwstr(win, y, 0, w, 40);

	memset(&ms, 0, sizeof ms);
	for (int i = 0; i < n && w[i] != 0 && used + MB_LEN_MAX < size; i++) {
		size_t k = wcrtomb(buf + used, w[i], &ms);

		if (k != (size_t)-1)
			used += k;
	}
	buf[used] = '\0';
	/* Drop the blanks at the end. */
	while (used > 0 && buf[used - 1] == ' ')
		buf[--used] = '\0';
}

static void
row(char *buf, size_t size)
{
	row_at(0, buf, size);
}

static void
draw(int width, const char *s, char *buf, size_t size, int *cols)
{
	werase(win);
	*cols = ui_text(win, 0, 0, width, s, 0);
	row(buf, size);
}

static void
test_width_counts_chinese_as_two_columns(void **state)
{
	(void)state;
	assert_int_equal(ui_width("abc"), 3);
	assert_int_equal(ui_width("楼道堆放杂物"), 12);
	assert_int_equal(ui_width("和平社区 A1"), 11);
	assert_int_equal(ui_width(""), 0);
	assert_int_equal(ui_width(NULL), 0);
}

static void
test_width_counts_each_bad_byte_and_control_as_one(void **state)
{
	(void)state;
	assert_int_equal(ui_width("\x1b[31m"), 5);
	assert_int_equal(ui_width("a\xff"
	                          "b"),
	                 3);
	assert_int_equal(ui_width("\xe6\xa5"), 2); /* a cut 3-byte char */
	assert_int_equal(ui_width("\xc2\x9b"), 1); /* C1 CSI */
}

static void
test_escape_sequences_never_reach_a_cell(void **state)
{
	char buf[256];
	int cols;

	(void)state;
	draw(40, "\x1b]0;pwned\x07red\x1b[31m!", buf, sizeof buf, &cols);
	assert_null(strchr(buf, 0x1b));
	assert_null(strchr(buf, 0x07));
	assert_string_equal(buf, "?]0;pwned?red?[31m!");
	assert_int_equal(cols, 19);
}

static void
test_c1_del_and_bidi_overrides_become_question_marks(void **state)
{
	char buf[256];
	int cols;

	(void)state;
	draw(40,
	     "a\xc2\x9b"
	     "b\x7f"
	     "c\xe2\x80\xae"
	     "d\tz\n",
	     buf, sizeof buf, &cols);
	assert_string_equal(buf, "a?b?c?d?z?");
}

static void
test_invalid_utf8_becomes_question_marks(void **state)
{
	char buf[256];
	int cols;

	(void)state;
	/* A lone continuation, an overlong "/", a surrogate, a cut char. */
	draw(40, "x\x80y\xc0\xafz\xed\xa0\x80w\xe6\xa5", buf, sizeof buf,
	     &cols);
	assert_string_equal(buf, "x?y??z???w??");
}

static void
test_text_that_does_not_fit_ends_in_a_tilde(void **state)
{
	char buf[256];
	int cols;

	(void)state;
	draw(8, "abcdefghijkl", buf, sizeof buf, &cols);
	assert_string_equal(buf, "abcdefg~");
	assert_int_equal(cols, 8);
}

static void
test_a_wide_character_is_never_cut_in_half(void **state)
{
	char buf[256];
	int cols;

	(void)state;
	/* 7 columns: three characters (6) and the tilde. */
	draw(7, "楼道堆放杂物", buf, sizeof buf, &cols);
	assert_string_equal(buf, "楼道堆~");
	assert_int_equal(cols, 7);
	/* 8 columns: three characters and the tilde, one column unused. */
	draw(8, "楼道堆放杂物", buf, sizeof buf, &cols);
	assert_string_equal(buf, "楼道堆~");
	assert_int_equal(cols, 7);
	/* Exactly fits: no tilde. */
	draw(12, "楼道堆放杂物", buf, sizeof buf, &cols);
	assert_string_equal(buf, "楼道堆放杂物");
	assert_int_equal(cols, 12);
}

static void
test_pad_fills_the_width_so_columns_line_up(void **state)
{
	int a, b;

	(void)state;
	werase(win);
	a = ui_text(win, 0, 0, 16, "楼道堆放杂物", 1);
	b = ui_text(win, 1, 0, 16, "gas leak", 1);
	assert_int_equal(a, 16);
	assert_int_equal(b, 16);
}

static void
test_fit_cuts_long_text_for_wrapping_between_characters(void **state)
{
	(void)state;
	/* Two Chinese characters (4 columns, 6 bytes) fit in 5 columns. */
	assert_int_equal(ui_fit("楼道堆放", 5), 6);
	assert_int_equal(ui_fit("楼道堆放", 8), 12);
	assert_int_equal(ui_fit("abcdef", 4), 4);
	/* At least one character, so a wrapping loop always moves on. */
	assert_int_equal(ui_fit("楼道", 1), 3);
	assert_int_equal(ui_fit("", 5), 0);
	/* A bad byte is one column and one byte. */
	assert_int_equal(ui_fit("\xff\xfe"
	                        "ab",
	                        3),
	                 3);
}

static void
test_wrap_breaks_after_a_space_in_the_second_half_of_the_line(void **state)
{
	const char *s = "gas leak in the basement", *next;

	(void)state;
	/* "gas leak in " fills 12 columns; "the" would not fit. */
	assert_int_equal(ui_wrap_next(s, 12, &next), 12);
	assert_ptr_equal(next, s + 12);
	assert_int_equal(ui_wrap_next(next, 12, &next), 12);
	assert_string_equal(next, "");
	/* A space in the first half is not worth the short line. */
	s = "a bcdefghij";
	assert_int_equal(ui_wrap_next(s, 5, &next), 5);
	assert_ptr_equal(next, s + 5);
}

static void
test_wrap_cuts_a_word_longer_than_the_width_between_characters(void **state)
{
	const char *s = "abcdefghij", *next;

	(void)state;
	assert_int_equal(ui_wrap_next(s, 4, &next), 4);
	assert_ptr_equal(next, s + 4);
	/* At least one character, so a wrapping loop always moves on. */
	assert_int_equal(ui_wrap_next(s, 0, &next), 1);
	assert_ptr_equal(next, s + 1);
}

static void
test_wrap_counts_chinese_as_two_columns_and_never_cuts_one(void **state)
{
	const char *s = "楼道堆放杂物", *next;

	(void)state;
	/* Two characters (4 columns, 6 bytes) fit in 5 columns. */
	assert_int_equal(ui_wrap_next(s, 5, &next), 6);
	assert_ptr_equal(next, s + 6);
	/* One character is taken even when it is wider than the width. */
	assert_int_equal(ui_wrap_next(s, 1, &next), 3);
	/* "和平 " is 5 columns; the space is in the second half. */
	s = "和平 社区A1";
	assert_int_equal(ui_wrap_next(s, 6, &next), 7);
	assert_string_equal(next, "社区A1");
}

static void
test_wrap_ends_a_line_at_a_newline(void **state)
{
	const char *s = "ab\ncd", *next;

	(void)state;
	assert_int_equal(ui_wrap_next(s, 10, &next), 2);
	assert_string_equal(next, "cd");
	s = "";
	assert_int_equal(ui_wrap_next(s, 10, &next), 0);
	assert_ptr_equal(next, s);
	s = "\n";
	assert_int_equal(ui_wrap_next(s, 10, &next), 0);
	assert_ptr_equal(next, s + 1);
}

static void
test_wrap_counts_each_invalid_byte_as_one_column(void **state)
{
	const char *s = "\xff\xfe"
	                "abcd",
	           *next;

	(void)state;
	assert_int_equal(ui_wrap_next(s, 3, &next), 3);
	assert_ptr_equal(next, s + 3);
	/* A cut 3-byte character: two bad bytes, two columns. */
	s = "\xe6\xa5"
	    "xy";
	assert_int_equal(ui_wrap_next(s, 2, &next), 2);
	assert_string_equal(next, "xy");
	/* A character cut by the end of the text is not read past it. */
	s = "ab\xe6";
	assert_int_equal(ui_wrap_next(s, 10, &next), 3);
	assert_string_equal(next, "");
}

static void
test_lines_draw_wraps_each_line_and_skips_the_top(void **state)
{
	struct ui_lines l = {NULL, 0};
	char buf[256];

	(void)state;
	ui_lines_add(&l, 0, "gas leak in the basement");
	ui_lines_add(&l, A_BOLD, "x");
	assert_int_equal(l.n, 2);
	werase(win);
	assert_int_equal(ui_lines_draw(win, &l, 0, 3, 12), 3);
	row_at(0, buf, sizeof buf);
	assert_string_equal(buf, "gas leak in");
	row_at(1, buf, sizeof buf);
	assert_string_equal(buf, "the basement");
	row_at(2, buf, sizeof buf);
	assert_string_equal(buf, "x");
	/* Scrolled by one: the second wrapped line on top; all still 3. */
	werase(win);
	assert_int_equal(ui_lines_draw(win, &l, 1, 3, 12), 3);
	row_at(0, buf, sizeof buf);
	assert_string_equal(buf, "the basement");
	ui_lines_clear(&l);
	assert_null(l.v);
	assert_int_equal(l.n, 0);
}

static void
test_risk_and_warning_words_name_each_level(void **state)
{
	(void)state;
	assert_string_equal(ui_risk_word(1), "major (red)");
	assert_string_equal(ui_risk_word(2), "serious (orange)");
	assert_string_equal(ui_risk_word(3), "general (yellow)");
	assert_string_equal(ui_risk_word(4), "low (blue)");
	assert_string_equal(ui_risk_short(1), "major");
	assert_string_equal(ui_warn_word(1), "I red (very severe)");
	assert_string_equal(ui_warn_word(4), "IV blue (general)");
	/* Out of range never indexes past the table. */
	assert_string_equal(ui_risk_word(0), "unknown");
	assert_string_equal(ui_risk_word(5), "unknown");
}

static void
test_local_time_shows_minutes_and_never_raw_text(void **state)
{
	char out[32];

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	ui_local_time("2026-11-23T05:40:12Z", out);
	assert_string_equal(out, "2026-11-23 05:40");
	ui_local_time("2026-11-23", out);
	assert_string_equal(out, "2026-11-23");
	ui_local_time("\x1b[31mnot a time", out);
	assert_string_equal(out, "?");
	ui_local_time(NULL, out);
	assert_string_equal(out, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_width_counts_chinese_as_two_columns),
	    cmocka_unit_test(
	        test_width_counts_each_bad_byte_and_control_as_one),
	    cmocka_unit_test(test_escape_sequences_never_reach_a_cell),
	    cmocka_unit_test(
	        test_c1_del_and_bidi_overrides_become_question_marks),
	    cmocka_unit_test(test_invalid_utf8_becomes_question_marks),
	    cmocka_unit_test(test_text_that_does_not_fit_ends_in_a_tilde),
	    cmocka_unit_test(test_a_wide_character_is_never_cut_in_half),
	    cmocka_unit_test(test_pad_fills_the_width_so_columns_line_up),
	    cmocka_unit_test(
	        test_fit_cuts_long_text_for_wrapping_between_characters),
	    cmocka_unit_test(
	        test_wrap_breaks_after_a_space_in_the_second_half_of_the_line),
	    cmocka_unit_test(
	        test_wrap_cuts_a_word_longer_than_the_width_between_characters),
	    cmocka_unit_test(
	        test_wrap_counts_chinese_as_two_columns_and_never_cuts_one),
	    cmocka_unit_test(test_wrap_ends_a_line_at_a_newline),
	    cmocka_unit_test(test_wrap_counts_each_invalid_byte_as_one_column),
	    cmocka_unit_test(test_lines_draw_wraps_each_line_and_skips_the_top),
	    cmocka_unit_test(test_risk_and_warning_words_name_each_level),
	    cmocka_unit_test(test_local_time_shows_minutes_and_never_raw_text),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
