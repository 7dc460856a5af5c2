/*
 * api-sync.c: push and pull, the sync protocol of gridkeep-sync(7).
 *
 * Push. A client sends {"changes":[...]} (at most cfg.max_batch). The
 * whole batch is one BEGIN IMMEDIATE transaction; each change in order:
 *
 *   1. decode the envelope (change_from_json); author := the caller,
 *      whatever the client wrote
 *   2. already in the log by id: "duplicate" (the client may forget it)
 *   3. HLC more than max_skew_ms ahead of our clock: "clock_skew" (the
 *      client re-stamps and re-sends; a wrong clock never wins every
 *      future conflict)
 *   4. validate_change for the caller's role
 *   5. scope: the unit of the record (from the row as it is for a mutable
 *      row that exists, else from the fields or the row they name) must be
 *      inside the caller's scope, else "not_found" in exactly the words of
 *      a missing row; a change of a record's unit field is "inconsistent"
 *      (records do not move, except users, into a unit also in scope)
 *   6. validate_change_tx; merge_apply_tx; store_log_change_tx with the
 *      change's scope rows; hlc_recv, so our next stamp sorts after it
 *
 * A refused change ("rejected", with its code) writes nothing and stops
 * nothing: every refusal happens before the change's first write. A
 * database or memory failure anywhere ends the whole request, rolled back.
 * Only after COMMIT returned SQLITE_OK is any change answered "accepted":
 * if COMMIT fails the request fails (io_error: 507, db_error: 500) and
 * nothing is acknowledged. A batch re-sent because its answer was lost
 * comes back all "duplicate", and nothing is applied twice.
 *
 * Pull. The answer is one range of change_scopes(unit, seq) for the
 * caller's unit after the cursor's seq, and the stored change text is
 * spliced in as it was logged, never decoded or re-encoded: a pull costs
 * the page it returns, whatever the size of the log. The cursor,
 * "v1.<db_id>.<unit>.<seq>.<mac>", says which database and scope it was
 * made for, signed with a key of this database (server_meta cursor_key)
 * and bound to the user, so a client cannot ask for the drop list of a
 * scope it never had. Another db_id: db_changed (the client starts again
 * and re-pushes its outbox). When the caller's unit is no longer the cursor's
 * (the user was moved), the pull first lists in "drop" the rows the client may
 * no longer hold (paged; the cursor then carries a fifth part, the progress),
 * then continues in the new scope: from the same seq if the new scope is
 * inside the old one, else from 0, so a grown scope delivers its rows,
 * not only later changes. Re-delivered changes are harmless: the merge is
 * idempotent.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "gridkeepd.h"

#define SYNC_DEFAULT_BATCH 1000
#define SYNC_DEFAULT_PAGE  1000
#define SYNC_CURSOR_MAX    160

/* ---- push ------------------------------------------------------------- */

struct sync_batch {
	struct gk_server *s;
	const struct gk_user *u;
	struct gk_actor actor;
	int64_t now, max_skew;
	int accepted, duplicate, units_changed;
	int rejected[GK_CODE_COUNT];
	uint64_t max_hlc; /* the greatest accepted stamp */
	int any_hlc;
};

/* Failures of the database or of memory end the whole request. */
static int
sync_fatal(int code)
{
	return code == GK_E_DB || code == GK_E_NOMEM || code == GK_E_IO;
}

/*
 * Steps 2 to 6 for one decoded change. GK_OK: accepted; *dup set: it was
 * a duplicate; another code: refused (err says why), or fatal.
 */
static int
sync_push_one_tx(struct sync_batch *b, struct gk_change *c, int *dup,
                 struct gk_error *err)
{
	struct gk_server *s = b->s;
	struct store_sync_unit where;
	enum gk_applied applied;
	int rc, known;

	*dup = 0;
	memcpy(c->author, b->u->id, GK_ID_LEN + 1);
	if ((known = store_sync_known(s, c->id, err)) < 0)
		return GK_E_DB;
	if (known) {
		*dup = 1;
		return GK_OK;
	}
	if (hlc_ms(c->hlc) > b->now + b->max_skew)
		return gk_error_set(err, GK_E_SKEW,
		                    "hlc is %" PRId64
		                    " ms ahead of the server: "
		                    "re-stamp and send again",
		                    hlc_ms(c->hlc) - b->now);
	if ((rc = validate_change(c, &b->actor, &s->policy, err)) != GK_OK)
		return rc;
	if ((rc = store_sync_unit_tx(s, c, b->u->unit, &where, err)) != GK_OK)
		return rc;
	if (!where.anywhere && !scope_contains(s, b->u->unit, where.check))
		return store_sync_not_found(err, where.ref_table, where.ref_id);
	if (where.moved_to[0] != '\0') {
		if (!scope_contains(s, b->u->unit, where.moved_to))
			return store_sync_not_found(err, "units",
			                            where.moved_to);
		memcpy(where.unit, where.moved_to, GK_ID_LEN + 1);
	}
	if ((rc = validate_change_tx(s->db, c, &s->policy, err)) != GK_OK)
		return rc;
	/* From here the change writes: a failure may leave part of it in the
	 * transaction, so it can never be a refusal of this change alone; it
	 * ends the whole request, which is rolled back. */
	if ((rc = merge_apply_tx(s->merge, c, &applied, err)) != GK_OK ||
	    (rc = store_log_change_tx(s, c, where.unit, b->now, NULL, err)) !=
	        GK_OK) {
		char msg[GK_ERRMSG_MAX];
		if (sync_fatal(rc))
			return rc;
		memcpy(msg, err->msg, sizeof msg);
		return gk_error_set(err, GK_E_DB, "writing a change: %s: %s",
		                    gk_code_name(rc), msg);
	}
	if (!b->any_hlc || c->hlc > b->max_hlc)
		b->max_hlc = c->hlc;
	b->any_hlc = 1;
	if (strcmp(c->table->name, "units") == 0) {
		/* Later changes of this batch may name the new unit. */
		b->units_changed = 1;
		if ((rc = scope_load(s, err)) != GK_OK)
			return rc;
	}
	return GK_OK;
}

/* The id a result names: the change's, if it had a well-formed one. */
static json_t *
sync_result_id(json_t *elem)
{
	json_t *id = json_object_get(elem, "id");

	if (json_is_string(id) &&
	    uuid_valid(json_string_value(id), json_string_length(id)))
		return json_incref(id);
	return json_null();
}

/* Append a result; 0 on success, -1 out of memory. */
static int
sync_result(json_t *results, json_t *id, const char *status, int code,
            const char *msg)
{
	json_t *r = json_pack("{s:o, s:s}", "id", id, "status", status);

	if (r == NULL)
		return -1;
	if (code != GK_OK &&
	    (json_object_set_new(r, "code", json_string(gk_code_name(code))) !=
	         0 ||
	     json_object_set_new(r, "message", json_string(msg)) != 0)) {
		json_decref(r);
		return -1;
	}
	return json_array_append_new(results, r);
}

int
sync_push(struct gk_server *s, const struct gk_user *u, json_t *body,
          json_t **answer, struct gk_error *err)
{
	struct sync_batch b;
	json_t *changes, *results = NULL, *elem;
	char when[32], hlc[GK_HLC_LEN + 1];
	size_t i, max;
	int rc, intx = 0;

	*answer = NULL;
	memset(&b, 0, sizeof b);
	b.s = s;
	b.u = u;
	b.actor.role = u->role;
	b.actor.user_id = u->id;
	b.max_skew = s->cfg.max_skew_ms; /* 0: nothing ahead of our clock */
	max = s->cfg.max_batch > 0 ? (size_t)s->cfg.max_batch
	                           : SYNC_DEFAULT_BATCH;

	if (!json_is_object(body))
		return gk_error_set(err, GK_E_JSON, "a push is a JSON object");
	if ((changes = json_object_get(body, "changes")) == NULL)
		return gk_error_set(err, GK_E_MISSING,
		                    "a push has \"changes\"");
	if (!json_is_array(changes))
		return gk_error_set(err, GK_E_TYPE,
		                    "\"changes\" must be an array");
	if (json_array_size(changes) > max)
		return gk_error_set(err, GK_E_BATCH,
		                    "%zu changes: at most %zu in one push",
		                    json_array_size(changes), max);
	if ((rc = store_open_cache(s, err)) != GK_OK ||
	    (rc = scope_refresh(s, err)) != GK_OK)
		return rc;
	if (s->merge == NULL && (s->merge = merge_new(s->db, err)) == NULL)
		return GK_E_DB;
	if ((results = json_array()) == NULL)
		return gk_error_set(err, GK_E_NOMEM, "out of memory");
	if (db_begin(s->db) != GK_OK) {
		rc = gk_error_set(err, GK_E_BUSY, "cannot begin: %s",
		                  sqlite3_errmsg(s->db));
		goto out;
	}
	intx = 1;
	b.now = s->env.now_ms(s->env.arg);

	json_array_foreach (changes, i, elem) {
		struct gk_error e = {0};
		struct gk_change c;
		int dup = 0;

		rc = change_from_json(elem, &c, &e);
		if (rc == GK_OK)
			rc = sync_push_one_tx(&b, &c, &dup, &e);
		change_clear(&c);
		if (rc != GK_OK && sync_fatal(rc)) {
			gk_error_set(err, rc, "change %zu: %s", i, e.msg);
			goto out;
		}
		if (rc != GK_OK) {
			b.rejected[rc]++;
			rc = sync_result(results, sync_result_id(elem),
			                 "rejected", rc, e.msg);
		} else if (dup) {
			b.duplicate++;
			rc = sync_result(results, sync_result_id(elem),
			                 "duplicate", GK_OK, NULL);
		} else {
			b.accepted++;
			rc = sync_result(results, sync_result_id(elem),
			                 "accepted", GK_OK, NULL);
		}
		if (rc != 0) {
			rc = gk_error_set(err, GK_E_NOMEM, "out of memory");
			goto out;
		}
	}
	intx = 0;
	if ((rc = db_commit(s->db)) != GK_OK) {
		gk_error_set(err, rc, "cannot commit the push: %s",
		             sqlite3_errmsg(s->db));
		goto out;
	}
	if (b.any_hlc)
		hlc_recv(&s->hlc, b.max_hlc, b.now, -1);
	if (b.units_changed) {
		b.units_changed = 0;
		if ((rc = scope_load(s, err)) != GK_OK)
			goto out;
	}
	if (s->metrics != NULL)
		metrics_changes(s->metrics, b.accepted, b.duplicate,
		                b.rejected);
	text_time_format(b.now, when);
	hlc_format(hlc_now(&s->hlc, b.now), hlc);
	*answer = json_pack("{s:o, s:s, s:s}", "results", results,
	                    "server_time", when, "server_hlc", hlc);
	results = NULL;
	if (*answer == NULL)
		rc = gk_error_set(err, GK_E_NOMEM, "out of memory");

out:
	if (intx)
		db_rollback(s->db);
	if (rc != GK_OK && b.units_changed) {
		/* The tree may hold units that were rolled back. */
		struct gk_error ignored;
		if (scope_load(s, &ignored) != GK_OK)
			scope_free(s);
	}
	json_decref(results);
	return rc;
}

/* ---- pull ------------------------------------------------------------- */

struct sync_cursor {
	char scope[GK_ID_LEN + 1];
	int64_t seq;
	int dropping;       /* a fifth part: dropping rows of scope */
	int64_t drop_after; /* the drop walk's progress */
};

#define SYNC_MAC_HEX 32 /* 128 bits of HMAC-SHA256, in hex */

/*
 * HMAC-SHA256 (RFC 2104) of the cursor's text and the user's id under the
 * server's key, truncated: a client cannot make a cursor for a scope it
 * never had, nor use another user's, so a drop list names only rows the
 * user was once sent.
 */
static void
sync_cursor_mac(const unsigned char key[32], const char *user, const char *text,
                size_t len, char hex[SYNC_MAC_HEX + 1])
{
	unsigned char pad[64], inner[32], outer[32];
	unsigned char buf[64 + SYNC_CURSOR_MAX + GK_ID_LEN + 2];
	size_t ulen = strlen(user), n;

	if (len > SYNC_CURSOR_MAX)
		len = SYNC_CURSOR_MAX;
	memset(pad, 0, sizeof pad);
	memcpy(pad, key, 32);
	for (int i = 0; i < 64; i++)
		buf[i] = pad[i] ^ 0x36;
	memcpy(buf + 64, text, len);
	buf[64 + len] = '|';
	memcpy(buf + 65 + len, user, ulen > GK_ID_LEN ? GK_ID_LEN : ulen);
	n = 65 + len + (ulen > GK_ID_LEN ? GK_ID_LEN : ulen);
	sha256(buf, n, inner);
	for (int i = 0; i < 64; i++)
		buf[i] = pad[i] ^ 0x5c;
	memcpy(buf + 64, inner, 32);
	sha256(buf, 96, outer);
	for (int i = 0; i < SYNC_MAC_HEX / 2; i++)
		snprintf(hex + 2 * i, 3, "%02x", outer[i]);
}

/* A decimal of 1 to 18 digits, no sign: a seq. */
static int
sync_parse_seq(const char *p, size_t len, int64_t *out)
{
	int64_t v = 0;

	if (len == 0 || len > 18)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * "v1.<db_id>.<unit>.<seq>.<mac>" or, while dropping,
 * "v1.<db_id>.<unit>.<seq>.<progress>.<mac>". GK_E_CURSOR when it is not
 * one we issued to this user, GK_E_DB_CHANGED when it is of another
 * database.
 */
static int
sync_cursor_parse(struct gk_server *s, const struct gk_user *u,
                  const unsigned char key[32], const char *text,
                  struct sync_cursor *c, struct gk_error *err)
{
	size_t len = strlen(text), n;
	const char *p, *dot, *mac;
	char want[SYNC_MAC_HEX + 1];

	memset(c, 0, sizeof c[0]);
	if (len > SYNC_CURSOR_MAX || strncmp(text, "v1.", 3) != 0 ||
	    len < 3 + GK_ID_LEN + 1 + GK_ID_LEN + 2 ||
	    text[3 + GK_ID_LEN] != '.' || text[3 + 2 * GK_ID_LEN + 1] != '.' ||
	    !uuid_valid(text + 3, GK_ID_LEN) ||
	    !uuid_valid(text + 4 + GK_ID_LEN, GK_ID_LEN))
		goto bad;
	if (memcmp(text + 3, s->db_id, GK_ID_LEN) != 0)
		return gk_error_set(err, GK_E_DB_CHANGED,
		                    "the cursor is of another database: pull "
		                    "from the start and push the whole outbox "
		                    "again");
	p = text + 5 + 2 * GK_ID_LEN;
	if ((mac = strrchr(p, '.')) == NULL || strlen(mac + 1) != SYNC_MAC_HEX)
		goto bad;
	sync_cursor_mac(key, u->id, text, (size_t)(mac - text), want);
	if (memcmp(mac + 1, want, SYNC_MAC_HEX) != 0)
		goto bad;
	n = (size_t)(mac - p);
	if ((dot = memchr(p, '.', n)) != NULL) {
		if (sync_parse_seq(p, (size_t)(dot - p), &c->seq) != 0 ||
		    sync_parse_seq(dot + 1, n - (size_t)(dot - p) - 1,
		                   &c->drop_after) != 0)
			goto bad;
		c->dropping = 1;
	} else if (sync_parse_seq(p, n, &c->seq) != 0) {
		goto bad;
	}
	memcpy(c->scope, text + 4 + GK_ID_LEN, GK_ID_LEN);
	c->scope[GK_ID_LEN] = '\0';
	return GK_OK;

bad:
	return gk_error_set(err, GK_E_CURSOR, "not a cursor of this server");
}

/* Write the cursor for scope and seq (and progress, if >= 0), signed. */
static void
sync_cursor_make(struct gk_server *s, const struct gk_user *u,
                 const unsigned char key[32], const char *scope, int64_t seq,
                 int64_t progress, char out[SYNC_CURSOR_MAX + 1])
{
	char mac[SYNC_MAC_HEX + 1];
	int n;

	if (progress >= 0)
		n = snprintf(out, SYNC_CURSOR_MAX + 1,
		             "v1.%s.%s.%" PRId64 ".%" PRId64, s->db_id, scope,
		             seq, progress);
	else
		n = snprintf(out, SYNC_CURSOR_MAX + 1, "v1.%s.%s.%" PRId64,
		             s->db_id, scope, seq);
	sync_cursor_mac(key, u->id, out, (size_t)n, mac);
	snprintf(out + n, (size_t)(SYNC_CURSOR_MAX + 1 - n), ".%s", mac);
}

int
sync_pull(struct gk_server *s, const struct gk_user *u, const char *cursor,
          int limit, char **out, size_t *len, struct gk_error *err)
{
	struct sync_cursor cur;
	struct store_sync_page pg = {0, 0, 0};
	unsigned char key[32];
	FILE *items = NULL, *f = NULL;
	char *itext = NULL, next[SYNC_CURSOR_MAX + 1];
	size_t ilen = 0;
	int page, rc, drops = 0;

	*out = NULL;
	*len = 0;
	page = s->cfg.pull_page > 0 ? s->cfg.pull_page : SYNC_DEFAULT_PAGE;
	if (limit <= 0 || limit > page)
		limit = page;
	if ((rc = store_open_cache(s, err)) != GK_OK ||
	    (rc = scope_refresh(s, err)) != GK_OK ||
	    (rc = store_sync_cursor_key(s, key, err)) != GK_OK)
		return rc;
	if (cursor == NULL || cursor[0] == '\0') {
		memset(&cur, 0, sizeof cur);
		memcpy(cur.scope, u->unit, GK_ID_LEN + 1);
	} else if ((rc = sync_cursor_parse(s, u, key, cursor, &cur, err)) !=
	           GK_OK) {
		return rc;
	}
	if ((items = open_memstream(&itext, &ilen)) == NULL)
		return gk_error_set(err, GK_E_NOMEM, "out of memory");

	if (strcmp(cur.scope, u->unit) == 0) {
		/* The same scope; back in it during a drop walk, the rows
		 * dropped so far are needed again: start over. */
		rc = store_sync_changes(s, u->unit, cur.dropping ? 0 : cur.seq,
		                        limit, items, &pg, err);
		sync_cursor_make(s, u, key, u->unit, pg.last, -1, next);
	} else if (scope_contains(s, u->unit, cur.scope)) {
		/* Grown: nothing to drop; the new scope from the start. */
		rc = store_sync_changes(s, u->unit, 0, limit, items, &pg, err);
		sync_cursor_make(s, u, key, u->unit, pg.last, -1, next);
	} else {
		/* Shrunk or moved: the drop walk first, then the new scope,
		 * from the same seq when it lies inside the old one. */
		drops = 1;
		rc = store_sync_drops(s, cur.scope, u->unit, cur.drop_after,
		                      cur.seq, limit, items, &pg, err);
		if (pg.more)
			sync_cursor_make(s, u, key, cur.scope, cur.seq, pg.last,
			                 next);
		else
			sync_cursor_make(
			    s, u, key, u->unit,
			    scope_contains(s, cur.scope, u->unit) ? cur.seq : 0,
			    -1, next);
		pg.more = 1; /* the new scope's changes come next */
	}
	if (fclose(items) != 0 && rc == GK_OK)
		rc = gk_error_set(err, GK_E_NOMEM, "out of memory");
	items = NULL;
	if (rc != GK_OK)
		goto out;

	if ((f = open_memstream(out, len)) == NULL) {
		rc = gk_error_set(err, GK_E_NOMEM, "out of memory");
		goto out;
	}
	fprintf(f, "{\"db_id\":\"%s\",\"cursor\":\"%s\",\"more\":%s,", s->db_id,
	        next, pg.more ? "true" : "false");
	fputs(drops ? "\"changes\":[],\"drop\":[" : "\"changes\":[", f);
	fwrite(itext, 1, ilen, f);
	fputs(drops ? "]}" : "],\"drop\":[]}", f);
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		*len = 0;
		rc = gk_error_set(err, GK_E_NOMEM, "out of memory");
		goto out;
	}
	rc = GK_OK;

out:
	if (items != NULL)
		fclose(items);
	free(itext);
	return rc;
}

/* ---- HTTP --------------------------------------------------------------- */

/* 1 if the raw query has key=, whatever http_query made of it. */
static int
sync_has_param(struct gk_req *r, const char *key)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *q = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	size_t k = strlen(key);

	for (const char *p = q; p != NULL && *p != '\0';) {
		if (strncmp(p, key, k) == 0 && p[k] == '=')
			return 1;
		if ((p = strchr(p, '&')) != NULL)
			p++;
	}
	return 0;
}

void
api_sync_push(struct gk_req *r)
{
	struct gk_error err = {0};
	json_t *answer = NULL;
	int rc;

	rc = sync_push(r->s, &r->user, r->body, &answer, &err);
	if (rc != GK_OK) {
		http_reply_error(r, rc, "%s", err.msg);
		return;
	}
	http_reply_json(r, 200, answer);
}

void
api_sync_pull(struct gk_req *r)
{
	struct gk_error err = {0};
	char cursor[SYNC_CURSOR_MAX + 2], lim[16], *out = NULL, *end;
	const char *c, *l;
	size_t len = 0;
	long limit = 0;
	int rc;

	c = http_query(r, "cursor", cursor, sizeof cursor);
	if (c == NULL && sync_has_param(r, "cursor")) {
		/* there, but longer than any cursor we issue */
		http_reply_error(r, GK_E_CURSOR, "not a cursor of this server");
		return;
	}
	if ((l = http_query(r, "limit", lim, sizeof lim)) != NULL) {
		limit = strtol(l, &end, 10);
		if (*l == '\0' || *end != '\0' || limit < 1 ||
		    limit > 1000000) {
			http_reply_error(r, GK_E_REQUEST,
			                 "limit must be a number from 1");
			return;
		}
	}
	rc = sync_pull(r->s, &r->user, c, (int)limit, &out, &len, &err);
	if (rc != GK_OK) {
		http_reply_error(r, rc, "%s", err.msg);
		return;
	}
	http_reply_raw(r, 200, out, len);
	free(out);
}
