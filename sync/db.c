/*
 * db.c: opening SQLite the way both ends need it, and the transaction verbs.
 *
 * WAL with synchronous=FULL: a commit that returned is on disk even after a
 * power cut (WAL with NORMAL may lose the last commits). Defensive mode and
 * trusted_schema=OFF keep a crafted database file from running SQL
 * functions behind our back. Writes use BEGIN IMMEDIATE so a transaction
 * that reads first never fails later with an unretried SQLITE_BUSY.
 */
#include <string.h>

#include "sync.h"

static const char *const pragmas =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "PRAGMA foreign_keys=ON;"
    "PRAGMA trusted_schema=OFF;"
    "PRAGMA journal_size_limit=67108864;"
    "PRAGMA cache_size=-65536;"
    /* A 1,000-change batch writes over 1,000 pages: with the default
     * checkpoint every commit would also copy its pages into the database
     * (bench/README.md). */
    "PRAGMA wal_autocheckpoint=10000;"
    /* Sorts and statement journals in memory: on disk they wrote about 12
     * pages per pushed change (bench/README.md). */
    "PRAGMA temp_store=MEMORY;";

int
db_open(const char *path, int flags, sqlite3 **out, struct gk_error *err)
{
	sqlite3 *db = NULL;
	int oflags, rc;

	*out = NULL;
	if (flags & GK_DB_READONLY)
		oflags = SQLITE_OPEN_READONLY;
	else
		oflags = SQLITE_OPEN_READWRITE |
		         ((flags & GK_DB_CREATE) ? SQLITE_OPEN_CREATE : 0);
	oflags |= SQLITE_OPEN_NOMUTEX;
	rc = sqlite3_open_v2(path, &db, oflags, NULL);
	if (rc != SQLITE_OK) {
		gk_error_set(err,
		             rc == SQLITE_CANTOPEN ? GK_E_NOT_FOUND : GK_E_DB,
		             "cannot open %s: %s", path,
		             db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return err ? err->code : GK_E_DB;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, 5000);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	if (!(flags & GK_DB_READONLY) &&
	    sqlite3_exec(db, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
		gk_error_set(err, GK_E_DB, "cannot set up %s: %s", path,
		             sqlite3_errmsg(db));
		sqlite3_close(db);
		return GK_E_DB;
	}
	*out = db;
	return GK_OK;
}

void
db_close(sqlite3 *db)
{
	sqlite3_close(db);
}

int
db_begin(sqlite3 *db)
{
	return sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) ==
	               SQLITE_OK
	           ? GK_OK
	           : GK_E_DB;
}

int
db_commit(sqlite3 *db)
{
	int rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		return GK_OK;
	/* A failed COMMIT may leave the transaction open: end it. */
	db_rollback(db);
	return (rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR
	           ? GK_E_IO
	           : GK_E_DB;
}

void
db_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int
db_exec(sqlite3 *db, const char *sql, struct gk_error *err)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(db));
	return GK_OK;
}

int
db_check(sqlite3 *db, int full, struct gk_error *err)
{
	sqlite3_stmt *st;
	const char *sql =
	    full ? "PRAGMA integrity_check" : "PRAGMA quick_check";
	int rc, ok = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(db));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(st, 0);
		ok = r != NULL && strcmp(r, "ok") == 0;
		if (!ok)
			gk_error_set(err, GK_E_CORRUPT, "%s: %s", sql + 7,
			             r ? r : "?");
	} else {
		gk_error_set(err, GK_E_CORRUPT, "%s failed: %s", sql + 7,
		             sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	return ok ? GK_OK : GK_E_CORRUPT;
}

/* The key-value table of one side: only these two names are ever built
 * into SQL, so the table name is never the caller's text. */
static const char *
db_meta_table(enum gk_schema_side side)
{
	return side == GK_SIDE_SERVER ? "server_meta" : "client_meta";
}

int
db_meta_get(sqlite3 *db, enum gk_schema_side side, const char *key, char *buf,
            size_t size, struct gk_error *err)
{
	const char *table = db_meta_table(side);
	char sql[64];
	sqlite3_stmt *st;
	size_t len;
	int rc;

	snprintf(sql, sizeof sql, "SELECT value FROM %s WHERE key = ?1", table);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		len = (size_t)sqlite3_column_bytes(st, 0);
		if (len >= size) {
			rc = gk_error_set(err, GK_E_TOO_LONG,
			                  "%s %s is too long", table, key);
			break;
		}
		memcpy(buf, sqlite3_column_text(st, 0), len);
		buf[len] = '\0';
		rc = GK_OK;
		break;
	case SQLITE_DONE:
		rc = gk_error_set(err, GK_E_NOT_FOUND, "%s has no %s", table,
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
db_meta_put_tx(sqlite3 *db, enum gk_schema_side side, const char *key,
               const char *value, struct gk_error *err)
{
	char sql[128];
	sqlite3_stmt *st;
	int rc;

	snprintf(sql, sizeof sql,
	         "INSERT INTO %s(key, value) VALUES(?1, ?2) "
	         "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	         db_meta_table(side));
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE
	         ? GK_OK
	         : gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}
