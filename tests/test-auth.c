/*
 * test-auth.c: accounts and access: SHA-256, tokens, passwords, sessions,
 * login throttling and the hash pool in-process (linking libgkd.a), then
 * login, logout, me and devices over HTTP against the real gridkeepd on a
 * demo database, and the `user` commands.
 *
 * The in-process tests run on a temporary database with a test clock, so
 * expiry and lock times are exact. The HTTP tests share one server, started
 * by the group setup; every login failure they cause comes from 127.0.0.1,
 * so together they stay under the address's lock threshold (20).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <argon2.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "gridkeepd.h"
#include "httpc.h"
#include "testutil.h"

#define T_NOW 1795000000000LL /* 2026-11-18, the test clock's start */

/* ---- helpers ---------------------------------------------------------- */

static void
t_hex(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static int64_t
t_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* An in-process server on a temporary database file, with a test clock. */
struct t_srv {
	char dir[256], path[512];
	struct gk_testenv te;
	struct gk_server s;
	char unit[GK_ID_LEN + 1];
};

static void
t_srv_open(struct t_srv *t)
{
	struct gk_error err = {0};

	memset(&t->s, 0, sizeof t->s);
	t->s.db_path = t->path;
	t->s.env = gk_testenv_env(&t->te);
	validate_policy_default(&t->s.policy);
	config_defaults(&t->s.cfg);
	if (operator_create(&t->s, &err) != GK_OK)
		fail_msg("operator_create: %s", err.msg);
	if (store_open_cache(&t->s, &err) != GK_OK)
		fail_msg("store_open_cache: %s", err.msg);
}

static void
t_srv_close(struct t_srv *t)
{
	store_close_cache(&t->s);
	operator_close(&t->s);
}

/* Write one change as the admin in its own transaction. */
static void
t_change(struct t_srv *t, const char *table, enum gk_op op, const char *row,
         json_t *fields)
{
	struct gk_actor admin = {GK_ROLE_ADMIN, NULL};
	struct gk_error err = {0};
	struct gk_change c;
	struct gk_merge *m;

	memset(&c, 0, sizeof c);
	c.table = record_table(table);
	c.op = op;
	snprintf(c.row, sizeof c.row, "%s", row);
	c.fields = fields;
	assert_non_null((m = merge_new(t->s.db, &err)));
	assert_int_equal(db_begin(t->s.db), GK_OK);
	if (store_write_change_tx(&t->s, m, &c, &admin, &err) != GK_OK)
		fail_msg("store_write_change_tx: %s", err.msg);
	assert_int_equal(db_commit(t->s.db), GK_OK);
	merge_free(m);
	json_decref(fields);
}

static void
t_srv_new(struct t_srv *t)
{
	memset(t, 0, sizeof *t);
	gk_testenv_init(&t->te, 7, T_NOW);
	if (httpc_tmpdir(t->dir, sizeof t->dir) != 0)
		fail_msg("no temporary directory");
	snprintf(t->path, sizeof t->path, "%s/auth.db", t->dir);
	t_srv_open(t);
	uuid_v7(&t->s.env, t->unit);
	t_change(t, "units", GK_OP_INSERT, t->unit,
	         json_pack("{s:s, s:s, s:s}", "level", "district", "name",
	                   "测试区", "code", "T"));
}

static void
t_srv_free(struct t_srv *t)
{
	t_srv_close(t);
	httpc_rmdir(t->dir);
}

static void
t_add_user(struct t_srv *t, const char *name, enum gk_role role, const char *pw,
           char id[GK_ID_LEN + 1])
{
	struct gk_error err = {0};

	assert_int_equal(db_begin(t->s.db), GK_OK);
	if (users_add_tx(&t->s, name, role, t->unit, NULL, pw, id, &err) !=
	    GK_OK)
		fail_msg("users_add_tx: %s", err.msg);
	assert_int_equal(db_commit(t->s.db), GK_OK);
}

/* A session for user_id, as a login makes it; token gets its text. */
static void
t_session(struct t_srv *t, const char *user_id, char token[AUTH_TOKEN_LEN + 1])
{
	struct gk_session ses;
	struct gk_error err = {0};

	memset(&ses, 0, sizeof ses);
	auth_token_new(&t->s.env, token, ses.token_hash);
	snprintf(ses.user_id, sizeof ses.user_id, "%s", user_id);
	snprintf(ses.device, sizeof ses.device, "test");
	ses.created_at = ses.last_used_at = t->te.now;
	ses.expires_at = t->te.now + 3600 * 1000;
	assert_int_equal(store_auth_session_put_tx(&t->s, &ses, &err), GK_OK);
}

/* ---- SHA-256 and base64url ------------------------------------------- */

static void
sha256_matches_the_nist_vectors(void **state)
{
	static const struct {
		const char *msg;
		const char *hex;
	} v[] = {
	    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b78"
	         "52b855"},
	    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61"
	            "f20015ad"},
	    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db"
	     "06c1"},
	    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijkl"
	     "mnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	     "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afe"
	     "e9d1"},
	};
	unsigned char h[32];
	char hex[65];
	char *million;

	(void)state;
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		sha256(v[i].msg, strlen(v[i].msg), h);
		t_hex(h, 32, hex);
		assert_string_equal(hex, v[i].hex);
	}
	assert_non_null((million = malloc(1000000)));
	memset(million, 'a', 1000000);
	sha256(million, 1000000, h);
	t_hex(h, 32, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a4"
	                         "97200e046d39ccc7112cd0");
	/* Around the padding boundary: 55 bytes pad into one block, 56 into
	 * two, 64 into a block of padding alone (values from Python's
	 * hashlib). */
	sha256(million, 55, h);
	t_hex(h, 32, hex);
	assert_string_equal(hex, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5"
	                         "258e241c9f1e910f734318");
	sha256(million, 56, h);
	t_hex(h, 32, hex);
	assert_string_equal(hex, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1b"
	                         "de7090ef7970686ec6738a");
	sha256(million, 64, h);
	t_hex(h, 32, hex);
	assert_string_equal(hex, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db4"
	                         "3d0ba5997337df154668eb");
	free(million);
}

static void
base64url_encodes_rfc4648_vectors_without_padding(void **state)
{
	static const char *const in[] = {"",     "f",     "fo",    "foo",
	                                 "foob", "fooba", "foobar"};
	static const char *const out[] = {
	    "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
	unsigned char odd[] = {0xfb, 0xff};
	char buf[64];
	char token[AUTH_TOKEN_LEN + 1];
	unsigned char h[32], h2[32];
	struct gk_testenv te;
	struct gk_env env;

	(void)state;
	for (int i = 0; i < 7; i++) {
		assert_int_equal(
		    auth_b64url(in[i], strlen(in[i]), buf, sizeof buf),
		    strlen(out[i]));
		assert_string_equal(buf, out[i]);
	}
	auth_b64url(odd, 2, buf, sizeof buf);
	assert_string_equal(buf, "-_8"); /* "+/8=" in plain base64 */
	assert_int_equal(auth_b64url("foo", 3, buf, 4), 0); /* no room */

	gk_testenv_init(&te, 1, T_NOW);
	env = gk_testenv_env(&te);
	auth_token_new(&env, token, h);
	assert_int_equal(strlen(token), AUTH_TOKEN_LEN);
	assert_int_equal(strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
	                               "klmnopqrstuvwxyz0123456789-_"),
	                 AUTH_TOKEN_LEN);
	sha256(token, strlen(token), h2);
	assert_memory_equal(h, h2, 32);
	auth_token_new(&env, buf, h2);
	assert_string_not_equal(buf, token); /* a new token each time */
}

/* ---- passwords ----------------------------------------------------------- */

static void
password_hash_verifies_and_wrong_password_does_not(void **state)
{
	struct gk_testenv te;
	struct gk_env env;
	struct gk_error err = {0};
	char h1[AUTH_HASH_MAX], h2[AUTH_HASH_MAX], weak[AUTH_HASH_MAX];
	char big[AUTH_PASSWORD_MAX + 2];
	static const unsigned char salt[16] = "0123456789abcdef";

	(void)state;
	gk_testenv_init(&te, 2, T_NOW);
	env = gk_testenv_env(&te);
	assert_int_equal(
	    auth_hash_password(&env, "火警 119!", 11, h1, sizeof h1, &err),
	    GK_OK);
	assert_non_null(strstr(h1, "$argon2id$v=19$m=19456,t=2,p=1$"));
	assert_true(auth_verify_password(h1, "火警 119!", 11));
	assert_false(auth_verify_password(h1, "火警 119?", 11));
	assert_false(auth_verify_password(h1, "火警 119", 10));
	assert_false(auth_needs_rehash(h1));
	/* A new salt each time: the same password hashes differently. */
	assert_int_equal(
	    auth_hash_password(&env, "火警 119!", 11, h2, sizeof h2, &err),
	    GK_OK);
	assert_string_not_equal(h1, h2);

	/* Empty and over 1 KiB are refused; a malformed hash never matches. */
	assert_int_equal(auth_hash_password(&env, "", 0, h2, sizeof h2, &err),
	                 GK_E_MISSING);
	memset(big, 'x', sizeof big);
	assert_int_equal(auth_hash_password(&env, big, AUTH_PASSWORD_MAX + 1,
	                                    h2, sizeof h2, &err),
	                 GK_E_TOO_LONG);
	assert_int_equal(auth_hash_password(&env, big, AUTH_PASSWORD_MAX, h2,
	                                    sizeof h2, &err),
	                 GK_OK);
	assert_false(auth_verify_password("$argon2id$v=19$garbage", "x", 1));
	assert_false(auth_verify_password("", "x", 1));

	/* A hash below policy verifies, and asks for a rehash. */
	assert_int_equal(argon2id_hash_encoded(1, 4096, 1, "pw", 2, salt, 16,
	                                       32, weak, sizeof weak),
	                 ARGON2_OK);
	assert_true(auth_verify_password(weak, "pw", 2));
	assert_true(auth_needs_rehash(weak));
	assert_true(auth_needs_rehash("$argon2i$v=19$m=19456,t=2,p=1$x$y"));
}

/* ---- sessions ------------------------------------------------------------ */

static void
session_of_token_is_found_until_expired_revoked_or_disabled(void **state)
{
	struct t_srv t;
	struct gk_user u;
	struct gk_error err = {0};
	char id[GK_ID_LEN + 1], other[GK_ID_LEN + 1];
	char tok[AUTH_TOKEN_LEN + 1], tok2[AUTH_TOKEN_LEN + 1];
	char tok3[AUTH_TOKEN_LEN + 1], bad[AUTH_TOKEN_LEN + 1];
	unsigned char h[32];
	char sql[256];

	(void)state;
	t_srv_new(&t);
	t_add_user(&t, "li.ming", GK_ROLE_STATION, "correct horse", id);
	t_add_user(&t, "wang.fang", GK_ROLE_GRID_WORKER, "battery staple",
	           other);
	/* The username is unique. */
	assert_int_equal(db_begin(t.s.db), GK_OK);
	assert_int_equal(users_add_tx(&t.s, "li.ming", GK_ROLE_STREET, t.unit,
	                              NULL, "x", other, &err),
	                 GK_E_EXISTS);
	db_rollback(t.s.db);
	/* The users record went through the change log, without a hash. */
	snprintf(sql, sizeof sql,
	         "SELECT count(*) FROM changes WHERE tbl = 'users' AND "
	         "row_id = '%s' AND json NOT LIKE '%%argon2%%'",
	         id);
	assert_int_equal(tu_int(t.s.db, sql), 1);

	t_session(&t, id, tok);
	assert_int_equal(auth_session(&t.s, tok, &u, &err), GK_OK);
	assert_string_equal(u.id, id);
	assert_string_equal(u.username, "li.ming");
	assert_int_equal(u.role, GK_ROLE_STATION);
	assert_string_equal(u.unit, t.unit);
	sha256(tok, AUTH_TOKEN_LEN, h);
	assert_memory_equal(u.session, h, 32);
	/* Only the hash is stored, never the token. */
	snprintf(sql, sizeof sql,
	         "SELECT count(*) FROM sessions WHERE "
	         "CAST(token_hash AS TEXT) LIKE '%%%s%%'",
	         tok);
	assert_int_equal(tu_int(t.s.db, sql), 0);

	/* last_used_at is written at most once a minute. */
	t.te.now += 30000;
	assert_int_equal(auth_session(&t.s, tok, &u, &err), GK_OK);
	assert_int_equal(tu_int(t.s.db, "SELECT max(last_used_at) FROM "
	                                "sessions"),
	                 T_NOW);
	t.te.now += 31000;
	assert_int_equal(auth_session(&t.s, tok, &u, &err), GK_OK);
	assert_int_equal(tu_int(t.s.db, "SELECT max(last_used_at) FROM "
	                                "sessions"),
	                 T_NOW + 61000);

	/* Malformed and unknown tokens. */
	assert_int_equal(auth_session(&t.s, "", &u, &err), GK_E_AUTH);
	assert_int_equal(auth_session(&t.s, "short", &u, &err), GK_E_AUTH);
	memcpy(bad, tok, sizeof bad);
	bad[0] = bad[0] == 'A' ? 'B' : 'A';
	assert_int_equal(auth_session(&t.s, bad, &u, &err), GK_E_AUTH);
	bad[0] = '+';
	assert_int_equal(auth_session(&t.s, bad, &u, &err), GK_E_AUTH);

	/* Expired by the server clock. */
	t.te.now = T_NOW + 3600 * 1000;
	t_session(&t, id, tok2);
	assert_int_equal(auth_session(&t.s, tok, &u, &err), GK_E_AUTH);
	assert_int_equal(auth_session(&t.s, tok2, &u, &err), GK_OK);

	/* Revoked. */
	sha256(tok2, AUTH_TOKEN_LEN, h);
	assert_int_equal(store_auth_session_revoke(&t.s, h, t.te.now, &err),
	                 GK_OK);
	assert_int_equal(auth_session(&t.s, tok2, &u, &err), GK_E_AUTH);

	/* Of a disabled user; enabled again, it works again. */
	t_session(&t, other, tok3);
	assert_int_equal(auth_session(&t.s, tok3, &u, &err), GK_OK);
	t_change(&t, "users", GK_OP_UPDATE, other,
	         json_pack("{s:b}", "active", 0));
	assert_int_equal(auth_session(&t.s, tok3, &u, &err), GK_E_AUTH);
	t_change(&t, "users", GK_OP_UPDATE, other,
	         json_pack("{s:b}", "active", 1));
	assert_int_equal(auth_session(&t.s, tok3, &u, &err), GK_OK);
	t_change(&t, "users", GK_OP_DELETE, other, json_object());
	assert_int_equal(auth_session(&t.s, tok3, &u, &err), GK_E_AUTH);
	t_srv_free(&t);
}

static void
device_revoke_by_prefix_touches_only_that_users_sessions(void **state)
{
	struct t_srv t;
	struct gk_error err = {0};
	struct gk_user u;
	char a[GK_ID_LEN + 1], b[GK_ID_LEN + 1];
	char ta[AUTH_TOKEN_LEN + 1], tb[AUTH_TOKEN_LEN + 1];
	unsigned char h[32];

	(void)state;
	t_srv_new(&t);
	t_add_user(&t, "a", GK_ROLE_STATION, "pa", a);
	t_add_user(&t, "b", GK_ROLE_STATION, "pb", b);
	t_session(&t, a, ta);
	t_session(&t, b, tb);
	sha256(tb, AUTH_TOKEN_LEN, h);
	/* b's device, named as a's: not found, and b's token still works. */
	assert_int_equal(store_auth_device_revoke(&t.s, a, h, t.te.now, &err),
	                 GK_E_NOT_FOUND);
	assert_int_equal(auth_session(&t.s, tb, &u, &err), GK_OK);
	assert_int_equal(store_auth_device_revoke(&t.s, b, h, t.te.now, &err),
	                 GK_OK);
	assert_int_equal(auth_session(&t.s, tb, &u, &err), GK_E_AUTH);
	assert_int_equal(auth_session(&t.s, ta, &u, &err), GK_OK);
	/* Disabling revokes every session, so enabling revives none. */
	assert_int_equal(db_begin(t.s.db), GK_OK);
	assert_int_equal(
	    store_auth_sessions_revoke_all_tx(&t.s, a, t.te.now, &err), GK_OK);
	assert_int_equal(db_commit(t.s.db), GK_OK);
	assert_int_equal(auth_session(&t.s, ta, &u, &err), GK_E_AUTH);
	t_srv_free(&t);
}

/* ---- throttling ---------------------------------------------------------- */

static void
lockout_starts_at_the_fifth_failure_grows_and_is_capped(void **state)
{
	struct auth_failures f = {0, 0, 0};
	int64_t now = T_NOW;
	int64_t expect[] = {15, 30, 60, 120, 240, 480, 900, 900};

	(void)state;
	for (int i = 1; i <= 4; i++) {
		auth_failures_next(&f, now, AUTH_LOCK_AFTER_USER, 100);
		assert_int_equal(f.failures, i);
		assert_int_equal(f.locked_until, 0);
	}
	for (int i = 0; i < 8; i++) {
		now = f.locked_until > now ? f.locked_until : now;
		auth_failures_next(&f, now, AUTH_LOCK_AFTER_USER, 100);
		assert_int_equal(f.locked_until - now, expect[i] * 1000);
	}
	/* A new window after an hour: the count starts again. */
	now = f.window_start + 3600 * 1000;
	auth_failures_next(&f, now, AUTH_LOCK_AFTER_USER, 100);
	assert_int_equal(f.failures, 1);
	assert_int_equal(f.window_start, now);

	/* The hourly limit locks until the window ends. */
	memset(&f, 0, sizeof f);
	for (int i = 0; i < 3; i++)
		auth_failures_next(&f, T_NOW + i, 100, 3);
	assert_int_equal(f.locked_until, T_NOW + 3600 * 1000);
}

static void
throttle_is_persisted_checked_and_reset_by_success(void **state)
{
	struct t_srv t;
	struct gk_error err = {0};
	int64_t retry;

	(void)state;
	t_srv_new(&t);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(
		    auth_throttle_fail(&t.s, "zhao", "10.0.0.1", &err), GK_OK);
		assert_int_equal(
		    auth_throttle_check(&t.s, "zhao", "10.0.0.1", &retry, &err),
		    GK_OK);
	}
	assert_int_equal(auth_throttle_fail(&t.s, "zhao", "10.0.0.1", &err),
	                 GK_OK);
	/* Locked, from any address: the account is what is counted. */
	assert_int_equal(
	    auth_throttle_check(&t.s, "zhao", "10.0.0.9", &retry, &err),
	    GK_E_THROTTLED);
	assert_int_equal(retry, 15);
	/* Another account from the same address is not. */
	assert_int_equal(
	    auth_throttle_check(&t.s, "qian", "10.0.0.1", &retry, &err), GK_OK);

	/* Reopening the database keeps the lock. */
	t_srv_close(&t);
	t_srv_open(&t);
	t.te.now += 5000;
	assert_int_equal(
	    auth_throttle_check(&t.s, "zhao", "10.0.0.1", &retry, &err),
	    GK_E_THROTTLED);
	assert_int_equal(retry, 10);
	t.te.now += 10000;
	assert_int_equal(
	    auth_throttle_check(&t.s, "zhao", "10.0.0.1", &retry, &err), GK_OK);
	/* The sixth failure locks for twice as long. */
	assert_int_equal(auth_throttle_fail(&t.s, "zhao", "10.0.0.1", &err),
	                 GK_OK);
	assert_int_equal(
	    auth_throttle_check(&t.s, "zhao", "10.0.0.1", &retry, &err),
	    GK_E_THROTTLED);
	assert_int_equal(retry, 30);
	/* A success resets the account. */
	assert_int_equal(auth_throttle_reset(&t.s, "zhao", &err), GK_OK);
	assert_int_equal(
	    auth_throttle_check(&t.s, "zhao", "10.0.0.1", &retry, &err), GK_OK);

	/* An address is locked after 20 failures, whatever the names. */
	for (int i = 0; i < AUTH_LOCK_AFTER_ADDR; i++) {
		char name[16];

		snprintf(name, sizeof name, "guess%d", i);
		assert_int_equal(
		    auth_throttle_fail(&t.s, name, "10.0.0.2", &err), GK_OK);
	}
	assert_int_equal(
	    auth_throttle_check(&t.s, "sun", "10.0.0.2", &retry, &err),
	    GK_E_THROTTLED);
	assert_int_equal(
	    auth_throttle_check(&t.s, "sun", "10.0.0.3", &retry, &err), GK_OK);
	t_srv_free(&t);
}

/* ---- the hash pool --------------------------------------------------------
 */

struct t_pool {
	struct event_base *base;
	int done, ran, matched, rehashed;
	int want;
};

struct t_job {
	struct gk_hashjob job;
	struct t_pool *tp;
	char rehash_pw[16];
};

static void
t_job_done(struct gk_hashjob *job)
{
	struct t_job *j = job->arg;

	j->tp->done++;
	j->tp->ran += job->ran;
	j->tp->matched += job->match;
	/* The pool zeroed the password before handing the job back. */
	assert_int_equal(job->password[0], '\0');
	if (job->rehashed[0] != '\0') {
		assert_false(auth_needs_rehash(job->rehashed));
		assert_true(auth_verify_password(job->rehashed, j->rehash_pw,
		                                 strlen(j->rehash_pw)));
		j->tp->rehashed++;
	}
	if (j->tp->done == j->tp->want)
		event_base_loopbreak(j->tp->base);
	free(j);
}

static struct t_job *
t_job(struct t_pool *tp, const char *encoded, const char *pw)
{
	struct t_job *j = calloc(1, sizeof *j);

	assert_non_null(j);
	j->tp = tp;
	j->job.arg = j;
	j->job.done = t_job_done;
	snprintf(j->job.encoded, sizeof j->job.encoded, "%s", encoded);
	snprintf(j->job.password, sizeof j->job.password, "%s", pw);
	j->job.password_len = strlen(pw);
	return j;
}

static void
t_pool_guard(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg); /* a job never came back: done < want */
}

static void
hash_pool_verifies_off_the_loop_and_answers_every_job(void **state)
{
	struct timeval guard_tv = {60, 0};
	struct event *guard;
	struct gk_testenv te;
	struct gk_env env;
	struct gk_error err = {0};
	struct gk_hashpool *p;
	struct t_pool tp;
	struct t_job *j;
	char h[AUTH_HASH_MAX], weak[AUTH_HASH_MAX];
	static const unsigned char salt[16] = "0123456789abcdef";
	int busy = 0;

	(void)state;
	gk_testenv_init(&te, 3, T_NOW);
	env = gk_testenv_env(&te);
	assert_int_equal(
	    auth_hash_password(&env, "s3cret", 6, h, sizeof h, &err), GK_OK);
	assert_int_equal(argon2id_hash_encoded(1, 4096, 1, "old", 3, salt, 16,
	                                       32, weak, sizeof weak),
	                 ARGON2_OK);
	memset(&tp, 0, sizeof tp);
	assert_non_null((tp.base = event_base_new()));
	assert_non_null((p = hashpool_new(tp.base, 2, 8, &err)));
	assert_false(auth_needs_rehash(hashpool_dummy(p)));

	/* Right, wrong, the dummy, and a weak hash to rehash. */
	tp.want = 4;
	/* The guard keeps the loop running (it has nothing else) and bounds
	 * the wait. */
	assert_non_null((guard = evtimer_new(tp.base, t_pool_guard, tp.base)));
	evtimer_add(guard, &guard_tv);
	assert_int_equal(hashpool_submit(p, &t_job(&tp, h, "s3cret")->job),
	                 GK_OK);
	assert_int_equal(hashpool_submit(p, &t_job(&tp, h, "s3cret!")->job),
	                 GK_OK);
	assert_int_equal(
	    hashpool_submit(p, &t_job(&tp, hashpool_dummy(p), "s3cret")->job),
	    GK_OK);
	j = t_job(&tp, weak, "old");
	j->job.rehash = 1;
	memcpy(j->job.salt, salt, 16);
	snprintf(j->rehash_pw, sizeof j->rehash_pw, "old");
	assert_int_equal(hashpool_submit(p, &j->job), GK_OK);
	assert_int_equal(event_base_dispatch(tp.base), 0);
	event_free(guard);
	assert_int_equal(tp.done, 4);
	assert_int_equal(tp.ran, 4);
	assert_int_equal(tp.matched, 2);
	assert_int_equal(tp.rehashed, 1);
	hashpool_free(p);

	/* One worker, a queue of 2: a burst finds the queue full. */
	tp.done = tp.ran = tp.matched = tp.rehashed = 0;
	tp.want = -1;
	assert_non_null((p = hashpool_new(tp.base, 1, 2, &err)));
	for (int i = 0; i < 4; i++) {
		j = t_job(&tp, h, "wrong");
		if (hashpool_submit(p, &j->job) == GK_E_BUSY) {
			busy++;
			free(j);
		}
	}
	assert_in_range(busy, 1, 2);
	/* Freed at once: every accepted job still gets its done(). */
	hashpool_free(p);
	assert_int_equal(tp.done, 4 - busy);
	assert_int_equal(tp.matched, 0);
	event_base_free(tp.base);
}

/* ---- over HTTP ---------------------------------------------------------- */

#define T_PW_ADMIN   "admin-pass-5f1c9a"
#define T_PW_STATION "station-pass-88e2b7"
#define T_PW_OTHER   "other-station-pass-21d0"
#define T_PW_WORKER  "worker-pass-a4c3"
#define T_PW_LOCKED  "locked-pass-77b1"
#define T_PW_NEWBIE  "newbie-pass-0e9d"
#define T_PW_NEWBIE2 "newbie-pass-two-6b2f"

struct t_http {
	char dir[256], db[512];
	struct httpc_server srv;
	int started;
	char *tokens[64]; /* every token the server handed out */
	int ntokens;
};

/* Run gridkeepd -d db ARGS with input on stdin; its exit status, output
 * (stdout and stderr) into out. Bounded: killed after 30 s. */
static int
t_run_stdin(const char *db, const char *input, const char *const *args,
            char *out, size_t size)
{
	int in[2], outp[2], status = -1;
	const char *argv[16];
	size_t n = 0, len = 0;
	pid_t pid;
	int64_t deadline = t_mono_us() + 30 * 1000000LL;

	argv[n++] = httpc_gridkeepd();
	argv[n++] = "-d";
	argv[n++] = db;
	for (size_t i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe(in) != 0 || pipe(outp) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		dup2(in[0], 0);
		dup2(outp[1], 1);
		dup2(outp[1], 2);
		close(in[0]);
		close(in[1]);
		close(outp[0]);
		close(outp[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	if (input != NULL && write(in[1], input, strlen(input)) < 0)
		perror("write");
	close(in[1]);
	for (;;) {
		struct pollfd pf = {outp[0], POLLIN, 0};
		int64_t left = (deadline - t_mono_us()) / 1000;
		ssize_t k;

		if (left <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&pf, 1, (int)left) <= 0)
			continue;
		if (len + 1 >= size) {
			char sink[256];
			if (read(outp[0], sink, sizeof sink) <= 0)
				break;
			continue;
		}
		if ((k = read(outp[0], out + len, size - 1 - len)) <= 0)
			break;
		len += (size_t)k;
	}
	out[len] = '\0';
	close(outp[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
t_passwd(struct t_http *h, const char *user, const char *pw)
{
	const char *args[] = {"user", "passwd", user, NULL};
	char in[128], out[1024];

	snprintf(in, sizeof in, "%s\n", pw);
	if (t_run_stdin(h->db, in, args, out, sizeof out) != 0)
		fail_msg("user passwd %s: %s", user, out);
}

static void
t_keep_token(struct t_http *h, const char *token)
{
	if (h->ntokens < 64)
		h->tokens[h->ntokens++] = strdup(token);
}

/* POST /api/v1/login; the status, and the token (if 200) into token. */
static int
t_login(struct t_http *h, const char *user, const char *pw, const char *device,
        char token[AUTH_TOKEN_LEN + 1], struct httpc_response *resp)
{
	struct httpc_response local;
	struct httpc_response *r = resp != NULL ? resp : &local;
	char *body;
	int st;
	json_t *j, *req;

	memset(r, 0, sizeof *r);
	req = json_pack("{s:s, s:s, s:s}", "username", user, "password", pw,
	                "device", device);
	body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	st = httpc_request(&h->srv, "POST", "/api/v1/login", NULL, body, r);
	free(body);
	if (token != NULL)
		token[0] = '\0';
	if (st == 200 && (j = httpc_json(r)) != NULL) {
		const char *t = json_string_value(json_object_get(j, "token"));

		if (t != NULL && token != NULL && strlen(t) == AUTH_TOKEN_LEN) {
			memcpy(token, t, AUTH_TOKEN_LEN + 1);
			t_keep_token(h, t);
		}
		json_decref(j);
	}
	if (resp == NULL)
		httpc_response_free(r);
	return st;
}

static int
t_get(struct t_http *h, const char *path, const char *token,
      struct httpc_response *r)
{
	memset(r, 0, sizeof *r);
	return httpc_request(&h->srv, "GET", path, token, NULL, r);
}

static int
t_status(struct t_http *h, const char *method, const char *path,
         const char *token, const char *body)
{
	struct httpc_response r;
	int st;

	memset(&r, 0, sizeof r);
	st = httpc_request(&h->srv, method, path, token, body, &r);
	httpc_response_free(&r);
	return st;
}

/* A user's id, from GET /api/v1/me with their token. */
static void
t_user_id(struct t_http *h, const char *token, char id[GK_ID_LEN + 1])
{
	struct httpc_response r;
	json_t *j;

	assert_int_equal(t_get(h, "/api/v1/me", token, &r), 200);
	assert_non_null((j = httpc_json(&r)));
	snprintf(id, GK_ID_LEN + 1, "%s",
	         json_string_value(
	             json_object_get(json_object_get(j, "user"), "id")));
	json_decref(j);
	httpc_response_free(&r);
}

static int
t_http_setup(void **state)
{
	struct t_http *h = calloc(1, sizeof *h);

	if (h == NULL || httpc_tmpdir(h->dir, sizeof h->dir) != 0 ||
	    httpc_make_db(h->dir, "demo", h->db, sizeof h->db) != 0)
		return -1;
	*state = h;
	return 0;
}

static int
t_http_teardown(void **state)
{
	struct t_http *h = *state;

	if (h == NULL)
		return 0;
	httpc_free(&h->srv);
	httpc_rmdir(h->dir);
	for (int i = 0; i < h->ntokens; i++)
		free(h->tokens[i]);
	free(h);
	return 0;
}

/* The server, started on first use with every demo password set. */
static struct t_http *
t_http(void **state)
{
	struct t_http *h = *state;

	if (h == NULL)
		fail_msg("no HTTP test state");
	if (!h->started) {
		t_passwd(h, "admin", T_PW_ADMIN);
		t_passwd(h, "hp.chenjing", T_PW_STATION);
		t_passwd(h, "gm.zhouqiang", T_PW_OTHER);
		t_passwd(h, "hp.sunli", T_PW_WORKER);
		t_passwd(h, "gm.fengwei", T_PW_LOCKED);
		if (httpc_start(&h->srv, h->db, NULL) != 0)
			fail_msg("the server did not start");
		h->started = 1;
	}
	return h;
}

static void
login_gives_a_token_that_works_on_me(void **state)
{
	struct t_http *h = t_http(state);
	struct httpc_response r;
	char tok[AUTH_TOKEN_LEN + 1];
	const char *exp;
	int64_t exp_ms, now_ms;
	json_t *j, *u;

	assert_int_equal(t_login(h, "admin", T_PW_ADMIN, "laptop", tok, &r),
	                 200);
	assert_non_null((j = httpc_json(&r)));
	assert_int_equal(strlen(tok), AUTH_TOKEN_LEN);
	/* RFC 3339 UTC, about 90 days ahead (the default token life). */
	exp = json_string_value(json_object_get(j, "expires_at"));
	assert_non_null(exp);
	assert_int_equal(text_time_parse(exp, strlen(exp), &exp_ms), GK_OK);
	now_ms = gk_env_system.now_ms(NULL);
	assert_in_range((exp_ms - now_ms) / 86400000, 89, 90);
	assert_true(uuid_valid(json_string_value(json_object_get(j, "db_id")),
	                       GK_ID_LEN));
	u = json_object_get(j, "user");
	assert_string_equal(json_string_value(json_object_get(u, "username")),
	                    "admin");
	assert_string_equal(json_string_value(json_object_get(u, "role")),
	                    "admin");
	assert_string_equal(
	    json_string_value(json_object_get(u, "display_name")),
	    "系统管理员");
	assert_non_null(json_string_value(json_object_get(u, "unit")));
	json_decref(j);
	httpc_response_free(&r);

	assert_int_equal(t_get(h, "/api/v1/me", tok, &r), 200);
	assert_non_null((j = httpc_json(&r)));
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(j, "user"), "username")),
	                    "admin");
	assert_non_null(json_string_value(json_object_get(j, "server_time")));
	json_decref(j);
	httpc_response_free(&r);
	/* No token, or a made-up one: 401. */
	assert_int_equal(t_status(h, "GET", "/api/v1/me", NULL, NULL), 401);
	assert_int_equal(t_status(h, "GET", "/api/v1/me",
	                          "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	                          NULL),
	                 401);
}

static void
logout_revokes_the_token_used(void **state)
{
	struct t_http *h = t_http(state);
	char tok[AUTH_TOKEN_LEN + 1], tok2[AUTH_TOKEN_LEN + 1];

	assert_int_equal(
	    t_login(h, "hp.chenjing", T_PW_STATION, "pc", tok, NULL), 200);
	assert_int_equal(
	    t_login(h, "hp.chenjing", T_PW_STATION, "phone", tok2, NULL), 200);
	assert_string_not_equal(tok, tok2);
	assert_int_equal(t_status(h, "POST", "/api/v1/logout", tok, "{}"), 200);
	assert_int_equal(t_status(h, "GET", "/api/v1/me", tok, NULL), 401);
	/* The other device's token still works. */
	assert_int_equal(t_status(h, "GET", "/api/v1/me", tok2, NULL), 200);
}

static void
wrong_password_and_unknown_user_answer_the_same(void **state)
{
	struct t_http *h = t_http(state);
	struct httpc_response a, b;
	int64_t t0, wrong = INT64_MAX, unknown = INT64_MAX, dt;

	/* Twice each, keeping the faster: both run one Argon2id verify. */
	for (int i = 0; i < 2; i++) {
		t0 = t_mono_us();
		assert_int_equal(
		    t_login(h, "hp.sunli", "not-it", "phone", NULL, &a), 401);
		if ((dt = t_mono_us() - t0) < wrong)
			wrong = dt;
		t0 = t_mono_us();
		assert_int_equal(
		    t_login(h, "no.such.user", "not-it", "phone", NULL, &b),
		    401);
		if ((dt = t_mono_us() - t0) < unknown)
			unknown = dt;
		assert_string_equal(httpc_error_code(&a), "bad_credentials");
		assert_int_equal(a.body_len, b.body_len);
		assert_memory_equal(a.body, b.body, a.body_len);
		httpc_response_free(&a);
		httpc_response_free(&b);
	}
	print_message("# wrong password %lld us, unknown user %lld us\n",
	              (long long)wrong, (long long)unknown);
	/* Generous bounds: the same work, not the same microsecond. */
	assert_true(unknown * 4 > wrong && wrong * 4 > unknown);
	/* The right password still works (4 failures: no lock yet). */
	assert_int_equal(
	    t_login(h, "hp.sunli", T_PW_WORKER, "phone", NULL, NULL), 200);
}

static void
login_body_is_checked_strictly(void **state)
{
	struct t_http *h = t_http(state);
	struct httpc_response r;
	char big[AUTH_PASSWORD_MAX + 64];
	char body[sizeof big + 128];
	static const struct {
		const char *body;
		const char *code;
	} cases[] = {
	    {"{\"username\":\"admin\",\"password\":\"x\",\"device\":\"d\","
	     "\"extra\":1}",
	     "unknown_field"},
	    {"{\"username\":7,\"password\":\"x\",\"device\":\"d\"}",
	     "bad_type"},
	    {"{\"username\":\"admin\",\"password\":\"x\"}", "missing_field"},
	    {"{\"username\":\"\",\"password\":\"x\",\"device\":\"d\"}",
	     "missing_field"},
	    {"{\"username\":\"admin\",\"password\":\"x\",\"device\":"
	     "\"a\\u0007b\"}",
	     "control_char"},
	    {"[]", "bad_json"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&r, 0, sizeof r);
		assert_int_equal(httpc_request(&h->srv, "POST", "/api/v1/login",
		                               NULL, cases[i].body, &r),
		                 400);
		assert_string_equal(httpc_error_code(&r), cases[i].code);
		httpc_response_free(&r);
	}
	memset(big, 'p', sizeof big - 1);
	big[AUTH_PASSWORD_MAX + 1] = '\0';
	snprintf(
	    body, sizeof body,
	    "{\"username\":\"admin\",\"password\":\"%s\",\"device\":\"d\"}",
	    big);
	memset(&r, 0, sizeof r);
	assert_int_equal(
	    httpc_request(&h->srv, "POST", "/api/v1/login", NULL, body, &r),
	    400);
	assert_string_equal(httpc_error_code(&r), "too_long");
	httpc_response_free(&r);
}

static void
five_wrong_passwords_lock_the_account_across_a_restart(void **state)
{
	struct t_http *h = t_http(state);
	struct httpc_response r;
	const char *ra;

	for (int i = 0; i < 5; i++)
		assert_int_equal(
		    t_login(h, "gm.fengwei", "guess", "phone", NULL, NULL),
		    401);
	/* The sixth attempt is refused before any hash, right or wrong. */
	assert_int_equal(
	    t_login(h, "gm.fengwei", T_PW_LOCKED, "phone", NULL, &r), 429);
	assert_string_equal(httpc_error_code(&r), "too_many_attempts");
	assert_non_null((ra = httpc_header(&r, "Retry-After")));
	assert_in_range(atoi(ra), 1, 15);
	httpc_response_free(&r);
	/* An unknown name locks the same way, so a lock reveals nothing. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(
		    t_login(h, "gm.nobody", "guess", "phone", NULL, NULL), 401);
	assert_int_equal(t_login(h, "gm.nobody", "guess", "phone", NULL, &r),
	                 429);
	assert_non_null(httpc_header(&r, "Retry-After"));
	httpc_response_free(&r);

	/* Restarted, the server still refuses. */
	assert_int_equal(httpc_stop(&h->srv), 0);
	assert_int_equal(httpc_start(&h->srv, h->db, NULL), 0);
	assert_int_equal(
	    t_login(h, "gm.fengwei", T_PW_LOCKED, "phone", NULL, &r), 429);
	assert_non_null(httpc_header(&r, "Retry-After"));
	httpc_response_free(&r);
	/* Others are not locked. */
	assert_int_equal(
	    t_login(h, "hp.sunli", T_PW_WORKER, "phone", NULL, NULL), 200);
}

static void
login_rehashes_a_password_stored_below_policy(void **state)
{
	struct t_http *h = t_http(state);
	static const unsigned char salt[16] = "weak-salt-16byte";
	char weak[AUTH_HASH_MAX], now[AUTH_HASH_MAX];
	struct gk_error err = {0};
	sqlite3 *db = NULL;
	sqlite3_stmt *st;

	t_passwd(h, "hp.wutao", "to-be-replaced");
	assert_int_equal(argon2id_hash_encoded(1, 4096, 1, "weak-one", 8, salt,
	                                       16, 32, weak, sizeof weak),
	                 ARGON2_OK);
	assert_int_equal(db_open(h->db, 0, &db, &err), GK_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db,
	                       "UPDATE credentials SET hash = ?1 WHERE "
	                       "user_id = (SELECT id FROM users WHERE "
	                       "username = 'hp.wutao')",
	                       -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, weak, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);

	assert_int_equal(
	    t_login(h, "hp.wutao", "weak-one", "phone", NULL, NULL), 200);
	tu_text(db,
	        "SELECT hash FROM credentials WHERE user_id = (SELECT id "
	        "FROM users WHERE username = 'hp.wutao')",
	        now, sizeof now);
	db_close(db);
	assert_string_not_equal(now, weak);
	assert_false(auth_needs_rehash(now));
	assert_true(auth_verify_password(now, "weak-one", 8));
	/* And the new hash still logs in. */
	assert_int_equal(
	    t_login(h, "hp.wutao", "weak-one", "phone", NULL, NULL), 200);
}

/* The number of devices listed, and the id of the one named device. */
static int
t_devices(struct t_http *h, const char *token, const char *user,
          const char *device, char id[17], int *status)
{
	struct httpc_response r;
	char path[128];
	json_t *j, *d;
	size_t i;
	int n = -1;

	snprintf(path, sizeof path, "/api/v1/devices%s%s",
	         user != NULL ? "?user=" : "", user != NULL ? user : "");
	*status = t_get(h, path, token, &r);
	if (*status == 200 && (j = httpc_json(&r)) != NULL) {
		n = (int)json_array_size(json_object_get(j, "devices"));
		json_array_foreach (json_object_get(j, "devices"), i, d) {
			const char *name =
			    json_string_value(json_object_get(d, "device"));
			if (id != NULL && name != NULL && device != NULL &&
			    strcmp(name, device) == 0 &&
			    !json_is_true(json_object_get(d, "revoked")))
				snprintf(id, 17, "%s",
				         json_string_value(
				             json_object_get(d, "id")));
			assert_int_equal(
			    strlen(json_string_value(json_object_get(d, "id"))),
			    16);
			assert_true(
			    json_is_boolean(json_object_get(d, "revoked")));
		}
		json_decref(j);
	}
	httpc_response_free(&r);
	return n;
}

static void
devices_are_listed_and_revoked_by_owner_or_admin_only(void **state)
{
	struct t_http *h = t_http(state);
	char st1[AUTH_TOKEN_LEN + 1], st2[AUTH_TOKEN_LEN + 1];
	char other[AUTH_TOKEN_LEN + 1], admin[AUTH_TOKEN_LEN + 1];
	char st_id[GK_ID_LEN + 1], id1[17] = "", id2[17] = "";
	char body[256];
	int status, n;

	assert_int_equal(
	    t_login(h, "hp.chenjing", T_PW_STATION, "desk-a", st1, NULL), 200);
	assert_int_equal(
	    t_login(h, "hp.chenjing", T_PW_STATION, "tablet-b", st2, NULL),
	    200);
	assert_int_equal(
	    t_login(h, "gm.zhouqiang", T_PW_OTHER, "desk", other, NULL), 200);
	assert_int_equal(
	    t_login(h, "admin", T_PW_ADMIN, "console", admin, NULL), 200);
	t_user_id(h, st1, st_id);

	n = t_devices(h, st1, NULL, "desk-a", id1, &status);
	assert_int_equal(status, 200);
	assert_true(n >= 2);
	t_devices(h, st1, NULL, "tablet-b", id2, &status);
	assert_int_equal(strlen(id1), 16);
	assert_int_equal(strlen(id2), 16);

	/* Another station can neither list nor revoke them. */
	t_devices(h, other, st_id, NULL, NULL, &status);
	assert_int_equal(status, 404);
	snprintf(body, sizeof body, "{\"device\":\"%s\",\"user\":\"%s\"}", id2,
	         st_id);
	assert_int_equal(
	    t_status(h, "POST", "/api/v1/devices/revoke", other, body), 404);
	snprintf(body, sizeof body, "{\"device\":\"%s\"}", id2);
	assert_int_equal(
	    t_status(h, "POST", "/api/v1/devices/revoke", other, body), 404);
	assert_int_equal(t_status(h, "GET", "/api/v1/me", st2, NULL), 200);

	/* The owner revokes one of their own. */
	assert_int_equal(
	    t_status(h, "POST", "/api/v1/devices/revoke", st1, body), 200);
	assert_int_equal(t_status(h, "GET", "/api/v1/me", st2, NULL), 401);
	assert_int_equal(t_status(h, "GET", "/api/v1/me", st1, NULL), 200);
	/* An unknown or malformed device id. */
	assert_int_equal(t_status(h, "POST", "/api/v1/devices/revoke", st1,
	                          "{\"device\":\"0000000000000000\"}"),
	                 404);
	assert_int_equal(t_status(h, "POST", "/api/v1/devices/revoke", st1,
	                          "{\"device\":\"xyz\"}"),
	                 400);

	/* The admin lists and revokes anyone's. */
	n = t_devices(h, admin, st_id, NULL, NULL, &status);
	assert_int_equal(status, 200);
	assert_true(n >= 2);
	snprintf(body, sizeof body, "{\"device\":\"%s\",\"user\":\"%s\"}", id1,
	         st_id);
	assert_int_equal(
	    t_status(h, "POST", "/api/v1/devices/revoke", admin, body), 200);
	assert_int_equal(t_status(h, "GET", "/api/v1/me", st1, NULL), 401);
}

/* ---- many logins at once ------------------------------------------------ */

struct t_burst {
	struct t_http *h;
	int status;
	int *finished; /* shared count, atomic */
};

static void *
t_burst_login(void *arg)
{
	struct t_burst *b = arg;
	struct httpc_response r;
	char body[256];

	snprintf(body, sizeof body,
	         "{\"username\":\"admin\",\"password\":\"%s\","
	         "\"device\":\"burst\"}",
	         T_PW_ADMIN);
	memset(&r, 0, sizeof r);
	b->status =
	    httpc_request(&b->h->srv, "POST", "/api/v1/login", NULL, body, &r);
	httpc_response_free(&r);
	__atomic_add_fetch(b->finished, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static int
t_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* GET /api/v1/me n times or until *stop reaches 20; latencies in us. */
static int
t_me_latencies(struct t_http *h, const char *tok, int64_t *lat, int max,
               const int *stop)
{
	int n = 0;
	int64_t t0;

	while (n < max) {
		t0 = t_mono_us();
		assert_int_equal(t_status(h, "GET", "/api/v1/me", tok, NULL),
		                 200);
		lat[n++] = t_mono_us() - t0;
		if (stop != NULL && n >= 20 &&
		    __atomic_load_n(stop, __ATOMIC_SEQ_CST) == 20)
			break;
	}
	qsort(lat, (size_t)n, sizeof lat[0], t_cmp_i64);
	return n;
}

static void
twenty_logins_at_once_do_not_block_other_requests(void **state)
{
	struct t_http *h = t_http(state);
	struct t_burst b[20];
	pthread_t th[20];
	char tok[AUTH_TOKEN_LEN + 1];
	static int64_t idle[200], busy[4000];
	int nidle, nbusy, ok = 0, finished = 0;
	int64_t all0, took;

	assert_int_equal(
	    t_login(h, "hp.sunli", T_PW_WORKER, "phone", tok, NULL), 200);
	nidle = t_me_latencies(h, tok, idle, 200, NULL);
	all0 = t_mono_us();
	for (int i = 0; i < 20; i++) {
		b[i].h = h;
		b[i].status = 0;
		b[i].finished = &finished;
		assert_int_equal(
		    pthread_create(&th[i], NULL, t_burst_login, &b[i]), 0);
	}
	/* While they hash, /me keeps being answered (bounded: 4000). */
	nbusy = t_me_latencies(h, tok, busy, 4000, &finished);
	for (int i = 0; i < 20; i++) {
		pthread_join(th[i], NULL);
		ok += b[i].status == 200;
		/* A full queue answers 503 at once; nothing else. */
		assert_true(b[i].status == 200 || b[i].status == 503);
	}
	took = t_mono_us() - all0;
	print_message("# 20 logins at once: %lld ms, %d ok; GET /me p99 %lld "
	              "us idle (%d), %lld us during the logins (%d), worst "
	              "%lld us\n",
	              (long long)took / 1000, ok,
	              (long long)idle[nidle * 99 / 100], nidle,
	              (long long)busy[nbusy * 99 / 100], nbusy,
	              (long long)busy[nbusy - 1]);
	assert_true(ok >= 1);
	/* Generous, so never flaky: every /me within 1 s, and the p99 well
	 * under the time the logins took together, so no request waited
	 * for the hashing. */
	assert_true(busy[nbusy - 1] < 1000000);
	assert_true(busy[nbusy * 99 / 100] < took / 2 + 50000);
}

struct t_flood {
	struct httpc_server *srv;
	int status;
	int retry_after; /* seconds, 0 if none */
	char code[32];
};

static void *
t_flood_login(void *arg)
{
	struct t_flood *f = arg;
	struct httpc_response r;
	char body[256];
	const char *ra;

	snprintf(body, sizeof body,
	         "{\"username\":\"admin\",\"password\":\"%s\","
	         "\"device\":\"flood\"}",
	         T_PW_ADMIN);
	memset(&r, 0, sizeof r);
	f->status =
	    httpc_request(f->srv, "POST", "/api/v1/login", NULL, body, &r);
	if ((ra = httpc_header(&r, "Retry-After")) != NULL)
		f->retry_after = atoi(ra);
	if (f->status == 503) {
		json_t *j = httpc_json(&r);
		const char *c = json_string_value(
		    json_object_get(json_object_get(j, "error"), "code"));

		snprintf(f->code, sizeof f->code, "%s", c != NULL ? c : "");
		json_decref(j);
	}
	httpc_response_free(&r);
	return NULL;
}

static void
a_full_hash_queue_answers_503_busy_with_retry_after(void **state)
{
	struct t_http *h = t_http(state);
	struct httpc_server small;
	const char *extra[] = {"-c", NULL, NULL};
	struct t_flood f[20];
	pthread_t th[20];
	char conf[600];
	FILE *cf;
	int ok = 0, busy = 0;

	/* One worker and a queue of one, on a second server. */
	snprintf(conf, sizeof conf, "%s/small.conf", h->dir);
	assert_non_null((cf = fopen(conf, "w")));
	fputs("hash_threads = 1\nhash_queue = 1\n", cf);
	assert_int_equal(fclose(cf), 0);
	extra[1] = conf;
	memset(&small, 0, sizeof small);
	assert_int_equal(httpc_start(&small, h->db, extra), 0);
	for (int i = 0; i < 20; i++) {
		memset(&f[i], 0, sizeof f[i]);
		f[i].srv = &small;
		assert_int_equal(
		    pthread_create(&th[i], NULL, t_flood_login, &f[i]), 0);
	}
	for (int i = 0; i < 20; i++) {
		pthread_join(th[i], NULL);
		if (f[i].status == 200) {
			ok++;
		} else {
			assert_int_equal(f[i].status, 503);
			assert_string_equal(f[i].code, "busy");
			assert_true(f[i].retry_after >= 1);
			busy++;
		}
	}
	print_message("# 20 logins on 1 worker, queue 1: %d ok, %d busy\n", ok,
	              busy);
	assert_true(ok >= 1);
	assert_true(busy >= 1);
	assert_int_equal(httpc_stop(&small), 0);
	httpc_free(&small);
}

static void
no_password_or_token_reaches_the_log(void **state)
{
	struct t_http *h = t_http(state);
	static const char *const pws[] = {
	    T_PW_ADMIN,  T_PW_STATION, T_PW_OTHER,  T_PW_WORKER,
	    T_PW_LOCKED, T_PW_NEWBIE,  T_PW_NEWBIE2};
	char *log = httpc_log(&h->srv);

	assert_non_null(log);
	assert_non_null(strstr(log, "login"));
	assert_null(strstr(log, "AddressSanitizer"));
	assert_null(strstr(log, "runtime error"));
	for (size_t i = 0; i < sizeof pws / sizeof pws[0]; i++)
		if (strstr(log, pws[i]) != NULL)
			fail_msg("a password is in the log");
	for (int i = 0; i < h->ntokens; i++)
		if (strstr(log, h->tokens[i]) != NULL)
			fail_msg("a token is in the log");
	free(log);
}

static void
user_commands_add_set_password_disable_and_list(void **state)
{
	struct t_http *h = t_http(state);
	const char *add[] = {
	    "user",   "add",      "new.worker",     "--role",    "grid_worker",
	    "--unit", "XF-HP-01", "--display-name", "新 网格员", NULL};
	const char *passwd[] = {"user", "passwd", "new.worker", NULL};
	const char *disable[] = {"user", "disable", "new.worker", NULL};
	const char *list[] = {"user", "list", NULL};
	const char *dlist[] = {"device", "list", "new.worker", NULL};
	char out[8192], tok[AUTH_TOKEN_LEN + 1], in[64];

	snprintf(in, sizeof in, "%s\n", T_PW_NEWBIE);
	assert_int_equal(t_run_stdin(h->db, in, add, out, sizeof out), 0);
	assert_non_null(strstr(out, "added user new.worker"));
	/* Twice: the name is taken. */
	assert_int_equal(t_run_stdin(h->db, in, add, out, sizeof out), 1);
	assert_non_null(strstr(out, "exists"));
	/* No password on stdin: nothing is added. */
	add[2] = "no.password";
	assert_int_equal(t_run_stdin(h->db, "", add, out, sizeof out), 1);
	add[2] = "new.worker";
	/* An unknown unit. */
	add[6] = "NOPE";
	assert_int_equal(t_run_stdin(h->db, in, add, out, sizeof out), 1);
	add[6] = "XF-HP-01";

	assert_int_equal(
	    t_login(h, "new.worker", T_PW_NEWBIE, "phone", tok, NULL), 200);
	snprintf(in, sizeof in, "%s\n", T_PW_NEWBIE2);
	assert_int_equal(t_run_stdin(h->db, in, passwd, out, sizeof out), 0);
	assert_int_equal(
	    t_login(h, "new.worker", T_PW_NEWBIE2, "phone2", NULL, NULL), 200);
	assert_int_equal(t_run_stdin(h->db, NULL, dlist, out, sizeof out), 0);
	assert_non_null(strstr(out, "phone2"));

	assert_int_equal(t_run_stdin(h->db, NULL, disable, out, sizeof out), 0);
	assert_int_equal(t_status(h, "GET", "/api/v1/me", tok, NULL), 401);
	assert_int_equal(
	    t_login(h, "new.worker", T_PW_NEWBIE2, "phone", NULL, NULL), 401);
	assert_int_equal(t_run_stdin(h->db, NULL, list, out, sizeof out), 0);
	assert_non_null(strstr(out, "new.worker"));
	assert_non_null(strstr(out, "disabled"));
	assert_non_null(strstr(out, "hp.chenjing"));
	/* The password never shows in the command's output. */
	assert_null(strstr(out, T_PW_NEWBIE2));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sha256_matches_the_nist_vectors),
	    cmocka_unit_test(base64url_encodes_rfc4648_vectors_without_padding),
	    cmocka_unit_test(
	        password_hash_verifies_and_wrong_password_does_not),
	    cmocka_unit_test(
	        session_of_token_is_found_until_expired_revoked_or_disabled),
	    cmocka_unit_test(
	        device_revoke_by_prefix_touches_only_that_users_sessions),
	    cmocka_unit_test(
	        lockout_starts_at_the_fifth_failure_grows_and_is_capped),
	    cmocka_unit_test(
	        throttle_is_persisted_checked_and_reset_by_success),
	    cmocka_unit_test(
	        hash_pool_verifies_off_the_loop_and_answers_every_job),
	    cmocka_unit_test(login_gives_a_token_that_works_on_me),
	    cmocka_unit_test(logout_revokes_the_token_used),
	    cmocka_unit_test(wrong_password_and_unknown_user_answer_the_same),
	    cmocka_unit_test(login_body_is_checked_strictly),
	    cmocka_unit_test(
	        five_wrong_passwords_lock_the_account_across_a_restart),
	    cmocka_unit_test(
	        devices_are_listed_and_revoked_by_owner_or_admin_only),
	    cmocka_unit_test(login_rehashes_a_password_stored_below_policy),
	    cmocka_unit_test(twenty_logins_at_once_do_not_block_other_requests),
	    cmocka_unit_test(
	        a_full_hash_queue_answers_503_busy_with_retry_after),
	    cmocka_unit_test(user_commands_add_set_password_disable_and_list),
	    cmocka_unit_test(no_password_or_token_reaches_the_log),
	};

	/* The pool's workers wake the loop from other threads. */
	if (evthread_use_pthreads() != 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, t_http_setup, t_http_teardown);
}
