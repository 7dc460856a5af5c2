/*
 * api-auth.c: POST /api/v1/login, POST /api/v1/logout, GET /api/v1/me,
 * GET /api/v1/devices and POST /api/v1/devices/revoke.
 *
 * A login runs in two halves. On the loop: check the body, then the
 * throttle (before any hash, so a locked account costs nothing and
 * answers 429 whatever the password), look the user up, and hand the
 * password to the hash pool: against the stored hash, or against the
 * pool's dummy hash when there is no such active user with a password, so
 * both take the same time and get the same 401. Back on the loop, in the
 * job's done(): a match makes a session (a new token, its SHA-256 stored)
 * and clears the account's failures in one transaction, and stores a new
 * hash when the old one was below policy; a mismatch counts a failure.
 * Every path ends in exactly one http_reply_*, which frees the request.
 * The password is copied once, into the job, and zeroed by the pool.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "gridkeepd.h"

struct api_login {
	struct gk_hashjob job; /* first: the pool hands it back */
	struct gk_req *r;
	int known; /* an active user with a password */
	struct gk_userinfo ui;
	char device[AUTH_DEVICE_MAX + 1];
};

static void
api_auth_retry_after(struct gk_req *r, int64_t seconds)
{
	char v[24];

	snprintf(v, sizeof v, "%lld", (long long)(seconds > 0 ? seconds : 1));
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	                  "Retry-After", v);
}

/* The JSON of a user record as the API shows it. */
static json_t *
api_auth_user_json(const struct gk_userinfo *ui)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", ui->u.id,
	                 "username", ui->u.username, "display_name",
	                 ui->display_name, "role", record_role_name(ui->u.role),
	                 "unit", ui->u.unit);
}

static json_t *
api_auth_time(int64_t ms)
{
	char t[32];

	text_time_format(ms, t);
	return json_string(t);
}

/* Unpack r->body strictly; 0, or an error code with the reply sent. */
static int
api_auth_unpack(struct gk_req *r, const char *fmt, ...)
{
	json_error_t jerr;
	va_list ap;
	int rc, code;

	if (r->body == NULL || !json_is_object(r->body)) {
		http_reply_error(r, GK_E_JSON,
		                 "the body must be a JSON object");
		return GK_E_JSON;
	}
	va_start(ap, fmt);
	rc = json_vunpack_ex(r->body, &jerr, JSON_STRICT, fmt, ap);
	va_end(ap);
	if (rc == 0)
		return GK_OK;
	switch (json_error_code(&jerr)) {
	case json_error_item_not_found:
		code = GK_E_MISSING;
		break;
	case json_error_end_of_input_expected:
		code = GK_E_UNKNOWN_FIELD;
		break;
	case json_error_wrong_type:
	case json_error_null_value:
		code = GK_E_TYPE;
		break;
	default:
		code = GK_E_JSON;
		break;
	}
	/* jansson's text names our keys and the types, never a value; an
	 * unknown key is the client's text, so it is not echoed. */
	if (code == GK_E_UNKNOWN_FIELD)
		http_reply_error(r, code, "the body has an unknown field");
	else
		http_reply_error(r, code, "%s", jerr.text);
	return code;
}

/* Check a short text field; 0, or an error code with the reply sent. */
static int
api_auth_text(struct gk_req *r, const char *name, const char *v, size_t len,
              size_t max)
{
	int rc;

	if (len == 0) {
		http_reply_error(r, GK_E_MISSING, "%s is empty", name);
		return GK_E_MISSING;
	}
	if (len > max) {
		http_reply_error(r, GK_E_TOO_LONG, "%s is over %zu bytes", name,
		                 max);
		return GK_E_TOO_LONG;
	}
	if ((rc = text_check(v, len, 0)) != GK_OK) {
		http_reply_error(r, rc, "%s is not valid text", name);
		return rc;
	}
	return GK_OK;
}

/* ---- login ------------------------------------------------------------ */

/* The second half of a login, on the loop thread. */
static void
api_auth_login_done(struct gk_hashjob *job)
{
	struct api_login *l = job->arg;
	struct gk_req *r = l->r;
	struct gk_server *s = r->s;
	struct gk_session ses;
	struct gk_userinfo now_ui;
	struct gk_error err = {0};
	char token[AUTH_TOKEN_LEN + 1];
	int64_t now;
	json_t *body;
	int rc;

	if (!job->ran) {
		api_auth_retry_after(r, 1);
		http_reply_error(r, GK_E_BUSY, "the server is stopping");
		goto out;
	}
	/* The user may have been disabled while the hash ran. */
	if (l->known && job->match &&
	    (store_auth_user_by_id(s, l->ui.u.id, &now_ui, &err) != GK_OK ||
	     !now_ui.active || now_ui.deleted))
		job->match = 0;
	if (!l->known || !job->match) {
		if (s->metrics != NULL)
			metrics_login_failed(s->metrics);
		if (l->known)
			log_msg(&s->log, GK_LOG_INFO,
			        "login failed: user %s from %s",
			        l->ui.u.username, r->peer);
		else
			log_msg(&s->log, GK_LOG_INFO,
			        "login failed: no such user, from %s", r->peer);
		if ((rc = auth_throttle_fail(s, l->ui.u.username, r->peer,
		                             &err)) != GK_OK) {
			http_reply_error(r, rc, "%s", err.msg);
			goto out;
		}
		http_reply_error(r, GK_E_CREDENTIALS,
		                 "wrong username or password");
		goto out;
	}

	now = s->env.now_ms(s->env.arg);
	memset(&ses, 0, sizeof ses);
	auth_token_new(&s->env, token, ses.token_hash);
	snprintf(ses.user_id, sizeof ses.user_id, "%s", l->ui.u.id);
	snprintf(ses.device, sizeof ses.device, "%s", l->device);
	ses.created_at = ses.last_used_at = now;
	ses.expires_at = now + s->cfg.token_ttl_s * 1000;
	if (db_begin(s->db) != GK_OK) {
		http_reply_error(r, GK_E_DB, "cannot begin");
		goto out;
	}
	if ((rc = store_auth_session_put_tx(s, &ses, &err)) != GK_OK ||
	    (rc = auth_throttle_reset(s, l->ui.u.username, &err)) != GK_OK ||
	    (job->rehashed[0] != '\0' &&
	     (rc = store_auth_credentials_put_tx(s, l->ui.u.id, job->rehashed,
	                                         &err)) != GK_OK)) {
		db_rollback(s->db);
		http_reply_error(r, rc, "%s", err.msg);
		goto out;
	}
	if (db_commit(s->db) != GK_OK) {
		http_reply_error(r, GK_E_IO, "cannot commit the session");
		goto out;
	}
	log_msg(&s->log, GK_LOG_INFO, "login: user %s from %s",
	        l->ui.u.username, r->peer);
	body = json_pack("{s:s, s:o, s:o, s:s}", "token", token, "expires_at",
	                 api_auth_time(ses.expires_at), "user",
	                 api_auth_user_json(&now_ui), "db_id", s->db_id);
	explicit_bzero(token, sizeof token);
	if (body == NULL)
		http_reply_error(r, GK_E_NOMEM, "out of memory");
	else
		http_reply_json(r, 200, body);
out:
	explicit_bzero(l, sizeof *l);
	free(l);
}

void
api_auth_login(struct gk_req *r)
{
	struct gk_server *s = r->s;
	struct gk_error err = {0};
	struct api_login *l = NULL;
	const char *user, *pw, *device;
	size_t ulen, plen, dlen;
	int64_t retry;
	int rc;

	if (api_auth_unpack(r, "{s:s%, s:s%, s:s%}", "username", &user, &ulen,
	                    "password", &pw, &plen, "device", &device,
	                    &dlen) != GK_OK)
		return;
	if (api_auth_text(r, "username", user, ulen, 64) != GK_OK ||
	    api_auth_text(r, "device", device, dlen, AUTH_DEVICE_MAX) != GK_OK)
		return;
	if (plen == 0 || plen > AUTH_PASSWORD_MAX || strlen(pw) != plen) {
		http_reply_error(r, plen == 0 ? GK_E_MISSING : GK_E_TOO_LONG,
		                 "the password must be 1 to %d bytes",
		                 AUTH_PASSWORD_MAX);
		return;
	}

	rc = auth_throttle_check(s, user, r->peer, &retry, &err);
	if (rc == GK_E_THROTTLED) {
		api_auth_retry_after(r, retry);
		http_reply_error(r, rc,
		                 "too many failed logins: try again in "
		                 "%lld s",
		                 (long long)retry);
		return;
	}
	if (rc != GK_OK) {
		http_reply_error(r, rc, "%s", err.msg);
		return;
	}
	if (s->pool == NULL) {
		api_auth_retry_after(r, 1);
		http_reply_error(r, GK_E_BUSY, "logins are not available");
		return;
	}
	if ((l = calloc(1, sizeof *l)) == NULL) {
		http_reply_error(r, GK_E_NOMEM, "out of memory");
		return;
	}
	l->r = r;
	l->job.arg = l;
	l->job.done = api_auth_login_done;
	rc = store_auth_user_by_name(s, user, &l->ui, &err);
	if (rc == GK_OK && l->ui.active && !l->ui.deleted)
		rc = store_auth_credentials_get(s, l->ui.u.id, l->job.encoded,
		                                &err);
	else if (rc == GK_OK)
		rc = GK_E_NOT_FOUND;
	if (rc != GK_OK && rc != GK_E_NOT_FOUND) {
		http_reply_error(r, rc, "%s", err.msg);
		goto fail;
	}
	l->known = rc == GK_OK;
	if (!l->known) {
		memset(&l->ui, 0, sizeof l->ui);
		snprintf(l->job.encoded, sizeof l->job.encoded, "%s",
		         hashpool_dummy(s->pool));
	} else if (auth_needs_rehash(l->job.encoded)) {
		l->job.rehash = 1;
		s->env.random(s->env.arg, l->job.salt, sizeof l->job.salt);
	}
	/* The typed name, for the throttle key, even if no such user. */
	snprintf(l->ui.u.username, sizeof l->ui.u.username, "%s", user);
	memcpy(l->job.password, pw, plen);
	l->job.password[plen] = '\0';
	l->job.password_len = plen;
	memcpy(l->device, device, dlen);
	l->device[dlen] = '\0';
	if (hashpool_submit(s->pool, &l->job) != GK_OK) {
		api_auth_retry_after(r, 1);
		http_reply_error(r, GK_E_BUSY,
		                 "too many logins at once: try again");
		goto fail;
	}
	return;
fail:
	explicit_bzero(l, sizeof *l);
	free(l);
}

/* ---- logout, me ----------------------------------------------------------
 */

void
api_auth_logout(struct gk_req *r)
{
	struct gk_server *s = r->s;
	struct gk_error err = {0};
	int rc;

	if ((rc = store_auth_session_revoke(s, r->user.session,
	                                    s->env.now_ms(s->env.arg), &err)) !=
	    GK_OK) {
		http_reply_error(r, rc, "%s", err.msg);
		return;
	}
	log_msg(&s->log, GK_LOG_INFO, "logout: user %s", r->user.username);
	http_reply_json(r, 200, json_pack("{s:b}", "revoked", 1));
}

void
api_auth_me(struct gk_req *r)
{
	struct gk_server *s = r->s;
	struct gk_userinfo ui;
	struct gk_error err = {0};
	int rc;

	if ((rc = store_auth_user_by_id(s, r->user.id, &ui, &err)) != GK_OK) {
		http_reply_error(r, rc == GK_E_NOT_FOUND ? GK_E_AUTH : rc, "%s",
		                 err.msg);
		return;
	}
	http_reply_json(r, 200,
	                json_pack("{s:o, s:s, s:o}", "user",
	                          api_auth_user_json(&ui), "db_id", s->db_id,
	                          "server_time",
	                          api_auth_time(s->env.now_ms(s->env.arg))));
}

/* ---- devices --------------------------------------------------------------
 */

/*
 * The user whose devices a request names: the caller's own, or with
 * "user" another one's, for an admin only. Another user's devices are
 * not found for anyone else, as things outside a scope are. 0, or an
 * error code with the reply sent.
 */
static int
api_auth_target(struct gk_req *r, const char *user, char id[GK_ID_LEN + 1])
{
	struct gk_userinfo ui;
	struct gk_error err = {0};
	int rc;

	if (user == NULL || strcmp(user, r->user.id) == 0) {
		memcpy(id, r->user.id, GK_ID_LEN + 1);
		return GK_OK;
	}
	if (r->user.role != GK_ROLE_ADMIN || !uuid_valid(user, strlen(user))) {
		http_reply_error(r, GK_E_NOT_FOUND, "no such user");
		return GK_E_NOT_FOUND;
	}
	if ((rc = store_auth_user_by_id(r->s, user, &ui, &err)) != GK_OK) {
		http_reply_error(r, rc, "%s", err.msg);
		return rc;
	}
	memcpy(id, ui.u.id, GK_ID_LEN + 1);
	return GK_OK;
}

/* A device's public id: the first 8 bytes of its token hash, in hex. */
static void
api_auth_device_id(const unsigned char hash[32], char out[17])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 8; i++) {
		out[2 * i] = hex[hash[i] >> 4];
		out[2 * i + 1] = hex[hash[i] & 15];
	}
	out[16] = '\0';
}

struct api_devices {
	json_t *list;
	const unsigned char *current;
};

static int
api_auth_device_row(void *arg, const struct gk_session *ses)
{
	struct api_devices *d = arg;
	char id[17];
	json_t *o;

	api_auth_device_id(ses->token_hash, id);
	o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:b, s:b}", "id", id, "device",
	              ses->device, "created_at", api_auth_time(ses->created_at),
	              "last_used_at", api_auth_time(ses->last_used_at),
	              "expires_at", api_auth_time(ses->expires_at), "revoked",
	              ses->revoked_at != 0, "current",
	              memcmp(ses->token_hash, d->current, 32) == 0);
	if (o == NULL || json_array_append_new(d->list, o) != 0)
		return GK_E_NOMEM;
	return 0;
}

void
api_auth_devices(struct gk_req *r)
{
	struct api_devices d;
	struct gk_error err = {0};
	char user[GK_ID_LEN + 2], id[GK_ID_LEN + 1];
	const char *q = http_query(r, "user", user, sizeof user);
	int rc;

	if (api_auth_target(r, q, id) != GK_OK)
		return;
	d.list = json_array();
	d.current = r->user.session;
	if (d.list == NULL) {
		http_reply_error(r, GK_E_NOMEM, "out of memory");
		return;
	}
	if ((rc = store_auth_sessions(r->s, id, api_auth_device_row, &d,
	                              &err)) != GK_OK) {
		json_decref(d.list);
		http_reply_error(r, rc, "%s",
		                 err.msg[0] ? err.msg : "out of memory");
		return;
	}
	http_reply_json(r, 200, json_pack("{s:o}", "devices", d.list));
}

void
api_auth_revoke(struct gk_req *r)
{
	struct gk_server *s = r->s;
	struct gk_error err = {0};
	const char *device, *user = NULL;
	char id[GK_ID_LEN + 1];
	unsigned char prefix[8];
	int rc;

	if (api_auth_unpack(r, "{s:s, s?:s}", "device", &device, "user",
	                    &user) != GK_OK)
		return;
	for (int i = 0; i < 16; i++) {
		char c = device[i];
		int v = c >= '0' && c <= '9'   ? c - '0'
		        : c >= 'a' && c <= 'f' ? c - 'a' + 10
		                               : -1;

		if (v < 0) {
			http_reply_error(r, GK_E_ID,
			                 "device is not a 16-digit hex id");
			return;
		}
		if (i % 2 == 0)
			prefix[i / 2] = (unsigned char)(v << 4);
		else
			prefix[i / 2] |= (unsigned char)v;
	}
	if (device[16] != '\0') {
		http_reply_error(r, GK_E_ID, "device is not a 16-digit hex id");
		return;
	}
	if (api_auth_target(r, user, id) != GK_OK)
		return;
	if ((rc = store_auth_device_revoke(
	         s, id, prefix, s->env.now_ms(s->env.arg), &err)) != GK_OK) {
		http_reply_error(r, rc, "%s", err.msg);
		return;
	}
	log_msg(&s->log, GK_LOG_INFO, "device %s of user %s revoked by %s",
	        device, id, r->user.username);
	http_reply_json(
	    r, 200, json_pack("{s:s, s:b}", "device", device, "revoked", 1));
}
