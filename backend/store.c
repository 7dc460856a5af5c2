/*
 * store.c: the server's storage, the one place its SQL lives: server_meta
 * and the change log. (The HTTP server's sessions, users and the pull
 * queries join it in store-*.c files sharing gridkeepd.h's store block.)
 *
 * Every change the server accepts is applied to the records (sync/merge.c)
 * and appended here, in the same transaction, with its canonical JSON as a
 * pull will send it and the units it belongs to (change_scopes), so a pull
 * reads one index range and writes the stored text as it is.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gridkeepd.h"

/* ---- small SQL helpers ----------------------------------------------------
 */

int
store_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st,
              struct gk_error *err)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(db));
	}
	return GK_OK;
}

/* Step a statement that returns no row; GK_E_DB with err set otherwise. */
int
store_step_done(sqlite3 *db, sqlite3_stmt *st, struct gk_error *err)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(db));
	return GK_OK;
}

/* ---- server_meta and the change log ---------------------------------------
 */

int
store_meta_get(sqlite3 *db, const char *key, char *buf, size_t size,
               struct gk_error *err)
{
	sqlite3_stmt *st;
	size_t len;
	int rc;

	if ((rc = store_prepare(db,
	                        "SELECT value FROM server_meta WHERE key = ?1",
	                        &st, err)) != GK_OK)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		len = (size_t)sqlite3_column_bytes(st, 0);
		if (len >= size) {
			rc = gk_error_set(err, GK_E_TOO_LONG,
			                  "server_meta %s is too long", key);
			break;
		}
		memcpy(buf, sqlite3_column_text(st, 0), len);
		buf[len] = '\0';
		rc = GK_OK;
		break;
	case SQLITE_DONE:
		rc = gk_error_set(err, GK_E_NOT_FOUND, "server_meta has no %s",
		                  key);
		break;
	default:
		rc = gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(db));
		break;
	}
	sqlite3_finalize(st);
	return rc;
}

int
store_meta_put_tx(sqlite3 *db, const char *key, const char *value,
                  struct gk_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = store_prepare(
	         db,
	         "INSERT INTO server_meta(key, value) VALUES(?1, ?2) "
	         "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	         &st, err)) != GK_OK)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = store_step_done(db, st, err);
	sqlite3_finalize(st);
	return rc;
}

/*
 * The unit each kind of record belongs to, as a query on the applied row
 * (?1 = its id). The catalogue is the district's: one district per server
 * (DESIGN.md, "Where it goes next").
 */
static const struct {
	const char *table;
	const char *sql; /* NULL: the row is a unit itself */
} store_units[] = {
    {"units", NULL},
    {"users", "SELECT unit FROM users WHERE id = ?1"},
    {"items", "SELECT id FROM units WHERE level = 'district' "
              "AND ?1 IS NOT NULL ORDER BY id LIMIT 1"},
    {"depots", "SELECT unit FROM depots WHERE id = ?1"},
    {"standards", "SELECT d.unit FROM standards x "
                  "JOIN depots d ON d.id = x.depot WHERE x.id = ?1"},
    {"volunteers", "SELECT unit FROM volunteers WHERE id = ?1"},
    {"notices", "SELECT unit FROM notices WHERE id = ?1"},
    {"hazards", "SELECT grid FROM hazards WHERE id = ?1"},
    {"hazard_events", "SELECT h.grid FROM hazard_events e "
                      "JOIN hazards h ON h.id = e.hazard WHERE e.id = ?1"},
    {"inspections", "SELECT grid FROM inspections WHERE id = ?1"},
    {"stock_moves", "SELECT d.unit FROM stock_moves x "
                    "JOIN depots d ON d.id = x.depot WHERE x.id = ?1"},
    {"point_entries",
     "SELECT v.unit FROM point_entries p "
     "JOIN volunteers v ON v.id = p.volunteer WHERE p.id = ?1"},
    {"notice_acks", "SELECT n.unit FROM notice_acks a "
                    "JOIN notices n ON n.id = a.notice WHERE a.id = ?1"},
    {"replenishment_requests",
     "SELECT d.unit FROM replenishment_requests x "
     "JOIN depots d ON d.id = x.depot WHERE x.id = ?1"},
};

int
store_change_unit_tx(sqlite3 *db, const struct gk_change *c,
                     char unit[GK_ID_LEN + 1], struct gk_error *err)
{
	const char *sql = NULL, *u;
	sqlite3_stmt *st;
	size_t i;
	int rc;

	for (i = 0; i < sizeof store_units / sizeof store_units[0]; i++)
		if (strcmp(store_units[i].table, c->table->name) == 0)
			break;
	if (i == sizeof store_units / sizeof store_units[0])
		return gk_error_set(err, GK_E_UNKNOWN_TABLE,
		                    "no scope for table %s", c->table->name);
	if ((sql = store_units[i].sql) == NULL) {
		memcpy(unit, c->row, GK_ID_LEN + 1);
		return GK_OK;
	}
	if ((rc = store_prepare(db, sql, &st, err)) != GK_OK)
		return rc;
	sqlite3_bind_text(st, 1, c->row, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		u = (const char *)sqlite3_column_text(st, 0);
		if (u == NULL || !uuid_valid(u, strlen(u))) {
			rc = gk_error_set(err, GK_E_NOT_FOUND,
			                  "%s %s belongs to no unit",
			                  c->table->name, c->row);
			break;
		}
		memcpy(unit, u, GK_ID_LEN + 1);
		rc = GK_OK;
		break;
	case SQLITE_DONE:
		rc = gk_error_set(err, GK_E_NOT_FOUND,
		                  "%s %s belongs to no unit", c->table->name,
		                  c->row);
		break;
	default:
		rc = gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(db));
		break;
	}
	sqlite3_finalize(st);
	return rc;
}

int
store_log_change_tx(sqlite3 *db, const struct gk_change *c, const char *unit,
                    int64_t received_ms, int64_t *seq, struct gk_error *err)
{
	sqlite3_stmt *st = NULL;
	sqlite3_int64 rowid;
	char *json;
	int rc;

	if ((json = change_encode(c)) == NULL)
		return gk_error_set(err, GK_E_NOMEM, "cannot encode change %s",
		                    c->id);
	if ((rc = store_prepare(
	         db,
	         "INSERT INTO changes(id, tbl, row_id, author, "
	         "received_at, json) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	         &st, err)) != GK_OK)
		goto out;
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->table->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->row, -1, SQLITE_STATIC);
	if (c->author[0] != '\0')
		sqlite3_bind_text(st, 4, c->author, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, received_ms);
	sqlite3_bind_text(st, 6, json, -1, SQLITE_STATIC);
	if ((rc = store_step_done(db, st, err)) != GK_OK)
		goto out;
	rowid = sqlite3_last_insert_rowid(db);
	sqlite3_finalize(st);

	if ((rc = store_prepare(
	         db, "INSERT INTO change_scopes(unit, seq) VALUES(?1, ?2)", &st,
	         err)) != GK_OK)
		goto out;
	sqlite3_bind_text(st, 1, unit, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, rowid);
	if ((rc = store_step_done(db, st, err)) != GK_OK)
		goto out;
	if (seq != NULL)
		*seq = rowid;

out:
	sqlite3_finalize(st);
	free(json);
	return rc;
}

/* ---- the statement cache ------------------------------------------------ */

/*
 * Statements on the request path are prepared once and kept, keyed by the
 * address of their SQL text (always a string constant), in a small open-
 * addressed table. Preparing costs tens of microseconds; a pull or a login
 * runs a handful of statements, so this is most of their SQL cost saved.
 */
#define STMT_SLOTS 512

struct gk_stmt_cache {
	const char *sql[STMT_SLOTS];
	sqlite3_stmt *st[STMT_SLOTS];
};

int
store_open_cache(struct gk_server *s, struct gk_error *err)
{
	if (s->stmts != NULL)
		return GK_OK;
	if ((s->stmts = calloc(1, sizeof *s->stmts)) == NULL)
		return gk_error_set(err, GK_E_NOMEM, "out of memory");
	return GK_OK;
}

void
store_close_cache(struct gk_server *s)
{
	if (s->stmts == NULL)
		return;
	for (int i = 0; i < STMT_SLOTS; i++)
		sqlite3_finalize(s->stmts->st[i]);
	free(s->stmts);
	s->stmts = NULL;
}

sqlite3_stmt *
store_stmt(struct gk_server *s, const char *sql, struct gk_error *err)
{
	struct gk_stmt_cache *c = s->stmts;
	size_t h = ((uintptr_t)sql >> 3) % STMT_SLOTS;

	for (int n = 0; n < STMT_SLOTS; n++, h = (h + 1) % STMT_SLOTS) {
		if (c->sql[h] == sql) {
			sqlite3_reset(c->st[h]);
			sqlite3_clear_bindings(c->st[h]);
			return c->st[h];
		}
		if (c->sql[h] == NULL) {
			if (sqlite3_prepare_v3(s->db, sql, -1,
			                       SQLITE_PREPARE_PERSISTENT,
			                       &c->st[h], NULL) != SQLITE_OK) {
				gk_error_set(err, GK_E_DB, "%s",
				             sqlite3_errmsg(s->db));
				sqlite3_finalize(c->st[h]);
				c->st[h] = NULL;
				return NULL;
			}
			c->sql[h] = sql;
			return c->st[h];
		}
	}
	gk_error_set(err, GK_E_DB, "statement cache full");
	return NULL;
}

/* ---- changes made on the server ------------------------------------------ */

int
store_write_change_tx(struct gk_server *s, struct gk_merge *m,
                      struct gk_change *c, const struct gk_actor *actor,
                      struct gk_error *err)
{
	char unit[GK_ID_LEN + 1];
	enum gk_applied applied;
	int rc;

	uuid_v7(&s->env, c->id);
	c->node = s->node;
	c->hlc = hlc_now(&s->hlc, s->env.now_ms(s->env.arg));
	snprintf(c->author, sizeof c->author, "%s",
	         actor->user_id != NULL ? actor->user_id : "");
	if ((rc = validate_change(c, actor, &s->policy, err)) != GK_OK ||
	    (rc = validate_change_tx(s->db, c, &s->policy, err)) != GK_OK ||
	    (rc = merge_apply_tx(m, c, &applied, err)) != GK_OK ||
	    (rc = store_change_unit_tx(s->db, c, unit, err)) != GK_OK)
		return rc;
	return store_log_change_tx(s->db, c, unit, s->env.now_ms(s->env.arg),
	                           NULL, err);
}
