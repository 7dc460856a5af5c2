/*
 * export.c: one record table as CSV, JSON or GeoJSON, for the spreadsheets
 * and maps the offices already use.
 *
 * The columns are the table's fields in record.c order (the id first, the
 * tombstone left out with the deleted rows), then what the core derives:
 * the author of an append-only row, and for hazards the status, reporter,
 * plan, resolved time, conflicts and whether it is overdue (views.c, by
 * the corrected clock and the policy). CSV follows RFC 4180 (CRLF, a
 * header row, quotes only where needed) in UTF-8 without a BOM, and text
 * that a spreadsheet would take for a formula (= + - @ first) gets a
 * leading apostrophe, so an exported note cannot run; JSON is an
 * array of objects, one per line; GeoJSON is a FeatureCollection of the
 * rows that have both lat and lon, as Points [lon, lat]. Rows are streamed
 * in id order, so a large table needs no more memory than a small one.
 */
#include <stdio.h>
#include <string.h>

#include "gridkeep.h"

#define EXPORT_MAXCOLS (GK_MAX_FIELDS + 12)

enum col_kind { COL_TEXT, COL_INT, COL_REAL, COL_BOOL, COL_IDLIST };

struct export_cols {
	int n;
	const char *name[EXPORT_MAXCOLS];
	enum col_kind kind[EXPORT_MAXCOLS];
	int lat, lon; /* column of each, or -1 */
};

/* Derived hazard columns (the last one, overdue, is not in the row). */
static const char *const hazard_derived[] = {
    "status",        "reporter",      "plan_measures", "plan_responsible",
    "plan_deadline", "plan_acceptor", "resolved_at",   NULL};

static void
col_add(struct export_cols *cols, const char *name, enum col_kind kind)
{
	if (cols->n < EXPORT_MAXCOLS) {
		cols->name[cols->n] = name;
		cols->kind[cols->n] = kind;
		cols->n++;
	}
}

static enum col_kind
field_kind(const struct gk_field *f)
{
	switch (f->type) {
	case GK_F_INT:
		return COL_INT;
	case GK_F_REAL:
		return COL_REAL;
	case GK_F_BOOL:
		return COL_BOOL;
	case GK_F_IDLIST:
		return COL_IDLIST;
	default:
		return COL_TEXT;
	}
}

/* The columns of t, and the SELECT that reads them in that order. */
static void
export_columns(const struct gk_table *t, struct export_cols *cols, char *sql,
               size_t size)
{
	size_t used;
	int is_hazards = strcmp(t->name, "hazards") == 0;

	memset(cols, 0, sizeof *cols);
	cols->lat = cols->lon = -1;
	col_add(cols, "id", COL_TEXT);
	for (int i = 0; i < t->nfields; i++) {
		if (strcmp(t->fields[i].name, "deleted") == 0)
			continue;
		if (strcmp(t->fields[i].name, "lat") == 0)
			cols->lat = cols->n;
		if (strcmp(t->fields[i].name, "lon") == 0)
			cols->lon = cols->n;
		col_add(cols, t->fields[i].name, field_kind(&t->fields[i]));
	}
	if (t->kind == GK_APPEND)
		col_add(cols, "author", COL_TEXT);
	if (is_hazards) {
		for (int i = 0; hazard_derived[i] != NULL; i++)
			col_add(cols, hazard_derived[i], COL_TEXT);
		col_add(cols, "conflicts", COL_INT);
	}
	/* Names come from record.c, never from the caller. */
	used = (size_t)snprintf(sql, size, "SELECT ");
	for (int i = 0; i < cols->n && used < size; i++)
		used += (size_t)snprintf(sql + used, size - used, "%s\"%s\"",
		                         i ? ", " : "", cols->name[i]);
	if (used < size)
		snprintf(sql + used, size - used, " FROM \"%s\"%s ORDER BY id",
		         t->name,
		         t->kind == GK_MUTABLE ? " WHERE deleted IS NOT 1"
		                               : "");
	if (is_hazards)
		col_add(cols, "overdue", COL_BOOL); /* computed, not read */
}

/* Collect the ids of overdue hazards into a set (an object of ids). */
static int
overdue_cb(void *arg, const struct gk_overdue_row *r)
{
	json_object_set_new((json_t *)arg, r->hazard, json_true());
	return 0;
}

/* Column i of the row as JSON (caller owns), NULL for no value. */
static json_t *
col_json(sqlite3_stmt *st, const struct export_cols *cols, int i,
         json_t *overdue)
{
	const char *text;

	if (strcmp(cols->name[i], "overdue") == 0) {
		text = (const char *)sqlite3_column_text(st, 0);
		return json_boolean(text != NULL &&
		                    json_object_get(overdue, text) != NULL);
	}
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	switch (cols->kind[i]) {
	case COL_INT:
		return json_integer(sqlite3_column_int64(st, i));
	case COL_REAL:
		return json_real(sqlite3_column_double(st, i));
	case COL_BOOL:
		return json_boolean(sqlite3_column_int(st, i) != 0);
	case COL_IDLIST: {
		json_t *v;
		text = (const char *)sqlite3_column_text(st, i);
		v = json_loads(text != NULL ? text : "", 0, NULL);
		return v != NULL ? v : json_string(text != NULL ? text : "");
	}
	default:
		text = (const char *)sqlite3_column_text(st, i);
		return json_string(text != NULL ? text : "");
	}
}

/*
 * One CSV cell, RFC 4180: quoted when it holds , " CR or LF. A formula
 * (text starting = + - @ TAB CR) gets a leading apostrophe inside.
 */
static void
csv_cell(FILE *out, const char *s, int is_text)
{
	int defuse = is_text && *s != '\0' && strchr("=+-@\t\r", *s) != NULL;

	if (strpbrk(s, ",\"\r\n") == NULL) {
		if (defuse)
			fputc('\'', out);
		fputs(s, out);
		return;
	}
	fputc('"', out);
	if (defuse)
		fputc('\'', out);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void
csv_row(FILE *out, sqlite3_stmt *st, const struct export_cols *cols,
        json_t *overdue)
{
	for (int i = 0; i < cols->n; i++) {
		const char *text;

		if (i > 0)
			fputc(',', out);
		if (strcmp(cols->name[i], "overdue") == 0) {
			json_t *v = col_json(st, cols, i, overdue);
			fputs(json_is_true(v) ? "true" : "false", out);
			json_decref(v);
			continue;
		}
		if (sqlite3_column_type(st, i) == SQLITE_NULL)
			continue;
		if (cols->kind[i] == COL_BOOL) {
			fputs(sqlite3_column_int(st, i) ? "true" : "false",
			      out);
			continue;
		}
		/* SQLite renders reals with 15 significant digits. */
		text = (const char *)sqlite3_column_text(st, i);
		if (text == NULL)
			continue;
		csv_cell(out, text, cols->kind[i] == COL_TEXT);
	}
	fputs("\r\n", out);
}

static json_t *
row_object(sqlite3_stmt *st, const struct export_cols *cols, json_t *overdue)
{
	json_t *o = json_object();

	for (int i = 0; o != NULL && i < cols->n; i++)
		json_object_set_new(o, cols->name[i],
		                    col_json(st, cols, i, overdue));
	return o;
}

#define JSON_FLAGS                                                             \
	(JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

static int
dump_json(FILE *out, json_t *v, struct gk_error *err)
{
	int rc = v != NULL ? json_dumpf(v, out, JSON_FLAGS) : -1;

	json_decref(v);
	if (rc != 0)
		return gk_error_set(err, GK_E_IO, "%s",
		                    _("cannot write the export"));
	return GK_OK;
}

static void
known_tables(char *buf, size_t size)
{
	const struct gk_table *const *ts;
	size_t used = 0;
	int n;

	ts = record_tables(&n);
	buf[0] = '\0';
	for (int i = 0; i < n && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s",
		                         i ? ", " : "", ts[i]->name);
}

int
export_table(struct gk_client *c, const char *table, enum export_format fmt,
             FILE *out, struct gk_error *err)
{
	const struct gk_table *t = record_table(table);
	struct export_cols cols;
	char sql[2048], list[200];
	json_t *overdue;
	sqlite3_stmt *st;
	int r = SQLITE_DONE, rc = GK_OK, first = 1;

	if (t == NULL) {
		known_tables(list, sizeof list);
		return gk_error_set(err, GK_E_UNKNOWN_TABLE,
		                    _("no table %s; the tables are: %s"), table,
		                    list);
	}
	export_columns(t, &cols, sql, sizeof sql);
	if (fmt == EXPORT_GEOJSON && (cols.lat < 0 || cols.lon < 0))
		return gk_error_set(
		    err, GK_E_USAGE,
		    _("%s have no place: GeoJSON is for hazards "
		      "and depots"),
		    table);
	if ((overdue = json_object()) == NULL)
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	if (strcmp(t->name, "hazards") == 0 &&
	    views_overdue(c->db, client_now_ms(c), &c->policy, overdue_cb,
	                  overdue) != GK_OK) {
		json_decref(overdue);
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(c->db));
	}
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
		json_decref(overdue);
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(c->db));
	}

	if (fmt == EXPORT_CSV) {
		for (int i = 0; i < cols.n; i++) {
			if (i > 0)
				fputc(',', out);
			csv_cell(out, cols.name[i], 0);
		}
		fputs("\r\n", out);
	} else if (fmt == EXPORT_JSON) {
		fputs("[", out);
	} else {
		fputs("{\"type\":\"FeatureCollection\",\"features\":[", out);
	}
	while (rc == GK_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *feat, *geo;

		switch (fmt) {
		case EXPORT_CSV:
			csv_row(out, st, &cols, overdue);
			break;
		case EXPORT_JSON:
			fputs(first ? "\n" : ",\n", out);
			rc =
			    dump_json(out, row_object(st, &cols, overdue), err);
			first = 0;
			break;
		case EXPORT_GEOJSON:
			if (sqlite3_column_type(st, cols.lat) == SQLITE_NULL ||
			    sqlite3_column_type(st, cols.lon) == SQLITE_NULL)
				break;
			geo = json_pack("{s:s, s:[f, f]}", "type", "Point",
			                "coordinates",
			                sqlite3_column_double(st, cols.lon),
			                sqlite3_column_double(st, cols.lat));
			feat = json_pack(
			    "{s:s, s:s, s:o, s:o}", "type", "Feature", "id",
			    (const char *)sqlite3_column_text(st, 0),
			    "geometry", geo, "properties",
			    row_object(st, &cols, overdue));
			if (feat == NULL) {
				rc = gk_error_set(err, GK_E_NOMEM, "%s",
				                  _("out of memory"));
				break;
			}
			fputs(first ? "\n" : ",\n", out);
			rc = dump_json(out, feat, err);
			first = 0;
			break;
		}
	}
	if (rc == GK_OK && r != SQLITE_DONE)
		rc = gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(c->db));
	sqlite3_finalize(st);
	json_decref(overdue);
	if (rc != GK_OK)
		return rc;
	if (fmt == EXPORT_JSON)
		fputs("\n]\n", out);
	else if (fmt == EXPORT_GEOJSON)
		fputs("\n]}\n", out);
	if (fflush(out) != 0 || ferror(out))
		return gk_error_set(err, GK_E_IO, "%s",
		                    _("cannot write the export"));
	return GK_OK;
}
