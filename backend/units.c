/*
 * units.c: the operator's `gridkeepd unit ...`: the tree of districts,
 * streets, communities and grids that every scope is cut from.
 *
 *   unit add NAME --level LEVEL [--parent UNIT] [--code CODE]
 *                 [--households N]
 *   unit import FILE.csv
 *   unit list
 *
 * Units are records, synced to every replica that may see them, so each
 * one is written as a change by the admin through store_write_change_tx
 * and logged like any other. An import is one transaction: a file with one
 * bad line adds nothing, and the error names the line.
 *
 * The CSV file is UTF-8 with a header row naming its columns, in any
 * order: code, name, level, parent (the parent's code, in the file above
 * or already in the database; empty for a district) and, optionally,
 * households. Fields may be quoted ("a, b" and "" for a quote), as a
 * spreadsheet writes them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridkeepd.h"

#define UNITS_LINE   4096
#define UNITS_FIELDS 8

/* Where a child may hang: a district is the root, a grid the leaf. */
static const char *const units_levels[] = {"district", "street", "community",
                                           "grid"};

static int
units_level_index(const char *level)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(level, units_levels[i]) == 0)
			return i;
	return -1;
}

/* The level of an existing unit into buf; GK_E_NOT_FOUND if none. */
static int
units_level_of(struct gk_server *s, const char *id, char *buf, size_t size,
               struct gk_error *err)
{
	static const char sql[] =
	    "SELECT level FROM units WHERE id = ?1 AND deleted IS NOT 1";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	int rc;

	if (st == NULL)
		return GK_E_DB;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(buf, size, "%s", sqlite3_column_text(st, 0));
		return GK_OK;
	}
	if (rc == SQLITE_DONE)
		return gk_error_set(err, GK_E_NOT_FOUND, "no unit %s", id);
	return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(s->db));
}

int
units_add_tx(struct gk_server *s, const char *name, const char *level,
             const char *parent, const char *code, long households,
             char id[GK_ID_LEN + 1], struct gk_error *err)
{
	struct gk_actor actor = {GK_ROLE_ADMIN, NULL};
	struct gk_change c;
	struct gk_merge *m = NULL;
	char plevel[32], other[GK_ID_LEN + 1];
	int li = units_level_index(level), rc;

	if (li < 0)
		return gk_error_set(err, GK_E_ENUM,
		                    "no level %s (district, street, community, "
		                    "grid)",
		                    level);
	if ((li == 0) != (parent == NULL))
		return gk_error_set(err, GK_E_INCONSISTENT,
		                    li == 0 ? "a district has no parent"
		                            : "a %s needs a parent",
		                    level);
	if (parent != NULL) {
		if ((rc = units_level_of(s, parent, plevel, sizeof plevel,
		                         err)) != GK_OK)
			return rc;
		if (units_level_index(plevel) != li - 1)
			return gk_error_set(err, GK_E_INCONSISTENT,
			                    "a %s goes under a %s, not a %s",
			                    level, units_levels[li - 1],
			                    plevel);
	}
	if (code != NULL && store_auth_unit_find(s, code, other, err) == GK_OK)
		return gk_error_set(err, GK_E_EXISTS,
		                    "a unit with the code %s exists", code);

	memset(&c, 0, sizeof c);
	c.table = record_table("units");
	c.op = GK_OP_INSERT;
	uuid_v7(&s->env, c.row);
	c.fields = json_pack("{s:s, s:s}", "name", name, "level", level);
	if (c.fields == NULL)
		return gk_error_set(err, GK_E_NOMEM, "out of memory");
	if ((parent != NULL &&
	     json_object_set_new(c.fields, "parent", json_string(parent))) ||
	    (code != NULL &&
	     json_object_set_new(c.fields, "code", json_string(code))) ||
	    (households >= 0 &&
	     json_object_set_new(c.fields, "households",
	                         json_integer(households)))) {
		rc = gk_error_set(err, GK_E_NOMEM, "out of memory");
		goto out;
	}
	if ((m = merge_new(s->db, err)) == NULL) {
		rc = GK_E_DB;
		goto out;
	}
	if ((rc = store_write_change_tx(s, m, &c, &actor, err)) == GK_OK)
		memcpy(id, c.row, GK_ID_LEN + 1);
out:
	merge_free(m);
	change_clear(&c);
	return rc;
}

/* A non-negative count from text; -1 if it is not one. */
static long
units_count(const char *s)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0)
		return -2;
	return v;
}

/* Begin, run one add, commit: for `unit add`. */
static int
units_add_cmd(struct gk_server *s, int argc, char **argv, struct gk_error *err)
{
	const char *level = NULL, *parent_s = NULL, *code = NULL, *hh = NULL;
	char parent[GK_ID_LEN + 1], id[GK_ID_LEN + 1];
	long households;
	int rc;

	if (argc < 2)
		return gk_error_set(err, GK_E_USAGE,
		                    "usage: unit add NAME --level LEVEL "
		                    "[--parent UNIT] [--code CODE] "
		                    "[--households N]");
	for (int i = 2; i < argc; i += 2) {
		const char **to = strcmp(argv[i], "--level") == 0    ? &level
		                  : strcmp(argv[i], "--parent") == 0 ? &parent_s
		                  : strcmp(argv[i], "--code") == 0   ? &code
		                  : strcmp(argv[i], "--households") == 0 ? &hh
		                                                         : NULL;
		if (to == NULL || i + 1 >= argc)
			return gk_error_set(err, GK_E_USAGE,
			                    "unit add: bad option %s", argv[i]);
		*to = argv[i + 1];
	}
	if (level == NULL)
		return gk_error_set(err, GK_E_USAGE,
		                    "unit add: --level is needed");
	if ((households = units_count(hh)) == -2)
		return gk_error_set(err, GK_E_RANGE,
		                    "unit add: --households is a count");
	if ((rc = operator_open_ready(s, err)) != GK_OK)
		goto out;
	if (parent_s != NULL &&
	    (rc = store_auth_unit_find(s, parent_s, parent, err)) != GK_OK)
		goto out;
	if (db_begin(s->db) != GK_OK) {
		rc = gk_error_set(err, GK_E_DB, "cannot begin: %s",
		                  sqlite3_errmsg(s->db));
		goto out;
	}
	if ((rc = units_add_tx(s, argv[1], level,
	                       parent_s != NULL ? parent : NULL, code,
	                       households, id, err)) != GK_OK) {
		db_rollback(s->db);
		goto out;
	}
	if (db_commit(s->db) != GK_OK) {
		rc = gk_error_set(err, GK_E_IO, "cannot commit: %s",
		                  sqlite3_errmsg(s->db));
		goto out;
	}
	printf("added %s %s: %s\n", level, argv[1], id);
out:
	operator_close_ready(s);
	return rc;
}

/*
 * Split one CSV record of line (modified in place) into at most
 * UNITS_FIELDS fields. Returns the count, or -1 for a bad quote.
 */
static int
units_csv_split(char *line, char *fields[UNITS_FIELDS])
{
	char *r = line, *w = line;
	int n = 0;

	for (;;) {
		if (n == UNITS_FIELDS)
			return -1;
		fields[n++] = w;
		if (*r == '"') {
			r++;
			for (;;) {
				if (*r == '\0')
					return -1;
				if (*r == '"' && r[1] == '"') {
					*w++ = '"';
					r += 2;
				} else if (*r == '"') {
					r++;
					break;
				} else {
					*w++ = *r++;
				}
			}
			if (*r != ',' && *r != '\0')
				return -1;
		} else {
			while (*r != ',' && *r != '\0')
				*w++ = *r++;
		}
		if (*r == '\0') {
			*w = '\0';
			return n;
		}
		*w++ = '\0';
		r++;
	}
}

struct units_cols {
	int code, name, level, parent, households;
};

static int
units_csv_header(char *line, struct units_cols *c, struct gk_error *err)
{
	char *f[UNITS_FIELDS];
	int n = units_csv_split(line, f);

	*c = (struct units_cols){-1, -1, -1, -1, -1};
	for (int i = 0; i < n; i++) {
		int *to = strcmp(f[i], "code") == 0         ? &c->code
		          : strcmp(f[i], "name") == 0       ? &c->name
		          : strcmp(f[i], "level") == 0      ? &c->level
		          : strcmp(f[i], "parent") == 0     ? &c->parent
		          : strcmp(f[i], "households") == 0 ? &c->households
		                                            : NULL;
		if (to == NULL)
			return gk_error_set(err, GK_E_UNKNOWN_FIELD,
			                    "line 1: unknown column %s", f[i]);
		*to = i;
	}
	if (n < 0 || c->code < 0 || c->name < 0 || c->level < 0 ||
	    c->parent < 0)
		return gk_error_set(err, GK_E_MISSING,
		                    "line 1: the header needs code, name, "
		                    "level and parent");
	return GK_OK;
}

/* One data line of the file, inside the import's transaction. */
static int
units_csv_line(struct gk_server *s, const struct units_cols *c, char *line,
               int lineno, int *added, struct gk_error *err)
{
	char *f[UNITS_FIELDS], parent[GK_ID_LEN + 1], id[GK_ID_LEN + 1];
	const char *hh;
	long households;
	int n = units_csv_split(line, f), rc;

	if (n < 0)
		return gk_error_set(err, GK_E_REQUEST, "line %d: a bad quote",
		                    lineno);
	if (n <= c->code || n <= c->name || n <= c->level || n <= c->parent)
		return gk_error_set(err, GK_E_MISSING,
		                    "line %d: too few fields", lineno);
	for (int i = 0; i < n; i++)
		if ((rc = text_check(f[i], strlen(f[i]), 0)) != GK_OK)
			return gk_error_set(err, rc,
			                    "line %d: field %d is not plain "
			                    "UTF-8 text",
			                    lineno, i + 1);
	hh = c->households >= 0 && c->households < n ? f[c->households] : NULL;
	if ((households = units_count(hh)) == -2)
		return gk_error_set(err, GK_E_RANGE,
		                    "line %d: households is a count", lineno);
	if (f[c->parent][0] != '\0' &&
	    store_auth_unit_find(s, f[c->parent], parent, err) != GK_OK)
		return gk_error_set(err, GK_E_NOT_FOUND,
		                    "line %d: no unit with the code %s above",
		                    lineno, f[c->parent]);
	rc = units_add_tx(
	    s, f[c->name], f[c->level], f[c->parent][0] != '\0' ? parent : NULL,
	    f[c->code][0] != '\0' ? f[c->code] : NULL, households, id, err);
	if (rc != GK_OK) {
		char msg[GK_ERRMSG_MAX];
		memcpy(msg, err->msg, sizeof msg);
		return gk_error_set(err, rc, "line %d: %s", lineno, msg);
	}
	(*added)++;
	return GK_OK;
}

static int
units_import_cmd(struct gk_server *s, const char *path, struct gk_error *err)
{
	char line[UNITS_LINE];
	struct units_cols cols;
	FILE *f;
	int rc = GK_OK, lineno = 0, added = 0, began = 0;

	if ((f = fopen(path, "r")) == NULL)
		return gk_error_set(err, GK_E_IO, "cannot open %s: %s", path,
		                    strerror(errno));
	if ((rc = operator_open_ready(s, err)) != GK_OK)
		goto out;
	if (db_begin(s->db) != GK_OK) {
		rc = gk_error_set(err, GK_E_DB, "cannot begin: %s",
		                  sqlite3_errmsg(s->db));
		goto out;
	}
	began = 1;
	while (fgets(line, sizeof line, f) != NULL) {
		size_t len = strlen(line);

		lineno++;
		if (len == sizeof line - 1 && line[len - 1] != '\n') {
			rc = gk_error_set(err, GK_E_TOO_LONG,
			                  "line %d is over %d bytes", lineno,
			                  UNITS_LINE - 2);
			goto out;
		}
		while (len > 0 &&
		       (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		/* A spreadsheet's byte-order mark is no part of the header. */
		if (lineno == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0)
			memmove(line, line + 3, len - 2);
		if (lineno == 1)
			rc = units_csv_header(line, &cols, err);
		else if (len > 0)
			rc =
			    units_csv_line(s, &cols, line, lineno, &added, err);
		if (rc != GK_OK)
			goto out;
	}
	if (ferror(f)) {
		rc = gk_error_set(err, GK_E_IO, "cannot read %s", path);
		goto out;
	}
	if (lineno == 0) {
		rc = gk_error_set(err, GK_E_MISSING, "%s is empty", path);
		goto out;
	}
	if (db_commit(s->db) != GK_OK) {
		rc = gk_error_set(err, GK_E_IO, "cannot commit: %s",
		                  sqlite3_errmsg(s->db));
		goto out;
	}
	began = 0;
	printf("imported %d units from %s\n", added, path);
out:
	if (began)
		db_rollback(s->db);
	fclose(f);
	operator_close_ready(s);
	return rc;
}

static int
units_list_cmd(struct gk_server *s, struct gk_error *err)
{
	static const char sql[] =
	    "WITH RECURSIVE t(id, depth, path) AS ("
	    " SELECT id, 0, name FROM units WHERE parent IS NULL"
	    "  AND deleted IS NOT 1"
	    " UNION ALL SELECT u.id, t.depth + 1, t.path || '/' || u.name"
	    "  FROM units u JOIN t ON u.parent = t.id WHERE u.deleted IS NOT 1)"
	    " SELECT t.depth, u.level, coalesce(u.code, '-'), u.name, u.id"
	    " FROM t JOIN units u ON u.id = t.id ORDER BY t.path";
	sqlite3_stmt *st;
	int rc;

	if ((rc = operator_open_ready(s, err)) != GK_OK)
		goto out;
	if ((st = store_stmt(s, sql, err)) == NULL) {
		rc = GK_E_DB;
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		printf("%*s%-9s %-10s %s  %s\n", 2 * sqlite3_column_int(st, 0),
		       "", sqlite3_column_text(st, 1),
		       sqlite3_column_text(st, 2), sqlite3_column_text(st, 3),
		       sqlite3_column_text(st, 4));
	rc = rc == SQLITE_DONE
	         ? GK_OK
	         : gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(s->db));
out:
	operator_close_ready(s);
	return rc;
}

int
units_unit_exec(struct gk_server *s, int argc, char **argv,
                struct gk_error *err)
{
	if (argc >= 1 && strcmp(argv[0], "add") == 0)
		return units_add_cmd(s, argc, argv, err);
	if (argc == 2 && strcmp(argv[0], "import") == 0)
		return units_import_cmd(s, argv[1], err);
	if (argc == 1 && strcmp(argv[0], "list") == 0)
		return units_list_cmd(s, err);
	return gk_error_set(err, GK_E_USAGE,
	                    "usage: unit add NAME --level LEVEL [--parent "
	                    "UNIT] [--code CODE] [--households N] | unit "
	                    "import FILE.csv | unit list");
}
