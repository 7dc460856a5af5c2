/*
 * auth.c: passwords, bearer tokens, sessions and login throttling.
 *
 * Passwords are Argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane),
 * salted with 16 random bytes, stored encoded in credentials. One hash
 * costs tens of milliseconds of CPU and 19 MiB of memory, so the server
 * never runs one on the event loop: logins go through hashpool.c, and the
 * blocking calls here are used by the pool's workers and by the operator's
 * commands. Nothing here that runs on a worker touches SQLite or evhttp.
 *
 * A token is 32 bytes of the env's random source, sent as base64url. The
 * server keeps only the SHA-256 of the token's text, and finds a session
 * by it: a copied database holds no token that works. Each login makes a
 * new token and a new sessions row (one per device). auth_session runs on
 * every authenticated request: it reads role and scope from the users
 * record each time, so a disabled user or a changed role takes effect on
 * the next request; last_used_at is written at most once a minute.
 *
 * Throttling counts failed logins per account and per client address in
 * login_failures (so a restart keeps them) and is checked before any hash
 * is computed. Locks are soft and grow: from the 5th failure in an hour an
 * account is locked for 15 s, doubling with each further failure up to
 * 15 minutes, and at most cfg.login_limit failures count per account per
 * hour; nothing locks forever. An address, often a carrier NAT that many
 * grid workers share, starts locking only after 20 failures. The account
 * key is counted for unknown usernames too, so a lock says nothing about
 * whether an account exists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>

#include "gridkeepd.h"

/* OWASP's Argon2id minimum; auth_needs_rehash compares against these. */
#define AUTH_T_COST   2
#define AUTH_M_COST   19456
#define AUTH_LANES    1
#define AUTH_HASH_LEN 32
#define AUTH_SALT_LEN 16

#define AUTH_HOUR_MS     (3600 * 1000)
#define AUTH_TOUCH_EVERY 60000 /* ms between writes of last_used_at */

/* ---- passwords ------------------------------------------------------------
 */

int
auth_hash_salted(const unsigned char salt[16], const char *pw, size_t len,
                 char *out, size_t outlen)
{
	size_t need =
	    argon2_encodedlen(AUTH_T_COST, AUTH_M_COST, AUTH_LANES,
	                      AUTH_SALT_LEN, AUTH_HASH_LEN, Argon2_id);

	if (len == 0 || len > AUTH_PASSWORD_MAX || outlen < need)
		return GK_E_RANGE;
	if (argon2id_hash_encoded(AUTH_T_COST, AUTH_M_COST, AUTH_LANES, pw, len,
	                          salt, AUTH_SALT_LEN, AUTH_HASH_LEN, out,
	                          outlen) != ARGON2_OK)
		return GK_E_NOMEM;
	return GK_OK;
}

int
auth_hash_password(const struct gk_env *env, const char *pw, size_t len,
                   char *out, size_t outlen, struct gk_error *err)
{
	unsigned char salt[AUTH_SALT_LEN];
	int rc;

	if (len == 0)
		return gk_error_set(err, GK_E_MISSING, "the password is empty");
	if (len > AUTH_PASSWORD_MAX)
		return gk_error_set(err, GK_E_TOO_LONG,
		                    "the password is over %d bytes",
		                    AUTH_PASSWORD_MAX);
	env->random(env->arg, salt, sizeof salt);
	rc = auth_hash_salted(salt, pw, len, out, outlen);
	explicit_bzero(salt, sizeof salt);
	if (rc == GK_E_RANGE)
		return gk_error_set(err, GK_E_TOO_LONG,
		                    "no room for the encoded hash");
	if (rc != GK_OK)
		return gk_error_set(err, rc, "cannot hash the password");
	return GK_OK;
}

int
auth_verify_password(const char *encoded, const char *pw, size_t len)
{
	if (len == 0 || len > AUTH_PASSWORD_MAX)
		return 0;
	return argon2id_verify(encoded, pw, len) == ARGON2_OK;
}

int
auth_needs_rehash(const char *encoded)
{
	unsigned v, m, t, p;
	int n = 0;

	if (sscanf(encoded, "$argon2id$v=%u$m=%u,t=%u,p=%u$%n", &v, &m, &t, &p,
	           &n) != 4 ||
	    n == 0)
		return 1;
	return v != ARGON2_VERSION_13 || m < AUTH_M_COST || t < AUTH_T_COST ||
	       p < AUTH_LANES;
}

/* ---- tokens ---------------------------------------------------------------
 */

size_t
auth_b64url(const void *data, size_t len, char *out, size_t size)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
	    "vwxyz0123456789-_";
	const unsigned char *p = data;
	size_t need = len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0), o = 0, i;
	uint32_t v;

	if (size < need + 1)
		return 0;
	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
		out[o++] = a[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)p[i] << 16;
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
	} else if (len - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

void
auth_token_new(const struct gk_env *env, char token[AUTH_TOKEN_LEN + 1],
               unsigned char hash[32])
{
	unsigned char raw[32];

	env->random(env->arg, raw, sizeof raw);
	auth_b64url(raw, sizeof raw, token, AUTH_TOKEN_LEN + 1);
	explicit_bzero(raw, sizeof raw);
	sha256(token, AUTH_TOKEN_LEN, hash);
}

/* 1 if s is AUTH_TOKEN_LEN characters of the base64url alphabet. */
static int
auth_token_shape(const char *s)
{
	size_t i;

	for (i = 0; i < AUTH_TOKEN_LEN; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return s[i] == '\0';
}

int
auth_session(struct gk_server *s, const char *token, struct gk_user *out,
             struct gk_error *err)
{
	struct gk_session ses;
	struct gk_userinfo ui;
	unsigned char hash[32];
	int64_t now = s->env.now_ms(s->env.arg);
	int rc;

	if (token == NULL || !auth_token_shape(token))
		return gk_error_set(err, GK_E_AUTH, "not a valid token");
	sha256(token, AUTH_TOKEN_LEN, hash);
	rc = store_auth_session_get(s, hash, &ses, err);
	if (rc == GK_E_NOT_FOUND)
		return gk_error_set(err, GK_E_AUTH, "not a valid token");
	if (rc != GK_OK)
		return rc;
	if (ses.revoked_at != 0 || ses.expires_at <= now)
		return gk_error_set(err, GK_E_AUTH,
		                    "the token was revoked or has expired");
	rc = store_auth_user_by_id(s, ses.user_id, &ui, err);
	if (rc == GK_E_NOT_FOUND || (rc == GK_OK && (!ui.active || ui.deleted)))
		return gk_error_set(err, GK_E_AUTH, "the account is disabled");
	if (rc != GK_OK)
		return rc;
	if (now - ses.last_used_at >= AUTH_TOUCH_EVERY &&
	    (rc = store_auth_session_touch(s, hash, now, err)) != GK_OK)
		return rc;
	*out = ui.u;
	memcpy(out->session, hash, sizeof out->session);
	return GK_OK;
}

/* ---- throttling -----------------------------------------------------------
 */

void
auth_failures_next(struct auth_failures *f, int64_t now_ms, int lock_after,
                   int hourly_limit)
{
	int64_t lock, until;
	int64_t shift;

	if (f->failures <= 0 || now_ms < f->window_start ||
	    now_ms - f->window_start >= AUTH_HOUR_MS) {
		f->failures = 0;
		f->window_start = now_ms;
	}
	f->failures++;
	if (f->failures >= lock_after) {
		lock = AUTH_LOCK_BASE_MS;
		for (shift = f->failures - lock_after;
		     shift > 0 && lock < AUTH_LOCK_MAX_MS; shift--)
			lock *= 2;
		if (lock > AUTH_LOCK_MAX_MS)
			lock = AUTH_LOCK_MAX_MS;
		if (now_ms + lock > f->locked_until)
			f->locked_until = now_ms + lock;
	}
	if (hourly_limit > 0 && f->failures >= hourly_limit) {
		until = f->window_start + AUTH_HOUR_MS;
		if (until > f->locked_until)
			f->locked_until = until;
	}
}

/* The two keys of a login attempt; 0, or -1 if one does not fit. */
static int
auth_keys(const char *username, const char *peer, char user_key[96],
          char addr_key[96])
{
	int a = snprintf(user_key, 96, "user:%s", username);
	int b = snprintf(addr_key, 96, "addr:%s", peer != NULL ? peer : "");

	return a < 0 || a >= 96 || b < 0 || b >= 96 ? -1 : 0;
}

int
auth_throttle_check(struct gk_server *s, const char *username, const char *peer,
                    int64_t *retry_s, struct gk_error *err)
{
	char keys[2][96];
	struct auth_failures f;
	int64_t now = s->env.now_ms(s->env.arg), wait = 0;
	int rc;

	*retry_s = 0;
	if (auth_keys(username, peer, keys[0], keys[1]) != 0)
		return gk_error_set(err, GK_E_TOO_LONG, "username too long");
	for (int i = 0; i < 2; i++) {
		rc = store_auth_failures_get(s, keys[i], &f, err);
		if (rc == GK_E_NOT_FOUND)
			continue;
		if (rc != GK_OK)
			return rc;
		if (f.locked_until - now > wait)
			wait = f.locked_until - now;
	}
	if (wait <= 0)
		return GK_OK;
	*retry_s = (wait + 999) / 1000;
	return gk_error_set(err, GK_E_THROTTLED,
	                    "too many failed logins: try again in %lld s",
	                    (long long)*retry_s);
}

int
auth_throttle_fail(struct gk_server *s, const char *username, const char *peer,
                   struct gk_error *err)
{
	char keys[2][96];
	struct auth_failures f;
	int64_t now = s->env.now_ms(s->env.arg);
	int limit = s->cfg.login_limit > 0 ? s->cfg.login_limit : 100;
	int rc = GK_OK;

	if (auth_keys(username, peer, keys[0], keys[1]) != 0)
		return gk_error_set(err, GK_E_TOO_LONG, "username too long");
	if (db_begin(s->db) != GK_OK)
		return gk_error_set(err, GK_E_DB, "cannot begin: %s",
		                    sqlite3_errmsg(s->db));
	for (int i = 0; i < 2; i++) {
		rc = store_auth_failures_get(s, keys[i], &f, err);
		if (rc == GK_E_NOT_FOUND) {
			memset(&f, 0, sizeof f);
			rc = GK_OK;
		}
		if (rc != GK_OK)
			goto out;
		if (i == 0)
			auth_failures_next(&f, now, AUTH_LOCK_AFTER_USER,
			                   limit);
		else
			auth_failures_next(&f, now, AUTH_LOCK_AFTER_ADDR,
			                   10 * limit);
		if ((rc = store_auth_failures_put_tx(s, keys[i], &f, err)) !=
		    GK_OK)
			goto out;
	}
out:
	if (rc != GK_OK) {
		db_rollback(s->db);
		return rc;
	}
	if (db_commit(s->db) != GK_OK)
		return gk_error_set(err, GK_E_IO, "cannot commit: %s",
		                    sqlite3_errmsg(s->db));
	return GK_OK;
}

int
auth_throttle_reset(struct gk_server *s, const char *username,
                    struct gk_error *err)
{
	char key[96];
	int n = snprintf(key, sizeof key, "user:%s", username);

	if (n < 0 || (size_t)n >= sizeof key)
		return gk_error_set(err, GK_E_TOO_LONG, "username too long");
	return store_auth_failures_clear(s, key, err);
}
