/*
 * testutil.c: see testutil.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

sqlite3 *
tu_replica(void)
{
	sqlite3 *db = NULL;
	struct gk_error err = {0};

	if (db_open(":memory:", GK_DB_CREATE, &db, &err) != GK_OK)
		fail_msg("db_open: %s", err.msg);
	if (schema_migrate(db, GK_SIDE_CLIENT, &err) != GK_OK)
		fail_msg("schema_migrate: %s", err.msg);
	return db;
}

void
tu_decode(struct gk_change *c, const char *json)
{
	struct gk_error err = {0};

	if (change_decode(json, strlen(json), c, &err) != GK_OK)
		fail_msg("change_decode: %s: %s in %s", gk_code_name(err.code),
		         err.msg, json);
}

enum gk_applied
tu_apply(sqlite3 *db, const char *json)
{
	struct gk_change c;
	struct gk_error err = {0};
	struct gk_merge *m;
	enum gk_applied r = GK_APPLY_NOOP;

	tu_decode(&c, json);
	m = merge_new(db, &err);
	if (m == NULL)
		fail_msg("merge_new: %s", err.msg);
	if (merge_apply_batch(m, &c, 1, &r, &err) != GK_OK)
		fail_msg("merge_apply_batch: %s: %s", gk_code_name(err.code),
		         err.msg);
	merge_free(m);
	change_clear(&c);
	return r;
}

long long
tu_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("prepare %s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

const char *
tu_text(sqlite3 *db, const char *sql, char *buf, size_t size)
{
	sqlite3_stmt *st;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("prepare %s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		snprintf(buf, size, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return buf;
}

char *
tu_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			char *nb = realloc(buf, cap);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t k = fread(buf + n, 1, 4096, f);
		n += k;
		if (k < 4096)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

const char *
tu_srcpath(const char *rel)
{
	static char buf[4096];
	const char *top = getenv("top_srcdir");

	snprintf(buf, sizeof buf, "%s/%s", top && *top ? top : ".", rel);
	return buf;
}
