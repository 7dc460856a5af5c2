/*
 * dump.c: a canonical text dump of a replica's records.
 *
 * Two replicas hold the same records if and only if their dumps are byte-
 * identical; the convergence test and `gridkeep dump` rely on it. Every
 * record table in record.c's order, rows in id order, every column in
 * table order (stamps and derived columns included), one row a line:
 *
 *   table<TAB>col=value<TAB>col=value...
 *
 * Values: null, an integer, a real as %.17g, a JSON-quoted string, or a
 * blob as x'hex'. Server- and client-only tables are not records and are
 * not dumped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync.h"

static void
put_text(FILE *f, const unsigned char *s, int n)
{
	fputc('"', f);
	for (int i = 0; i < n; i++) {
		unsigned c = s[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc((int)c, f);
	}
	fputc('"', f);
}

static void
put_value(FILE *f, sqlite3_stmt *st, int col)
{
	const unsigned char *b;
	int n;

	switch (sqlite3_column_type(st, col)) {
	case SQLITE_NULL:
		fputs("null", f);
		break;
	case SQLITE_INTEGER:
		fprintf(f, "%lld", (long long)sqlite3_column_int64(st, col));
		break;
	case SQLITE_FLOAT:
		fprintf(f, "%.17g", sqlite3_column_double(st, col));
		break;
	case SQLITE_BLOB:
		b = sqlite3_column_blob(st, col);
		n = sqlite3_column_bytes(st, col);
		fputs("x'", f);
		for (int i = 0; i < n; i++)
			fprintf(f, "%02x", b[i]);
		fputc('\'', f);
		break;
	default:
		b = sqlite3_column_text(st, col);
		n = sqlite3_column_bytes(st, col);
		put_text(f, b, n);
		break;
	}
}

static int
dump_table(sqlite3 *db, const struct gk_table *t, FILE *f, struct gk_error *err)
{
	char sql[128];
	sqlite3_stmt *st;
	int rc, ncol;

	snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY id", t->name);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(db));
	ncol = sqlite3_column_count(st);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fputs(t->name, f);
		for (int i = 0; i < ncol; i++) {
			fprintf(f, "\t%s=", sqlite3_column_name(st, i));
			put_value(f, st, i);
		}
		fputc('\n', f);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(db));
	return GK_OK;
}

int
dump_records(sqlite3 *db, char **out, size_t *len, struct gk_error *err)
{
	const struct gk_table *const *tables;
	FILE *f;
	int n, rc = GK_OK;

	*out = NULL;
	*len = 0;
	f = open_memstream(out, len);
	if (f == NULL)
		return gk_error_set(err, GK_E_NOMEM, "out of memory");
	tables = record_tables(&n);
	for (int i = 0; rc == GK_OK && i < n; i++)
		rc = dump_table(db, tables[i], f, err);
	if (fclose(f) != 0 && rc == GK_OK)
		rc = gk_error_set(err, GK_E_NOMEM, "out of memory");
	if (rc != GK_OK) {
		free(*out);
		*out = NULL;
		*len = 0;
	}
	return rc;
}
