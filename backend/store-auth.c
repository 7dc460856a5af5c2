/*
 * store-auth.c: the SQL of accounts: user lookups on the users records,
 * and the server-only tables credentials, sessions and login_failures
 * (schema/server/0001-server.sql). The rest of the server's SQL is in
 * store.c and store-sync.c; nothing outside store*.c speaks SQL.
 *
 * Statements come from the server's cache (store_stmt), so each is
 * prepared once per process; every function resets what it used before it
 * returns, so no statement keeps a read snapshot open between requests.
 * Times are milliseconds since the epoch by the server's clock. The one
 * exception to the cache is store_auth_credentials_put_tx, which the demo
 * and init also call before any cache exists.
 */
#include <stdio.h>
#include <string.h>

#include "gridkeepd.h"

/* Copy a text column into buf (size bytes); "" for NULL. */
static void
sa_text(sqlite3_stmt *st, int col, char *buf, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(buf, size, "%s", t != NULL ? (const char *)t : "");
}

static int
sa_dberr(struct gk_server *s, sqlite3_stmt *st, struct gk_error *err)
{
	int rc = gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(s->db));

	if (st != NULL)
		sqlite3_reset(st);
	return rc;
}

/* Step a cached statement that returns no row, then reset it. */
static int
sa_done(struct gk_server *s, sqlite3_stmt *st, struct gk_error *err)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		return sa_dberr(s, st, err);
	sqlite3_reset(st);
	return GK_OK;
}

/* ---- users ---------------------------------------------------------------
 */

#define SA_USER_COLS                                                           \
	"id, username, display_name, role, unit, coalesce(active, 1), "        \
	"coalesce(deleted, 0)"

static const char SQL_USER_BY_NAME[] =
    "SELECT " SA_USER_COLS " FROM users "
    "WHERE username = ?1 AND coalesce(deleted, 0) = 0 ORDER BY id LIMIT 1";
static const char SQL_USER_BY_ID[] =
    "SELECT " SA_USER_COLS " FROM users WHERE id = ?1";
static const char SQL_USERS[] =
    "SELECT " SA_USER_COLS ", "
    "(SELECT count(*) FROM credentials c WHERE c.user_id = u.id), "
    "(SELECT count(*) FROM sessions x WHERE x.user_id = u.id "
    "  AND x.revoked_at IS NULL AND x.expires_at > ?1) "
    "FROM users u WHERE coalesce(deleted, 0) = 0 ORDER BY username, id";

static void
sa_userinfo(sqlite3_stmt *st, struct gk_userinfo *out)
{
	char role[32];

	memset(out, 0, sizeof *out);
	sa_text(st, 0, out->u.id, sizeof out->u.id);
	sa_text(st, 1, out->u.username, sizeof out->u.username);
	sa_text(st, 2, out->display_name, sizeof out->display_name);
	sa_text(st, 3, role, sizeof role);
	/* An unknown role cannot happen (validated); make it the least. */
	if (record_role_parse(role, &out->u.role) != GK_OK)
		out->u.role = GK_ROLE_GRID_WORKER;
	sa_text(st, 4, out->u.unit, sizeof out->u.unit);
	out->active = sqlite3_column_int(st, 5) != 0;
	out->deleted = sqlite3_column_int(st, 6) != 0;
}

static int
sa_user(struct gk_server *s, const char *sql, const char *key,
        struct gk_userinfo *out, struct gk_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = store_stmt(s, sql, err)) == NULL)
		return GK_E_DB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		sa_userinfo(st, out);
		rc = GK_OK;
		break;
	case SQLITE_DONE:
		rc = gk_error_set(err, GK_E_NOT_FOUND, "no such user");
		break;
	default:
		return sa_dberr(s, st, err);
	}
	sqlite3_reset(st);
	return rc;
}

int
store_auth_user_by_name(struct gk_server *s, const char *username,
                        struct gk_userinfo *out, struct gk_error *err)
{
	return sa_user(s, SQL_USER_BY_NAME, username, out, err);
}

int
store_auth_user_by_id(struct gk_server *s, const char *id,
                      struct gk_userinfo *out, struct gk_error *err)
{
	return sa_user(s, SQL_USER_BY_ID, id, out, err);
}

int
store_auth_users(struct gk_server *s,
                 int (*cb)(void *arg, const struct gk_userinfo *u,
                           int has_password, int sessions),
                 void *arg, struct gk_error *err)
{
	struct gk_userinfo ui;
	sqlite3_stmt *st;
	int r, rc = GK_OK;

	if ((st = store_stmt(s, SQL_USERS, err)) == NULL)
		return GK_E_DB;
	sqlite3_bind_int64(st, 1, s->env.now_ms(s->env.arg));
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		sa_userinfo(st, &ui);
		if ((rc = cb(arg, &ui, sqlite3_column_int(st, 7) > 0,
		             sqlite3_column_int(st, 8))) != 0)
			break;
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return sa_dberr(s, st, err);
	sqlite3_reset(st);
	return rc;
}

static const char SQL_UNIT_FIND[] =
    "SELECT id FROM units WHERE coalesce(deleted, 0) = 0 "
    "AND (id = ?1 OR code = ?1) ORDER BY id = ?1 DESC, id LIMIT 2";

int
store_auth_unit_find(struct gk_server *s, const char *id_or_code,
                     char unit[GK_ID_LEN + 1], struct gk_error *err)
{
	sqlite3_stmt *st;
	int r, n = 0;

	if ((st = store_stmt(s, SQL_UNIT_FIND, err)) == NULL)
		return GK_E_DB;
	sqlite3_bind_text(st, 1, id_or_code, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ == 0) {
			sa_text(st, 0, unit, GK_ID_LEN + 1);
			if (strcmp(unit, id_or_code) == 0)
				break; /* an id wins over a code */
		}
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return sa_dberr(s, st, err);
	sqlite3_reset(st);
	if (n == 0)
		return gk_error_set(err, GK_E_NOT_FOUND, "no unit %s",
		                    id_or_code);
	if (n > 1 && strcmp(unit, id_or_code) != 0)
		return gk_error_set(err, GK_E_INCONSISTENT,
		                    "more than one unit has the code %s: name "
		                    "it by its id",
		                    id_or_code);
	return GK_OK;
}

/* ---- credentials ----------------------------------------------------------
 */

static const char SQL_CRED_GET[] =
    "SELECT hash FROM credentials WHERE user_id = ?1";

int
store_auth_credentials_get(struct gk_server *s, const char *user_id,
                           char hash[AUTH_HASH_MAX], struct gk_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = store_stmt(s, SQL_CRED_GET, err)) == NULL)
		return GK_E_DB;
	sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		if ((size_t)sqlite3_column_bytes(st, 0) >= AUTH_HASH_MAX) {
			rc = gk_error_set(err, GK_E_CORRUPT,
			                  "the stored hash is too long");
			break;
		}
		sa_text(st, 0, hash, AUTH_HASH_MAX);
		rc = GK_OK;
		break;
	case SQLITE_DONE:
		rc = gk_error_set(err, GK_E_NOT_FOUND, "no password");
		break;
	default:
		return sa_dberr(s, st, err);
	}
	sqlite3_reset(st);
	return rc;
}

int
store_auth_credentials_put_tx(struct gk_server *s, const char *user_id,
                              const char *hash, struct gk_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = store_prepare(
	         s->db,
	         "INSERT INTO credentials(user_id, hash, changed_at) "
	         "VALUES(?1, ?2, ?3) ON CONFLICT(user_id) DO UPDATE SET "
	         "hash = excluded.hash, changed_at = excluded.changed_at",
	         &st, err)) != GK_OK)
		return rc;
	sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, s->env.now_ms(s->env.arg));
	rc = store_step_done(s->db, st, err);
	sqlite3_finalize(st);
	return rc;
}

/* ---- sessions -------------------------------------------------------------
 */

#define SA_SES_COLS                                                            \
	"token_hash, user_id, device, created_at, last_used_at, expires_at, "  \
	"coalesce(revoked_at, 0)"

static const char SQL_SES_GET[] =
    "SELECT " SA_SES_COLS " FROM sessions WHERE token_hash = ?1";
static const char SQL_SES_PUT[] =
    "INSERT INTO sessions(token_hash, user_id, device, created_at, "
    "last_used_at, expires_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_SES_TOUCH[] =
    "UPDATE sessions SET last_used_at = ?2 WHERE token_hash = ?1";
static const char SQL_SES_REVOKE[] =
    "UPDATE sessions SET revoked_at = coalesce(revoked_at, ?2) "
    "WHERE token_hash = ?1";
static const char SQL_SES_REVOKE_PREFIX[] =
    "UPDATE sessions SET revoked_at = coalesce(revoked_at, ?3) "
    "WHERE user_id = ?1 AND substr(token_hash, 1, 8) = ?2";
static const char SQL_SES_REVOKE_ALL[] =
    "UPDATE sessions SET revoked_at = ?2 "
    "WHERE user_id = ?1 AND revoked_at IS NULL";
static const char SQL_SES_LIST[] =
    "SELECT " SA_SES_COLS " FROM sessions WHERE user_id = ?1 "
    "ORDER BY created_at DESC, token_hash";

static void
sa_session(sqlite3_stmt *st, struct gk_session *out)
{
	const void *h = sqlite3_column_blob(st, 0);

	memset(out, 0, sizeof *out);
	if (h != NULL && sqlite3_column_bytes(st, 0) == 32)
		memcpy(out->token_hash, h, 32);
	sa_text(st, 1, out->user_id, sizeof out->user_id);
	sa_text(st, 2, out->device, sizeof out->device);
	out->created_at = sqlite3_column_int64(st, 3);
	out->last_used_at = sqlite3_column_int64(st, 4);
	out->expires_at = sqlite3_column_int64(st, 5);
	out->revoked_at = sqlite3_column_int64(st, 6);
}

int
store_auth_session_get(struct gk_server *s, const unsigned char hash[32],
                       struct gk_session *out, struct gk_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = store_stmt(s, SQL_SES_GET, err)) == NULL)
		return GK_E_DB;
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		sa_session(st, out);
		rc = GK_OK;
		break;
	case SQLITE_DONE:
		rc = gk_error_set(err, GK_E_NOT_FOUND, "no such session");
		break;
	default:
		return sa_dberr(s, st, err);
	}
	sqlite3_reset(st);
	return rc;
}

int
store_auth_session_put_tx(struct gk_server *s, const struct gk_session *ses,
                          struct gk_error *err)
{
	sqlite3_stmt *st;

	if ((st = store_stmt(s, SQL_SES_PUT, err)) == NULL)
		return GK_E_DB;
	sqlite3_bind_blob(st, 1, ses->token_hash, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ses->user_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ses->device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, ses->created_at);
	sqlite3_bind_int64(st, 5, ses->last_used_at);
	sqlite3_bind_int64(st, 6, ses->expires_at);
	return sa_done(s, st, err);
}

int
store_auth_session_touch(struct gk_server *s, const unsigned char hash[32],
                         int64_t now_ms, struct gk_error *err)
{
	sqlite3_stmt *st;

	if ((st = store_stmt(s, SQL_SES_TOUCH, err)) == NULL)
		return GK_E_DB;
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ms);
	return sa_done(s, st, err);
}

int
store_auth_session_revoke(struct gk_server *s, const unsigned char hash[32],
                          int64_t now_ms, struct gk_error *err)
{
	sqlite3_stmt *st;

	if ((st = store_stmt(s, SQL_SES_REVOKE, err)) == NULL)
		return GK_E_DB;
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ms);
	return sa_done(s, st, err);
}

int
store_auth_device_revoke(struct gk_server *s, const char *user_id,
                         const unsigned char prefix[8], int64_t now_ms,
                         struct gk_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = store_stmt(s, SQL_SES_REVOKE_PREFIX, err)) == NULL)
		return GK_E_DB;
	sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, prefix, 8, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_ms);
	if ((rc = sa_done(s, st, err)) != GK_OK)
		return rc;
	if (sqlite3_changes(s->db) == 0)
		return gk_error_set(err, GK_E_NOT_FOUND, "no such device");
	return GK_OK;
}

int
store_auth_sessions_revoke_all_tx(struct gk_server *s, const char *user_id,
                                  int64_t now_ms, struct gk_error *err)
{
	sqlite3_stmt *st;

	if ((st = store_stmt(s, SQL_SES_REVOKE_ALL, err)) == NULL)
		return GK_E_DB;
	sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ms);
	return sa_done(s, st, err);
}

int
store_auth_sessions(struct gk_server *s, const char *user_id,
                    int (*cb)(void *arg, const struct gk_session *ses),
                    void *arg, struct gk_error *err)
{
	struct gk_session ses;
	sqlite3_stmt *st;
	int r, rc = GK_OK;

	if ((st = store_stmt(s, SQL_SES_LIST, err)) == NULL)
		return GK_E_DB;
	sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		sa_session(st, &ses);
		if ((rc = cb(arg, &ses)) != 0)
			break;
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return sa_dberr(s, st, err);
	sqlite3_reset(st);
	return rc;
}

/* ---- login_failures ---------------------------------------------------- */

static const char SQL_FAIL_GET[] =
    "SELECT failures, window_start, locked_until FROM login_failures "
    "WHERE key = ?1";
static const char SQL_FAIL_PUT[] =
    "INSERT INTO login_failures(key, failures, window_start, locked_until) "
    "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(key) DO UPDATE SET "
    "failures = excluded.failures, window_start = excluded.window_start, "
    "locked_until = excluded.locked_until";
static const char SQL_FAIL_CLEAR[] =
    "DELETE FROM login_failures WHERE key = ?1";

int
store_auth_failures_get(struct gk_server *s, const char *key,
                        struct auth_failures *f, struct gk_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = store_stmt(s, SQL_FAIL_GET, err)) == NULL)
		return GK_E_DB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		f->failures = sqlite3_column_int64(st, 0);
		f->window_start = sqlite3_column_int64(st, 1);
		f->locked_until = sqlite3_column_int64(st, 2);
		rc = GK_OK;
		break;
	case SQLITE_DONE:
		memset(f, 0, sizeof *f);
		rc = GK_E_NOT_FOUND; /* no message: the usual case */
		break;
	default:
		return sa_dberr(s, st, err);
	}
	sqlite3_reset(st);
	return rc;
}

int
store_auth_failures_put_tx(struct gk_server *s, const char *key,
                           const struct auth_failures *f, struct gk_error *err)
{
	sqlite3_stmt *st;

	if ((st = store_stmt(s, SQL_FAIL_PUT, err)) == NULL)
		return GK_E_DB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, f->failures);
	sqlite3_bind_int64(st, 3, f->window_start);
	sqlite3_bind_int64(st, 4, f->locked_until);
	return sa_done(s, st, err);
}

int
store_auth_failures_clear(struct gk_server *s, const char *key,
                          struct gk_error *err)
{
	sqlite3_stmt *st;

	if ((st = store_stmt(s, SQL_FAIL_CLEAR, err)) == NULL)
		return GK_E_DB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	return sa_done(s, st, err);
}

/* ---- the clock of the operator's changes -------------------------------- */

/* The greatest HLC among the latest changes (text order is time order). */
static const char SQL_RECENT_HLC[] =
    "SELECT max(json_extract(json, '$.hlc')) FROM "
    "(SELECT json FROM changes ORDER BY seq DESC LIMIT 1000)";

int
store_auth_recent_hlc(struct gk_server *s, uint64_t *out, struct gk_error *err)
{
	sqlite3_stmt *st;
	const char *h;
	int rc = GK_OK;

	*out = 0;
	if ((st = store_stmt(s, SQL_RECENT_HLC, err)) == NULL)
		return GK_E_DB;
	if (sqlite3_step(st) != SQLITE_ROW)
		return sa_dberr(s, st, err);
	h = (const char *)sqlite3_column_text(st, 0);
	if (h != NULL && hlc_parse(h, strlen(h), out) != GK_OK)
		rc = gk_error_set(err, GK_E_CORRUPT, "a logged HLC is bad");
	sqlite3_reset(st);
	return rc;
}
