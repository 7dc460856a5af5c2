/*
 * test-merge.c: the merge, specified by data files in tests/merge/ and by a
 * few cases that need C (results, errors, rollback).
 *
 * A data case lists base changes and two changes a and b. Replica 1
 * applies base, a, b; replica 2 applies base, b, a; replica 3 applies
 * everything twice in reverse. All three dumps must be identical and each
 * "expect: SQL => value" must hold. See tests/merge/lww.test.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#define MAX_LINES 64

struct mcase {
	const char *file;
	int line; /* where the case starts */
	char title[200];
	const char *base[MAX_LINES];
	int nbase;
	const char *a, *b;
	const char *expect[MAX_LINES];
	int nexpect;
};

static char *
dump_of(sqlite3 *db)
{
	char *out;
	size_t len;
	struct gk_error err = {0};

	if (dump_records(db, &out, &len, &err) != GK_OK)
		fail_msg("dump_records: %s", err.msg);
	return out;
}

/* The first column of the first row as text, "null" for NULL. */
static void
query_text(sqlite3 *db, const char *sql, char *buf, size_t size)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("prepare %s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) != SQLITE_ROW ||
	    sqlite3_column_type(st, 0) == SQLITE_NULL)
		snprintf(buf, size, "null");
	else
		snprintf(buf, size, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

static void
check_expect(const struct mcase *c, sqlite3 *db, const char *line)
{
	char sql[1024], got[1024];
	const char *arrow = strstr(line, " => ");

	if (arrow == NULL || (size_t)(arrow - line) >= sizeof sql)
		fail_msg("%s:%d: expect needs \"SQL => value\"", c->file,
		         c->line);
	memcpy(sql, line, (size_t)(arrow - line));
	sql[arrow - line] = '\0';
	query_text(db, sql, got, sizeof got);
	if (strcmp(got, arrow + 4) != 0)
		fail_msg("%s:%d: %s: %s gave \"%s\", expected \"%s\"", c->file,
		         c->line, c->title, sql, got, arrow + 4);
}

static void
run_case(const struct mcase *c)
{
	sqlite3 *r[3];
	char *d[3];

	for (int i = 0; i < 3; i++)
		r[i] = tu_replica();
	for (int i = 0; i < c->nbase; i++)
		for (int k = 0; k < 2; k++)
			tu_apply(r[k], c->base[i]);
	if (c->a)
		tu_apply(r[0], c->a);
	if (c->b)
		tu_apply(r[0], c->b);
	if (c->b)
		tu_apply(r[1], c->b);
	if (c->a)
		tu_apply(r[1], c->a);
	for (int round = 0; round < 2; round++) {
		if (c->b)
			tu_apply(r[2], c->b);
		if (c->a)
			tu_apply(r[2], c->a);
		for (int i = c->nbase - 1; i >= 0; i--)
			tu_apply(r[2], c->base[i]);
	}
	for (int i = 0; i < 3; i++)
		d[i] = dump_of(r[i]);
	if (strcmp(d[0], d[1]) != 0 || strcmp(d[0], d[2]) != 0)
		fail_msg("%s:%d: %s: replicas differ:\n%s\n---\n%s\n---\n%s",
		         c->file, c->line, c->title, d[0], d[1], d[2]);
	for (int i = 0; i < c->nexpect; i++)
		check_expect(c, r[0], c->expect[i]);
	for (int i = 0; i < 3; i++) {
		free(d[i]);
		db_close(r[i]);
	}
}

/* Run every case of one file; returns the number of cases. */
static int
run_file(const char *dir, const char *name)
{
	char path[2048];
	char *text, *p, *line;
	struct mcase c;
	int lineno = 0, ncases = 0, open = 0;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	text = tu_slurp(path, NULL);
	if (text == NULL)
		fail_msg("cannot read %s", path);
	memset(&c, 0, sizeof c);
	for (p = text; p != NULL;) {
		line = p;
		p = strchr(p, '\n');
		if (p != NULL)
			*p++ = '\0';
		lineno++;
		if (line[0] == '\0') {
			if (open && (c.a || c.b || c.nbase)) {
				run_case(&c);
				ncases++;
			}
			memset(&c, 0, sizeof c);
			open = 0;
			continue;
		}
		if (!open) {
			c.file = name;
			c.line = lineno;
			open = 1;
		}
		if (line[0] == '#') {
			if (c.title[0] == '\0')
				snprintf(c.title, sizeof c.title, "%.*s",
				         (int)sizeof c.title - 1, line + 2);
		} else if (strncmp(line, "base: ", 6) == 0 &&
		           c.nbase < MAX_LINES) {
			c.base[c.nbase++] = line + 6;
		} else if (strncmp(line, "a: ", 3) == 0) {
			c.a = line + 3;
		} else if (strncmp(line, "b: ", 3) == 0) {
			c.b = line + 3;
		} else if (strncmp(line, "expect: ", 8) == 0 &&
		           c.nexpect < MAX_LINES) {
			c.expect[c.nexpect++] = line + 8;
		} else {
			fail_msg("%s:%d: cannot read this line", name, lineno);
		}
	}
	if (open && (c.a || c.b || c.nbase)) {
		run_case(&c);
		ncases++;
	}
	free(text);
	return ncases;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_every_case_in_tests_merge_converges_as_expected(void **state)
{
	const char *dir = tu_srcpath("tests/merge");
	char dirbuf[1024], *names[256];
	struct dirent *e;
	DIR *d;
	int n = 0, cases = 0;

	(void)state;
	snprintf(dirbuf, sizeof dirbuf, "%s", dir);
	d = opendir(dirbuf);
	if (d == NULL)
		fail_msg("cannot open %s", dirbuf);
	while ((e = readdir(d)) != NULL && n < 256) {
		size_t len = strlen(e->d_name);
		if (len > 5 && strcmp(e->d_name + len - 5, ".test") == 0)
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof names[0], name_cmp);
	for (int i = 0; i < n; i++) {
		cases += run_file(dirbuf, names[i]);
		free(names[i]);
	}
	print_message("# %d merge cases in %d files\n", cases, n);
	assert_true(n >= 2);
	assert_true(cases >= 10);
}

static const char *const grant =
    "{\"id\":\"0193a1b2-0000-7000-8000-00000000c001\",\"node\":"
    "\"aaaaaaaaaaaaaaaa\",\"hlc\":\"0000010000000000\",\"table\":"
    "\"point_entries\",\"op\":\"append\",\"row\":"
    "\"0193a1b2-0000-7000-8000-000000000051\",\"fields\":{\"volunteer\":"
    "\"0193a1b2-0000-7000-8000-000000000021\",\"kind\":\"grant\",\"points\":"
    "10,\"occurred_at\":\"2026-11-20T08:00:00Z\"}}";

static void
test_applying_a_change_again_reports_nothing_new(void **state)
{
	sqlite3 *db = tu_replica();

	(void)state;
	assert_int_equal(tu_apply(db, grant), GK_APPLY_NEW);
	assert_int_equal(tu_apply(db, grant), GK_APPLY_NOOP);
	assert_int_equal(tu_int(db, "SELECT sum(points) FROM point_entries"),
	                 10);
	db_close(db);
}

static void
test_an_older_edit_of_a_field_changes_nothing(void **state)
{
	sqlite3 *db = tu_replica();
	static const char *const newer =
	    "{\"id\":\"0193a1b2-0000-7000-8000-00000000c002\",\"node\":"
	    "\"aaaaaaaaaaaaaaaa\",\"hlc\":\"0000020000000000\",\"table\":"
	    "\"units\",\"op\":\"insert\",\"row\":"
	    "\"0193a1b2-0000-7000-8000-0000000000a1\",\"fields\":{\"level\":"
	    "\"grid\",\"name\":\"第一网格\"}}";
	static const char *const older =
	    "{\"id\":\"0193a1b2-0000-7000-8000-00000000c001\",\"node\":"
	    "\"ffffffffffffffff\",\"hlc\":\"0000010000000000\",\"table\":"
	    "\"units\",\"op\":\"update\",\"row\":"
	    "\"0193a1b2-0000-7000-8000-0000000000a1\",\"fields\":{\"name\":"
	    "\"旧名\"}}";
	char buf[64];

	(void)state;
	assert_int_equal(tu_apply(db, newer), GK_APPLY_NEW);
	assert_int_equal(tu_apply(db, older), GK_APPLY_NOOP);
	assert_string_equal(
	    tu_text(db, "SELECT name FROM units", buf, sizeof buf), "第一网格");
	db_close(db);
}

static void
test_a_second_earn_merges_but_validation_refuses_it(void **state)
{
	sqlite3 *db = tu_replica();
	struct gk_change cs[3];
	struct gk_error err = {0};
	struct gk_merge *m = merge_new(db, &err);
	static const char *const earn1 =
	    "{\"id\":\"0193a1b2-0000-7000-8000-00000000c002\",\"node\":"
	    "\"aaaaaaaaaaaaaaaa\",\"hlc\":\"0000020000000000\",\"table\":"
	    "\"point_entries\",\"op\":\"append\",\"row\":"
	    "\"0193a1b2-0000-7000-8000-000000000052\",\"fields\":{"
	    "\"volunteer\":"
	    "\"0193a1b2-0000-7000-8000-000000000021\",\"kind\":\"earn\","
	    "\"points\":2,\"minutes\":120,\"activity\":\"drill-1\","
	    "\"occurred_at\":\"2026-11-20T08:00:00Z\"}}";
	static const char *const earn2 =
	    "{\"id\":\"0193a1b2-0000-7000-8000-00000000c003\",\"node\":"
	    "\"bbbbbbbbbbbbbbbb\",\"hlc\":\"0000020000000000\",\"table\":"
	    "\"point_entries\",\"op\":\"append\",\"row\":"
	    "\"0193a1b2-0000-7000-8000-000000000053\",\"fields\":{"
	    "\"volunteer\":"
	    "\"0193a1b2-0000-7000-8000-000000000021\",\"kind\":\"earn\","
	    "\"points\":2,\"minutes\":120,\"activity\":\"drill-1\","
	    "\"occurred_at\":\"2026-11-20T08:00:00Z\"}}";

	(void)state;
	assert_non_null(m);
	tu_decode(&cs[0], grant);
	tu_decode(&cs[1], earn1);
	tu_decode(&cs[2], earn2);
	/* Two stations recorded the same activity offline. A replica must be
	 * able to apply whatever it pulls, so the merge keeps both... */
	assert_int_equal(merge_apply_batch(m, cs, 2, NULL, &err), GK_OK);
	assert_int_equal(merge_apply_batch(m, &cs[2], 1, NULL, &err), GK_OK);
	assert_int_equal(tu_int(db, "SELECT sum(points) FROM point_entries"),
	                 14);
	/* ...and the server, which validates before it applies, refuses the
	 * second one when it is pushed, so it never reaches other replicas. */
	{
		sqlite3 *server = tu_replica();
		struct gk_policy pol;
		validate_policy_default(&pol);
		tu_apply(server, earn1);
		assert_int_equal(validate_change_tx(server, &cs[2], &pol, &err),
		                 GK_E_DUPLICATE_EARN);
		assert_int_equal(validate_change_tx(server, &cs[1], &pol, &err),
		                 GK_OK); /* the same one again is a re-send */
		db_close(server);
	}
	for (int i = 0; i < 3; i++)
		change_clear(&cs[i]);
	merge_free(m);
	db_close(db);
}

static void
test_a_batch_reports_new_and_already_had_per_change(void **state)
{
	sqlite3 *db = tu_replica();
	struct gk_change cs[2];
	enum gk_applied res[2];
	struct gk_error err = {0};
	struct gk_merge *m = merge_new(db, &err);

	(void)state;
	tu_decode(&cs[0], grant);
	tu_decode(&cs[1], grant);
	assert_int_equal(merge_apply_batch(m, cs, 2, res, &err), GK_OK);
	assert_int_equal(res[0], GK_APPLY_NEW);
	assert_int_equal(res[1], GK_APPLY_NOOP);
	change_clear(&cs[0]);
	change_clear(&cs[1]);
	merge_free(m);
	db_close(db);
}

/* A unit change with the given stamp, node and name. */
static void
unit_change(struct gk_change *c, const char *hlc, const char *node,
            const char *op, const char *name)
{
	char json[512];

	snprintf(json, sizeof json,
	         "{\"id\":\"0193a1b2-0000-7000-8000-0000000%s\",\"node\":"
	         "\"%s\",\"hlc\":\"%s\",\"table\":\"units\",\"op\":"
	         "\"%s\",\"row\":\"0193a1b2-0000-7000-8000-0000000000a1\","
	         "\"fields\":{\"level\":\"grid\",\"name\":\"%s\"}}",
	         hlc + 11, node, hlc, op, name);
	tu_decode(c, json);
}

static void
test_a_restamped_change_leaves_the_rows_it_would_have_made_fresh(void **state)
{
	sqlite3 *a = tu_replica(), *b = tu_replica();
	struct gk_error err = {0};
	struct gk_merge *ma = merge_new(a, &err), *mb = merge_new(b, &err);
	struct gk_change ins, skewed, fresh, other, g_old, g_new;
	char *da, *db_;

	(void)state;
	assert_non_null(ma);
	assert_non_null(mb);
	unit_change(&ins, "0000010000000000", "aaaaaaaaaaaaaaaa", "insert",
	            "一");
	/* A's clock was ahead: its rename carries a stamp of the future. */
	unit_change(&skewed, "0000090000000000", "aaaaaaaaaaaaaaaa", "update",
	            "二");
	unit_change(&fresh, "0000050000000000", "aaaaaaaaaaaaaaaa", "update",
	            "二");
	tu_decode(&g_old, grant); /* hlc 0000010000000000 */
	tu_decode(&g_new, grant);
	g_old.hlc = 0x0000090000000000ULL;
	g_new.hlc = 0x0000050000000000ULL;

	/* A made the changes with the skewed stamp and then re-stamped them;
	 * B received them as re-sent. */
	assert_int_equal(merge_apply_batch(ma, &ins, 1, NULL, &err), GK_OK);
	assert_int_equal(merge_apply_batch(ma, &skewed, 1, NULL, &err), GK_OK);
	assert_int_equal(merge_apply_batch(ma, &g_old, 1, NULL, &err), GK_OK);
	assert_int_equal(db_begin(a), GK_OK);
	assert_int_equal(merge_restamp_tx(ma, &skewed, fresh.hlc, &err), GK_OK);
	assert_int_equal(merge_restamp_tx(ma, &g_old, g_new.hlc, &err), GK_OK);
	assert_int_equal(db_commit(a), GK_OK);
	assert_int_equal(merge_apply_batch(mb, &ins, 1, NULL, &err), GK_OK);
	assert_int_equal(merge_apply_batch(mb, &fresh, 1, NULL, &err), GK_OK);
	assert_int_equal(merge_apply_batch(mb, &g_new, 1, NULL, &err), GK_OK);
	da = dump_of(a);
	db_ = dump_of(b);
	assert_string_equal(da, db_);
	free(da);
	free(db_);

	/* A later edit from elsewhere (stamp 6 < the old 9) now wins on both.
	 */
	unit_change(&other, "0000060000000000", "bbbbbbbbbbbbbbbb", "update",
	            "三");
	assert_int_equal(merge_apply_batch(ma, &other, 1, NULL, &err), GK_OK);
	assert_int_equal(merge_apply_batch(mb, &other, 1, NULL, &err), GK_OK);
	da = dump_of(a);
	db_ = dump_of(b);
	assert_string_equal(da, db_);
	{
		char buf[64];
		assert_string_equal(
		    tu_text(a, "SELECT name FROM units", buf, sizeof buf),
		    "三");
	}
	free(da);
	free(db_);
	change_clear(&ins);
	change_clear(&skewed);
	change_clear(&fresh);
	change_clear(&other);
	change_clear(&g_old);
	change_clear(&g_new);
	merge_free(ma);
	merge_free(mb);
	db_close(a);
	db_close(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_every_case_in_tests_merge_converges_as_expected),
	    cmocka_unit_test(test_applying_a_change_again_reports_nothing_new),
	    cmocka_unit_test(test_an_older_edit_of_a_field_changes_nothing),
	    cmocka_unit_test(
	        test_a_restamped_change_leaves_the_rows_it_would_have_made_fresh),
	    cmocka_unit_test(
	        test_a_second_earn_merges_but_validation_refuses_it),
	    cmocka_unit_test(
	        test_a_batch_reports_new_and_already_had_per_change),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
