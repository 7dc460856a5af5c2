/*
 * store-sync.c: the SQL of push and pull (api-sync.c), beside store.c's
 * change log.
 *
 * Push asks here which unit a change's record belongs to before applying
 * it, so that the change can be refused when that unit lies outside the
 * pusher's scope; pull reads its page of stored change text, and the rows
 * a client must drop when its scope shrank, as single index ranges of
 * change_scopes(unit, seq). Every statement is a constant run through the
 * server's statement cache (store_stmt), so s->stmts must be open.
 */
#include <stdio.h>
#include <string.h>

#include "gridkeepd.h"

/* ---- push: is it in the log, and whose is it ------------------------------
 */

static const char sync_known_sql[] = "SELECT 1 FROM changes WHERE id = ?1";

int
store_sync_known(struct gk_server *s, const char *change_id,
                 struct gk_error *err)
{
	sqlite3_stmt *st;
	int r;

	if ((st = store_stmt(s, sync_known_sql, err)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, change_id, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r == SQLITE_ROW)
		return 1;
	if (r == SQLITE_DONE)
		return 0;
	gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(s->db));
	return -1;
}

/*
 * How each table finds its unit before a change is applied.
 *   field   the field that names the unit, or the row the record hangs on
 *           (NULL: the catalogue, which belongs to no unit)
 *   row     mutable tables: the unit and the field's value of the row as
 *           it is now (?1 = the row's id)
 *   ref     the field names a row of table ref_table: its unit (?1); NULL
 *           when the field names a unit itself
 */
static const struct {
	const char *table, *field, *row, *ref_table, *ref;
} sync_units[] = {
    {"units", "parent", "SELECT id, parent FROM units WHERE id = ?1", NULL,
     NULL},
    {"users", "unit", "SELECT unit, unit FROM users WHERE id = ?1", NULL, NULL},
    {"items", NULL, NULL, NULL, NULL},
    {"depots", "unit", "SELECT unit, unit FROM depots WHERE id = ?1", NULL,
     NULL},
    {"standards", "depot",
     "SELECT d.unit, x.depot FROM standards x "
     "LEFT JOIN depots d ON d.id = x.depot WHERE x.id = ?1",
     "depots", "SELECT unit FROM depots WHERE id = ?1"},
    {"volunteers", "unit", "SELECT unit, unit FROM volunteers WHERE id = ?1",
     NULL, NULL},
    {"notices", "unit", "SELECT unit, unit FROM notices WHERE id = ?1", NULL,
     NULL},
    {"hazards", "grid", "SELECT grid, grid FROM hazards WHERE id = ?1", NULL,
     NULL},
    {"hazard_events", "hazard", NULL, "hazards",
     "SELECT grid FROM hazards WHERE id = ?1"},
    {"inspections", "grid", NULL, NULL, NULL},
    {"stock_moves", "depot", NULL, "depots",
     "SELECT unit FROM depots WHERE id = ?1"},
    {"point_entries", "volunteer", NULL, "volunteers",
     "SELECT unit FROM volunteers WHERE id = ?1"},
    {"notice_acks", "notice", NULL, "notices", NULL},
    {"replenishment_requests", "depot", NULL, "depots",
     "SELECT unit FROM depots WHERE id = ?1"},
};

/* A notice the unit ?2 may read: one of its changes is in ?2's scope. */
static const char sync_notice_visible[] =
    "SELECT 1 FROM changes c WHERE c.row_id = ?1 AND c.tbl = 'notices' "
    "AND EXISTS (SELECT 1 FROM change_scopes s WHERE s.unit = ?2 "
    "AND s.seq = c.seq) LIMIT 1";

/* A notice's targets as they are stored (JSON text). */
static const char sync_notice_targets[] =
    "SELECT targets FROM notices WHERE id = ?1";

/*
 * The answer for a record that is missing or outside the scope: the same
 * code and the same words for both, so the answer tells nothing.
 */
int
store_sync_not_found(struct gk_error *err, const char *table, const char *id)
{
	return gk_error_set(err, GK_E_NOT_FOUND, "%s %s not found", table, id);
}

/* Copy a text column that must be an id; 0 if it is not one. */
static int
sync_copy_id(sqlite3_stmt *st, int col, char out[GK_ID_LEN + 1])
{
	const char *v = (const char *)sqlite3_column_text(st, col);

	if (v == NULL || !uuid_valid(v, strlen(v)))
		return 0;
	memcpy(out, v, GK_ID_LEN + 1);
	return 1;
}

/* The unit of the row id in table ref (sql); NOT_FOUND if none. */
static int
sync_ref_unit(struct gk_server *s, const char *sql, const char *ref_table,
              const char *id, char unit[GK_ID_LEN + 1], struct gk_error *err)
{
	sqlite3_stmt *st;
	int r, rc;

	if ((st = store_stmt(s, sql, err)) == NULL)
		return GK_E_DB;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW && sync_copy_id(st, 0, unit))
		rc = GK_OK;
	else if (r == SQLITE_ROW || r == SQLITE_DONE)
		rc = store_sync_not_found(err, ref_table, id);
	else
		rc = gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(s->db));
	sqlite3_reset(st);
	return rc;
}

/* 1 if the notice's stored targets equal those the change sets. */
static int
sync_same_targets(struct gk_server *s, const struct gk_change *c,
                  struct gk_error *err)
{
	json_t *want = json_object_get(c->fields, "targets"), *have = NULL;
	sqlite3_stmt *st;
	const char *text;
	int same = 0;

	if (want == NULL)
		return 1;
	if ((st = store_stmt(s, sync_notice_targets, err)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, c->row, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (text = (const char *)sqlite3_column_text(st, 0)) != NULL &&
	    (have = json_loads(text, 0, NULL)) != NULL)
		same = json_equal(have, want);
	json_decref(have);
	sqlite3_reset(st);
	return same;
}

int
store_sync_unit_tx(struct gk_server *s, const struct gk_change *c,
                   const char *author_unit, struct store_sync_unit *out,
                   struct gk_error *err)
{
	const char *name = c->table->name, *v = NULL;
	json_t *f;
	sqlite3_stmt *st;
	size_t i;
	int r, rc;

	memset(out, 0, sizeof *out);
	for (i = 0; i < sizeof sync_units / sizeof sync_units[0]; i++)
		if (strcmp(sync_units[i].table, name) == 0)
			break;
	if (i == sizeof sync_units / sizeof sync_units[0])
		return gk_error_set(err, GK_E_UNKNOWN_TABLE, "no such table");
	if (sync_units[i].field == NULL) {
		out->anywhere = 1; /* the catalogue */
		return GK_OK;
	}
	f = json_object_get(c->fields, sync_units[i].field);
	if (json_is_string(f))
		v = json_string_value(f);

	/* A mutable row that exists: its unit as it is, and no moving. */
	if (sync_units[i].row != NULL) {
		if ((st = store_stmt(s, sync_units[i].row, err)) == NULL)
			return GK_E_DB;
		sqlite3_bind_text(st, 1, c->row, -1, SQLITE_STATIC);
		r = sqlite3_step(st);
		if (r == SQLITE_ROW) {
			const char *now =
			    (const char *)sqlite3_column_text(st, 1);

			if (!sync_copy_id(st, 0, out->unit))
				rc = store_sync_not_found(err, name, c->row);
			else if (v != NULL &&
			         (now == NULL || strcmp(now, v) != 0))
				rc = GK_E_INCONSISTENT;
			else
				rc = GK_OK;
			sqlite3_reset(st);
			if (rc == GK_E_INCONSISTENT) {
				/* users may move (the caller checks the
				 * new unit); nothing else does. */
				if (strcmp(name, "users") != 0 ||
				    !uuid_valid(v, strlen(v)))
					return gk_error_set(
					    err, GK_E_INCONSISTENT,
					    "a row of %s does not move to "
					    "another %s",
					    name, sync_units[i].field);
				memcpy(out->moved_to, v, GK_ID_LEN + 1);
				rc = GK_OK;
			}
			if (rc != GK_OK)
				return rc;
			memcpy(out->check, out->unit, GK_ID_LEN + 1);
			snprintf(out->ref_table, sizeof out->ref_table, "%s",
			         name);
			memcpy(out->ref_id, c->row, GK_ID_LEN + 1);
			if (strcmp(name, "notices") == 0) {
				if ((r = sync_same_targets(s, c, err)) < 0)
					return GK_E_DB;
				if (r == 0)
					return gk_error_set(
					    err, GK_E_INCONSISTENT,
					    "a notice keeps its targets: "
					    "issue a new one");
			}
			return GK_OK;
		}
		sqlite3_reset(st);
		if (r != SQLITE_DONE)
			return gk_error_set(err, GK_E_DB, "%s",
			                    sqlite3_errmsg(s->db));
		if (c->op != GK_OP_INSERT)
			return store_sync_not_found(err, name, c->row);
	}

	/* A new row: its unit comes from its fields. */
	if (v == NULL || !uuid_valid(v, strlen(v))) {
		if (strcmp(name, "units") == 0)
			/* a new root: no scope holds it, so no one adds it */
			return store_sync_not_found(err, name, c->row);
		return gk_error_set(err, GK_E_MISSING, "%s needs %s", name,
		                    sync_units[i].field);
	}
	if (strcmp(name, "units") == 0) {
		/* A unit belongs to itself; it is added under its parent. */
		memcpy(out->unit, c->row, GK_ID_LEN + 1);
		memcpy(out->check, v, GK_ID_LEN + 1);
		snprintf(out->ref_table, sizeof out->ref_table, "units");
		memcpy(out->ref_id, v, GK_ID_LEN + 1);
		return GK_OK;
	}
	if (strcmp(name, "notice_acks") == 0) {
		if ((st = store_stmt(s, sync_notice_visible, err)) == NULL)
			return GK_E_DB;
		sqlite3_bind_text(st, 1, v, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, author_unit, -1, SQLITE_STATIC);
		r = sqlite3_step(st);
		sqlite3_reset(st);
		if (r == SQLITE_DONE)
			return store_sync_not_found(err, "notices", v);
		if (r != SQLITE_ROW)
			return gk_error_set(err, GK_E_DB, "%s",
			                    sqlite3_errmsg(s->db));
		memcpy(out->unit, author_unit, GK_ID_LEN + 1);
		memcpy(out->check, author_unit, GK_ID_LEN + 1);
		snprintf(out->ref_table, sizeof out->ref_table, "notices");
		memcpy(out->ref_id, v, GK_ID_LEN + 1);
		return GK_OK;
	}
	if (sync_units[i].ref != NULL) {
		if ((rc = sync_ref_unit(s, sync_units[i].ref,
		                        sync_units[i].ref_table, v, out->unit,
		                        err)) != GK_OK)
			return rc;
		snprintf(out->ref_table, sizeof out->ref_table, "%s",
		         sync_units[i].ref_table);
		memcpy(out->ref_id, v, GK_ID_LEN + 1);
	} else {
		memcpy(out->unit, v, GK_ID_LEN + 1);
		snprintf(out->ref_table, sizeof out->ref_table, "units");
		memcpy(out->ref_id, v, GK_ID_LEN + 1);
	}
	memcpy(out->check, out->unit, GK_ID_LEN + 1);
	return GK_OK;
}

/* ---- pull ----------------------------------------------------------------
 */

/*
 * One page of a scope: a single range of the (unit, seq) key, joined to
 * the change text by its rowid. ?3 is the page size plus one, to learn
 * whether there is more without counting.
 */
const char store_sync_pull_sql[] =
    "SELECT c.seq, c.json FROM change_scopes s JOIN changes c "
    "ON c.seq = s.seq WHERE s.unit = ?1 AND s.seq > ?2 "
    "ORDER BY s.seq LIMIT ?3";

int
store_sync_changes(struct gk_server *s, const char *scope, int64_t after,
                   int limit, FILE *out, struct store_sync_page *pg,
                   struct gk_error *err)
{
	sqlite3_stmt *st;
	int r, rc = GK_OK;

	pg->n = 0;
	pg->more = 0;
	pg->last = after;
	if ((st = store_stmt(s, store_sync_pull_sql, err)) == NULL)
		return GK_E_DB;
	sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_int(st, 3, limit + 1);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (pg->n == limit) {
			pg->more = 1;
			break;
		}
		if (pg->n > 0)
			fputc(',', out);
		/* The stored text, as it was logged: never re-encoded. */
		fwrite(sqlite3_column_text(st, 1), 1,
		       (size_t)sqlite3_column_bytes(st, 1), out);
		pg->last = sqlite3_column_int64(st, 0);
		pg->n++;
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(s->db));
	sqlite3_reset(st);
	return rc;
}

/*
 * The rows a client may no longer hold after its scope moved from ?1 to
 * ?2: rows with a change in the old scope up to the cursor's seq ?4 and no
 * change at all in the new one. Each row is named once, at its first
 * change in the old scope, so the walk pages by seq (after ?3).
 */
const char store_sync_drop_sql[] =
    "SELECT c.tbl, c.row_id, s.seq FROM change_scopes s JOIN changes c "
    "ON c.seq = s.seq WHERE s.unit = ?1 AND s.seq > ?3 AND s.seq <= ?4 "
    "AND NOT EXISTS (SELECT 1 FROM changes p WHERE p.row_id = c.row_id "
    "AND p.tbl = c.tbl AND p.seq < c.seq AND EXISTS (SELECT 1 FROM "
    "change_scopes ps WHERE ps.unit = ?1 AND ps.seq = p.seq)) "
    "AND NOT EXISTS (SELECT 1 FROM changes q WHERE q.row_id = c.row_id "
    "AND q.tbl = c.tbl AND EXISTS (SELECT 1 FROM change_scopes qs "
    "WHERE qs.unit = ?2 AND qs.seq = q.seq)) "
    "ORDER BY s.seq LIMIT ?5";

int
store_sync_drops(struct gk_server *s, const char *old_scope,
                 const char *new_scope, int64_t after, int64_t upto, int limit,
                 FILE *out, struct store_sync_page *pg, struct gk_error *err)
{
	sqlite3_stmt *st;
	int r, rc = GK_OK;

	pg->n = 0;
	pg->more = 0;
	pg->last = after;
	if ((st = store_stmt(s, store_sync_drop_sql, err)) == NULL)
		return GK_E_DB;
	sqlite3_bind_text(st, 1, old_scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, new_scope, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, after);
	sqlite3_bind_int64(st, 4, upto);
	sqlite3_bind_int(st, 5, limit + 1);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *tbl = (const char *)sqlite3_column_text(st, 0);
		const char *row = (const char *)sqlite3_column_text(st, 1);

		if (pg->n == limit) {
			pg->more = 1;
			break;
		}
		pg->last = sqlite3_column_int64(st, 2);
		/* Names we wrote ourselves; checked, so the text is safe
		 * to print as it is. */
		if (tbl == NULL || record_table(tbl) == NULL || row == NULL ||
		    !uuid_valid(row, strlen(row)))
			continue;
		fprintf(out, "%s{\"table\":\"%s\",\"row\":\"%s\"}",
		        pg->n > 0 ? "," : "", tbl, row);
		pg->n++;
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(s->db));
	sqlite3_reset(st);
	return rc;
}

/* ---- the key that signs cursors --------------------------------------- */

static const char sync_key_get[] =
    "SELECT value FROM server_meta WHERE key = 'cursor_key'";
static const char sync_key_put[] =
    "INSERT INTO server_meta(key, value) VALUES('cursor_key', ?1) "
    "ON CONFLICT(key) DO NOTHING";

/* 1 and the key if server_meta has a well-formed one, 0 if not, -1. */
static int
sync_key_read(struct gk_server *s, unsigned char key[32], struct gk_error *err)
{
	sqlite3_stmt *st;
	const char *v;
	int r, found = 0;

	if ((st = store_stmt(s, sync_key_get, err)) == NULL)
		return -1;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW && (v = (const char *)sqlite3_column_text(st, 0)) &&
	    strlen(v) == 64) {
		found = 1;
		for (int i = 0; i < 32 && found; i++) {
			unsigned int b;
			if (sscanf(v + 2 * i, "%2x", &b) != 1)
				found = 0;
			key[i] = (unsigned char)b;
		}
	} else if (r != SQLITE_ROW && r != SQLITE_DONE) {
		gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(s->db));
		found = -1;
	}
	sqlite3_reset(st);
	return found;
}

int
store_sync_cursor_key(struct gk_server *s, unsigned char key[32],
                      struct gk_error *err)
{
	unsigned char fresh[32];
	char hex[65];
	sqlite3_stmt *st;
	int r, rc;

	if ((r = sync_key_read(s, key, err)) != 0)
		return r > 0 ? GK_OK : GK_E_DB;
	/* The first pull of this database makes the key; a backup keeps
	 * it, so cursors stay good after a restore. */
	s->env.random(s->env.arg, fresh, sizeof fresh);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", fresh[i]);
	if (db_begin(s->db) != GK_OK)
		return gk_error_set(err, GK_E_BUSY, "cannot begin: %s",
		                    sqlite3_errmsg(s->db));
	if ((st = store_stmt(s, sync_key_put, err)) == NULL) {
		db_rollback(s->db);
		return GK_E_DB;
	}
	sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
	rc = store_step_done(s->db, st, err);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != GK_OK) {
		db_rollback(s->db);
		return rc;
	}
	if ((rc = db_commit(s->db)) != GK_OK)
		return gk_error_set(err, rc, "cannot commit: %s",
		                    sqlite3_errmsg(s->db));
	if ((r = sync_key_read(s, key, err)) <= 0)
		return r < 0 ? GK_E_DB
		             : gk_error_set(err, GK_E_DB, "no cursor key");
	return GK_OK;
}
