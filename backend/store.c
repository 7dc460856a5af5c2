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
	return db_meta_get(db, GK_SIDE_SERVER, key, buf, size, err);
}

int
store_meta_put_tx(sqlite3 *db, const char *key, const char *value,
                  struct gk_error *err)
{
	return db_meta_put_tx(db, GK_SIDE_SERVER, key, value, err);
}

/*
 * The unit each kind of record belongs to, as a query on the applied row
 * (?1 = its id), and how far its changes reach from there:
 *
 *   UP      the unit and its ancestors: every office above sees the row
 *   UPDOWN  and the unit's whole subtree too: units (a worker sees the names
 *           of their community and street), users (names of people), depots
 *           with their standards and stock moves (grid workers read their
 *           community's depots)
 *   ALL     every unit: the catalogue (items)
 *   NOTICE  the issuer and its ancestors, and each target unit with its
 *           subtree and its ancestors
 *
 * A notice ack belongs to its author's unit. The catalogue's own unit is
 * the district (one district per server, DESIGN.md "Where it goes next").
 */
enum store_reach { STORE_UP, STORE_UPDOWN, STORE_ALL, STORE_NOTICE };

static const struct {
	const char *table;
	const char *sql; /* NULL: the row is a unit itself */
	enum store_reach reach;
} store_units[] = {
    {"units", NULL, STORE_UPDOWN},
    {"users", "SELECT unit FROM users WHERE id = ?1", STORE_UPDOWN},
    {"items",
     "SELECT id FROM units WHERE level = 'district' "
     "AND ?1 IS NOT NULL ORDER BY id LIMIT 1",
     STORE_ALL},
    {"depots", "SELECT unit FROM depots WHERE id = ?1", STORE_UPDOWN},
    {"standards",
     "SELECT d.unit FROM standards x "
     "JOIN depots d ON d.id = x.depot WHERE x.id = ?1",
     STORE_UPDOWN},
    {"volunteers", "SELECT unit FROM volunteers WHERE id = ?1", STORE_UP},
    {"notices", "SELECT unit FROM notices WHERE id = ?1", STORE_NOTICE},
    {"hazards", "SELECT grid FROM hazards WHERE id = ?1", STORE_UP},
    {"hazard_events",
     "SELECT h.grid FROM hazard_events e "
     "JOIN hazards h ON h.id = e.hazard WHERE e.id = ?1",
     STORE_UP},
    {"inspections", "SELECT grid FROM inspections WHERE id = ?1", STORE_UP},
    {"stock_moves",
     "SELECT d.unit FROM stock_moves x "
     "JOIN depots d ON d.id = x.depot WHERE x.id = ?1",
     STORE_UPDOWN},
    {"point_entries",
     "SELECT v.unit FROM point_entries p "
     "JOIN volunteers v ON v.id = p.volunteer WHERE p.id = ?1",
     STORE_UP},
    {"notice_acks",
     "SELECT u.unit FROM notice_acks a "
     "JOIN users u ON u.id = a.author WHERE a.id = ?1",
     STORE_UP},
    {"replenishment_requests",
     "SELECT d.unit FROM replenishment_requests x "
     "JOIN depots d ON d.id = x.depot WHERE x.id = ?1",
     STORE_UP},
};
#define STORE_NUNITS (sizeof store_units / sizeof store_units[0])

static int
store_units_index(const struct gk_table *t)
{
	for (size_t i = 0; i < STORE_NUNITS; i++)
		if (strcmp(store_units[i].table, t->name) == 0)
			return (int)i;
	return -1;
}

int
store_change_unit_tx(sqlite3 *db, const struct gk_change *c,
                     char unit[GK_ID_LEN + 1], struct gk_error *err)
{
	const char *sql = NULL, *u;
	sqlite3_stmt *st;
	int i, rc;

	if ((i = store_units_index(c->table)) < 0)
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

/*
 * A statement from the server's cache when it has one (serve, tests), else
 * prepared for this one use (operator commands, the demo); store_put ends
 * either kind. sql must be a constant: the cache is keyed by its address.
 */
static sqlite3_stmt *
store_get(struct gk_server *s, const char *sql, struct gk_error *err)
{
	sqlite3_stmt *st;

	if (s->stmts != NULL)
		return store_stmt(s, sql, err);
	if (store_prepare(s->db, sql, &st, err) != GK_OK)
		return NULL;
	return st;
}

static void
store_put(struct gk_server *s, sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	if (s->stmts != NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	} else {
		sqlite3_finalize(st);
	}
}

static const char store_insert_change[] =
    "INSERT INTO changes(id, tbl, row_id, author, received_at, json) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6)";

/*
 * The scope rows of change ?1 for a record of unit ?2: the unit and its
 * ancestors; its subtree too when ?3 is 1; and for the notice ?4, each of
 * its targets with their ancestors and subtrees. UNION (not UNION ALL)
 * ends the walks even on a cycle in a hand-edited tree. Only units that
 * exist get rows (a notice may name a unit that does not).
 */
static const char store_scope_rows[] =
    "WITH RECURSIVE seed(id, down) AS ("
    " SELECT ?2, ?3 UNION ALL SELECT t.value, 1 FROM notices n, "
    " json_each(CASE WHEN json_valid(n.targets) THEN n.targets "
    " ELSE '[]' END) t WHERE n.id = ?4),"
    " up(id) AS (SELECT id FROM seed UNION SELECT u.parent FROM units u "
    " JOIN up ON u.id = up.id WHERE u.parent IS NOT NULL),"
    " down(id) AS (SELECT id FROM seed WHERE down UNION SELECT u.id "
    " FROM units u JOIN down ON u.parent = down.id) "
    "INSERT OR IGNORE INTO change_scopes(unit, seq) SELECT x.id, ?1 FROM "
    "(SELECT id FROM up UNION SELECT id FROM down) x "
    "WHERE EXISTS (SELECT 1 FROM units WHERE units.id = x.id)";

static const char store_scope_all[] =
    "INSERT OR IGNORE INTO change_scopes(unit, seq) SELECT id, ?1 FROM units";

/* 1 if unit ?1 has no scope row yet: its first change is being logged. */
static const char store_unit_is_new[] =
    "SELECT NOT EXISTS (SELECT 1 FROM change_scopes WHERE unit = ?1)";

/*
 * A new unit ?1 sees what reaches down to it from its ancestors, logged
 * before it existed: the ancestors' own unit rows, the users and depots
 * (with standards and stock moves) at an ancestor, notices that target an
 * ancestor, and the whole catalogue.
 */
static const char store_scope_backfill[] =
    "WITH RECURSIVE anc(id) AS ("
    " SELECT parent FROM units WHERE id = ?1 AND parent IS NOT NULL"
    " UNION SELECT u.parent FROM units u JOIN anc ON u.id = anc.id"
    " WHERE u.parent IS NOT NULL),"
    " r(tbl, id) AS ("
    " SELECT 'units', id FROM anc"
    " UNION ALL SELECT 'users', id FROM users"
    "  WHERE unit IN (SELECT id FROM anc)"
    " UNION ALL SELECT 'items', id FROM items"
    " UNION ALL SELECT 'depots', id FROM depots"
    "  WHERE unit IN (SELECT id FROM anc)"
    " UNION ALL SELECT 'standards', x.id FROM standards x"
    "  JOIN depots d ON d.id = x.depot WHERE d.unit IN (SELECT id FROM anc)"
    " UNION ALL SELECT 'stock_moves', x.id FROM stock_moves x"
    "  JOIN depots d ON d.id = x.depot WHERE d.unit IN (SELECT id FROM anc)"
    " UNION ALL SELECT 'notices', n.id FROM notices n, json_each(CASE WHEN"
    "  json_valid(n.targets) THEN n.targets ELSE '[]' END) t"
    "  WHERE t.value IN (SELECT id FROM anc)) "
    "INSERT OR IGNORE INTO change_scopes(unit, seq) "
    "SELECT ?1, c.seq FROM r JOIN changes c ON c.row_id = r.id "
    "AND c.tbl = r.tbl";

/* The earlier changes of a users row ?1 (a moved user's history). */
static const char store_user_history[] =
    "SELECT seq FROM changes WHERE row_id = ?1 AND tbl = 'users' "
    "AND seq < ?2 ORDER BY seq";

/* Run store_scope_rows or store_scope_all for one change. */
static int
store_scope_one_tx(struct gk_server *s, int i, const char *row,
                   const char *unit, int64_t seq, int *added,
                   struct gk_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (store_units[i].reach == STORE_ALL) {
		if ((st = store_get(s, store_scope_all, err)) == NULL)
			return GK_E_DB;
		sqlite3_bind_int64(st, 1, seq);
	} else {
		if ((st = store_get(s, store_scope_rows, err)) == NULL)
			return GK_E_DB;
		sqlite3_bind_int64(st, 1, seq);
		sqlite3_bind_text(st, 2, unit, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, store_units[i].reach == STORE_UPDOWN);
		if (store_units[i].reach == STORE_NOTICE)
			sqlite3_bind_text(st, 4, row, -1, SQLITE_STATIC);
	}
	rc = store_step_done(s->db, st, err);
	if (rc == GK_OK && added != NULL)
		*added += sqlite3_changes(s->db);
	store_put(s, st);
	return rc;
}

int
store_scope_change_tx(struct gk_server *s, const struct gk_change *c,
                      const char *unit, int64_t seq, int *added,
                      struct gk_error *err)
{
	sqlite3_stmt *st = NULL;
	int i, rc, r, isnew = 0;

	if ((i = store_units_index(c->table)) < 0)
		return gk_error_set(err, GK_E_UNKNOWN_TABLE,
		                    "no scope for table %s", c->table->name);
	if (strcmp(c->table->name, "units") == 0) {
		if ((st = store_get(s, store_unit_is_new, err)) == NULL)
			return GK_E_DB;
		sqlite3_bind_text(st, 1, c->row, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW) {
			rc = gk_error_set(err, GK_E_DB, "%s",
			                  sqlite3_errmsg(s->db));
			goto out;
		}
		isnew = sqlite3_column_int(st, 0);
		store_put(s, st);
		st = NULL;
	}
	if ((rc = store_scope_one_tx(s, i, c->row, unit, seq, added, err)) !=
	    GK_OK)
		goto out;
	if (isnew) {
		if ((st = store_get(s, store_scope_backfill, err)) == NULL) {
			rc = GK_E_DB;
			goto out;
		}
		sqlite3_bind_text(st, 1, c->row, -1, SQLITE_STATIC);
		if ((rc = store_step_done(s->db, st, err)) != GK_OK)
			goto out;
		if (added != NULL)
			*added += sqlite3_changes(s->db);
		store_put(s, st);
		st = NULL;
	}
	if (strcmp(c->table->name, "users") == 0) {
		/* A user may have moved: their whole history goes where
		 * they are now, so the new unit's people see the whole row.
		 * The old unit keeps what it had, without the move itself. */
		if ((st = store_get(s, store_user_history, err)) == NULL) {
			rc = GK_E_DB;
			goto out;
		}
		sqlite3_bind_text(st, 1, c->row, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, seq);
		while ((r = sqlite3_step(st)) == SQLITE_ROW)
			if ((rc =
			         store_scope_one_tx(s, i, c->row, unit,
			                            sqlite3_column_int64(st, 0),
			                            added, err)) != GK_OK)
				goto out;
		if (r != SQLITE_DONE) {
			rc = gk_error_set(err, GK_E_DB, "%s",
			                  sqlite3_errmsg(s->db));
			goto out;
		}
	}
	rc = GK_OK;

out:
	store_put(s, st);
	return rc;
}

int
store_log_change_tx(struct gk_server *s, const struct gk_change *c,
                    const char *unit, int64_t received_ms, int64_t *seq,
                    struct gk_error *err)
{
	sqlite3_stmt *st = NULL;
	sqlite3_int64 rowid;
	char *json;
	int rc;

	if ((json = change_encode(c)) == NULL)
		return gk_error_set(err, GK_E_NOMEM, "cannot encode change %s",
		                    c->id);
	if ((st = store_get(s, store_insert_change, err)) == NULL) {
		rc = GK_E_DB;
		goto out;
	}
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->table->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->row, -1, SQLITE_STATIC);
	if (c->author[0] != '\0')
		sqlite3_bind_text(st, 4, c->author, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, received_ms);
	sqlite3_bind_text(st, 6, json, -1, SQLITE_STATIC);
	if ((rc = store_step_done(s->db, st, err)) != GK_OK)
		goto out;
	rowid = sqlite3_last_insert_rowid(s->db);
	if ((rc = store_scope_change_tx(s, c, unit, rowid, NULL, err)) != GK_OK)
		goto out;
	if (seq != NULL)
		*seq = rowid;

out:
	store_put(s, st);
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
	return store_log_change_tx(s, c, unit, s->env.now_ms(s->env.arg), NULL,
	                           err);
}
